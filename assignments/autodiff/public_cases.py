"""Public cases of the autodiff assignment: ``./run.py --assignment autodiff unittest <section>``.

Every case takes the student's solution module and raises ``CheckFailure`` with the shapes and the
largest errors when a check does not hold.  The oracles are independent of the reference solution:

  * small examples computed by hand (the expected numbers are written out, or computed here with
    Python's ``math`` one number at a time);
  * torch (float64, CPU): the same functions written with torch's own operations
    (``log_softmax``, ``binary_cross_entropy_with_logits``, ``relu``), differentiated by autograd;
  * central differences (step 1e-6) of the student's own forward functions along random directions:
    for a backward function, ``<dQ/dX, P> = d/dh <dQ/dT, f(X + hP)>`` at h = 0.

Every array the student's functions get is read-only (the handout's contract), as in the checker.
Isolation: the network cases replace the module's layer functions (``dense_forward``, ...,
``cross_entropy_backward``) by torch versions while they run, as the checker replaces them by its
own, so a wrong layer costs its own section only (the failure messages say so).
"""
import contextlib
import functools
import math

import numpy as np
import torch
import torch.nn.functional as torch_functional

from public_tests.framework import CheckFailure, assert_close, assert_true, case

TORCH_RTOL = 1e-9        # the same float64 computation in another order
CENTRAL_STEP = 1e-6      # h of (f(x + h p) - f(x - h p)) / 2h
CENTRAL_RTOL = 1e-6
LAYER_FUNCTIONS = ('dense_forward', 'dense_backward', 'relu_forward', 'relu_backward', 'log_softmax_forward',
                   'log_softmax_backward', 'cross_entropy_forward', 'cross_entropy_backward')


# ============================ helpers ============================
def read_only(array):
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def close(actual, expected, what, rtol, atol_scale):
    """assert_close with an absolute tolerance of ``atol_scale`` times the largest |expected| (at least 1)."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    assert_close(actual, expected, what, rtol=rtol, atol=atol_scale * scale)


def close_to_torch(actual, expected, what):
    close(actual, expected, f"{what}, against torch (float64)", TORCH_RTOL, 1e-12)


def close_to_value(actual, expected, what):
    """Equal up to rounding (a hand-computed value, another call of your code)."""
    close(actual, expected, what, TORCH_RTOL, 1e-12)


def close_to_central(actual, expected, what):
    close(actual, expected, f"{what}, against central differences (h = {CENTRAL_STEP:g})", CENTRAL_RTOL, 1e-8)


def number(value, what):
    """A loss (or logistic regression's dQ/db) as a 0-d float64 array: a number, or an array of one number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number, np.ndarray)):
        raise CheckFailure(what, f"expected a number, got {type(value).__name__}")
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in 'iuf':
        raise CheckFailure(what, f"expected a number, got an array of shape {array.shape} and dtype {array.dtype}")
    return np.array(float(array.reshape(())))


def parts(value, count, what, names):
    """The ``count`` arrays of a tuple result (dX, dW, db), checked to be a tuple of that length."""
    if not (isinstance(value, (tuple, list)) and len(value) == count):
        got = f"{type(value).__name__} of {len(value)}" if isinstance(value, (tuple, list)) else type(value).__name__
        raise CheckFailure(what, f"expected a tuple ({', '.join(names)}), got {got}")
    return value


def to_torch(array, grad=False):
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def to_numpy(tensor):
    return tensor.detach().numpy().copy()


def directional(function, point, direction, step=CENTRAL_STEP):
    """(f(x + h p) - f(x - h p)) / 2h for a function of an array to a number."""
    return (float(function(point + step * direction)) - float(function(point - step * direction))) / (2 * step)


def rng_for(name):
    return np.random.default_rng(sum(map(ord, name)))


def one_hot_rows(rng, n, k):
    return np.eye(k)[rng.integers(k, size=n)]


# ============================ 1. logistic regression ============================
def logreg_problem(rng, n, d, labels=None):
    X = rng.normal(size=(n, d))
    y = rng.integers(2, size=n).astype(np.float64) if labels is None else np.full(n, float(labels))
    return X, y, rng.normal(scale=1 / math.sqrt(d), size=d), float(rng.normal(scale=0.5))


def torch_logreg(X, y, w, b):
    """(Q, dQ/dw, dQ/db) by torch: the mean binary cross-entropy of sigmoid(Xw + b) and autograd."""
    w_t, b_t = to_torch(w, grad=True), to_torch(b, grad=True)
    loss = torch_functional.binary_cross_entropy_with_logits(to_torch(X) @ w_t + b_t, to_torch(y))
    loss.backward()
    return float(loss.detach()), to_numpy(w_t.grad), np.array(float(b_t.grad))


def logreg_outputs(solution, X, y, w, b, what=''):
    X, y, w = read_only(X), read_only(y), read_only(w)
    loss = number(solution.logreg_forward(X, y, w, b), f"logreg_forward{what}")
    dw, db = parts(solution.logreg_backward(X, y, w, b), 2, f"logreg_backward{what}", ('dw', 'db'))
    return loss, dw, number(db, f"logreg_backward{what}: db")


@case('logreg')
def logreg_hand_computed(solution):
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.0]])
    y, w, b = np.array([1.0, 0.0, 1.0]), np.array([0.5, -0.25]), 0.1
    z = [0.1, 0.35, 1.6]  # X w + b, row by row
    sigma = [1 / (1 + math.exp(-value)) for value in z]
    loss = -sum(math.log(s) if label else math.log(1 - s) for s, label in zip(sigma, y)) / 3
    dz = [(s - label) / 3 for s, label in zip(sigma, y)]
    dw = [sum(dz[i] * X[i, j] for i in range(3)) for j in range(2)]
    got_loss, got_dw, got_db = logreg_outputs(solution, X, y, w, b)
    close_to_value(got_loss, loss, "logreg_forward on a 3x2 example (Q is the MEAN over the 3 objects)")
    close_to_value(got_dw, np.array(dw), "logreg_backward's dw on a 3x2 example")
    close_to_value(got_db, sum(dz), "logreg_backward's db on a 3x2 example")


