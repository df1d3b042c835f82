"""Numerical gradients (central differences, float64), CS231n style.

``check_layer_gradients`` compares a layer's backward pass -- the input
gradient and every parameter gradient -- with central differences of
``sum(forward(x) * upstream)``.
"""
import numpy as np

from interface import Optimizer
from public_tests.framework import CheckFailure, errors, rel_error

GRADIENT_TOLERANCE = 1e-6  # rel_error of analytic vs numerical gradients


def numerical_gradient(function, x, upstream, h=1e-5):
    """d(sum(function(x) * upstream)) / dx by central differences; ``x`` is perturbed in place."""
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = np.array(function(x), dtype=np.float64)
        x[index] = original - h
        minus = np.array(function(x), dtype=np.float64)
        x[index] = original
        grad[index] = np.sum((plus - minus) * upstream) / (2 * h)
    return grad


class FrozenOptimizer(Optimizer):
    """Kit optimizer for layer tests: leaves parameters unchanged (independent of the student's SGD)."""

    def get_parameter_updater(self, parameter_shape):
        return lambda parameter, parameter_grad: np.array(parameter)


def build_layer(layer, input_shape):
    """Build ``layer`` for inputs of ``input_shape`` (without the batch dimension)."""
    layer.input_shape = tuple(input_shape)
    layer.build(FrozenOptimizer())
    return layer


def compare_gradient(analytic, numeric, what, tolerance=GRADIENT_TOLERANCE):
    if not isinstance(analytic, np.ndarray) or analytic.shape != numeric.shape:
        raise CheckFailure(what, "wrong gradient shape",
                           shapes=f"got {getattr(analytic, 'shape', type(analytic).__name__)}, expected {numeric.shape}")
    error = rel_error(analytic, numeric)
    if not error < tolerance:  # also catches NaN
        max_abs, max_rel = errors(analytic, numeric)
        raise CheckFailure(what, f"differs from central differences (rel_error {error:.2e} >= {tolerance:.0e})",
                           shapes=str(numeric.shape), max_abs=max_abs, max_rel=max_rel)


def check_layer_gradients(layer, x, seed=None, tolerance=GRADIENT_TOLERANCE):
    """Backward pass of a built ``layer`` at inputs ``x`` (n, ...) against central differences.

    ``seed`` re-seeds np.random before every forward pass (Dropout draws its mask there).
    """
    def forward(inputs):
        if seed is not None:
            np.random.seed(seed)
        return layer.forward(inputs)

    x = np.array(x, dtype=np.float64)
    upstream = np.random.normal(size=forward(x).shape)
    input_grad = np.array(layer.backward(upstream))
    parameter_grads = {name: np.array(getattr(layer, f"{name}_grad")) for name in layer.parameter_updaters}

    compare_gradient(input_grad, numerical_gradient(forward, x.copy(), upstream), f"{layer.name} dL/dinputs", tolerance)
    for name, analytic in parameter_grads.items():
        parameter = getattr(layer, name)
        numeric = numerical_gradient(lambda _: forward(x), parameter, upstream)
        compare_gradient(analytic, numeric, f"{layer.name} dL/d{name}", tolerance)
