"""Every public gradient check must fail for a layer whose backward is slightly wrong.

Each broken layer is the reference layer with one element of one gradient
(the input gradient, or one parameter gradient) off by 0.1%.
"""
import types

import numpy as np
import pytest

from public_tests.framework import cases_for, run_case

# section -> (class name, parameters with gradients)
LAYERS = {
    'relu': ('ReLU', ()), 'softmax': ('Softmax', ()), 'dense': ('Dense', ('weights', 'biases')),
    'conv2d': ('Conv2D', ('kernels', 'biases')), 'pooling2d': ('Pooling2D', ()),
    'batchnorm': ('BatchNorm', ('gamma', 'beta')), 'dropout': ('Dropout', ()),
}


def nudge(array):
    """A copy with its largest element off by 0.1%."""
    array = np.array(array, dtype=np.float64)
    index = np.unravel_index(np.argmax(np.abs(array)), array.shape)
    array[index] += 1e-3 * (abs(array[index]) + 1e-3)
    return array


def broken_solution(reference, class_name, target):
    """The reference with ``class_name``'s backward wrong in ``target`` ('inputs' or a parameter name)."""
    base = getattr(reference, class_name)

    def backward_impl(self, grad_outputs):
        input_grad = base.backward_impl(self, grad_outputs)
        if target == 'inputs':
            return nudge(input_grad)
        setattr(self, f"{target}_grad", nudge(getattr(self, f"{target}_grad")))
        return input_grad

    module = types.SimpleNamespace(**vars(reference))
    setattr(module, class_name, type(class_name, (base,), {'backward_impl': backward_impl}))
    return module


def gradient_checks(section):
    """The cases that compare gradients with central differences or with torch."""
    return [case for case in cases_for(section) if 'gradient_check' in case.__name__ or 'torch' in case.__name__]


BREAKS = [(section, target) for section, (_, params) in LAYERS.items() for target in ('inputs',) + params]


@pytest.mark.parametrize('section, target', BREAKS, ids=[f"{s}-{t}" for s, t in BREAKS])
def test_gradient_checks_catch_a_wrong_backward(reference, section, target):
    broken = broken_solution(reference, LAYERS[section][0], target)
    checks = gradient_checks(section)
    assert any('gradient_check' in case.__name__ for case in checks), f"{section} has no gradient check"
    for case in checks:
        result = run_case(case, broken)
        assert not result.passed, f"{case.__name__} missed a wrong d{target} in {section}"


def test_crossentropy_gradient_check_catches_a_wrong_gradient(reference):
    base = reference.CategoricalCrossentropy
    broken = types.SimpleNamespace(**vars(reference))
    broken.CategoricalCrossentropy = type('CategoricalCrossentropy', (base,), {
        'gradient_impl': lambda self, y_gt, y_pred: nudge(base.gradient_impl(self, y_gt, y_pred))})
    assert not run_case(*gradient_checks('crossentropy'), broken).passed