@case('logreg')
def logreg_matches_torch(solution):
    rng = rng_for('logreg_matches_torch')
    for n, d, labels in ((6, 3, None), (1, 4, None), (7, 1, None), (5, 5, 1), (4, 2, 0)):
        X, y, w, b = logreg_problem(rng, n, d, labels)
        expected = torch_logreg(X, y, w, b)
        for got, want, name in zip(logreg_outputs(solution, X, y, w, b, f" (N={n}, D={d})"), expected,
                                   ('Q', 'dw', 'db')):
            close_to_torch(got, want, f"logistic regression's {name} (N={n}, D={d})")


@case('logreg')
def logreg_gradient_matches_central_differences_of_the_loss(solution):
    rng = rng_for('logreg_central')
    X, y, w, b = logreg_problem(rng, 8, 3)
    _, dw, db = logreg_outputs(solution, X, y, w, b)
    frozen = (read_only(X), read_only(y))
    for _ in range(3):
        direction = rng.normal(size=w.shape)
        slope = directional(lambda v: solution.logreg_forward(*frozen, read_only(v), b), w, direction)
        close_to_central(np.array(float(np.dot(dw, direction))), slope, "dQ/dw . p")
    slope = directional(lambda v: solution.logreg_forward(*frozen, read_only(w), float(v)), np.array(b), np.array(1.0))
    close_to_central(db, slope, "dQ/db")


# ============================ 2. the dense layer ============================
def dense_outputs(solution, X, W, b, dT, what=''):
    T = solution.dense_forward(read_only(X), read_only(W), read_only(b))
    grads = parts(solution.dense_backward(read_only(X), read_only(W), read_only(dT)), 3,
                  f"dense_backward{what}", ('dX', 'dW', 'db'))
    return T, grads


