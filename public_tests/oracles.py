"""Independent expected values for a test scenario: torch (float64) and the assignment's formulas.

``expected_outputs(scenario)`` returns {output name: ndarray} under the names that
``assignments.numpy_nn.execute.run_scenario`` gives the student's outputs ('step0.outputs',
'step0.weights_grad', 'value', ...).  ``./run.py unittest`` uses it to judge the smaller
candidates of a failing case (public_tests/ladders.py) without the reference solution.
Formulas by hand where torch's conventions differ from the assignment's: ReLU'(0) = 1,
cross-entropy clipped below by eps (torch's clamp would zero the gradient there), BatchNorm's
running variance (biased; torch keeps the unbiased one), Dropout's single uniform draw.
"""
import numpy as np
import torch
import torch.nn.functional as F

from interface import eps
from public_tests.cases.convolve import torch_convolve


def tensor(array):
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=torch.float64, requires_grad=True)


def optimizer_outputs(scenario):
    lr, beta = scenario['kwargs']['lr'], scenario['kwargs'].get('momentum', 0.0)
    momentum = scenario['class'] == 'SGDMomentum'
    parameters = [np.array(p, dtype=np.float64) for p in scenario['parameters']]
    inertia = [np.zeros_like(p) for p in parameters]
    outputs = {}
    for step, grads in enumerate(scenario['grads']):
        for index, grad in enumerate(grads):
            if momentum:  # I <- beta * I + lr * grad; P <- P - I (one inertia per parameter)
                inertia[index] = beta * inertia[index] + lr * grad
                parameters[index] = parameters[index] - inertia[index]
            else:
                parameters[index] = parameters[index] - lr * grad
            outputs[f"step{step}.parameter{index}"] = parameters[index].copy()
    return outputs


def loss_outputs(scenario):
    y_gt, y_pred = np.asarray(scenario['y_gt'], np.float64), np.asarray(scenario['y_pred'], np.float64)
    n, clipped = y_gt.shape[0], np.maximum(y_pred, eps)
    return {'value': np.array([-np.sum(y_gt * np.log(clipped)) / n]), 'gradient': -y_gt / clipped / n}


def torch_step(function, inputs, output_grad, parameters):
    """(outputs, dL/dinputs or None, {name: dL/dname}) of ``function(x, **parameters)`` in torch."""
    x = tensor(inputs)
    params = {name: tensor(value) for name, value in parameters.items()}
    y = function(x, **params)
    if output_grad is None:
        return y.detach().numpy(), None, {}
    y.backward(torch.tensor(np.asarray(output_grad, np.float64)))
    return y.detach().numpy(), x.grad.numpy(), {name: p.grad.numpy() for name, p in params.items()}


def torch_convolution(x, kernels, biases):
    # torch's conv2d is a cross-correlation: flipped kernels make it a convolution ("same" padding).
    return F.conv2d(x, kernels.flip(2, 3), biases, padding=kernels.shape[-1] // 2)


def layer_outputs(scenario):
    cls, args, kwargs = scenario['class'], scenario.get('args', []), scenario.get('kwargs', {})
    parameters = {name: np.asarray(value, np.float64) for name, value in scenario.get('parameters', {}).items()}
    state = {'running_mean': np.zeros(scenario['input_shape'][0]), 'running_var': np.ones(scenario['input_shape'][0])}
    state.update({name: np.asarray(value, np.float64) for name, value in scenario.get('state', {}).items()})
    outputs = {}
    for index, step in enumerate(scenario['steps']):
        x, g, training = np.asarray(step['inputs'], np.float64), step.get('output_grad'), step['training']
        if step.get('seed') is not None:
            np.random.seed(step['seed'])
        grads, names = {}, []
        if cls == 'ReLU':
            y, dx = np.maximum(x, 0), (None if g is None else g * (x >= 0))  # ReLU'(0) = 1
        elif cls == 'Softmax':
            y, dx, _ = torch_step(lambda t: torch.softmax(t, dim=1), x, g, {})
        elif cls == 'Flatten':
            y, dx = x.reshape(len(x), -1), (None if g is None else np.reshape(g, x.shape))
        elif cls == 'Dropout':
            p = args[0] if args else kwargs['p']
            if training:
                mask = np.random.uniform(size=x.shape) > p  # the one draw the assignment asks for
                y, dx = x * mask, (None if g is None else g * mask)
            else:
                y, dx = (1 - p) * x, (None if g is None else (1 - p) * np.asarray(g))
        elif cls == 'Dense':
            names = ['weights', 'biases']
            y, dx, grads = torch_step(lambda t, weights, biases: t @ weights.T + biases, x, g, parameters)
        elif cls == 'Conv2D':
            names = ['kernels', 'biases']
            y, dx, grads = torch_step(torch_convolution, x, g, parameters)
        elif cls == 'Pooling2D':
            size = args[0] if args else kwargs.get('pool_size', 2)
            mode = args[1] if len(args) > 1 else kwargs.get('pool_mode', 'max')
            pool = F.max_pool2d if mode == 'max' else F.avg_pool2d
            y, dx, _ = torch_step(lambda t: pool(t, size), x, g, {})
        elif cls == 'BatchNorm':
            names = ['beta', 'gamma']
            momentum = args[0] if args else kwargs.get('momentum', 0.9)
            if training:
                y, dx, grads = torch_step(lambda t, gamma, beta: F.batch_norm(t, None, None, gamma, beta, training=True,
                                                                              eps=eps), x, g, parameters)
                # running statistics by hand: the biased batch variance (torch would keep the unbiased one)
                state['running_mean'] = momentum * state['running_mean'] + (1 - momentum) * x.mean(axis=(0, 2, 3))
                state['running_var'] = momentum * state['running_var'] + (1 - momentum) * x.var(axis=(0, 2, 3))
            else:
                scale = parameters['gamma'] / np.sqrt(eps + state['running_var'])
                y = scale[None, :, None, None] * (x - state['running_mean'][None, :, None, None]) \
                    + parameters['beta'][None, :, None, None]
                dx = None if g is None else np.asarray(g) * scale[None, :, None, None]
                if g is not None:
                    normalized = (x - state['running_mean'][None, :, None, None]) \
                        / np.sqrt(eps + state['running_var'])[None, :, None, None]
                    grads = {'beta': np.sum(g, axis=(0, 2, 3)), 'gamma': np.sum(g * normalized, axis=(0, 2, 3))}
        else:
            raise ValueError(f"no oracle for layer {cls}")
        outputs[f"step{index}.outputs"] = np.asarray(y)
        if g is not None:
            outputs[f"step{index}.inputs_grad"] = np.asarray(dx)
            for name in names:
                outputs[f"step{index}.{name}_grad"] = grads[name]
        for name in scenario.get('record_state', ()):
            outputs[f"step{index}.{name}"] = state[name].copy()
    return outputs


def expected_outputs(scenario):
    """{output name: ndarray} that a correct solution produces on ``scenario``."""
    kind = scenario['kind']
    if kind == 'optimizer':
        return optimizer_outputs(scenario)
    if kind == 'loss':
        return loss_outputs(scenario)
    if kind == 'function' and scenario['name'] == 'convolve_numpy':
        return {'outputs': torch_convolve(*scenario['args'])}
    if kind == 'layer':
        return layer_outputs(scenario)
    raise ValueError(f"no oracle for scenario kind {kind!r}")
