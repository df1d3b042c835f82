"""The loop rule judged by what runs: which of the student's lines run more often on more data.

"No Python loops over data in layers, losses and optimizers; at most two nested
loops in convolve_numpy" is a rule about behaviour, so it is checked on
behaviour.  The sandboxed child runs each probe below with a line tracer on the
student's code (``harness.count_lines``): every executed line of the student's
code counts, and so does every call made from one (``map(np.sum, rows)``
calls from a single line).  Then, here in the grader:

* a layer, loss or optimizer: a line that runs more often on the bigger probe
  (every data dimension larger: batch, units, channels, height, width) is a
  loop over data, wherever it stands (a helper, a comprehension, recursion,
  ``np.vectorize`` of a Python function).  A loop over ``ndim`` or over a fixed
  tuple runs as often on both, and is fine;
* ``convolve_numpy``: one probe per dimension (batch, input and output channels,
  image height and width, kernel height and width) made larger alone; a line
  whose count grows with more than two of them sits in more than two nested
  loops over data.

The probes are tiny, so tracing costs milliseconds.  They are the first assignment's; another
assignment brings its own ``probes(section)`` and ``GROWN`` (``Assignment.probes_module``), and
``loop_lines`` compares every '<run> small' with its '<run> bigger'.
"""
import numpy as np

from grader.scenario_builders import FAST_CONVOLVE, layer, train_step  # noqa: F401 - FAST_CONVOLVE: the kit's runner

GROWS = 'bigger'
GROWN = "more batch, units, channels, pixels"  # what is larger in the bigger probes
CONVOLVE_DIMENSIONS = {'n': 'batch', 'd': 'input channels', 'c': 'output channels', 'ih': 'image height',
                       'iw': 'image width', 'kh': 'kernel height', 'kw': 'kernel width'}


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


def loop_lines(section, counts, grown=GROWN):
    """{graded line: description} of the lines that loop over data, from the child's ``counts``
    ({label: {line: executions}}); for ``convolve``, lines nested in more than two data loops.
    ``grown``: what the bigger probes have more of."""
    def on(label):
        return {int(line): number for line, number in counts.get(label, {}).items()}

    found = {}
    if section == 'convolve':
        small = on('small')
        for line in sorted(set().union(*(on(key) for key in CONVOLVE_DIMENSIONS))):
            grown = [key for key in CONVOLVE_DIMENSIONS if on(key).get(line, 0) > small.get(line, 0)]
            if len(grown) > 2:
                found[line] = (f"runs more often with every one of {', '.join(CONVOLVE_DIMENSIONS[key] for key in grown)}"
                               f": more than two nested loops over the data (at most two are allowed in convolve_numpy)")
        return found
    pairs = [(label, label[:-len('small')] + GROWS) for label in counts if label.endswith('small')]
    for small_label, big_label in pairs:
        small, big = on(small_label), on(big_label)
        for line, number in sorted(big.items()):
            if number > small.get(line, 0) and line not in found:
                found[line] = (f"runs {small.get(line, 0)} times on the small probe and {number} times on a bigger one"
                               f" ({grown}): a Python loop over the data (vectorise it with numpy)")
    return found