def torch_dense(X, W, b, dT):
    """(T, (dX, dW, db)): X W + b and its vector-Jacobian product with dT, by autograd."""
    tensors = [to_torch(a, grad=True) for a in (X, W, b)]
    T = tensors[0] @ tensors[1] + tensors[2]
    T.backward(to_torch(dT))
    return to_numpy(T), tuple(to_numpy(t.grad) for t in tensors)


DENSE_SHAPES = ((4, 3, 2), (1, 5, 3), (4, 1, 3), (5, 3, 1), (4, 4, 4))  # (N, D, K): one object, feature, output, square


@case('dense')
def dense_hand_computed(solution):
    X = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]])
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    b = np.array([0.5, -1.0, 2.0])
    dT = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    T, (dX, dW, db) = dense_outputs(solution, X, W, b, dT)
    close_to_value(T, np.array([[5.5, 1.0, 2.0], [11.5, 3.0, 1.0], [-1.5, -2.0, 1.5]]), "dense_forward (3x2 by 2x3)")
    close_to_value(dX, np.array([[1.0, 2.0], [0.0, 1.0], [0.0, 3.5]]), "dQ/dX = dQ/dT W^T")
    close_to_value(dW, np.array([[1.0, 3.0, 0.0], [1.0, 3.0, -1.0]]), "dQ/dW = X^T dQ/dT, shape (D, K) like W")
    close_to_value(db, np.array([2.0, 2.0, 1.0]), "dQ/db = 1^T dQ/dT (summed over the objects), shape (K,) like b")


@case('dense')
def dense_matches_torch(solution):
    rng = rng_for('dense_matches_torch')
    for n, d, k in DENSE_SHAPES:
        X, W, b, dT = rng.normal(size=(n, d)), rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=(n, k))
        T, grads = dense_outputs(solution, X, W, b, dT, f" (N={n}, D={d}, K={k})")
        expected_T, expected_grads = torch_dense(X, W, b, dT)
        close_to_torch(T, expected_T, f"dense_forward (N={n}, D={d}, K={k})")
        for got, want, name in zip(grads, expected_grads, ('dX', 'dW', 'db')):
            close_to_torch(got, want, f"dense_backward's {name} (N={n}, D={d}, K={k})")


@case('dense')
def dense_backward_matches_central_differences_of_forward(solution):
    """<dQ/dV, P> = d/dh <dT, dense_forward(..., V + hP, ...)> for V = X, W, b."""
    rng = rng_for('dense_central')
    n, d, k = 3, 4, 2
    X, W, b, dT = rng.normal(size=(n, d)), rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=(n, k))
    _, grads = dense_outputs(solution, X, W, b, dT)
    for position, (name, grad) in enumerate(zip(('dX', 'dW', 'db'), grads)):
        point = (X, W, b)[position]
        direction = rng.normal(size=point.shape)

        def objective(value, position=position):
            arguments = [X, W, b]
            arguments[position] = value
            return np.sum(dT * solution.dense_forward(*(read_only(a) for a in arguments)))
        slope = directional(objective, point, direction)
        grad = np.asarray(grad)
        assert_true(grad.shape == point.shape, f"dense_backward's {name}",
                    f"shape {grad.shape}, expected {point.shape}: a gradient has the shape of its variable")
        close_to_central(np.array(float(np.sum(grad * direction))), slope, f"<{name}, P>")


# ============================ 3. ReLU ============================
def relu_outputs(solution, T, dZ):
    return solution.relu_forward(read_only(T)), solution.relu_backward(read_only(T), read_only(dZ))


@case('relu')
def relu_hand_computed_with_zeros(solution):
    T = np.array([[-2.0, 0.0, 3.0], [0.5, -0.0, -1e-3]])
    dZ = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    Z, dT = relu_outputs(solution, T, dZ)
    close_to_value(Z, np.array([[0.0, 0.0, 3.0], [0.5, 0.0, 0.0]]), "relu_forward")
    close_to_value(dT, np.array([[0.0, 0.0, 3.0], [4.0, 0.0, 0.0]]),
                   "relu_backward where T has exact zeros (the handout fixes ReLU'(0) = 0: no gradient passes at 0)")


