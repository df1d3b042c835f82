"""ДЗ 2: автоматическое дифференцирование для автокодировщика.  Вера С., группа 204."""
import copy
import math
from collections import namedtuple

import numpy as np

from interface import *

# то, что прямой проход запоминает для остальных проходов
Cache = namedtuple('Cache', ['z_bar', 'g1', 'g2'])


# ============================ 1. Activation functions ============================
# val, deriv and second_deriv map an array X (any shape, real or complex) to an array of
# X's shape.  For complex X, branch on X.real (ReLU, LeakyReLU): inputs are never exactly 0.
class SigmoidActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        e = np.exp(X)
        return e / (1 + e)
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        s = self.val(X)
        return s * (1 - s)
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        s = self.val(X)
        return s * (1 - s) * (1 - 2 * s)
        # Your code here /\


class TanhActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        return np.tanh(X)
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return 1 - self.val(X) ** 2
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        t = self.val(X)
        return -2 * t * self.deriv(X)
        # Your code here /\


class ReluActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        positive = X.real > 0
        return np.where(positive, X, np.zeros_like(X))
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return np.where(X.real > 0, 1.0, 0.0)
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return np.zeros(X.shape)
        # Your code here /\


class LeakyReluActivationFunction(BaseActivationFunction):
    def __init__(self, alpha=0.01):
        """:param alpha: the slope for negative inputs, 0 < alpha < 1"""
        self.alpha = alpha

    def val(self, X):
        # Your code here \/
        return np.where(X.real > 0, X, self.alpha * X)
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        d = np.full(X.shape, float(self.alpha))
        d[X.real > 0] = 1.0
        return d
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return np.zeros(X.shape)
        # Your code here /\


class SoftplusActivationFunction(BaseActivationFunction):
    """g(s) = log(1 + exp(s))."""

    def val(self, X):
        # Your code here \/
        return np.log(1 + np.exp(X))
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return SigmoidActivationFunction().val(X)
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return SigmoidActivationFunction().deriv(X)
        # Your code here /\


class LinearActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        return X
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return np.ones(X.shape)
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return np.zeros(X.shape)
        # Your code here /\


# ============================ 2. The fully connected layer ============================
class FCLayer(BaseLayer):
    """z = g(W_bar z_bar_in): W_bar = [W, b] (num_outputs, num_inputs + 1), z_bar_in = [z_in; 1].

    Arrays are (units, batch).  The parameter vector is W_bar (or W without a bias) flattened
    in C order.  The direction of the R_p passes, P_bar, has W_bar's shape.
    """

    def __init__(self, shape, afun, use_bias=False):
        """
        :param shape: (num_inputs, num_outputs)
        :param afun: the activation function, a BaseActivationFunction
        :param use_bias: whether the layer has a bias column b
        """
        self.shape, self.afun, self.use_bias = tuple(shape), afun, use_bias
        num_inputs, num_outputs = self.shape
        columns = num_inputs + (1 if use_bias else 0)
        self.weights = np.random.randn(num_outputs, columns) * np.sqrt(2 / (num_inputs + num_outputs))
        if use_bias:
            self.weights[:, -1] = 0
        self.direction = np.zeros_like(self.weights)

    def get_params_number(self):
        return self.weights.size

    def get_weights(self):
        return self.weights.ravel().copy()

    def set_weights(self, w):
        self.weights = np.array(w).reshape(self.weights.shape)  # keeps a complex dtype

    def set_direction(self, p):
        self.direction = np.array(p).reshape(self.weights.shape)

    def get_activations(self):
        return self.outputs

    def extend(self, inputs):
        """[inputs; 1] with a bias, inputs without: (num_inputs (+1), batch)."""
        if not self.use_bias:
            return inputs
        return np.vstack([inputs, np.ones((1, inputs.shape[1]), dtype=inputs.dtype)])

    def forward(self, inputs):
        # Your code here \/
        self.inputs = inputs
        z_bar = self.extend(inputs)
        self.u = self.weights @ z_bar
        self.outputs = self.afun.val(self.u)
        self.cache = Cache(z_bar, self.afun.deriv(self.u), self.afun.second_deriv(self.u))
        return self.outputs
        # Your code here /\

    def backward(self, derivs):
        # Your code here \/
        self.derivs = derivs
        self.delta = derivs * self.cache.g1
        n_in = self.shape[0]
        return self.weights[:, :n_in].T @ self.delta, (self.delta @ self.cache.z_bar.T).ravel()
        # Your code here /\

    def Rp_forward(self, Rp_inputs):
        # Your code here \/
        self.Rp_inputs = Rp_inputs
        # R{z_bar}: копия R{z} с нулевой строкой вместо единиц
        Rp_bar = copy.copy(Rp_inputs)
        if self.use_bias:
            Rp_bar = np.vstack([Rp_bar, 0 * Rp_bar[:1]])
        self.Rp_bar = Rp_bar
        self.Rp_u = self.weights @ Rp_bar + self.direction @ self.cache.z_bar
        return self.cache.g1 * self.Rp_u
        # Your code here /\

    def Rp_backward(self, Rp_derivs):
        # Your code here \/
        n_in = self.shape[0]
        R_delta = Rp_derivs * self.cache.g1 + self.derivs * self.cache.g2 * self.Rp_u
        R_grad = R_delta @ self.cache.z_bar.T + self.delta @ self.Rp_bar.T
        R_in = self.direction[:, :n_in].T @ self.delta + self.weights[:, :n_in].T @ R_delta
        return R_in, R_grad.ravel()
        # Your code here /\


