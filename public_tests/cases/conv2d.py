"""4.1.1 Conv2D: torch conv2d (with flipped kernels) and central differences."""
import numpy as np
import torch.nn.functional as F

from public_tests.cases.torch_oracle import compare_layer_with_torch
from public_tests.framework import assert_true, case
from public_tests.gradcheck import build_layer, check_layer_gradients


def torch_conv(inputs, kernels, biases):
    # torch's conv2d is a cross-correlation: flipping the kernels makes it a convolution.
    return F.conv2d(inputs, kernels.flip(2, 3), biases, padding=kernels.shape[-1] // 2)


@case('conv2d')
def conv2d_parameters(sol):
    layer = build_layer(sol.Conv2D(5, kernel_size=3), (2, 6, 4))
    assert_true(layer.kernels.shape == (5, 2, 3, 3), "Conv2D kernels", f"shape {layer.kernels.shape}")
    assert_true(layer.output_shape == (5, 6, 4), "Conv2D output_shape ('same')", f"got {layer.output_shape}")
    outputs = layer.forward(np.random.normal(size=(3, 2, 6, 4)))
    assert_true(isinstance(outputs, np.ndarray) and outputs.shape == (3, 5, 6, 4), "Conv2D forward",
                f"shape {getattr(outputs, 'shape', None)}, expected (3, 5, 6, 4)")
    layer.backward(np.random.normal(size=(3, 5, 6, 4)))
    for name, shape in (('kernels_grad', (5, 2, 3, 3)), ('biases_grad', (5,))):
        value = getattr(layer, name)
        assert_true(getattr(value, 'shape', None) == shape, f"Conv2D {name}",
                    f"shape {getattr(value, 'shape', None)}, expected {shape} (the parameter's shape)")


@case('conv2d')
def conv2d_matches_torch(sol):
    for kernel_size, shape in ((3, (2, 6, 6)), (1, (3, 4, 5)), (5, (2, 7, 6))):
        layer = build_layer(sol.Conv2D(4, kernel_size=kernel_size), shape)
        layer.biases[...] = np.random.normal(size=4)
        compare_layer_with_torch(layer, torch_conv, np.random.normal(size=(3,) + shape),
                                 {'kernels': 'kernels', 'biases': 'biases'}, f"Conv2D k={kernel_size} on {shape}")


@case('conv2d')
def conv2d_gradient_check(sol):
    layer = build_layer(sol.Conv2D(2, kernel_size=3), (2, 4, 3))
    layer.biases[...] = np.random.normal(size=2)
    check_layer_gradients(layer, np.random.normal(size=(2, 2, 4, 3)))


@case('conv2d')
def conv2d_batch_of_one_matches_torch(sol):
    layer = build_layer(sol.Conv2D(3, kernel_size=3), (2, 5, 5))
    layer.biases[...] = np.random.normal(size=3)
    compare_layer_with_torch(layer, torch_conv, np.random.normal(size=(1, 2, 5, 5)),
                             {'kernels': 'kernels', 'biases': 'biases'}, "Conv2D on a batch of one")


@case('conv2d')
def conv2d_two_steps_match_torch(sol):
    # Two training steps with the kernels unchanged in between: after each backward, the
    # gradients are those of the current batch alone (``kernels_grad += ...`` would add them up).
    layer = build_layer(sol.Conv2D(3, kernel_size=3), (2, 5, 4))
    layer.biases[...] = np.random.normal(size=3)
    for step in (1, 2):
        compare_layer_with_torch(layer, torch_conv, np.random.normal(size=(2, 2, 5, 4)),
                                 {'kernels': 'kernels', 'biases': 'biases'}, f"Conv2D, training step {step}")