@case('relu')
def relu_matches_torch(solution):
    rng = rng_for('relu_matches_torch')
    for n, h in ((4, 5), (1, 6), (6, 1)):
        T, dZ = rng.normal(size=(n, h)), rng.normal(size=(n, h))
        T.flat[rng.choice(n * h, size=min(2, n * h), replace=False)] = 0.0
        T_t = to_torch(T, grad=True)
        Z_t = torch.relu(T_t)
        Z_t.backward(to_torch(dZ))  # torch's ReLU passes no gradient at 0 either
        Z, dT = relu_outputs(solution, T, dZ)
        close_to_torch(Z, to_numpy(Z_t), f"relu_forward (N={n}, H={h})")
        close_to_torch(dT, to_numpy(T_t.grad), f"relu_backward (N={n}, H={h}, two entries of T exactly 0)")


@case('relu')
def relu_backward_matches_central_differences_of_forward(solution):
    rng = rng_for('relu_central')
    T = rng.choice([-1.0, 1.0], size=(4, 3)) * rng.uniform(0.1, 2.0, size=(4, 3))  # no kink within a step
    dZ = rng.normal(size=(4, 3))
    _, dT = relu_outputs(solution, T, dZ)
    for _ in range(3):
        direction = rng.normal(size=T.shape)
        slope = directional(lambda value: np.sum(dZ * solution.relu_forward(read_only(value))), T, direction)
        close_to_central(np.array(float(np.sum(np.asarray(dT) * direction))), slope, "<dQ/dT, P>")


# ============================ 4. cross-entropy ============================
def log_probabilities(rng, n, k, scale=2.0):
    return to_numpy(torch.log_softmax(to_torch(rng.normal(scale=scale, size=(n, k))), dim=1))


def crossentropy_outputs(solution, Z, Y, what=''):
    loss = number(solution.cross_entropy_forward(read_only(Z), read_only(Y)), f"cross_entropy_forward{what}")
    return loss, solution.cross_entropy_backward(read_only(Z), read_only(Y))


@case('crossentropy')
def crossentropy_hand_computed(solution):
    Z = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    Y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    loss, dZ = crossentropy_outputs(solution, Z, Y)
    close_to_value(loss, -(math.log(0.25) + math.log(0.8)) / 2,
                   "cross_entropy_forward: -(log 0.25 + log 0.8) / 2, the MEAN over the 2 objects")
    close_to_value(dZ, np.array([[0.0, -0.5, 0.0], [0.0, 0.0, -0.5]]), "cross_entropy_backward: dQ/dZ = -Y / N")


@case('crossentropy')
def crossentropy_matches_torch(solution):
    rng = rng_for('crossentropy_matches_torch')
    for n, k in ((5, 3), (1, 4), (8, 10), (4, 4)):
        Z, Y = log_probabilities(rng, n, k), one_hot_rows(rng, n, k)
        Z_t = to_torch(Z, grad=True)
        loss_t = torch_functional.nll_loss(Z_t, torch.tensor(Y.argmax(axis=1)))  # mean of -z_{i, c_i}
        loss_t.backward()
        loss, dZ = crossentropy_outputs(solution, Z, Y, f" (N={n}, K={k})")
        close_to_torch(loss, float(loss_t.detach()), f"cross_entropy_forward (N={n}, K={k})")
        close_to_torch(dZ, to_numpy(Z_t.grad), f"cross_entropy_backward (N={n}, K={k})")


@case('crossentropy')
def crossentropy_is_a_mean_over_the_objects(solution):
    rng = rng_for('crossentropy_mean')
    Z, Y = log_probabilities(rng, 3, 4), one_hot_rows(rng, 3, 4)
    loss, dZ = crossentropy_outputs(solution, Z, Y)
    twice, dZ_twice = crossentropy_outputs(solution, np.vstack([Z, Z]), np.vstack([Y, Y]), " (the batch twice)")
    close_to_value(twice, loss, "cross_entropy_forward of the batch written twice (a mean does not change)")
    close_to_value(np.asarray(dZ_twice)[:3], np.asarray(dZ) / 2,
                   "cross_entropy_backward of the batch written twice (each object's share halves)")