# ============================ 3. The autoencoder ============================
class Autoencoder:
    def __init__(self, layers):
        """:param layers: list of BaseLayer instances, the encoder's then the decoder's"""
        self.net = FFNet(layers)

    def compute_loss(self, inputs):
        """
        F = 1/n sum_i 1/2 ||x_i - z^L(x_i)||^2 over the n columns of ``inputs``.

        :param inputs: (num_features, n)
        :return: (F, a number; the gradient of F, (num_params,))
        """
        # Your code here \/
        batch = inputs.shape[1]
        residual = self.net.compute_outputs(inputs) - inputs
        loss = 0.5 * np.sum(np.square(residual)) / batch
        return loss, self.net.compute_loss_grad(residual / batch)
        # Your code here /\

    def compute_hessvec(self, p):
        """
        The Hessian of F times ``p``; called right after compute_loss on the same minibatch (a
        Gauss-Newton product in between runs a backward pass of its own: compute_loss again first).

        :param p: (num_params,)
        :return: (num_params,)
        """
        # Your code here \/
        self.net.set_direction(p)
        batch = self.net.inputs.shape[1]
        return self.net.compute_loss_Rp_grad(self.net.compute_Rp_outputs() / batch)
        # Your code here /\

    def compute_gaussnewtonvec(self, p):
        """
        The Gauss-Newton approximation of the Hessian of F times ``p``: 1/n sum_i J_i^T J_i p;
        called after compute_loss on the same minibatch.  Its backward pass replaces what the layers
        kept from compute_loss's.

        :param p: (num_params,)
        :return: (num_params,)
        """
        # Your code here \/
        self.net.set_direction(p)
        batch = self.net.inputs.shape[1]
        return self.net.compute_loss_grad(self.net.compute_Rp_outputs() / batch)
        # Your code here /\

    # The optimisers: interface.minimize runs the epochs and minibatches (see its docstring) and
    # returns the history; each method's ``step`` is its update rule.  ``state`` (a dict) keeps
    # what a rule carries from one step to the next.
    def run_sgd(self, inputs, step_size=0.01, num_epoch=200, minibatch_size=100, l2_coef=1e-5,
                test_inputs=None, display=False):
        def step(weights, grad, iteration):
            """
            :param weights: (num_params,) current weights
            :param grad: (num_params,) gradient of the regularised objective on the minibatch
            :param iteration: the step's number, 1, 2, ...
            :return: (num_params,) the new weights
            """
            # Your code here \/
            new_weights = copy.deepcopy(weights)
            new_weights -= step_size * grad
            return new_weights
            # Your code here /\

        return minimize(self, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs, display)

    def run_sgd_momentum(self, inputs, step_size=0.01, momentum=0.9, num_epoch=200, minibatch_size=100,
                         l2_coef=1e-5, test_inputs=None, display=False):
        state = {}

        def step(weights, grad, iteration):
            """Momentum: v <- momentum v + step_size grad (v = 0 before the first step); w <- w - v."""
            # Your code here \/
            if 'v' not in state:
                state['v'] = np.zeros_like(grad)
            state['v'] *= momentum
            state['v'] += step_size * grad
            return weights - state['v']
            # Your code here /\

        return minimize(self, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs, display)

    def run_rmsprop(self, inputs, step_size=0.01, num_epoch=200, minibatch_size=100, l2_coef=1e-5,
                    test_inputs=None, ro=0.9, eps=1e-8, display=False):
        state = {}

        def step(weights, grad, iteration):
            """RMSprop: r <- ro r + (1 - ro) grad^2 (r = 0 before the first step);
            w <- w - step_size grad / (sqrt(r) + eps)."""
            # Your code here \/
            r = ro * state.get('r', 0.0) + (1.0 - ro) * grad ** 2
            state['r'] = r
            return weights - step_size * grad / (r ** 0.5 + eps)
            # Your code here /\

        return minimize(self, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs, display)

    def run_adam(self, inputs, step_size=0.01, num_epoch=200, minibatch_size=100, l2_coef=1e-5,
                 test_inputs=None, display=False, beta1=0.9, beta2=0.999, eps=1e-8):
        state = {}

        def step(weights, grad, iteration):
            """Adam (Kingma, Ba): m, v <- beta1 m + (1 - beta1) grad, beta2 v + (1 - beta2) grad^2
            (both 0 before the first step); w <- w - step_size m_hat / (sqrt(v_hat) + eps) with the
            bias corrections m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t), t = iteration."""
            # Your code here \/
            # вариант из статьи (конец раздела 2): коррекция смещения сложена в шаг
            state['m'] = beta1 * state.get('m', 0.0) + (1 - beta1) * grad
            state['v'] = beta2 * state.get('v', 0.0) + (1 - beta2) * grad ** 2
            correction = math.sqrt(1 - beta2 ** iteration)
            lr_t = step_size * correction / (1 - beta1 ** iteration)
            return weights - lr_t * state['m'] / (np.sqrt(state['v']) + eps * correction)
            # Your code here /\

        return minimize(self, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs, display)
