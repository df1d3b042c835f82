"""Run one hidden scenario of the autodiff assignment on a solution module; returns plain arrays.

Runs in the grader on the reference (expected values) and in the sandboxed child on the
submission (as kit_execute.py, next to this assignment's interface.py), so it imports nothing
of the kit but ``kit_runner``.  Never shipped to students: the network section runs on the kit's
own layer functions (``KIT_LAYERS``, correct ones), which would be the answers.

Every array handed to the student's code is a read-only float64 copy (the handout's contract:
return new arrays).  A scenario is a dict, by ``kind``:

  {'kind': 'logreg', 'X' (N, D), 'y' (N,), 'w' (D,), 'b'}        -> loss, dw, db
  {'kind': 'dense', 'X' (N, D), 'W' (D, K), 'b' (K,), 'dT' (N, K)} -> T, dX, dW, db
  {'kind': 'relu', 'T' (N, H), 'dZ' (N, H)}                      -> Z, dT
  {'kind': 'crossentropy', 'Z' (N, K), 'Y' (N, K)}               -> loss, dZ
  {'kind': 'logsoftmax', 'T' (N, K), 'dZ' (N, K)}                -> Z, dT
  {'kind': 'network', 'X' (N, D), 'Y' (N, K), 'params' [[W, b], ...]} -> Z, loss, dW1, db1, ...

The network section is judged on its own: while it runs, the module's layer functions
(``dense_forward``, ..., ``cross_entropy_backward``) are the kit's, so a wrong dense_backward
costs the dense section only; a network that inlines its own layer code is judged on that code.
"""
import contextlib

import numpy as np

try:  # in the sandbox, beside this file
    from kit_runner import Output, StepFailed, call, describe_exception  # noqa: F401 - describe_exception: harness
except ImportError:  # in the grader
    from grader.kit_runner import Output, StepFailed, call, describe_exception  # noqa: F401


def read_only(array):
    """A read-only float64 copy: what the student's functions receive."""
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def as_output(value, what):
    """An array result as an Output: a numpy array of numbers (a float of the right shape is compared later)."""
    if type(value) is not np.ndarray:
        return Output(problem=f"{what} returned {type(value).__module__}.{type(value).__qualname__}, "
                              f"expected a numpy array")
    if value.dtype.kind not in 'biuf':
        return Output(problem=f"{what} returned an array of dtype {value.dtype}, expected real numbers")
    return Output(np.array(value))


def as_number(value, what):
    """A number result (a loss, logistic regression's dQ/db) as a 0-d Output: a Python or numpy number, or an
    array holding a single number (shape (), (1,), (1, 1), ...)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number, np.ndarray)):
        return Output(problem=f"{what} returned {type(value).__module__}.{type(value).__qualname__}, expected a number")
    array = np.asarray(value)
    if array.size != 1:
        return Output(problem=f"{what} returned an array of shape {array.shape}, expected a number")
    if array.dtype.kind not in 'iuf':
        return Output(problem=f"{what} returned a number of dtype {array.dtype}, expected a real number")
    return Output(np.array(array.reshape(()), dtype=np.float64))


# -- the kit's own layer functions: the network section runs on these (see the module docstring) --------
def _dense_forward(X, W, b):
    return X @ W + b


def _dense_backward(X, W, dT):
    return dT @ W.T, X.T @ dT, dT.sum(axis=0)


def _relu_forward(T):
    return np.where(T > 0, T, 0.0)


def _relu_backward(T, dZ):
    return np.where(T > 0, dZ, 0.0)


def _log_softmax_forward(T):
    top = T.max(axis=1, keepdims=True)
    return T - top - np.log(np.sum(np.exp(T - top), axis=1, keepdims=True))


def _log_softmax_backward(T, dZ):
    return dZ - np.exp(_log_softmax_forward(T)) * dZ.sum(axis=1, keepdims=True)


def _cross_entropy_forward(Z, Y):
    return -float(np.sum(Z * Y)) / len(Z)


def _cross_entropy_backward(Z, Y):
    return -Y / len(Z)


KIT_LAYERS = {'dense_forward': _dense_forward, 'dense_backward': _dense_backward,
              'relu_forward': _relu_forward, 'relu_backward': _relu_backward,
              'log_softmax_forward': _log_softmax_forward, 'log_softmax_backward': _log_softmax_backward,
              'cross_entropy_forward': _cross_entropy_forward, 'cross_entropy_backward': _cross_entropy_backward}
_ABSENT = object()


@contextlib.contextmanager
def kit_layers(solution, functions=None):
    """Meanwhile the module's layer functions are ``functions`` (default: the kit's); restored afterwards."""
    functions = KIT_LAYERS if functions is None else functions
    saved = {name: getattr(solution, name, _ABSENT) for name in functions}
    for name, function in functions.items():
        setattr(solution, name, function)
    try:
        yield
    finally:
        for name, function in saved.items():
            if function is _ABSENT:
                delattr(solution, name)
            else:
                setattr(solution, name, function)


# -- the runners ------------------------------------------------------------------------------------
def _triple(record, value, what, names):
    """Record a tuple result (dX, dW, db) or (dw, db); a wrong count or type is one problem for all."""
    if not (isinstance(value, (tuple, list)) and len(value) == len(names)):
        for name in names:
            record(name, None, f"{what} returned {type(value).__name__}"
                               + (f" of {len(value)}" if isinstance(value, (tuple, list)) else '')
                               + f", expected a tuple ({', '.join(names)})", problem=True)
        return
    for name, part in zip(names, value):
        record(name, part, f"{what}: {name}")


def run_logreg(solution, scenario, record):
    X, y, w = (read_only(scenario[key]) for key in ('X', 'y', 'w'))
    b = float(scenario['b'])
    record('loss', call(solution.logreg_forward, 'logreg_forward', X, y, w, b), 'logreg_forward', number=True)
    value = call(solution.logreg_backward, 'logreg_backward', X, y, w, b)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        record('dw', value[0], 'logreg_backward: dw')
        record('db', value[1], 'logreg_backward: db', number=True)
    else:
        _triple(record, value, 'logreg_backward', ('dw', 'db'))


def run_dense(solution, scenario, record):
    X, W, b, dT = (read_only(scenario[key]) for key in ('X', 'W', 'b', 'dT'))
    record('T', call(solution.dense_forward, 'dense_forward', X, W, b), 'dense_forward')
    _triple(record, call(solution.dense_backward, 'dense_backward', X, W, dT), 'dense_backward', ('dX', 'dW', 'db'))


def run_pair(forward, backward, output):
    """A runner for a layer without parameters: forward(T) -> output, backward(T, dZ) -> dT."""
    def run(solution, scenario, record):
        T, dZ = read_only(scenario['T']), read_only(scenario['dZ'])
        record(output, call(getattr(solution, forward), forward, T), forward)
        record('dT', call(getattr(solution, backward), backward, T, dZ), backward)
    return run


def run_crossentropy(solution, scenario, record):
    Z, Y = read_only(scenario['Z']), read_only(scenario['Y'])
    record('loss', call(solution.cross_entropy_forward, 'cross_entropy_forward', Z, Y), 'cross_entropy_forward',
           number=True)
    record('dZ', call(solution.cross_entropy_backward, 'cross_entropy_backward', Z, Y), 'cross_entropy_backward')


def network_params(scenario):
    """[(W, b), ...] read-only, from the scenario's [[W, b], ...]."""
    return [(read_only(W), read_only(b)) for W, b in scenario['params']]


