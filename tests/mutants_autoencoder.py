"""Realistic mistakes in the autoencoder assignment: each is the reference with a small edit.

Each mutant must lose its own section, and only that one, when graded.
"""
from tests.mutants import Mutant

MUTANTS = (
    # 3.1 activation functions
    Mutant('activations', "sigmoid's second derivative is the first one",
           (("return s * (1 - s) * (1 - 2 * s)", "return s * (1 - s)"),)),
    Mutant('activations', "tanh' = 1 - tanh (the square forgotten)",
           (("return 1 - np.tanh(X) ** 2", "return 1 - np.tanh(X)"),)),
    Mutant('activations', "tanh'' with the wrong sign",
           (("return -2 * t * (1 - t ** 2)", "return 2 * t * (1 - t ** 2)"),)),
    Mutant('activations', "LeakyReLU ignores its alpha",
           (("return np.where(X.real > 0, X, self.alpha * X)", "return np.where(X.real > 0, X, 0.01 * X)"),)),
    Mutant('activations', "softplus through np.logaddexp (no complex inputs)",
           (("return np.log(1 + np.exp(X))", "return np.logaddexp(0, X)"),)),
    Mutant('activations', "ReLU through np.abs (wrong for complex inputs)",
           (("return np.where(X.real > 0, X, 0)", "return (X + np.abs(X)) / 2"),)),
    # 3.2 FCLayer forward and backward
    Mutant('fclayer', "forward ignores the bias column",
           (("self.u = self.weights @ self.extend(inputs)", "self.u = self.weights[:, :self.shape[0]] @ inputs"),)),
    Mutant('fclayer', "backward forgets g'(u)",
           (("u_derivs = derivs * self.afun.deriv(self.u)\n        weights_grad",
             "u_derivs = derivs\n        weights_grad"),)),
    Mutant('fclayer', "weight gradient averaged over the batch",
           (("weights_grad = u_derivs @ self.extend(self.inputs).T",
             "weights_grad = u_derivs @ self.extend(self.inputs).T / derivs.shape[1]"),)),
    Mutant('fclayer', "input gradient through the bias column too",
           (("return self.weights[:, :self.shape[0]].T @ u_derivs", "return self.weights.T @ u_derivs"),)),
    # 3.2 FCLayer R_p passes
    Mutant('rp', "R_p forward without the P z_bar term",
           (("self.Rp_u = self.weights @ Rp_extended + self.direction @ self.extend(self.inputs)",
             "self.Rp_u = self.weights @ Rp_extended"),)),
    Mutant('rp', "R_p forward without the W R{z} term",
           (("self.Rp_u = self.weights @ Rp_extended + self.direction @ self.extend(self.inputs)",
             "self.Rp_u = self.direction @ self.extend(self.inputs)"),)),
    Mutant('rp', "R_p backward without the g'' term",
           (("Rp_u_derivs = Rp_derivs * self.afun.deriv(self.u) + self.derivs * self.afun.second_deriv(self.u) "
             "* self.Rp_u", "Rp_u_derivs = Rp_derivs * self.afun.deriv(self.u)"),)),
    Mutant('rp', "R_p backward without P^T dL/du",
           (("Rp_inputs_derivs = (self.direction[:, :num_inputs].T @ u_derivs\n",
             "Rp_inputs_derivs = (0\n"),)),
    Mutant('rp', "R_p weight gradient without dL/du R{z_bar}^T",
           (("Rp_weights_grad = Rp_u_derivs @ self.extend(self.inputs).T + u_derivs @ Rp_extended.T",
             "Rp_weights_grad = Rp_u_derivs @ self.extend(self.inputs).T"),)),
    # 3.4 the autoencoder's loss
    Mutant('loss', "loss and gradient summed over the batch, not averaged",
           (("loss = 0.5 * np.sum(residual * residual) / n\n        return loss, self.net.compute_loss_grad(residual / n)",
             "loss = 0.5 * np.sum(residual * residual)\n        return loss, self.net.compute_loss_grad(residual)"),)),
    Mutant('loss', "gradient of the wrong sign (x - z)",
           (("residual = outputs - inputs", "residual = inputs - outputs"),)),
    Mutant('loss', "np.abs in the loss (the complex step sees nothing)",
           (("loss = 0.5 * np.sum(residual * residual) / n", "loss = 0.5 * np.sum(np.abs(residual) ** 2) / n"),)),
    # 3.4 Hessian-vector and Gauss-Newton-vector products
    Mutant('hessvec', "the Gauss-Newton product instead of the Hessian's",
           (("return self.net.compute_loss_Rp_grad(Rp_outputs / self.net.inputs.shape[1])",
             "return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])"),)),
    Mutant('hessvec', "Hessian-vector product not divided by the batch size",
           (("return self.net.compute_loss_Rp_grad(Rp_outputs / self.net.inputs.shape[1])",
             "return self.net.compute_loss_Rp_grad(Rp_outputs)"),)),
    Mutant('gaussnewton', "the Hessian product instead of the Gauss-Newton one",
           (("return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])",
             "return self.net.compute_loss_Rp_grad(Rp_outputs / self.net.inputs.shape[1])"),)),
    Mutant('gaussnewton', "Gauss-Newton product not divided by the batch size",
           (("return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])",
             "return self.net.compute_loss_grad(Rp_outputs)"),)),
    # 3.4 optimisers
    Mutant('sgd', "ascent instead of descent",
           (("return weights - step_size * grad", "return weights + step_size * grad"),)),
    Mutant('momentum', "velocity never decays",
           (("state['velocity'] = momentum * state.get('velocity', 0) + step_size * grad",
             "state['velocity'] = state.get('velocity', 0) + step_size * grad"),)),
    Mutant('rmsprop', "RMSprop without the square root",
           (("grad / (np.sqrt(state['mean_square']) + eps)", "grad / (state['mean_square'] + eps)"),)),
    Mutant('adam', "Adam without bias correction",
           (("m_hat = state['m'] / (1 - beta1 ** iteration)\n            v_hat = state['v'] / (1 - beta2 ** iteration)",
             "m_hat = state['m']\n            v_hat = state['v']"),)),
    Mutant('adam', "Adam's moments restart every step",
           (("state['m'] = beta1 * state.get('m', 0) + (1 - beta1) * grad\n"
             "            state['v'] = beta2 * state.get('v', 0) + (1 - beta2) * grad ** 2",
             "state['m'] = (1 - beta1) * grad\n            state['v'] = (1 - beta2) * grad ** 2"),)),
)
