"""2.1.1 ReLU and 2.1.2 Softmax: hand-computed values, central differences, properties."""
import numpy as np

from public_tests.framework import assert_close, assert_true, case
from public_tests.gradcheck import build_layer, check_layer_gradients


@case('relu')
def relu_hand_computed(sol):
    layer = build_layer(sol.ReLU(), (4,))
    x = np.array([[-2.0, -0.0, 0.0, 3.0], [1.5, -1e-9, 7.0, -4.0]])
    assert_close(layer.forward(x), [[0, 0, 0, 3], [1.5, 0, 7, 0]], "ReLU forward")
    grad = np.arange(1.0, 9.0).reshape(2, 4)
    # ReLU'(0) = 1: the gradient passes where x >= 0.
    assert_close(layer.backward(grad), [[0, 2, 3, 4], [5, 0, 7, 0]], "ReLU backward")


@case('relu')
def relu_gradient_check(sol):
    x = np.random.normal(size=(3, 2, 4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep central differences away from the kink
    check_layer_gradients(build_layer(sol.ReLU(), (2, 4, 5)), x)


@case('softmax')
def softmax_hand_computed(sol):
    layer = build_layer(sol.Softmax(), (3,))
    x = np.array([[0.0, np.log(2.0), np.log(5.0)], [1.0, 1.0, 1.0]])
    assert_close(layer.forward(x), [[0.125, 0.25, 0.625], [1 / 3, 1 / 3, 1 / 3]], "Softmax forward")


@case('softmax')
def softmax_gradient_check(sol):
    check_layer_gradients(build_layer(sol.Softmax(), (7,)), np.random.normal(scale=3.0, size=(5, 7)))


@case('softmax')
def softmax_large_inputs(sol):
    layer = build_layer(sol.Softmax(), (4,))
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4, -1e4 + 2.0, -1e4]])
    y = layer.forward(x)
    assert_true(np.isfinite(y).all(), "Softmax of +-1e4", "outputs are not finite (subtract the row max)")
    assert_close(y.sum(axis=1), np.ones(2), "Softmax rows sum to 1")
    e = np.exp(-1.0)
    assert_close(y[0], [1 / (1 + e), 0, 0, e / (1 + e)], "Softmax of +-1e4")
    assert_true(np.isfinite(layer.backward(np.ones((2, 4)))).all(), "Softmax backward at +-1e4", "not finite")


@case('softmax')
def softmax_rows_sum_to_one(sol):
    y = build_layer(sol.Softmax(), (10,)).forward(np.random.normal(scale=10, size=(64, 10)))
    assert_close(y.sum(axis=1), np.ones(64), "Softmax rows sum to 1")
    assert_true((y >= 0).all() and (y <= 1).all(), "Softmax outputs", "outside [0, 1]")
