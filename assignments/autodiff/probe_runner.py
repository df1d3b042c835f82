"""Runs the autodiff assignment's loop probes (``probes``) in the student kit, for ``./run.py unittest``.

The checker runs the probes with its scenario runner (``execute``, which stays with the checker:
its network section runs on the kit's own, correct, layer functions).  Only how often each line of
solution.py runs matters to the loop rule, not the values, so here the network section runs over
stand-in layer functions that return pseudo-random arrays of the right shapes; every other section
calls your functions exactly as the checker does.  Lines of another section never count for this
one (``grader.loops``).
"""
import contextlib

import numpy as np


def _read_only(array):
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def stand_ins(seed=5):
    """{name: function}: layer functions of the right shapes whose values are pseudo-random."""
    rng = np.random.default_rng(seed)

    def like(*shape):
        return rng.uniform(0.5, 1.5, size=shape)

    return {'dense_forward': lambda X, W, b: like(X.shape[0], W.shape[1]),
            'dense_backward': lambda X, W, dT: (like(*X.shape), like(*W.shape), like(W.shape[1])),
            'relu_forward': lambda T: like(*T.shape), 'relu_backward': lambda T, dZ: like(*T.shape),
            'log_softmax_forward': lambda T: -like(*T.shape), 'log_softmax_backward': lambda T, dZ: like(*T.shape),
            'cross_entropy_forward': lambda Z, Y: float(rng.uniform(0.5, 1.5)),
            'cross_entropy_backward': lambda Z, Y: like(*Z.shape)}


@contextlib.contextmanager
def _replaced(solution, functions):
    saved = {name: getattr(solution, name, None) for name in functions}
    for name, function in functions.items():
        setattr(solution, name, function)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(solution, name, function)


def run_probe(solution, scenario):
    """Run one probe scenario on ``solution`` (exceptions propagate: the caller ignores them)."""
    kind = scenario['kind']
    if kind == 'logreg':
        X, y, w = (_read_only(scenario[key]) for key in ('X', 'y', 'w'))
        solution.logreg_forward(X, y, w, float(scenario['b']))
        solution.logreg_backward(X, y, w, float(scenario['b']))
    elif kind == 'dense':
        X, W, b, dT = (_read_only(scenario[key]) for key in ('X', 'W', 'b', 'dT'))
        solution.dense_forward(X, W, b)
        solution.dense_backward(X, W, dT)
    elif kind in ('relu', 'logsoftmax'):
        prefix = 'relu' if kind == 'relu' else 'log_softmax'
        T, dZ = _read_only(scenario['T']), _read_only(scenario['dZ'])
        getattr(solution, f'{prefix}_forward')(T)
        getattr(solution, f'{prefix}_backward')(T, dZ)
    elif kind == 'crossentropy':
        Z, Y = _read_only(scenario['Z']), _read_only(scenario['Y'])
        solution.cross_entropy_forward(Z, Y)
        solution.cross_entropy_backward(Z, Y)
    elif kind == 'network':
        X, Y = _read_only(scenario['X']), _read_only(scenario['Y'])
        params = [(_read_only(W), _read_only(b)) for W, b in scenario['params']]
        with _replaced(solution, stand_ins()):
            solution.mlp_forward(X, params)
            solution.mlp_loss_and_grads(X, Y, params)


def running(task):
    """Nothing to switch in this assignment."""
    return contextlib.nullcontext()
