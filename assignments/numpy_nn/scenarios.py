"""Hidden test scenarios, section by section (never shipped to students).

Every scenario is a plain dict (see ``execute``) with a name and a category;
inputs come from a fixed seed, so a grading run is reproducible.  Expected
values are never stored: the grader computes them from the reference solution.

Each generator yields ``(category, case name, scenario)``.  The category says
what the case is about ('batch size 1', 'soft labels', 'pooling ties', ...);
``assignments.numpy_nn.announced.ANNOUNCED`` names, for every category of every section, the
public case that shows students the same situation, and a kit test
(tests/numpy_nn/test_hidden_categories.py) fails when a hidden category has none.
Cases stay inside the documented contract (KIT-SPEC): e.g. Flatten gets 4-D
inputs only.
"""
import numpy as np

from grader.case_table import case_functions
from assignments.numpy_nn.builders import FAST_CONVOLVE, layer, train_step  # noqa: F401 - FAST_CONVOLVE: grade.py

SEED = 20261122


def one_hot(rng, n, classes):
    return np.eye(classes)[rng.integers(classes, size=n)]


def sgd(rng):
    for lr, shapes in ((0.1, [(1,)]), (1e-3, [(3, 4), (5,)]), (0.5, [(2, 3, 5)]), (2.0, [(64,), (1, 1)])):
        yield 'multi-step optimizer runs', f"lr={lr}, shapes {shapes}, 10 steps", {
            'kind': 'optimizer', 'class': 'SGD', 'kwargs': {'lr': lr},
            'parameters': [rng.normal(size=s) for s in shapes],
            'grads': [[rng.normal(size=s) for s in shapes] for _ in range(10)]}


def momentum(rng):
    for lr, beta, shapes in ((0.1, 0.0, [(4,)]), (0.05, 0.5, [(3, 4), (3, 4), (7,)]), (0.01, 0.9, [(2, 3, 5), (1,)]),
                             (1e-3, 0.99, [(64,)])):
        yield 'multi-step optimizer runs', f"lr={lr}, momentum={beta}, shapes {shapes}, 10 steps", {
            'kind': 'optimizer', 'class': 'SGDMomentum', 'kwargs': {'lr': lr, 'momentum': beta},
            'parameters': [rng.normal(size=s) for s in shapes],
            'grads': [[rng.normal(size=s) for s in shapes] for _ in range(10)]}
    yield 'default momentum (0.0)', "default momentum (0.0)", {
        'kind': 'optimizer', 'class': 'SGDMomentum', 'kwargs': {'lr': 0.3},
        'parameters': [rng.normal(size=(5,))], 'grads': [[rng.normal(size=(5,))]] * 3}


def relu(rng):
    for category, shape in (('batch size 1', (1, 5)), ('inputs with exact zeros', (7, 3, 4, 5)),
                            ('inputs with exact zeros', (16, 10))):
        x = rng.normal(size=shape)
        x.flat[::4] = 0.0  # exact zeros: ReLU'(0) = 1
        yield category, f"inputs {shape} with zeros", layer('ReLU', shape[1:], [train_step(rng, x)])
    yield 'all inputs negative', "all negative", layer(
        'ReLU', (6,), [train_step(rng, -np.abs(rng.normal(size=(3, 6))) - 0.1)])


def softmax(rng):
    for category, shape, scale in (('batch size 1', (1, 10), 1.0), ('random inputs', (16, 7), 3.0),
                                   ('one or two classes', (5, 2), 1.0), ('one or two classes', (4, 1), 1.0),
                                   ('softmax with large inputs (+-1e4)', (8, 10), 1e4)):
        yield category, f"inputs {shape}, scale {scale:g}", layer(
            'Softmax', shape[1:], [train_step(rng, rng.normal(scale=scale, size=shape))])
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [5.0, 5.0, 5.0]])
    yield 'softmax with large inputs (+-1e4)', "rows of +-1e4 and constant rows", layer(
        'Softmax', (3,), [train_step(rng, x)])


