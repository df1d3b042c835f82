"""Loop probes of the autodiff assignment (see grader/loops.py: what runs more often on more data).

For every unit section, a small run and a bigger one: more objects, features, units and classes,
the same number of layers (a loop over the layers of a network runs as often in both, so only a
loop over data grows).
"""
import contextlib

import numpy as np

from assignments.autodiff import builders

GROWN = "more objects, features, units, classes"
SIZES = {'small': (2, 3, 4, 2), 'bigger': (5, 7, 8, 6)}  # (N, D, H, K)


def _probe(section, rng, label):
    n, d, h, k = SIZES[label]
    if section == 'logreg':
        return builders.logreg(rng, n, d)
    if section == 'dense':
        return builders.dense(rng, n, d, k)
    if section == 'relu':
        return builders.relu(rng, n, h, zeros=1)
    if section == 'crossentropy':
        return builders.crossentropy(rng, n, k)
    if section == 'logsoftmax':
        return builders.logsoftmax(rng, n, k)
    if section == 'network':
        return builders.network(rng, (d, h, k), n)
    raise KeyError(section)


def probes(section):
    """[(label, scenario)]: a 'small' and a 'bigger' run, compared by grader.loops.loop_lines."""
    rng = np.random.default_rng([2026, sum(map(ord, section))])
    return [(label, _probe(section, rng, label)) for label in SIZES]


def run_probe(solution, scenario):
    """Run one probe in the student kit (``./run.py unittest``); the checker runs them with ``execute``."""
    from assignments.autodiff.probe_runner import run_probe as run
    return run(solution, scenario)


def running(task):
    return contextlib.nullcontext()
