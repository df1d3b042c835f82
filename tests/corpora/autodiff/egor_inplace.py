"""Your solution: fill in every region marked "# Your code here".

Only this file is uploaded to the checker, which uses its own copy of the code outside the
marked regions (edits there are reported, never used); helpers of your own are kept.  Use numpy
and the pure standard library (no other numeric library), and no Python loops over data
(objects, features, units, classes): one matrix expression per formula of the handout.

Shapes follow the seminar (handout.md): one object per ROW.  X (N, D), W (D, K), b (K,),
T = X W + b (N, K); every gradient has the shape of its variable; the losses are MEANS over
the N objects; ReLU'(0) = 0.  The arrays you receive are read-only: return new arrays.
"""
import numpy as np

from interface import *


# ============================ Problem 1. Logistic regression (handout, section 1) ============================
def logreg_forward(X, y, w, b):
    """The loss of logistic regression, a mean over the objects:

        Q(w, b) = -1/N sum_i [y_i log y_hat_i + (1 - y_i) log(1 - y_hat_i)],  y_hat = sigmoid(X w + b)

    :param X: (N, D) objects, one per row
    :param y: (N,) labels, each 0 or 1
    :param w: (D,) weights
    :param b: the bias, a number
    :return: Q, a number
    """
    # Your code here \/
    z = X @ w + b
    return np.mean(np.log(1 + np.exp(z)) - y * z)
    # Your code here /\


def logreg_backward(X, y, w, b):
    """The gradient of logreg_forward's Q by the backward pass over the seminar's graph.

    :param X: (N, D); y: (N,); w: (D,); b: a number (as in logreg_forward)
    :return: (dQ/dw (D,), dQ/db a number)
    """
    # Your code here \/
    sig = 1 / (1 + np.exp(-(X @ w + b)))
    d = (sig - y) / X.shape[0]
    return X.T @ d, d.sum()
    # Your code here /\


# ============================ Problem 2. The dense layer (handout, section 2) ============================
def dense_forward(X, W, b):
    """T = X W + b.

    :param X: (N, D) inputs, one object per row
    :param W: (D, K) weights
    :param b: (K,) bias, added to every row
    :return: T (N, K)
    """
    # Your code here \/
    return X @ W + b
    # Your code here /\


def dense_backward(X, W, dT):
    """The layer's share of the backward pass, given dQ/dT.

    :param X: (N, D) the inputs of the forward pass
    :param W: (D, K) the weights of the forward pass
    :param dT: (N, K) dQ/dT
    :return: (dQ/dX (N, D), dQ/dW (D, K), dQ/db (K,))
    """
    # Your code here \/
    dX = dT @ W.T
    dW = X.T @ dT
    db = dT.sum(axis=0)
    return dX, dW, db
    # Your code here /\


# ============================ Problem 3. ReLU (handout, section 3) ============================
def relu_forward(T):
    """Z = max(T, 0), elementwise.

    :param T: (N, H)
    :return: Z (N, H)
    """
    # Your code here \/
    return np.maximum(0, T)
    # Your code here /\


def relu_backward(T, dZ):
    """dQ/dT = dQ/dZ [T > 0] (elementwise), with ReLU'(0) = 0.

    :param T: (N, H) the input of the forward pass
    :param dZ: (N, H) dQ/dZ
    :return: dQ/dT (N, H)
    """
    # Your code here \/
    dZ[T <= 0] = 0
    return dZ
    # Your code here /\


# ============================ Problem 4. Cross-entropy (handout, section 4) ============================
def cross_entropy_forward(Z, Y):
    """Q = -1/N sum_ij y_ij z_ij: the mean over the objects of minus the log-probability of their class.

    :param Z: (N, K) log-probabilities, one object per row
    :param Y: (N, K) one-hot labels
    :return: Q, a number
    """
    # Your code here \/
    return -(Y * Z).sum() / len(Y)
    # Your code here /\


def cross_entropy_backward(Z, Y):
    """dQ/dZ of cross_entropy_forward.

    :param Z: (N, K) log-probabilities
    :param Y: (N, K) one-hot labels
    :return: dQ/dZ (N, K)
    """
    # Your code here \/
    return -Y / len(Y)
    # Your code here /\


# ============================ Problem 5. Log-softmax (handout, section 5) ============================
def log_softmax_forward(T):
    """z_ij = t_ij - log sum_k exp(t_ik), row by row; finite for any finite T (|t| up to 1e4 and more).

    :param T: (N, K) scores
    :return: Z (N, K) log-probabilities
    """
    # Your code here \/
    T = T - T.max(axis=1, keepdims=True)
    return T - np.log(np.exp(T).sum(axis=1, keepdims=True))
    # Your code here /\


def log_softmax_backward(T, dZ):
    """dQ/dT for ANY dQ/dZ (not only cross-entropy's): dQ/dt_ij = dQ/dz_ij - softmax_j(t_i) sum_l dQ/dz_il.

    :param T: (N, K) the input of the forward pass
    :param dZ: (N, K) dQ/dZ
    :return: dQ/dT (N, K)
    """
    # Your code here \/
    return dZ - np.exp(log_softmax_forward(T)) * dZ.sum(axis=1, keepdims=True)
    # Your code here /\


# ============================ 6. The network (handout, section 6) ============================
def mlp_forward(X, params):
    """The network's log-probabilities: dense, ReLU, dense, ReLU, ..., dense, log-softmax.

    :param X: (N, D) objects
    :param params: [(W1, b1), ..., (WL, bL)], W_l (H_{l-1}, H_l) and b_l (H_l,), H_0 = D, H_L = K
    :return: Z (N, K) log-probabilities
    """
    # Your code here \/
    h = X
    for i, (W, b) in enumerate(params):
        t = dense_forward(h, W, b)
        h = relu_forward(t) if i < len(params) - 1 else log_softmax_forward(t)
    return h
    # Your code here /\


def mlp_loss_and_grads(X, Y, params):
    """The mean cross-entropy of the network on (X, Y) and its gradient by one backward pass.

    :param X: (N, D) objects
    :param Y: (N, K) one-hot labels
    :param params: [(W1, b1), ..., (WL, bL)] as in mlp_forward
    :return: (Q a number, [(dQ/dW1, dQ/db1), ..., (dQ/dWL, dQ/dbL)], each of its parameter's shape)
    """
    # Your code here \/
    hs, ts = [], []
    h = X
    for i, (W, b) in enumerate(params):
        hs.append(h)
        t = dense_forward(h, W, b)
        ts.append(t)
        h = relu_forward(t) if i < len(params) - 1 else log_softmax_forward(t)
    loss = cross_entropy_forward(h, Y)
    g = cross_entropy_backward(h, Y)
    grads = []
    for i in reversed(range(len(params))):
        g = log_softmax_backward(ts[i], g) if i == len(params) - 1 else relu_backward(ts[i], g)
        g, dW, db = dense_backward(hs[i], params[i][0], g)
        grads.append((dW, db))
    return loss, grads
    # Your code here /\
