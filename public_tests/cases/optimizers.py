"""1.4.1 SGD and 1.4.2 SGDMomentum: hand-computed steps and properties."""
import numpy as np

from interface import read_only
from public_tests.framework import assert_close, case


def run_updates(updater, parameter, grads):
    """Apply ``updater`` for each gradient in turn; returns every new value."""
    values = []
    for grad in grads:
        parameter = updater(read_only(parameter), read_only(grad))
        values.append(np.array(parameter))
    return values


@case('sgd')
def sgd_hand_computed(sol):
    updater = sol.SGD(lr=0.5).get_parameter_updater((3,))
    new = updater(read_only(np.array([1.0, -2.0, 3.0])), read_only(np.array([0.2, 0.4, -1.0])))
    assert_close(new, [0.9, -2.2, 3.5], "SGD, one step")


@case('sgd')
def sgd_random_matrix(sol):
    parameter, grad = np.random.normal(size=(4, 5)), np.random.normal(size=(4, 5))
    updater = sol.SGD(lr=1e-3).get_parameter_updater(parameter.shape)
    assert_close(updater(read_only(parameter), read_only(grad)), parameter - 1e-3 * grad, "SGD step, (4, 5)")


@case('sgd')
def sgd_several_steps(sol):
    grads = np.random.normal(size=(5, 3, 2))
    values = run_updates(sol.SGD(lr=0.1).get_parameter_updater((3, 2)), np.ones((3, 2)), grads)
    assert_close(values[-1], 1 - 0.1 * grads.sum(axis=0), "SGD after 5 steps")


@case('momentum')
def momentum_hand_computed(sol):
    # I1 = 0.1*1 = 0.1, P1 = 0.9; I2 = 0.5*0.1 + 0.1*2 = 0.25, P2 = 0.65
    values = run_updates(sol.SGDMomentum(lr=0.1, momentum=0.5).get_parameter_updater((1,)),
                         np.array([1.0]), [np.array([1.0]), np.array([2.0])])
    assert_close(values[0], [0.9], "momentum, step 1")
    assert_close(values[1], [0.65], "momentum, step 2")


@case('momentum')
def momentum_ten_steps(sol):
    lr, beta = 0.05, 0.9
    parameter, grads = np.random.normal(size=(3, 4)), np.random.normal(size=(10, 3, 4))
    values = run_updates(sol.SGDMomentum(lr, beta).get_parameter_updater(parameter.shape), parameter, grads)
    inertia, expected = np.zeros_like(parameter), parameter.copy()
    for step, grad in enumerate(grads):
        inertia = beta * inertia + lr * grad
        expected = expected - inertia
        assert_close(values[step], expected, f"momentum, step {step + 1}")


@case('momentum')
def momentum_zero_equals_sgd(sol):
    grads = np.random.normal(size=(4, 6))
    values = run_updates(sol.SGDMomentum(lr=0.2, momentum=0.0).get_parameter_updater((6,)), np.zeros(6), grads)
    assert_close(values[-1], -0.2 * grads.sum(axis=0), "momentum=0 is plain SGD")


@case('momentum')
def momentum_state_per_parameter(sol):
    optimizer = sol.SGDMomentum(lr=1.0, momentum=0.5)
    first, second = optimizer.get_parameter_updater((2,)), optimizer.get_parameter_updater((2,))
    first(read_only(np.zeros(2)), read_only(np.ones(2)))
    # ``second`` has never seen a gradient: its inertia must still be zero.
    assert_close(second(read_only(np.zeros(2)), read_only(np.full(2, 2.0))), [-2.0, -2.0],
                 "second parameter's first step (inertia is per parameter)")


@case('momentum')
def momentum_default_is_zero(sol):
    # SGDMomentum(lr) without a momentum argument: momentum 0.0, i.e. plain SGD at every step
    parameter, grads = np.random.normal(size=5), np.random.normal(size=(3, 5))
    values = run_updates(sol.SGDMomentum(lr=0.3).get_parameter_updater((5,)), parameter, grads)
    for step in range(3):
        assert_close(values[step], parameter - 0.3 * grads[:step + 1].sum(axis=0),
                     f"SGDMomentum(lr=0.3) (default momentum 0.0), step {step + 1}")
