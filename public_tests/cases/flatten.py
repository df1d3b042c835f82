"""4.1.4 Flatten: C order, shapes, gradient."""
import numpy as np

from public_tests.framework import assert_close, assert_true, case
from public_tests.gradcheck import build_layer


@case('flatten')
def flatten_c_order(sol):
    layer = build_layer(sol.Flatten(), (2, 3, 4))
    assert_true(layer.output_shape == (24,), "Flatten output_shape", f"got {layer.output_shape}")
    x = np.arange(48.0).reshape(2, 2, 3, 4)
    assert_close(layer.forward(x), np.arange(48.0).reshape(2, 24), "Flatten forward (C order)")
    grad = np.random.normal(size=(2, 24))
    assert_close(layer.backward(grad), grad.reshape(2, 2, 3, 4), "Flatten backward")


@case('flatten')
def flatten_one_channel(sol):
    layer = build_layer(sol.Flatten(), (1, 5, 2))
    x = np.random.normal(size=(3, 1, 5, 2))
    assert_close(layer.forward(x), x.reshape(3, 10), "Flatten forward (1, 5, 2)")
    grad = np.random.normal(size=(3, 10))
    assert_close(layer.backward(grad), grad.reshape(3, 1, 5, 2), "Flatten backward (1, 5, 2)")


@case('flatten')
def flatten_batch_of_one(sol):
    layer = build_layer(sol.Flatten(), (3, 2, 5))
    x = np.arange(30.0).reshape(1, 3, 2, 5)
    assert_close(layer.forward(x), np.arange(30.0).reshape(1, 30), "Flatten forward, batch of one")
    grad = np.random.normal(size=(1, 30))
    assert_close(layer.backward(grad), grad.reshape(1, 3, 2, 5), "Flatten backward, batch of one")
