"""The loop probes of the first assignment: the runs whose line counts grader/loops.py compares.

Every section gets a small probe and a bigger one (every data dimension larger: batch, units,
channels, height, width); ``convolve_numpy`` gets one probe per dimension made larger alone, and
may nest two loops over data (``NESTED``).  The probes are tiny, so tracing costs milliseconds.
"""
import numpy as np

from assignments.numpy_nn.builders import FAST_CONVOLVE, layer, train_step  # noqa: F401 - FAST_CONVOLVE: the kit's runner
from grader.loops import GROWS

GROWN = "more batch, units, channels, pixels"  # what is larger in the bigger probes
CONVOLVE_DIMENSIONS = {'n': 'batch', 'd': 'input channels', 'c': 'output channels', 'ih': 'image height',
                       'iw': 'image width', 'kh': 'kernel height', 'kw': 'kernel width'}
# {section: (its probes' dimensions {label: what grew}, how many nested loops over data it may have)}
NESTED = {'convolve': (CONVOLVE_DIMENSIONS, 2)}


def _layer_probe(rng, cls, shape, output_shape=None, args=(), kwargs=None, parameters=None, inference=False):
    steps = [train_step(rng, rng.normal(size=shape), output_shape, seed=7)]
    if inference:
        steps.append({'training': False, 'seed': None, 'inputs': rng.normal(size=shape), 'output_grad': None})
    return layer(cls, shape[1:], steps, args=args, kwargs=kwargs, parameters=parameters)


def _probe(section, rng, size):
    """The probe of ``section`` at ``size`` (0: small, 1: every data dimension larger)."""
    n, d, h, w, c = (2, 2, 4, 6, 3) if size == 0 else (5, 3, 8, 10, 4)
    if section in ('sgd', 'momentum'):
        shape = (3, 2) if size == 0 else (6, 5)
        kwargs = {'lr': 0.1} if section == 'sgd' else {'lr': 0.1, 'momentum': 0.9}
        return {'kind': 'optimizer', 'class': 'SGD' if section == 'sgd' else 'SGDMomentum', 'kwargs': kwargs,
                'parameters': [rng.normal(size=shape)], 'grads': [[rng.normal(size=shape)] for _ in range(2)]}
    if section == 'crossentropy':
        y_pred = rng.uniform(0.1, 1, size=(n, c))
        return {'kind': 'loss', 'class': 'CategoricalCrossentropy', 'y_gt': np.eye(c)[rng.integers(c, size=n)],
                'y_pred': y_pred / y_pred.sum(axis=1, keepdims=True)}
    if section in ('relu', 'softmax'):
        return _layer_probe(rng, 'ReLU' if section == 'relu' else 'Softmax', (n, c))
    if section == 'dense':
        return _layer_probe(rng, 'Dense', (n, d * 2), (n, c), args=[c],
                            parameters={'weights': rng.normal(size=(c, d * 2)), 'biases': rng.normal(size=c)})
    if section == 'conv2d':
        return _layer_probe(rng, 'Conv2D', (n, d, h, w), (n, c, h, w), args=[c], kwargs={'kernel_size': 3},
                            parameters={'kernels': rng.normal(size=(c, d, 3, 3)), 'biases': rng.normal(size=c)})
    if section == 'batchnorm':
        return _layer_probe(rng, 'BatchNorm', (n, d, h, w), inference=True,
                            parameters={'gamma': rng.uniform(0.5, 2, size=d), 'beta': rng.normal(size=d)})
    if section == 'flatten':
        return _layer_probe(rng, 'Flatten', (n, d, h, w), (n, d * h * w))
    if section == 'dropout':
        return _layer_probe(rng, 'Dropout', (n, c * 2), args=[0.3], inference=True)
    raise KeyError(section)


def _convolve_probe(rng, dimensions):
    n, d, c, ih, iw, kh, kw = (dimensions[key] for key in CONVOLVE_DIMENSIONS)
    return {'kind': 'function', 'name': 'convolve_numpy',
            'args': [rng.normal(size=(n, d, ih, iw)), rng.normal(size=(c, d, kh, kw)), 1]}


def probes(section):
    """[(label, scenario)]: the runs whose line counts are compared; labels say what grew."""
    rng = np.random.default_rng([2026, sum(map(ord, section))])
    if section == 'convolve':
        small = {'n': 1, 'd': 1, 'c': 1, 'ih': 4, 'iw': 5, 'kh': 1, 'kw': 1}
        bigger = {'n': 3, 'd': 3, 'c': 3, 'ih': 7, 'iw': 8, 'kh': 3, 'kw': 3}
        runs = [('small', _convolve_probe(rng, small))]
        runs += [(key, _convolve_probe(rng, {**small, key: bigger[key]})) for key in CONVOLVE_DIMENSIONS]
        return runs
    if section == 'pooling2d':  # both modes: their code paths differ
        runs = []
        for mode in ('max', 'avg'):
            for size, (n, d, h, w) in enumerate(((2, 2, 4, 6), (5, 3, 8, 10))):
                runs.append((f"{mode} {'small' if size == 0 else GROWS}", _layer_probe(
                    rng, 'Pooling2D', (n, d, h, w), (n, d, h // 2, w // 2), args=[2, mode])))
        return runs
    return [('small', _probe(section, rng, 0)), (GROWS, _probe(section, rng, 1))]
