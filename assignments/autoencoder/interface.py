"""Kit code of the autoencoder assignment: base classes, the network, the optimisation loop.

Arrays follow the assignment's layout: a batch is ``(units, batch)``, one column per
object.  Parameters travel as one flat vector ``(num_params,)``: each layer's extended
matrix ``W_bar = [W, b]`` of shape ``(num_outputs, num_inputs + 1)`` (or ``W`` alone,
``(num_outputs, num_inputs)``, without a bias), flattened in C order, layer after layer.

Everything here accepts complex arrays as well as real ones, so that the complex-step
check ``Im F(theta + i eps p) / eps`` can run through a student's layers.
"""
import time
from abc import ABC, abstractmethod

import numpy as np


class BaseActivationFunction(ABC):
    """A scalar function g applied elementwise; every method maps an array X to one of X's shape."""

    @abstractmethod
    def val(self, X):
        """g(X)."""

    @abstractmethod
    def deriv(self, X):
        """g'(X)."""

    @abstractmethod
    def second_deriv(self, X):
        """g''(X)."""


class BaseLayer(ABC):
    """A layer of an ``FFNet``: forward and backward passes and their R_p versions (see FCLayer).

    Every layer has ``shape = (num_inputs, num_outputs)``: FFNet checks the arrays each pass returns by it.
    """

    shape = None

    @abstractmethod
    def get_params_number(self):
        """The number of parameters of the layer."""

    @abstractmethod
    def get_weights(self):
        """The parameters as a vector (num_params,)."""

    @abstractmethod
    def set_weights(self, w):
        """Take the parameters from the vector ``w`` (num_params,)."""

    @abstractmethod
    def set_direction(self, p):
        """Take the direction of the R_p passes from the vector ``p`` (num_params,)."""

    @abstractmethod
    def forward(self, inputs):
        """(num_inputs, batch) -> outputs (num_outputs, batch)."""

    @abstractmethod
    def backward(self, derivs):
        """dL/d outputs (num_outputs, batch) -> (dL/d inputs (num_inputs, batch), dL/d weights (num_params,))."""

    @abstractmethod
    def Rp_forward(self, Rp_inputs):
        """R_p{inputs} (num_inputs, batch) -> R_p{outputs} (num_outputs, batch)."""

    @abstractmethod
    def Rp_backward(self, Rp_derivs):
        """R_p{dL/d outputs} (num_outputs, batch) -> (R_p{dL/d inputs}, R_p{dL/d weights} (num_params,))."""

    @abstractmethod
    def get_activations(self):
        """The outputs of the last forward pass (num_outputs, batch)."""


class ShapeError(ValueError):
    """A layer or a step returned an array of the wrong shape (the kit's check)."""


def check_shape(value, shape, what):
    """``value`` must be an ndarray of ``shape``; returns it."""
    if not isinstance(value, np.ndarray):
        raise ShapeError(f"{what} returned {type(value).__name__}, expected a numpy array of shape {shape}")
    if value.shape != tuple(shape):
        raise ShapeError(f"{what} returned shape {value.shape}, expected {tuple(shape)}")
    return value


