"""torch (float64, CPU) as an independent oracle for Conv2D, Pooling2D and BatchNorm."""
import numpy as np
import torch

from public_tests.framework import assert_close


def torch_forward_backward(function, inputs, upstream, **parameters):
    """Run ``function(inputs=x, **parameters)`` in torch; returns (outputs, {name: gradient of name})."""
    tensors = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
               for name, value in dict(inputs=inputs, **parameters).items()}
    outputs = function(**tensors)
    outputs.backward(torch.tensor(upstream, dtype=torch.float64))
    return outputs.detach().numpy(), {name: tensor.grad.numpy() for name, tensor in tensors.items()}


def compare_layer_with_torch(layer, function, inputs, parameters, what):
    """Forward and backward of a built ``layer`` against ``function`` in torch.

    ``parameters`` maps the layer's parameter names to the torch function's keyword names.
    """
    outputs = layer.forward(inputs)
    upstream = np.random.normal(size=outputs.shape)
    input_grad = layer.backward(upstream)
    expected, grads = torch_forward_backward(
        function, inputs, upstream, **{keyword: getattr(layer, name) for name, keyword in parameters.items()})
    assert_close(outputs, expected, f"{what}: forward")
    assert_close(input_grad, grads['inputs'], f"{what}: dL/dinputs")
    for name, keyword in parameters.items():
        assert_close(getattr(layer, f"{name}_grad"), grads[keyword], f"{what}: dL/d{name}")
