"""Loop probes of the autoencoder assignment (see grader/loops.py: what runs more often on more data).

For every unit section, a small run and a bigger one: more objects, more units, more parameters,
the same number of layers and of optimiser steps (the kit's loops over layers, epochs and
minibatches run as often in both, so only the student's own loops can grow).
"""
import contextlib

import numpy as np

from assignments.autoencoder.builders import layer as _layer, network as _network

GROWN = "more objects, units, parameters"
# the optimisers' settings of the probes (not the hidden cases': those stay in scenarios.py)
OPTIMIZERS = {'sgd': ('run_sgd', {'step_size': 0.1}),
              'momentum': ('run_sgd_momentum', {'step_size': 0.05, 'momentum': 0.9}),
              'rmsprop': ('run_rmsprop', {'step_size': 0.01}), 'adam': ('run_adam', {'step_size': 0.01})}
SIZES = {'small': (2, 3, 2), 'bigger': (5, 7, 6)}  # (inputs, outputs, objects) of a layer


def _probe(section, rng, label):
    n_in, n_out, batch = SIZES[label]
    if section == 'activations':
        return [{'kind': 'activation', 'class': name, 'kwargs': kwargs,
                 'X': np.where(rng.random((n_in, batch)) < 0.5, -1.0, 1.0) * rng.uniform(0.5, 2, (n_in, batch))}
                for name, kwargs in (('SigmoidActivationFunction', {}), ('TanhActivationFunction', {}),
                                     ('ReluActivationFunction', {}), ('LeakyReluActivationFunction', {'alpha': 0.2}),
                                     ('SoftplusActivationFunction', {}), ('LinearActivationFunction', {}))]
    if section in ('fclayer', 'rp'):
        return [_layer(rng, section, n_in, n_out, True, batch)]
    layers = [[n_out, n_in, 1], [n_in, n_out, 1]]
    if section in ('loss', 'hessvec', 'gaussnewton'):
        return [{'kind': 'autoencoder', 'method': section, **_network(rng, layers, batch)}]
    method, settings = OPTIMIZERS[section]  # two steps each: one epoch of two minibatches
    return [{'kind': 'optimizer', 'method': method, 'seed': 3, 'test_inputs': None, **_network(rng, layers, 2 * batch),
             'kwargs': {**settings, 'num_epoch': 1, 'minibatch_size': batch, 'l2_coef': 1e-3}}]


def run_probe(solution, scenario):
    """Run one probe in the student kit (``./run.py unittest``); the checker runs them with ``execute``."""
    from assignments.autoencoder.probe_runner import run_probe as run
    return run(solution, scenario)


def running(task):
    return contextlib.nullcontext()


def probes(section):
    """[(label, scenario)]: '<run> small' and '<run> bigger' pairs, compared by grader.loops.loop_lines."""
    rng = np.random.default_rng([2026, sum(map(ord, section))])
    runs = []
    for label in SIZES:
        runs += [(f"{number} {label}", scenario) for number, scenario in enumerate(_probe(section, rng, label))]
    return runs
