"""2.1.1 ReLU and 2.1.2 Softmax: hand-computed values, central differences, torch (softmax at +-1e4), properties."""
import numpy as np
import torch

from public_tests.cases.torch_oracle import compare_layer_with_torch
from public_tests.framework import assert_close, assert_true, case
from public_tests.gradcheck import build_layer, check_layer_gradients


@case('relu')
def relu_inputs_with_zeros(sol):
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


@case('relu')
def relu_batch_of_one(sol):
    layer = build_layer(sol.ReLU(), (2, 3))
    x = np.array([[[0.5, -1.0, 0.0], [-3.0, 2.0, 1e-12]]])
    assert_close(layer.forward(x), [[[0.5, 0, 0], [0, 2.0, 1e-12]]], "ReLU forward, batch of one")
    assert_close(layer.backward(np.full((1, 2, 3), 2.0)), [[[2.0, 0, 2.0], [0, 2.0, 2.0]]], "ReLU backward, batch of one")


@case('relu')
def relu_all_negative(sol):
    layer = build_layer(sol.ReLU(), (5,))
    x = -np.abs(np.random.normal(size=(3, 5))) - 0.1
    assert_close(layer.forward(x), np.zeros((3, 5)), "ReLU of negative inputs")
    assert_close(layer.backward(np.random.normal(size=(3, 5))), np.zeros((3, 5)), "ReLU backward at negative inputs")


@case('softmax')
def softmax_hand_computed(sol):
    layer = build_layer(sol.Softmax(), (3,))
    x = np.array([[0.0, np.log(2.0), np.log(5.0)], [1.0, 1.0, 1.0]])
    assert_close(layer.forward(x), [[0.125, 0.25, 0.625], [1 / 3, 1 / 3, 1 / 3]], "Softmax forward")
    grad = np.array([[1.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    # each output depends on every input of its row: the whole Jacobian, not its diagonal
    assert_close(layer.backward(grad), [[7 / 64, -2 / 64, -5 / 64], [-1 / 3, 2 / 3, -1 / 3]], "Softmax backward")


@case('softmax')
def softmax_gradient_check(sol):
    check_layer_gradients(build_layer(sol.Softmax(), (7,)), np.random.normal(scale=3.0, size=(5, 7)))


@case('softmax')
def softmax_large_inputs(sol):
    layer = build_layer(sol.Softmax(), (4,))
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4, -1e4 + 2.0, -1e4]])
    y = layer.forward(x)
    assert_true(np.isfinite(y).all(), "Softmax of +-1e4", "outputs are not finite")
    assert_close(y.sum(axis=1), np.ones(2), "Softmax rows sum to 1")
    e = np.exp(-1.0)
    assert_close(y[0], [1 / (1 + e), 0, 0, e / (1 + e)], "Softmax of +-1e4")
    assert_true(np.isfinite(layer.backward(np.ones((2, 4)))).all(), "Softmax backward at +-1e4", "not finite")


@case('softmax')
def softmax_rows_sum_to_one(sol):
    y = build_layer(sol.Softmax(), (10,)).forward(np.random.normal(scale=10, size=(64, 10)))
    assert_close(y.sum(axis=1), np.ones(64), "Softmax rows sum to 1")
    assert_true((y >= 0).all() and (y <= 1).all(), "Softmax outputs", "outside [0, 1]")


@case('softmax')
def softmax_large_inputs_match_torch(sol):
    x = np.random.normal(scale=1e4, size=(6, 5))
    x[0] = [1e4, 1e4 - 1.0, -1e4, 0.0, 1e4 - 0.5]  # several large values close together: a real gradient
    x[1] = -1e4
    compare_layer_with_torch(build_layer(sol.Softmax(), (5,)), lambda inputs: torch.softmax(inputs, dim=1), x, {},
                             "Softmax of inputs around +-1e4")


@case('softmax')
def softmax_batch_of_one(sol):
    check_layer_gradients(build_layer(sol.Softmax(), (6,)), np.random.normal(size=(1, 6)))


@case('softmax')
def softmax_one_and_two_classes(sol):
    one = build_layer(sol.Softmax(), (1,))
    assert_close(one.forward(np.random.normal(size=(4, 1))), np.ones((4, 1)), "Softmax of one class is 1")
    assert_close(one.backward(np.random.normal(size=(4, 1))), np.zeros((4, 1)), "Softmax backward, one class")
    two = build_layer(sol.Softmax(), (2,))
    x = np.random.normal(size=(5, 2))
    first = 1 / (1 + np.exp(x[:, 1] - x[:, 0]))  # two classes: the logistic function of the difference
    assert_close(two.forward(x), np.stack([first, 1 - first], axis=1), "Softmax of two classes")
    check_layer_gradients(two, x)