class FFNet:
    """A feed-forward network: the layers one after another (provided in full)."""

    def __init__(self, layers):
        """:param layers: list of BaseLayer instances, the outputs of each feeding the next."""
        self.layers = list(layers)
        self.params_number = sum(layer.get_params_number() for layer in self.layers)
        self.inputs = None  # the batch of the last compute_outputs, (num_inputs, batch)

    def _split(self, vector):
        """The slices of a (num_params,) vector, one per layer."""
        vector = check_shape(np.asarray(vector), (self.params_number,), 'the parameter vector')
        start = 0
        for layer in self.layers:
            count = layer.get_params_number()
            yield layer, vector[start:start + count]
            start += count

    def set_weights(self, w):
        """:param w: (num_params,) parameters of every layer, in layer order."""
        for layer, part in self._split(w):
            layer.set_weights(part)

    def get_weights(self):
        """(num_params,) parameters of every layer, in layer order."""
        return np.concatenate([layer.get_weights() for layer in self.layers])

    def set_direction(self, p):
        """:param p: (num_params,) direction of the R_p passes (for Hessian-vector products)."""
        for layer, part in self._split(p):
            layer.set_direction(part)

    def compute_outputs(self, inputs):
        """Forward pass: inputs (num_inputs, batch) -> outputs (num_outputs, batch)."""
        self.inputs = inputs
        outputs = inputs
        for number, layer in enumerate(self.layers):
            outputs = check_shape(layer.forward(outputs), (layer.shape[1], inputs.shape[1]),
                                  f"layer {number}: forward")
        return outputs

    def compute_loss_grad(self, derivs):
        """Backward pass: dL/d outputs (num_outputs, batch) -> dL/d parameters (num_params,)."""
        grads = []
        for number in reversed(range(len(self.layers))):
            layer = self.layers[number]
            derivs, grad = layer.backward(derivs)
            check_shape(derivs, (layer.shape[0], self.inputs.shape[1]), f"layer {number}: backward (inputs)")
            grads.append(check_shape(grad, (layer.get_params_number(),), f"layer {number}: backward (weights)"))
        return np.concatenate(grads[::-1])

    def compute_Rp_outputs(self):
        """R_p forward pass after compute_outputs: R_p{outputs} (num_outputs, batch); R_p{inputs} = 0."""
        Rp_outputs = np.zeros_like(self.inputs)
        for number, layer in enumerate(self.layers):
            Rp_outputs = check_shape(layer.Rp_forward(Rp_outputs), (layer.shape[1], self.inputs.shape[1]),
                                     f"layer {number}: Rp_forward")
        return Rp_outputs

    def compute_loss_Rp_grad(self, Rp_derivs):
        """R_p backward pass after compute_outputs, compute_loss_grad and compute_Rp_outputs:
        R_p{dL/d outputs} (num_outputs, batch) -> R_p{dL/d parameters} (num_params,)."""
        grads = []
        for number in reversed(range(len(self.layers))):
            layer = self.layers[number]
            Rp_derivs, grad = layer.Rp_backward(Rp_derivs)
            check_shape(Rp_derivs, (layer.shape[0], self.inputs.shape[1]), f"layer {number}: Rp_backward (inputs)")
            grads.append(check_shape(grad, (layer.get_params_number(),), f"layer {number}: Rp_backward (weights)"))
        return np.concatenate(grads[::-1])

    def get_activations(self, layer_number):
        """The outputs of layer ``layer_number`` in the last forward pass (layer_num_outputs, batch)."""
        return self.layers[layer_number].get_activations()


def objective(model, inputs, weights, l2_coef):
    """(F + l2_coef/2 ||w||^2, its gradient (num_params,)) at ``weights`` on ``inputs`` (num_features, batch)."""
    model.net.set_weights(weights)
    loss, grad = model.compute_loss(inputs)
    grad = check_shape(np.asarray(grad), (weights.size,), 'compute_loss (gradient)')
    if np.iscomplexobj(grad) or np.iscomplexobj(loss):
        raise TypeError("compute_loss returned complex numbers for real weights and inputs")
    return float(loss) + 0.5 * l2_coef * float(weights @ weights), grad + l2_coef * weights


def evaluate(model, inputs, weights, l2_coef, chunk=1000):
    """``objective`` on all of ``inputs``, a chunk of objects at a time (the same numbers, up to rounding:
    F and its gradient are means over objects; small chunks stay in the CPU's caches)."""
    total = inputs.shape[1]
    if total <= chunk:
        return objective(model, inputs, weights, l2_coef)
    loss, grad = 0.0, np.zeros_like(weights)
    for start in range(0, total, chunk):
        part = inputs[:, start:start + chunk]
        part_loss, part_grad = objective(model, part, weights, 0.0)
        loss, grad = loss + part_loss * part.shape[1] / total, grad + part_grad * (part.shape[1] / total)
    return loss + 0.5 * l2_coef * float(weights @ weights), grad + l2_coef * weights


