"""2.1.3 Dense: API, hand-computed forward, central differences for all gradients."""
import numpy as np

from public_tests.framework import assert_close, assert_true, case
from public_tests.gradcheck import build_layer, check_layer_gradients


@case('dense')
def dense_parameters(sol):
    layer = build_layer(sol.Dense(6), (4,))
    assert_true(layer.output_shape == (6,), "Dense output_shape", f"got {layer.output_shape}")
    assert_true(layer.weights.shape == (6, 4), "Dense weights", f"shape {layer.weights.shape}, expected (6, 4)")
    assert_close(layer.biases, np.zeros(6), "Dense biases start at zero")
    outputs = layer.forward(np.random.normal(size=(5, 4)))
    assert_true(isinstance(outputs, np.ndarray) and outputs.shape == (5, 6), "Dense forward",
                f"shape {getattr(outputs, 'shape', None)}, expected (5, 6)")
    layer.backward(np.random.normal(size=(5, 6)))
    for name, shape in (('weights_grad', (6, 4)), ('biases_grad', (6,))):
        value = getattr(layer, name)
        assert_true(getattr(value, 'shape', None) == shape, f"Dense {name}",
                    f"shape {getattr(value, 'shape', None)}, expected {shape} (the parameter's shape)")


@case('dense')
def dense_hand_computed(sol):
    layer = build_layer(sol.Dense(2), (3,))
    layer.weights[...] = [[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]
    layer.biases[...] = [0.5, -1.0]
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    assert_close(layer.forward(x), [[-1.5, 4.5], [-1.5, -1.0]], "Dense forward")
    grad_x = layer.backward(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert_close(grad_x, [[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]], "Dense dL/dinputs")
    assert_close(layer.weights_grad, [[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]], "Dense dL/dweights")
    assert_close(layer.biases_grad, [1.0, 1.0], "Dense dL/dbiases")


@case('dense')
def dense_gradient_check(sol):
    layer = build_layer(sol.Dense(5), (7,))
    layer.biases[...] = np.random.normal(size=5)
    check_layer_gradients(layer, np.random.normal(size=(6, 7)))


@case('dense')
def dense_batch_of_one(sol):
    check_layer_gradients(build_layer(sol.Dense(3), (4,)), np.random.normal(size=(1, 4)))


@case('dense')
def dense_two_steps_gradient_check(sol):
    # Two training steps with the parameters unchanged in between: after each backward, the
    # gradients are those of the current batch alone (``weights_grad += ...`` would add them up).
    layer = build_layer(sol.Dense(4), (5,))
    layer.biases[...] = np.random.normal(size=4)
    for _ in range(2):
        check_layer_gradients(layer, np.random.normal(size=(3, 5)))