@case('crossentropy')
def crossentropy_backward_matches_central_differences_of_forward(solution):
    rng = rng_for('crossentropy_central')
    Z, Y = log_probabilities(rng, 4, 3), one_hot_rows(rng, 4, 3)
    _, dZ = crossentropy_outputs(solution, Z, Y)
    for _ in range(3):
        direction = rng.normal(size=Z.shape)
        slope = directional(lambda value: solution.cross_entropy_forward(read_only(value), read_only(Y)), Z, direction)
        close_to_central(np.array(float(np.sum(np.asarray(dZ) * direction))), slope, "<dQ/dZ, P>")


# ============================ 5. log-softmax ============================
def logsoftmax_outputs(solution, T, dZ):
    return solution.log_softmax_forward(read_only(T)), solution.log_softmax_backward(read_only(T), read_only(dZ))


def torch_logsoftmax(T, dZ):
    T_t = to_torch(T, grad=True)
    Z_t = torch.log_softmax(T_t, dim=1)
    Z_t.backward(to_torch(dZ))
    return to_numpy(Z_t), to_numpy(T_t.grad)


@case('logsoftmax')
def logsoftmax_matches_torch_for_any_upstream_gradient(solution):
    rng = rng_for('logsoftmax_matches_torch')
    for n, k in ((5, 3), (1, 5), (4, 10), (3, 1)):
        T, dZ = rng.normal(scale=2.0, size=(n, k)), rng.normal(size=(n, k))  # dZ is no cross-entropy's
        Z, dT = logsoftmax_outputs(solution, T, dZ)
        expected_Z, expected_dT = torch_logsoftmax(T, dZ)
        close_to_torch(Z, expected_Z, f"log_softmax_forward (N={n}, K={k})")
        close_to_torch(dT, expected_dT, f"log_softmax_backward for a random dQ/dZ (N={n}, K={k}): the rows of "
                                        f"dQ/dZ need not sum to -1/N")


@case('logsoftmax')
def logsoftmax_stays_finite_for_large_scores(solution):
    T = np.array([[1000.0, -1000.0, 999.0], [-1e4, -1e4 + 2.0, -1e4 + 1.0], [800.0, 800.0, 800.0]])
    dZ = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 0.0], [1.0, 1.0, -1.0]])
    Z, dT = logsoftmax_outputs(solution, T, dZ)
    expected_Z, expected_dT = torch_logsoftmax(T, dZ)
    close_to_torch(Z, expected_Z, "log_softmax_forward of scores +-1000 and -1e4 (exp(1000) overflows: shift each "
                                  "row first, the handout's section 5)")
    close_to_torch(dT, expected_dT, "log_softmax_backward of scores +-1000 and -1e4")


@case('logsoftmax')
def logsoftmax_probabilities_sum_to_one(solution):
    T = rng_for('logsoftmax_sum').normal(scale=3.0, size=(6, 4))
    Z = solution.log_softmax_forward(read_only(T))
    close_to_value(np.sum(np.exp(np.asarray(Z, dtype=np.float64)), axis=1), np.ones(6), "the rows of exp(Z)")


@case('logsoftmax')
def logsoftmax_backward_of_cross_entropy_is_softmax_minus_y_over_n(solution):
    rng = rng_for('logsoftmax_seminar')
    T, Y = rng.normal(size=(4, 3)), one_hot_rows(rng, 4, 3)
    softmax = np.exp(T) / np.exp(T).sum(axis=1, keepdims=True)
    _, dT = logsoftmax_outputs(solution, T, -Y / 4)
    close_to_value(dT, (softmax - Y) / 4, "log_softmax_backward(T, -Y/N): (softmax(T) - Y)/N, the seminar's "
                                          "problem 5 for the mean loss")


