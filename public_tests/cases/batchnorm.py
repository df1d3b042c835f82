"""4.1.3 BatchNorm: torch batch_norm, central differences, running statistics."""
import numpy as np
import torch.nn.functional as F

from interface import eps
from public_tests.cases.torch_oracle import compare_layer_with_torch
from public_tests.framework import assert_close, case
from public_tests.gradcheck import build_layer, check_layer_gradients


def torch_batch_norm(inputs, gamma, beta):
    return F.batch_norm(inputs, None, None, gamma, beta, training=True, eps=eps)


def random_affine(layer):
    layer.gamma[...] = np.random.uniform(0.5, 2.0, size=layer.gamma.shape)
    layer.beta[...] = np.random.normal(size=layer.beta.shape)
    return layer


@case('batchnorm')
def batchnorm_training_matches_torch(sol):
    layer = random_affine(build_layer(sol.BatchNorm(momentum=0.9), (3, 4, 5)))
    compare_layer_with_torch(layer, torch_batch_norm, np.random.normal(2.0, 3.0, size=(4, 3, 4, 5)),
                             {'gamma': 'gamma', 'beta': 'beta'}, "BatchNorm (training)")


@case('batchnorm')
def batchnorm_gradient_check(sol):
    layer = random_affine(build_layer(sol.BatchNorm(), (2, 3, 2)))
    check_layer_gradients(layer, np.random.normal(size=(3, 2, 3, 2)))


@case('batchnorm')
def batchnorm_running_statistics(sol):
    momentum = 0.8
    layer = build_layer(sol.BatchNorm(momentum=momentum), (2, 3, 3))
    mean, var = np.zeros(2), np.ones(2)
    for step in range(3):
        x = np.random.normal(step, 1 + step, size=(5, 2, 3, 3))
        layer.forward(x)
        # biased batch variance (divided by n * h * w), as in the assignment
        mean = momentum * mean + (1 - momentum) * x.mean(axis=(0, 2, 3))
        var = momentum * var + (1 - momentum) * x.var(axis=(0, 2, 3))
        assert_close(layer.running_mean, mean, f"running_mean after step {step + 1}")
        assert_close(layer.running_var, var, f"running_var after step {step + 1}")


@case('batchnorm')
def batchnorm_inference_uses_running_statistics(sol):
    layer = random_affine(build_layer(sol.BatchNorm(), (2, 2, 2)))
    layer.running_mean[...] = [1.0, -2.0]
    layer.running_var[...] = [4.0, 0.25]
    layer.is_training = False
    x = np.random.normal(size=(3, 2, 2, 2))
    expected = (layer.gamma[None, :, None, None] * (x - layer.running_mean[None, :, None, None])
                / np.sqrt(eps + layer.running_var[None, :, None, None]) + layer.beta[None, :, None, None])
    assert_close(layer.forward(x), expected, "BatchNorm inference from the running statistics")
    assert_close(layer.running_mean, [1.0, -2.0], "running_mean unchanged by inference")
    assert_close(layer.running_var, [4.0, 0.25], "running_var unchanged by inference")


@case('batchnorm')
def batchnorm_training_steps_then_inference(sol):
    # Three training steps update the running statistics; inference then normalises with them.
    momentum = 0.7
    layer = random_affine(build_layer(sol.BatchNorm(momentum=momentum), (3, 2, 4)))
    mean, var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = np.random.normal(step, 1 + step, size=(4, 3, 2, 4))
        layer.forward(x)
        mean = momentum * mean + (1 - momentum) * x.mean(axis=(0, 2, 3))
        var = momentum * var + (1 - momentum) * x.var(axis=(0, 2, 3))
    layer.is_training = False
    x = np.random.normal(size=(2, 3, 2, 4))
    channel = (None, slice(None), None, None)
    expected = layer.gamma[channel] * (x - mean[channel]) / np.sqrt(eps + var[channel]) + layer.beta[channel]
    assert_close(layer.forward(x), expected, "BatchNorm inference after 3 training steps")
    assert_close(layer.running_mean, mean, "running_mean after 3 training steps and inference")
    assert_close(layer.running_var, var, "running_var after 3 training steps and inference")