def run_network(solution, scenario, record, functions=None):
    X, Y, params = read_only(scenario['X']), read_only(scenario['Y']), network_params(scenario)
    with kit_layers(solution, functions):
        record('Z', call(solution.mlp_forward, 'mlp_forward', X, params), 'mlp_forward')
        value = call(solution.mlp_loss_and_grads, 'mlp_loss_and_grads', X, Y, params)
    what = 'mlp_loss_and_grads'
    names = [f"{kind}{number}" for number in range(1, len(params) + 1) for kind in ('dW', 'db')]
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        for name in ['loss'] + names:
            record(name, None, f"{what} returned {type(value).__name__}, expected a pair (loss, grads)", problem=True)
        return
    loss, grads = value
    record('loss', loss, f"{what}: the loss", number=True)
    if not (isinstance(grads, (tuple, list)) and len(grads) == len(params)):
        for name in names:
            record(name, None, f"{what} returned grads of type {type(grads).__name__}"
                               + (f" and length {len(grads)}" if isinstance(grads, (tuple, list)) else '')
                               + f", expected a list of {len(params)} (dW, db) pairs, one per layer", problem=True)
        return
    for number, pair in enumerate(grads, start=1):
        _triple(record, pair, f"{what}: grads[{number - 1}]", (f"dW{number}", f"db{number}"))


def running(task):
    """The context a child's scenarios run in: nothing to switch in this assignment."""
    return contextlib.nullcontext()


def warm_up():
    """Nothing to load before the sandbox's guard (no torch here)."""


RUNNERS = {'logreg': run_logreg, 'dense': run_dense, 'relu': run_pair('relu_forward', 'relu_backward', 'Z'),
           'crossentropy': run_crossentropy,
           'logsoftmax': run_pair('log_softmax_forward', 'log_softmax_backward', 'Z'), 'network': run_network}


def run_scenario(solution, scenario):
    """({output name: Output}, failure text or None) of ``scenario`` on ``solution``."""
    outputs = {}

    def record(name, value, what, number=False, problem=False):
        if problem:
            outputs[name] = Output(problem=what)
        else:
            outputs[name] = as_number(value, what) if number else as_output(value, what)

    try:
        # as interface.py sets it for the student: an overflow, a division by zero or an invalid operation raises
        # (FloatingPointError names it: a runtime error), underflow is silent
        with np.errstate(all='raise', under='ignore'):
            RUNNERS[scenario['kind']](solution, scenario, record)
    except StepFailed as failure:
        return outputs, str(failure)
    return outputs, None
