"""Scenario dicts of the autodiff assignment (see ``execute``), shared by the hidden scenarios
(``scenarios``, never shipped) and the loop probes (``probes``, shipped in the student kit so that
``./run.py unittest`` applies the checker's loop rule).  Nothing here is a test case: the shapes and
values are chosen by the callers.
"""
import numpy as np


def one_hot_rows(rng, n, k):
    """(n, k) one-hot labels of random classes."""
    return np.eye(k)[rng.integers(k, size=n)]


def log_probabilities(T):
    """Row-wise log-softmax of scores T (n, k): a valid input of cross-entropy."""
    shifted = T - T.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def logreg(rng, n, d, scale=1.0, labels=None):
    """X (n, d) and w (d,) drawn so that |X w + b| stays moderate (a few units), y 0/1."""
    y = rng.integers(2, size=n).astype(np.float64) if labels is None else np.full(n, float(labels))
    return {'kind': 'logreg', 'X': rng.normal(size=(n, d)), 'y': y,
            'w': rng.normal(scale=scale / np.sqrt(d), size=d), 'b': float(rng.normal(scale=0.5))}


def dense(rng, n, d, k):
    return {'kind': 'dense', 'X': rng.normal(size=(n, d)), 'W': rng.normal(size=(d, k)), 'b': rng.normal(size=k),
            'dT': rng.normal(size=(n, k))}


def relu(rng, n, h, zeros=0):
    """T (n, h) with ``zeros`` entries exactly 0 (ReLU'(0) = 0 matters there), dZ (n, h)."""
    T = rng.normal(size=(n, h))
    if zeros:
        T.flat[rng.choice(n * h, size=min(zeros, n * h), replace=False)] = 0.0
    return {'kind': 'relu', 'T': T, 'dZ': rng.normal(size=(n, h))}


def crossentropy(rng, n, k, scale=2.0):
    return {'kind': 'crossentropy', 'Z': log_probabilities(rng.normal(scale=scale, size=(n, k))),
            'Y': one_hot_rows(rng, n, k)}


def logsoftmax(rng, n, k, scale=2.0, dZ=None):
    return {'kind': 'logsoftmax', 'T': rng.normal(scale=scale, size=(n, k)),
            'dZ': rng.normal(size=(n, k)) if dZ is None else dZ}


def network(rng, sizes, n):
    """A network of layer widths ``sizes`` = (D, H1, ..., K) on n objects; He-scaled weights, random biases."""
    params = [[rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)), rng.normal(scale=0.1, size=fan_out)]
              for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return {'kind': 'network', 'X': rng.normal(size=(n, sizes[0])), 'Y': one_hot_rows(rng, n, sizes[-1]),
            'params': params}
