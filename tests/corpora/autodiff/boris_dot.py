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
    y_hat = 1 / (1 + np.exp(-(np.dot(X, w) + b)))
    L = -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
    return L.mean()
    # Your code here /\


def logreg_backward(X, y, w, b):
    """The gradient of logreg_forward's Q by the backward pass over the seminar's graph.

    :param X: (N, D); y: (N,); w: (D,); b: a number (as in logreg_forward)
    :return: (dQ/dw (D,), dQ/db a number)
    """
    # Your code here \/
    N = X.shape[0]
    # forward, as in the seminar's graph
    z1 = np.dot(X, w)
    z2 = z1 + b
    z3 = 1 / (1 + np.exp(-z2))
    # backward
    dz3 = (-y / z3 + (1 - y) / (1 - z3)) / N
    dz2 = dz3 * z3 * (1 - z3)
    dz1 = dz2
    db = np.sum(dz2)
    dw = np.dot(dz1, X)
    return dw, db
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
    return np.dot(X, W) + b
    # Your code here /\


def dense_backward(X, W, dT):
    """The layer's share of the backward pass, given dQ/dT.

    :param X: (N, D) the inputs of the forward pass
    :param W: (D, K) the weights of the forward pass
    :param dT: (N, K) dQ/dT
    :return: (dQ/dX (N, D), dQ/dW (D, K), dQ/db (K,))
    """
    # Your code here \/
    return np.dot(dT, W.T), np.dot(X.T, dT), dT.sum(axis=0)
    # Your code here /\


# ============================ Problem 3. ReLU (handout, section 3) ============================
def relu_forward(T):
    """Z = max(T, 0), elementwise.

    :param T: (N, H)
    :return: Z (N, H)
    """
    # Your code here \/
    return np.maximum(T, 0)
    # Your code here /\


def relu_backward(T, dZ):
    """dQ/dT = dQ/dZ [T > 0] (elementwise), with ReLU'(0) = 0.

    :param T: (N, H) the input of the forward pass
    :param dZ: (N, H) dQ/dZ
    :return: dQ/dT (N, H)
    """
    # Your code here \/
    grad = dZ.copy()
    grad[T <= 0] = 0
    return grad
    # Your code here /\


# ============================ Problem 4. Cross-entropy (handout, section 4) ============================
def cross_entropy_forward(Z, Y):
    """Q = -1/N sum_ij y_ij z_ij: the mean over the objects of minus the log-probability of their class.

    :param Z: (N, K) log-probabilities, one object per row
    :param Y: (N, K) one-hot labels
    :return: Q, a number
    """
    # Your code here \/
    N = Z.shape[0]
    c = np.argmax(Y, axis=1)  # class of every object
    return -Z[np.arange(N), c].mean()
    # Your code here /\


def cross_entropy_backward(Z, Y):
    """dQ/dZ of cross_entropy_forward.

    :param Z: (N, K) log-probabilities
    :param Y: (N, K) one-hot labels
    :return: dQ/dZ (N, K)
    """
    # Your code here \/
    N = Z.shape[0]
    grad = np.zeros_like(Z)
    grad[np.arange(N), np.argmax(Y, axis=1)] = -1.0 / N
    return grad
    # Your code here /\


# ============================ Problem 5. Log-softmax (handout, section 5) ============================
def log_softmax_forward(T):
    """z_ij = t_ij - log sum_k exp(t_ik), row by row; finite for any finite T (|t| up to 1e4 and more).

    :param T: (N, K) scores
    :return: Z (N, K) log-probabilities
    """
    # Your code here \/
    a = T.max(axis=1, keepdims=True)
    return T - a - np.log(np.sum(np.exp(T - a), axis=1, keepdims=True))
    # Your code here /\


def log_softmax_backward(T, dZ):
    """dQ/dT for ANY dQ/dZ (not only cross-entropy's): dQ/dt_ij = dQ/dz_ij - softmax_j(t_i) sum_l dQ/dz_il.

    :param T: (N, K) the input of the forward pass
    :param dZ: (N, K) dQ/dZ
    :return: dQ/dT (N, K)
    """
    # Your code here \/
    s = np.exp(log_softmax_forward(T))
    return dZ - s * np.sum(dZ, axis=1, keepdims=True)
    # Your code here /\


# ============================ 6. The network (handout, section 6) ============================
def mlp_forward(X, params):
    """The network's log-probabilities: dense, ReLU, dense, ReLU, ..., dense, log-softmax.

    :param X: (N, D) objects
    :param params: [(W1, b1), ..., (WL, bL)], W_l (H_{l-1}, H_l) and b_l (H_l,), H_0 = D, H_L = K
    :return: Z (N, K) log-probabilities
    """
    # Your code here \/
    Z = X
    for i, (W, b) in enumerate(params):
        T = dense_forward(Z, W, b)
        if i == len(params) - 1:
            Z = log_softmax_forward(T)
        else:
            Z = relu_forward(T)
    return Z
    # Your code here /\


def mlp_loss_and_grads(X, Y, params):
    """The mean cross-entropy of the network on (X, Y) and its gradient by one backward pass.

    :param X: (N, D) objects
    :param Y: (N, K) one-hot labels
    :param params: [(W1, b1), ..., (WL, bL)] as in mlp_forward
    :return: (Q a number, [(dQ/dW1, dQ/db1), ..., (dQ/dWL, dQ/dbL)], each of its parameter's shape)
    """
    # Your code here \/
    Zs, Ts = [X], []
    for i, (W, b) in enumerate(params):
        T = dense_forward(Zs[-1], W, b)
        Ts.append(T)
        if i == len(params) - 1:
            Zs.append(log_softmax_forward(T))
        else:
            Zs.append(relu_forward(T))
    loss = cross_entropy_forward(Zs[-1], Y)
    dZ = cross_entropy_backward(Zs[-1], Y)
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        if i == len(params) - 1:
            dT = log_softmax_backward(Ts[i], dZ)
        else:
            dT = relu_backward(Ts[i], dZ)
        dZ, dW, db = dense_backward(Zs[i], params[i][0], dT)
        grads[i] = (dW, db)
    return loss, grads
    # Your code here /\