def dense(rng):
    for category, n, d, c in (('batch size 1', 1, 1, 1), ('batch size 1', 1, 5, 3), ('random inputs', 32, 20, 10),
                              ('random inputs', 7, 13, 4), ('random inputs', 3, 784, 16)):
        yield category, f"n={n}, {d} -> {c}", layer(
            'Dense', (d,), [train_step(rng, rng.normal(size=(n, d)), (n, c))], args=[c],
            parameters={'weights': rng.normal(size=(c, d)), 'biases': rng.normal(size=c)})
    # Parameters stay fixed between the steps: step 2's gradients are those of batch 2 alone,
    # so ``self.weights_grad += ...`` (accumulation over steps) fails here.
    n, d, c = 4, 6, 3
    yield 'multi-step layer gradients', f"n={n}, {d} -> {c}: 2 training steps, gradients of the current batch", layer(
        'Dense', (d,), [train_step(rng, rng.normal(size=(n, d)), (n, c)) for _ in range(2)], args=[c],
        parameters={'weights': rng.normal(size=(c, d)), 'biases': rng.normal(size=c)})


def loss_case(y_gt, y_pred):
    return {'kind': 'loss', 'class': 'CategoricalCrossentropy', 'y_gt': y_gt, 'y_pred': y_pred}


def crossentropy(rng):
    for category, n, d in (('batch size 1', 1, 10), ('one-hot labels', 16, 10), ('one-hot labels', 5, 2),
                           ('one-hot labels', 64, 3)):
        y_pred = rng.uniform(0.01, 1, size=(n, d))
        yield category, f"n={n}, d={d}", loss_case(one_hot(rng, n, d), y_pred / y_pred.sum(axis=1, keepdims=True))
    y_gt = one_hot(rng, 6, 4)
    y_pred = np.where(rng.uniform(size=(6, 4)) < 0.5, 0.0, 0.5)
    yield 'y_pred with zeros', "y_pred with zeros (also at the true class)", loss_case(y_gt, y_pred)
    soft = rng.uniform(size=(4, 5))
    yield 'soft labels', "soft labels", loss_case(soft / soft.sum(1, keepdims=True), rng.dirichlet(np.ones(5), size=4))


def convolve(rng):
    for category, (n, d, h, w, c, kh, kw, p) in (
            ('batch size 1', (1, 1, 5, 5, 1, 3, 3, 1)),
            ('non-square images', (2, 3, 8, 6, 4, 3, 3, 0)),
            ('5x5 kernels', (3, 2, 7, 9, 2, 5, 5, 2)),
            ('1x1 kernels', (2, 4, 6, 6, 3, 1, 1, 0)),
            ('5x5 kernels', (1, 2, 5, 7, 3, 5, 5, 4)),
            ('rectangular kernels', (4, 3, 6, 5, 2, 3, 1, 1)),
            ('full convolution (padding k - 1)', (2, 1, 9, 4, 5, 3, 3, 2))):
        yield category, f"inputs {(n, d, h, w)}, kernels {(c, d, kh, kw)}, padding {p}", {
            'kind': 'function', 'name': 'convolve_numpy',
            'args': [rng.normal(size=(n, d, h, w)), rng.normal(size=(c, d, kh, kw)), p]}


def conv2d(rng):
    for category, (n, d, h, w, c, k) in (('batch size 1', (1, 1, 4, 4, 1, 3)), ('non-square images', (2, 3, 6, 5, 4, 3)),
                                         ('5x5 kernels', (3, 2, 5, 7, 2, 5)), ('1x1 kernels', (2, 4, 3, 3, 3, 1)),
                                         ('non-square images', (1, 2, 8, 6, 3, 3))):
        yield category, f"inputs {(n, d, h, w)}, {c} channels, kernel {k}", layer(
            'Conv2D', (d, h, w), [train_step(rng, rng.normal(size=(n, d, h, w)), (n, c, h, w))],
            args=[c], kwargs={'kernel_size': k},
            parameters={'kernels': rng.normal(size=(c, d, k, k)), 'biases': rng.normal(size=c)})
    # As in Dense: fixed parameters, two batches; ``self.kernels_grad += ...`` fails here.
    n, d, h, w, c, k = 2, 2, 5, 4, 3, 3
    yield 'multi-step layer gradients', f"inputs {(n, d, h, w)}, {c} channels, kernel {k}: 2 training steps, " \
                                        "gradients of the current batch", layer(
        'Conv2D', (d, h, w), [train_step(rng, rng.normal(size=(n, d, h, w)), (n, c, h, w)) for _ in range(2)],
        args=[c], kwargs={'kernel_size': k},
        parameters={'kernels': rng.normal(size=(c, d, k, k)), 'biases': rng.normal(size=c)})