def minimize(model, inputs, step, num_epoch, minibatch_size, l2_coef, test_inputs=None, display=False):
    """The loop shared by every optimiser; ``step(weights, grad, iteration)`` is the method's own rule.

    Each epoch draws ``order = np.random.permutation(num_objects)`` (one draw per epoch, nothing
    else random) and walks through it in consecutive minibatches of ``minibatch_size`` objects (the
    last one may be smaller).  For each minibatch, ``step`` gets the weights (num_params,), the
    gradient of the regularised objective on the minibatch (num_params,), and the step's number
    (1, 2, ... over the whole run), and returns the new weights (num_params,).

    Returns the history, one value per epoch, taken at the end of it: ``train_loss`` and
    ``train_grad`` (the regularised objective and its gradient's norm on all of ``inputs``),
    ``test_loss`` and ``test_grad`` (the same on ``test_inputs``; empty lists without them), and
    ``seconds``: the wall-clock time the optimisation has taken so far (the evaluation of the history
    not counted), for plots against time.
    """
    weights = np.array(model.net.get_weights(), dtype=np.float64)
    history = {'train_loss': [], 'train_grad': [], 'test_loss': [], 'test_grad': [], 'seconds': []}
    num_objects, iteration, seconds = inputs.shape[1], 0, 0.0
    for epoch in range(num_epoch):
        started = time.perf_counter()
        order = np.random.permutation(num_objects)
        for start in range(0, num_objects, minibatch_size):
            _, grad = objective(model, inputs[:, order[start:start + minibatch_size]], weights, l2_coef)
            iteration += 1
            weights = check_shape(step(weights, grad, iteration), weights.shape, f"the step rule (step {iteration})")
            if not np.all(np.isfinite(weights)):
                raise FloatingPointError(f"step {iteration} made the weights NaN or infinite")
            # Weights that only the L2 term pulls on (MNIST's blank border) decay into subnormal numbers,
            # which make every matrix product several times slower: they become 0.
            weights = np.where(np.abs(weights) < np.finfo(weights.dtype).tiny, 0.0, weights)
        seconds += time.perf_counter() - started
        record_epoch(history, model, inputs, test_inputs, weights, l2_coef, seconds)
        if display:
            show_epoch(history, epoch, num_epoch, test_inputs is not None)
    model.net.set_weights(weights)
    return history


def record_epoch(history, model, inputs, test_inputs, weights, l2_coef, seconds):
    """Append the end of an epoch to ``history``: the losses and gradient norms, the seconds so far."""
    for name, data in (('train', inputs), ('test', test_inputs)):
        if data is not None:
            loss, grad = evaluate(model, data, weights, l2_coef)
            history[f'{name}_loss'].append(loss)
            with np.errstate(over='ignore'):  # a diverging run shows inf here, then stops at the check above
                history[f'{name}_grad'].append(float(np.linalg.norm(grad)))
    history['seconds'].append(seconds)


def show_epoch(history, epoch, num_epoch, with_test, extra=''):
    shown = f"train loss {history['train_loss'][-1]:.5f}" + (
        f", test loss {history['test_loss'][-1]:.5f}" if with_test else '')
    print(f"Epoch {epoch + 1}/{num_epoch}: {shown}, {history['seconds'][-1]:.1f} s{extra}", flush=True)


# ------------------------------------------------------------------ the Hessian-free Newton method (kit code)
def conjugate_gradient(product, grad, start, max_iterations=250, epsilon=5e-4):
    """Minimise phi(x) = 1/2 x^T A x + grad^T x by conjugate gradients from ``start`` (Martens, 2010).

    :param product: p -> A p for a symmetric positive definite A (num_params,) -> (num_params,)
    :param grad: (num_params,) the linear term; the minimum of phi solves A x = -grad
    :param start: (num_params,) the first iterate x_0
    :param max_iterations: at most this many iterations (each one product)
    :param epsilon: Martens' relative-progress rule: stop after iteration i when i > k, phi_i < 0 and
        (phi_i - phi_{i-k}) / phi_i < k * epsilon, with k = max(10, 0.1 i) (as an integer)
    :return: (x, phi(x), the number of iterations done)

    Iteration i (1, 2, ...) is the textbook one on the residual r = A x + grad:
    alpha = r.r / d.Ad, x += alpha d, r += alpha Ad, d = -r + (r_new.r_new / r.r) d (d = -r at the start);
    phi_i = 1/2 x_i . (r_i + grad).  It also stops, keeping the iterate it has, where d.Ad is not a
    positive number (A is not positive definite along d, or the product gave NaN) and where the
    residual vanishes (r.r = 0: x is the minimum).
    """
    x = np.array(start, dtype=np.float64)
    residual = grad + product(x) if np.any(x) else np.array(grad, dtype=np.float64)
    direction = -residual
    squared = float(residual @ residual)
    values = [0.5 * float(x @ (residual + grad))]
    iterations = 0
    while iterations < max_iterations and squared > 0:
        curved = product(direction)
        curvature = float(direction @ curved)
        if not curvature > 0 or not np.isfinite(curvature):
            break
        alpha = squared / curvature
        x = x + alpha * direction
        residual = residual + alpha * curved
        iterations += 1
        values.append(0.5 * float(x @ (residual + grad)))
        window = max(10, int(0.1 * iterations))
        if iterations > window and values[-1] < 0 and \
                (values[-1] - values[-1 - window]) / values[-1] < window * epsilon:
            break
        new_squared = float(residual @ residual)
        direction = -residual + (new_squared / squared) * direction
        squared = new_squared
    return x, values[-1], iterations


