"""2.2.1 CategoricalCrossentropy: hand-computed value, central differences, stability."""
import numpy as np

from public_tests.framework import assert_close, assert_true, case
from public_tests.gradcheck import compare_gradient, numerical_gradient


@case('crossentropy')
def crossentropy_hand_computed(sol):
    y_gt = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_pred = np.array([[0.2, 0.5, 0.3], [0.25, 0.25, 0.5]])
    value = sol.CategoricalCrossentropy().value(y_gt, y_pred)
    assert_close(value, [-(np.log(0.5) + np.log(0.25)) / 2], "cross-entropy value, mean over the batch")
    grad = sol.CategoricalCrossentropy().gradient(y_gt, y_pred)
    assert_close(grad, [[0, -1 / 0.5 / 2, 0], [-1 / 0.25 / 2, 0, 0]], "cross-entropy gradient")


@case('crossentropy')
def crossentropy_gradient_check(sol):
    y_gt = np.eye(6)[np.random.randint(6, size=8)]
    y_pred = np.random.uniform(0.05, 1.0, size=(8, 6))
    y_pred /= y_pred.sum(axis=1, keepdims=True)
    loss = sol.CategoricalCrossentropy()
    numeric = numerical_gradient(lambda p: loss.value(y_gt, p), y_pred.copy(), np.ones(1), h=1e-7)
    compare_gradient(loss.gradient(y_gt, y_pred), numeric, "cross-entropy gradient", tolerance=1e-5)


@case('crossentropy')
def crossentropy_zeros_in_prediction(sol):
    y_gt = np.array([[1.0, 0.0], [0.0, 1.0]])
    y_pred = np.array([[0.0, 1.0], [0.0, 1.0]])
    loss = sol.CategoricalCrossentropy()
    value, grad = loss.value(y_gt, y_pred), loss.gradient(y_gt, y_pred)
    assert_true(value.shape == (1,), "cross-entropy value", f"shape {value.shape}, expected (1,)")
    assert_true(np.isfinite(value).all() and np.isfinite(grad).all(), "cross-entropy with y_pred = 0",
                "not finite where y_pred = 0")
    eps = np.finfo(np.float64).eps
    assert_close(value, [-np.log(eps) / 2], "cross-entropy with y_pred = 0 (clipped by eps)")


@case('crossentropy')
def crossentropy_soft_labels(sol):
    # y_gt may be any distribution over the classes (soft labels), not only one-hot rows.
    y_gt = np.array([[0.25, 0.75, 0.0], [0.5, 0.25, 0.25]])
    y_pred = np.array([[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]])
    loss = sol.CategoricalCrossentropy()
    expected = -(0.25 * np.log(0.5) + 0.75 * np.log(0.25) + 0.5 * np.log(0.25) + 0.25 * np.log(0.25)
                 + 0.25 * np.log(0.5)) / 2
    assert_close(loss.value(y_gt, y_pred), [expected], "cross-entropy value with soft labels")
    assert_close(loss.gradient(y_gt, y_pred), [[-0.25, -1.5, 0.0], [-1.0, -0.5, -0.25]],
                 "cross-entropy gradient with soft labels")
    y_gt = np.random.dirichlet(np.ones(5), size=4)
    y_pred = np.random.dirichlet(np.ones(5), size=4) * 0.9 + 0.02
    numeric = numerical_gradient(lambda p: loss.value(y_gt, p), y_pred.copy(), np.ones(1), h=1e-7)
    compare_gradient(loss.gradient(y_gt, y_pred), numeric, "cross-entropy gradient with soft labels", tolerance=1e-5)


@case('crossentropy')
def crossentropy_batch_of_one(sol):
    loss = sol.CategoricalCrossentropy()
    y_gt, y_pred = np.array([[0.0, 0.0, 1.0]]), np.array([[0.2, 0.3, 0.5]])
    assert_close(loss.value(y_gt, y_pred), [-np.log(0.5)], "cross-entropy value, batch of one")
    assert_close(loss.gradient(y_gt, y_pred), [[0.0, 0.0, -2.0]], "cross-entropy gradient, batch of one")