@case('logsoftmax')
def logsoftmax_backward_matches_central_differences_of_forward(solution):
    rng = rng_for('logsoftmax_central')
    T, dZ = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    _, dT = logsoftmax_outputs(solution, T, dZ)
    for _ in range(3):
        direction = rng.normal(size=T.shape)
        slope = directional(lambda value: np.sum(dZ * solution.log_softmax_forward(read_only(value))), T, direction)
        close_to_central(np.array(float(np.sum(np.asarray(dT) * direction))), slope, "<dQ/dT, P>")


# ============================ 6. the network ============================
def _vjp(function, arguments, upstream):
    """The vector-Jacobian products of ``function`` (torch) at ``arguments`` (numpy) with ``upstream``."""
    tensors = [to_torch(a, grad=True) for a in arguments]
    output = function(*tensors)
    grads = torch.autograd.grad(output, tensors, to_torch(upstream), allow_unused=True)
    return tuple(np.zeros(np.shape(a)) if g is None else to_numpy(g) for a, g in zip(arguments, grads))


def _torch_dense(X, W, b):
    return X @ W + b


def _torch_cross_entropy(Z, Y):
    return -(Z * Y).sum() / Z.shape[0]


# the kit's layer functions for the network cases: torch computes them, autograd differentiates them
TORCH_LAYERS = {
    'dense_forward': lambda X, W, b: to_numpy(_torch_dense(to_torch(X), to_torch(W), to_torch(b))),
    'dense_backward': lambda X, W, dT: _vjp(_torch_dense, (X, W, np.zeros(np.shape(W)[1])), dT),
    'relu_forward': lambda T: to_numpy(torch.relu(to_torch(T))),
    'relu_backward': lambda T, dZ: _vjp(torch.relu, (T,), dZ)[0],
    'log_softmax_forward': lambda T: to_numpy(torch.log_softmax(to_torch(T), dim=1)),
    'log_softmax_backward': lambda T, dZ: _vjp(lambda t: torch.log_softmax(t, dim=1), (T,), dZ)[0],
    'cross_entropy_forward': lambda Z, Y: float(_torch_cross_entropy(to_torch(Z), to_torch(Y))),
    'cross_entropy_backward': lambda Z, Y: _vjp(_torch_cross_entropy, (Z, Y), np.array(1.0))[0],
}


@contextlib.contextmanager
def kit_layers(solution):
    """Meanwhile the module's layer functions are TORCH_LAYERS (the checker does the same with its own)."""
    saved = {name: getattr(solution, name, None) for name in LAYER_FUNCTIONS}
    for name in LAYER_FUNCTIONS:
        setattr(solution, name, TORCH_LAYERS[name])
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(solution, name, function)


def on_kit_layers(function):
    """Run the case with the kit's layer functions; its failures say so."""
    @functools.wraps(function)
    def wrapper(solution):
        try:
            with kit_layers(solution):
                return function(solution)
        except CheckFailure as failure:
            failure.why += (" (your dense_forward, ..., cross_entropy_backward were replaced by the kit's own during "
                            "this case, as in the checker: this section is about how mlp_forward and "
                            "mlp_loss_and_grads put them together)")
            failure.args = (failure.describe(),)
            raise
    return wrapper


