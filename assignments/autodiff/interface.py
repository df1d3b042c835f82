"""Kit code of the autodiff assignment: helpers shared by the kit and your solution.py.

The seminar's orientation everywhere: a batch is a matrix with ONE OBJECT PER ROW.

    X   (N, D)   N objects with D features each
    W   (D, K)   a dense layer's weights, b (K,) its bias: T = X W + b is (N, K)
    Y   (N, K)   one-hot labels (row i has a single 1, in the column of object i's class)
    Z   (N, K)   log-probabilities, one row per object (the output of log-softmax)

Every gradient has the shape of the variable it is taken with respect to: dQ/dW is (D, K) like
W, dQ/db is (K,) like b, dQ/dX is (N, D) like X.  The arrays your functions receive are
read-only: return new arrays, never modify the ones you are given.

A network is a list of layers ``params = [(W1, b1), (W2, b2), ..., (WL, bL)]``: dense layers,
ReLU after every one but the last, log-softmax after the last.  Its gradient is a list of the
same shape, ``[(dW1, db1), ..., (dWL, dbL)]``.

Floating-point errors raise (``np.seterr`` below, as in the course's first kit): an overflow, a
division by zero or an invalid operation (log of a negative number, inf - inf) stops your code with
a FloatingPointError that names the operation, where it would otherwise go on with inf or NaN.
Underflow (exp of a very negative number becoming 0) is fine and stays silent.
"""
import numpy as np

np.seterr(all='raise', under='ignore')


def one_hot(labels, num_classes):
    """Class numbers (N,) in 0..num_classes-1 -> one-hot rows (N, num_classes), float64."""
    labels = np.asarray(labels)
    return np.eye(num_classes)[labels]


def init_mlp(sizes, rng):
    """Initial parameters of a network with layer widths ``sizes`` = (D, H1, ..., K).

    He initialisation: W_l (sizes[l-1], sizes[l]) normal with std sqrt(2 / sizes[l-1]), b_l zeros.
    :param rng: a numpy Generator (np.random.default_rng(seed))
    :return: [(W1, b1), ..., (WL, bL)]
    """
    return [(rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)), np.zeros(fan_out))
            for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]


def read_only(array):
    """A read-only float64 copy of ``array`` (what the kit hands to your functions)."""
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def numerical_gradient(function, x, h=1e-6):
    """Central differences: (f(x + h e_i) - f(x - h e_i)) / 2h for every entry i of ``x``.

    For checking your own derivatives (the seminar's tool): ``function`` maps an array of x's shape
    to a number.  One Python loop over the entries: kit code for small checks, not for training.
    :return: an array of x's shape
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = float(function(x))
        x[index] = saved - h
        minus = float(function(x))
        x[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad
