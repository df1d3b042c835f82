"""Your solution: fill in every region marked "# Your code here".

Only this file is uploaded to the checker, which uses its own copy of the code
outside the marked regions (edits there are reported, never used); helpers of
your own are kept.  Use numpy and the pure standard library (no other numeric
library), no Python loops over data (objects, units, parameters).  Everything
must accept complex arrays too: the complex-step check runs through your code.
"""
import numpy as np

from interface import *


# ============================ 1. Activation functions ============================
# val, deriv and second_deriv map an array X (any shape, real or complex) to an array of
# X's shape.  For complex X, branch on X.real (ReLU, LeakyReLU): inputs are never exactly 0.
class SigmoidActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        return 1.0 / (1.0 + np.exp(-X))
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return self.val(X) * (1.0 - self.val(X))
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return self.deriv(X) * (1.0 - 2.0 * self.val(X))
        # Your code here /\


class TanhActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        return np.tanh(X)
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return 1.0 - np.tanh(X) ** 2
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return -2.0 * np.tanh(X) * self.deriv(X)
        # Your code here /\


class ReluActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        return np.where(X.real > 0, X, 0.0)
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return (X.real > 0).astype(float)
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return np.zeros_like(X.real)
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
        return np.where(X.real > 0, 1.0, self.alpha)
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return np.zeros_like(X.real)
        # Your code here /\


class SoftplusActivationFunction(BaseActivationFunction):
    """g(s) = log(1 + exp(s))."""

    def val(self, X):
        # Your code here \/
        return np.log(1.0 + np.exp(X))
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return 1.0 / (1.0 + np.exp(-X))
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        s = 1.0 / (1.0 + np.exp(-X))
        return s * (1.0 - s)
        # Your code here /\


class LinearActivationFunction(BaseActivationFunction):
    def val(self, X):
        # Your code here \/
        return X
        # Your code here /\

    def deriv(self, X):
        # Your code here \/
        return np.ones_like(X.real)
        # Your code here /\

    def second_deriv(self, X):
        # Your code here \/
        return np.zeros_like(X.real)
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
        """
        :param inputs: (num_inputs, batch)
        :return: outputs (num_outputs, batch)

        Keep self.inputs (the inputs), self.u (W_bar z_bar_in, (num_outputs, batch)) and
        self.outputs (what get_activations returns): the R_p passes read them.
        """
        # Your code here \/
        self.inputs = inputs
        self.z_in = self.extend(inputs)
        self.u = self.weights @ self.z_in
        self.outputs = self.afun.val(self.u)
        return self.outputs
        # Your code here /\

    def backward(self, derivs):
        """
        :param derivs: dL/d outputs (num_outputs, batch)
        :return: (dL/d inputs (num_inputs, batch), dL/d weights (num_params,), summed over the batch)

        Keep self.derivs (the derivs): Rp_backward reads it.
        """
        # Your code here \/
        self.derivs = derivs
        self.du = derivs * self.afun.deriv(self.u)
        grad = self.du @ self.z_in.T
        return self.weights[:, :self.shape[0]].T @ self.du, grad.reshape(-1)
        # Your code here /\

    def Rp_forward(self, Rp_inputs):
        """
        :param Rp_inputs: R_p{inputs} (num_inputs, batch), after forward
        :return: R_p{outputs} (num_outputs, batch)
        """
        # Your code here \/
        self.Rp_inputs = Rp_inputs
        self.Rp_z_in = self.extend(Rp_inputs)
        if self.use_bias:
            self.Rp_z_in[-1] = 0  # R{1} = 0
        self.Rp_u = self.weights @ self.Rp_z_in + self.direction @ self.z_in
        return self.afun.deriv(self.u) * self.Rp_u
        # Your code here /\

    def Rp_backward(self, Rp_derivs):
        """
        :param Rp_derivs: R_p{dL/d outputs} (num_outputs, batch), after forward, Rp_forward and backward
        :return: (R_p{dL/d inputs} (num_inputs, batch), R_p{dL/d weights} (num_params,))
        """
        # Your code here \/
        n_in = self.shape[0]
        Rp_du = Rp_derivs * self.afun.deriv(self.u) + self.derivs * self.afun.second_deriv(self.u) * self.Rp_u
        Rp_grad = Rp_du @ self.z_in.T + self.du @ self.Rp_z_in.T
        Rp_in = self.direction[:, :n_in].T @ self.du + self.weights[:, :n_in].T @ Rp_du
        return Rp_in, Rp_grad.reshape(-1)
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
        outputs = self.net.compute_outputs(inputs)
        error = outputs - inputs
        loss = 0.5 * np.mean(error * error)
        grad = self.net.compute_loss_grad(error / error.size)
        return loss, grad
        # Your code here /\

    def compute_hessvec(self, p):
        """
        The Hessian of F times ``p``; called right after compute_loss on the same minibatch (a
        Gauss-Newton product in between runs a backward pass of its own: compute_loss again first).

        :param p: (num_params,)
        :return: (num_params,)
        """
        # Your code here \/
        # направление уже задано в compute_loss? -- сразу R_p-проходы
        Rp_outputs = self.net.compute_Rp_outputs()
        return self.net.compute_loss_Rp_grad(Rp_outputs / Rp_outputs.shape[1])
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
        Rp_outputs = self.net.compute_Rp_outputs()
        return self.net.compute_loss_grad(Rp_outputs / Rp_outputs.shape[1])
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
            weights = weights - step_size * grad
            return weights
            # Your code here /\

        return minimize(self, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs, display)

    def run_sgd_momentum(self, inputs, step_size=0.01, momentum=0.9, num_epoch=200, minibatch_size=100,
                         l2_coef=1e-5, test_inputs=None, display=False):
        state = {}

        def step(weights, grad, iteration):
            """Momentum: v <- momentum v + step_size grad (v = 0 before the first step); w <- w - v."""
            # Your code here \/
            v = momentum * state.get('v', np.zeros_like(grad)) + step_size * grad
            state['v'] = v
            return weights - v
            # Your code here /\

        return minimize(self, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs, display)

    def run_rmsprop(self, inputs, step_size=0.01, num_epoch=200, minibatch_size=100, l2_coef=1e-5,
                    test_inputs=None, ro=0.9, eps=1e-8, display=False):
        state = {}

        def step(weights, grad, iteration):
            """RMSprop: r <- ro r + (1 - ro) grad^2 (r = 0 before the first step);
            w <- w - step_size grad / (sqrt(r) + eps)."""
            # Your code here \/
            state['E_g2'] = ro * state.get('E_g2', 0.0) + (1 - ro) * grad * grad
            return weights - step_size * grad / (np.sqrt(state['E_g2']) + eps)
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
            m = state['m'] = beta1 * state.get('m', 0.0) + (1 - beta1) * grad
            v = state['v'] = beta2 * state.get('v', 0.0) + (1 - beta2) * grad * grad
            m_hat = m / (1 - beta1 ** iteration)
            v_hat = v / (1 - beta2 ** iteration)
            return weights - step_size * m_hat / (np.sqrt(v_hat) + eps)
            # Your code here /\

        return minimize(self, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs, display)