def network_problem(rng, sizes, n):
    params = [(rng.normal(scale=math.sqrt(2.0 / fan_in), size=(fan_in, fan_out)), rng.normal(scale=0.1, size=fan_out))
              for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return rng.normal(size=(n, sizes[0])), one_hot_rows(rng, n, sizes[-1]), params


def torch_network(X, Y, params):
    """(log-probabilities, Q, [(dW, db)]) of the network by torch and autograd."""
    tensors = [(to_torch(W, grad=True), to_torch(b, grad=True)) for W, b in params]
    H = to_torch(X)
    for number, (W, b) in enumerate(tensors):
        H = H @ W + b
        H = torch.relu(H) if number < len(tensors) - 1 else torch.log_softmax(H, dim=1)
    loss = -(H * to_torch(Y)).sum() / len(X)
    loss.backward()
    return to_numpy(H), float(loss.detach()), [(to_numpy(W.grad), to_numpy(b.grad)) for W, b in tensors]


def network_outputs(solution, X, Y, params, what):
    frozen = [(read_only(W), read_only(b)) for W, b in params]
    Z = solution.mlp_forward(read_only(X), frozen)
    result = parts(solution.mlp_loss_and_grads(read_only(X), read_only(Y), frozen), 2, f"mlp_loss_and_grads{what}",
                   ('loss', 'grads'))
    loss, grads = number(result[0], f"mlp_loss_and_grads{what}: the loss"), result[1]
    if not (isinstance(grads, (tuple, list)) and len(grads) == len(params)):
        raise CheckFailure(f"mlp_loss_and_grads{what}: grads", f"expected a list of {len(params)} (dW, db) pairs, "
                                                               f"one per layer, got {type(grads).__name__}")
    return Z, loss, [parts(pair, 2, f"mlp_loss_and_grads{what}: grads[{i}]", ('dW', 'db'))
                     for i, pair in enumerate(grads)]


NETWORKS = (((5, 4, 3), 6), ((6, 4), 5), ((4, 5, 3), 1), ((4, 6, 5, 3), 7), ((4, 4, 4), 4))


@case('network')
@on_kit_layers
def network_matches_torch_autograd(solution):
    rng = rng_for('network_matches_torch')
    for sizes, n in NETWORKS:
        X, Y, params = network_problem(rng, sizes, n)
        label = f" ({len(sizes) - 1} layer{'s' if len(sizes) > 2 else ''} {' -> '.join(map(str, sizes))}, N={n})"
        Z, loss, grads = network_outputs(solution, X, Y, params, label)
        expected_Z, expected_loss, expected_grads = torch_network(X, Y, params)
        close_to_torch(Z, expected_Z, f"mlp_forward{label}")
        close_to_torch(loss, expected_loss, f"mlp_loss_and_grads' loss{label}")
        for number, ((dW, db), (want_W, want_b)) in enumerate(zip(grads, expected_grads), start=1):
            close_to_torch(dW, want_W, f"dQ/dW{number}{label}")
            close_to_torch(db, want_b, f"dQ/db{number}{label}")


@case('network')
@on_kit_layers
def network_gradient_matches_central_differences_of_its_loss(solution):
    rng = rng_for('network_central')
    X, Y, params = network_problem(rng, (3, 5, 4), 4)
    _, _, grads = network_outputs(solution, X, Y, params, '')
    frozen_X, frozen_Y = read_only(X), read_only(Y)
    for number, (W, b) in enumerate(params):
        for position, (name, point) in enumerate((('W', W), ('b', b))):
            direction = rng.normal(size=point.shape)

            def loss(value, number=number, position=position):
                changed = [list(pair) for pair in params]
                changed[number][position] = value
                result = solution.mlp_loss_and_grads(frozen_X, frozen_Y, [(read_only(a), read_only(c))
                                                                          for a, c in changed])
                return number_of(result)
            slope = directional(loss, point, direction)
            grad = np.asarray(grads[number][position], dtype=np.float64)
            assert_true(grad.shape == point.shape, f"dQ/d{name}{number + 1}",
                        f"shape {grad.shape}, expected {point.shape}: a gradient has the shape of its parameter")
            close_to_central(np.array(float(np.sum(grad * direction))), slope, f"<dQ/d{name}{number + 1}, P>")


def number_of(result):
    """The loss of an mlp_loss_and_grads result (checked by network_outputs before this is used)."""
    return float(np.asarray(result[0]).reshape(()))


@case('network')
@on_kit_layers
def network_loss_is_the_cross_entropy_of_its_forward(solution):
    rng = rng_for('network_consistent')
    X, Y, params = network_problem(rng, (5, 6, 3), 5)
    Z, loss, _ = network_outputs(solution, X, Y, params, '')
    close_to_value(loss, -np.sum(np.asarray(Z) * Y) / 5,
                   "mlp_loss_and_grads' loss against -1/N sum(Y * mlp_forward(X)) (the same network)")