def pooling2d(rng):
    for mode in ('max', 'avg'):
        for category, (n, d, h, w, p) in (('batch size 1', (1, 1, 4, 4, 2)), ('non-square images', (2, 3, 6, 8, 2)),
                                          ('pool sizes 3 and 4', (3, 2, 9, 6, 3)),
                                          ('pool sizes 3 and 4', (2, 2, 8, 4, 4))):
            x = rng.normal(size=(n, d, h, w))
            yield category, f"{mode}, inputs {(n, d, h, w)}, pool {p}", layer(
                'Pooling2D', (d, h, w), [train_step(rng, x, (n, d, h // p, w // p))], args=[p, mode])
        x = rng.integers(0, 2, size=(2, 2, 4, 6)).astype(np.float64)  # many ties in every window
        yield 'pooling ties', f"{mode}, ties", layer('Pooling2D', (2, 4, 6), [train_step(rng, x, (2, 2, 2, 3))],
                                                     args=[2, mode])


def batchnorm(rng):
    for n, d, h, w, m in ((4, 3, 5, 5, 0.9), (1, 2, 3, 4, 0.5), (8, 1, 2, 2, 0.9), (2, 4, 1, 1, 0.99)):
        shape = (n, d, h, w)
        steps = [train_step(rng, rng.normal(step, 1 + step, size=shape)) for step in range(3)]
        steps.append({'training': False, 'seed': None, 'inputs': rng.normal(size=shape), 'output_grad': None})
        yield 'running statistics over several steps, then inference', \
            f"inputs {shape}, momentum {m}: 3 training steps, then inference", layer(
                'BatchNorm', (d, h, w), steps, kwargs={'momentum': m},
                parameters={'gamma': rng.uniform(0.5, 2, size=d), 'beta': rng.normal(size=d)},
                record_state=['running_mean', 'running_var'])


def flatten(rng):
    # Flatten is documented for (n, d, h, w) inputs only: every case is 4-D.
    for category, shape in (('batch size 1', (1, 1, 1, 1)), ('batch size 1', (1, 3, 2, 5)),
                            ('non-square images', (3, 2, 4, 5)), ('non-square images', (2, 3, 1, 6)),
                            ('random inputs', (2, 3, 4, 4))):
        yield category, f"inputs {shape}", layer('Flatten', shape[1:], [
            train_step(rng, rng.normal(size=shape), (shape[0], int(np.prod(shape[1:]))))])


def dropout(rng):
    for p, shape in ((0.5, (4, 10)), (0.1, (2, 3, 4, 5)), (0.9, (8, 6)), (0.0, (3, 3))):
        steps = [train_step(rng, rng.normal(size=shape), seed=int(rng.integers(1 << 30))) for _ in range(2)]
        steps.append({'training': False, 'seed': None, 'inputs': rng.normal(size=shape), 'output_grad': None})
        yield 'fixed seeds, then inference', f"p={p}, inputs {shape}: 2 training steps (fixed seeds), then inference", \
            layer('Dropout', shape[1:], steps, args=[p])


GENERATORS = {'sgd': sgd, 'momentum': momentum, 'relu': relu, 'softmax': softmax, 'dense': dense,
              'crossentropy': crossentropy, 'convolve': convolve, 'conv2d': conv2d, 'pooling2d': pooling2d,
              'batchnorm': batchnorm, 'flatten': flatten, 'dropout': dropout}


cases, scenarios, categories = case_functions(GENERATORS, SEED)