def run_hfn(model, inputs, num_epoch=10, minibatch_size=None, curvature_size=None, l2_coef=1e-5,
            test_inputs=None, display=False, damping=1.0, max_cg_iterations=250, cg_decay=0.95,
            cg_epsilon=5e-4):
    """The Hessian-free Newton method (Martens, 2010) on ``model`` (an Autoencoder): kit code, driven
    by the model's compute_loss and compute_gaussnewtonvec.

    Epochs and minibatches as in ``minimize`` (one ``np.random.permutation`` per epoch, consecutive
    minibatches of ``minibatch_size`` objects, all of them by default).  Each minibatch makes one step:

    1. F, g: the regularised objective and its gradient on the minibatch at the weights w;
    2. the curvature batch: the first ``curvature_size`` objects of the minibatch (all by default);
       after compute_loss on it, A p = G p + (l2_coef + lambda) p, G p = compute_gaussnewtonvec(p);
    3. d = conjugate_gradient(A, g, cg_decay * d_prev, max_cg_iterations, cg_epsilon): an approximate
       solution of the damped Gauss-Newton system (G + l2_coef I + lambda I) d = -g, started from the
       previous step's d, decayed (0 at the first step and after a rejected one);
    4. rho = (F(w + d) - F) / (q(d) - q(0)), the actual reduction on the minibatch over the one the
       undamped quadratic model q(d) = F + g.d + 1/2 d.(G + l2_coef I)d predicts (rho = -inf when it
       predicts none); Levenberg-Marquardt: lambda *= 2/3 when rho > 3/4, lambda *= 3/2 when rho < 1/4;
    5. the step is taken when F(w + d) < F (rejected otherwise: w stays, d_prev = 0).

    ``damping`` is the first lambda.  Returns ``minimize``'s history (``train_loss``, ``train_grad``,
    ``test_loss``, ``test_grad``, ``seconds``) and, per epoch, ``damping`` (lambda at its end),
    ``cg_iterations`` (CG iterations, i.e. Gauss-Newton products, in it) and ``rejected`` (its steps
    not taken).
    """
    weights = np.array(model.net.get_weights(), dtype=np.float64)
    history = {'train_loss': [], 'train_grad': [], 'test_loss': [], 'test_grad': [], 'seconds': [],
               'damping': [], 'cg_iterations': [], 'rejected': []}
    num_objects = inputs.shape[1]
    minibatch_size = minibatch_size or num_objects
    previous, seconds, step = np.zeros_like(weights), 0.0, 0
    for epoch in range(num_epoch):
        started = time.perf_counter()
        order = np.random.permutation(num_objects)
        cg_iterations = rejected = 0
        for start in range(0, num_objects, minibatch_size):
            batch = inputs[:, order[start:start + minibatch_size]]
            step += 1
            loss, grad = objective(model, batch, weights, l2_coef)
            if curvature_size and curvature_size < batch.shape[1]:
                model.net.set_weights(weights)
                model.compute_loss(batch[:, :curvature_size])

            def product(p, lam=damping, step=step):
                value = np.asarray(model.compute_gaussnewtonvec(p))
                check_shape(value, weights.shape, f"compute_gaussnewtonvec (HFN step {step})")
                if np.iscomplexobj(value):
                    raise TypeError("compute_gaussnewtonvec returned complex numbers for a real direction")
                return value + (l2_coef + lam) * p

            direction, phi, iterations = conjugate_gradient(product, grad, cg_decay * previous,
                                                            max_cg_iterations, cg_epsilon)
            cg_iterations += iterations
            predicted = phi - 0.5 * damping * float(direction @ direction)  # q(d) - q(0), undamped
            with np.errstate(over='ignore', invalid='ignore'):
                new_loss, _ = objective(model, batch, weights + direction, l2_coef)
            rho = (new_loss - loss) / predicted if predicted < 0 and np.isfinite(new_loss) else -np.inf
            if rho > 0.75:
                damping *= 2 / 3
            elif rho < 0.25:
                damping *= 1.5
            if np.isfinite(new_loss) and new_loss < loss:
                weights, previous = weights + direction, direction
                weights = np.where(np.abs(weights) < np.finfo(weights.dtype).tiny, 0.0, weights)
            else:
                previous = np.zeros_like(weights)
                rejected += 1
        seconds += time.perf_counter() - started
        record_epoch(history, model, inputs, test_inputs, weights, l2_coef, seconds)
        history['damping'].append(damping)
        history['cg_iterations'].append(cg_iterations)
        history['rejected'].append(rejected)
        if display:
            show_epoch(history, epoch, num_epoch, test_inputs is not None,
                       f", lambda {damping:.3g}, {cg_iterations} CG iterations, {rejected} steps rejected")
    model.net.set_weights(weights)
    return history
