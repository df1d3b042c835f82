"""Public cases of the autoencoder assignment: ``./run.py --assignment autoencoder unittest <section>``.

Every case takes the student's solution module (``from interface import *`` made ``FCLayer``,
``Autoencoder``, ``...ActivationFunction`` attributes of it) and raises ``CheckFailure`` with the
shapes and the largest errors when a check does not hold.  The oracles are independent of the
reference solution:

  * torch (float64, CPU): closed forms of the activations, the forward and backward passes
    (autograd), R_p passes (``jvp``), Hessian-vector products (``hvp``, double backward),
    Gauss-Newton-vector products (``jvp`` then ``vjp``), and the optimizers (``torch.optim``);
  * central differences (step 1e-6) of the student's own functions;
  * the complex step ``Im f(x + i eps p) / eps`` with eps = 1e-20, which has no subtraction and so
    agrees with the analytic derivative to about machine precision (we ask for rtol 1e-10).  It
    needs complex numbers to flow through the student's code.

Isolation: the fclayer, rp, loss, hessvec and gaussnewton cases use activations written here (the
``Kit*`` classes, with known derivatives), not the student's, and the optimizer cases replace
``compute_loss`` on the instance by a kit function of the weights (``minimize`` calls
``model.compute_loss``), so they run no FCLayer at all.  The rp cases against torch put the true
forward and backward state (self.inputs, self.u, self.outputs, self.derivs) in before the R_p passes.  The loss, hessvec and gaussnewton cases
necessarily run the student's FCLayer (and its R_p passes): their failure messages say so.
"""
import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as torch_functional

from public_tests.framework import CheckFailure, assert_close, assert_true, case

COMPLEX_STEP = 1e-20     # eps of Im f(x + i eps p) / eps
COMPLEX_RTOL = 1e-10     # the complex step agrees with an analytic derivative to about this
CENTRAL_STEP = 1e-6      # h of (f(x + h p) - f(x - h p)) / 2h
CENTRAL_RTOL = 1e-6
TORCH_RTOL = 1e-9        # the same float64 computation in another order

LOST_IMAGINARY = ("a complex input gave a real result: the imaginary part was dropped on the way. The "
                  "complex-step check needs complex numbers to flow through your code: branch on X.real, "
                  "write x * x rather than abs(x) ** 2, and keep np.abs, np.maximum, np.linalg.norm, "
                  "float(), .real and real preallocated arrays (np.zeros(shape) filled in place) off the path")


# ============================ helpers ============================
def close(actual, expected, what, rtol, atol_scale):
    """assert_close with an absolute tolerance of ``atol_scale`` times the largest |expected| (at least 1)."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    assert_close(actual, expected, what, rtol=rtol, atol=atol_scale * scale)


def close_to_torch(actual, expected, what):
    close(actual, expected, f"{what}, against torch (float64)", TORCH_RTOL, 1e-12)


def close_to_value(actual, expected, what):
    """Equal up to rounding (an exact value, a closed form, another call of your code)."""
    close(actual, expected, what, TORCH_RTOL, 1e-12)


def close_to_complex_step(actual, expected, what):
    close(actual, expected, f"{what}, against the complex step Im f(x + i*1e-20*p)/1e-20", COMPLEX_RTOL, 1e-13)


def close_to_central(actual, expected, what):
    close(actual, expected, f"{what}, against central differences (h = {CENTRAL_STEP:g})", CENTRAL_RTOL, 1e-8)


def imaginary_over_step(value, what, may_be_real=False):
    """Im(value) / COMPLEX_STEP of the result of a complex computation; a real result fails
    (the imaginary part was lost) unless ``may_be_real`` (a derivative that is 0 anyway)."""
    value = np.asarray(value)
    if value.dtype.kind != 'c':
        if may_be_real and value.dtype.kind in 'fiub':
            return np.zeros(value.shape)
        raise CheckFailure(what, LOST_IMAGINARY + f" (got dtype {value.dtype})")
    return value.imag / COMPLEX_STEP


def ndarray(value, what):
    assert_true(isinstance(value, np.ndarray), what, f"expected a numpy array, got {type(value).__name__}")
    return value


def relies_on(*sections):
    """Mark a case that runs the student's code of other ``sections``: its failures say so."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(solution):
            try:
                return function(solution)
            except CheckFailure as failure:
                failure.why += (f" (this case also runs your {' and '.join(sections)} code: "
                                f"if a {' or '.join(sections)} case fails, fix that first)")
                failure.args = (failure.describe(),)
                raise
        return wrapper
    return decorate


def to_torch(array):
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=torch.float64)


def to_numpy(tensor):
    return tensor.detach().numpy().copy()


def away_from_zero(rng, shape, low=0.05, high=6.0):
    """Uniform values with low <= |x| <= high (no kink of ReLU within a difference step)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


# ============================ kit activations (isolation from the activations section) ============================
class KitLinear:
    """g(s) = s (a kit activation: the FCLayer cases do not depend on your activations)."""
    name = 'kit linear g(s) = s'

    def val(self, X):
        return X

    def deriv(self, X):
        return np.ones(X.shape)

    def second_deriv(self, X):
        return np.zeros(X.shape)

    @staticmethod
    def torch(u):
        return u


class KitWave:
    """g(s) = sin(s) + s/2, g' = cos(s) + 1/2, g'' = -sin(s): g'(u) is no function of g(u) alone."""
    name = 'kit wave g(s) = sin(s) + s/2'

    def val(self, X):
        return np.sin(X) + X / 2

    def deriv(self, X):
        return np.cos(X) + 0.5

    def second_deriv(self, X):
        return -np.sin(X)

    @staticmethod
    def torch(u):
        return torch.sin(u) + u / 2


class KitSquare:
    """g(s) = s + s^2/4, g' = 1 + s/2, g'' = 1/2."""
    name = 'kit square g(s) = s + s^2/4'

    def val(self, X):
        return X + X * X / 4

    def deriv(self, X):
        return 1 + X / 2

    def second_deriv(self, X):
        return np.full(X.shape, 0.5)

    @staticmethod
    def torch(u):
        return u + u * u / 4


KIT_ACTIVATIONS = (KitWave, KitSquare, KitLinear)


class OracleLayer:
    """A kit layer whose passes torch differentiates (float64, or complex128 for complex arguments):
    forward z = g(W_bar [x; 1]); backward, the vector-Jacobian product of forward; the R_p passes, jvps of
    forward and of backward.  The loss, hessvec and gaussnewton cases run your Autoencoder over these
    layers, not over your FCLayer, as the checker does: each section is judged on its own."""

    def __init__(self, shape, activation, use_bias):
        self.shape, self.activation, self.use_bias = tuple(shape), activation, use_bias
        self.weights = np.zeros((self.shape[1], self.shape[0] + int(use_bias)))
        self.direction = np.zeros_like(self.weights)

    def get_params_number(self):
        return self.weights.size

    def get_weights(self):
        return self.weights.ravel().copy()

    def set_weights(self, w):
        self.weights = np.array(w).reshape(self.weights.shape)

    def set_direction(self, p):
        self.direction = np.array(p).reshape(self.weights.shape)

    def get_activations(self):
        return self.outputs

    @staticmethod
    def _tensor(array):
        array = np.asarray(array)
        return torch.tensor(array, dtype=torch.complex128 if array.dtype.kind == 'c' else torch.float64)

    def _forward(self, weights, inputs):
        if weights.dtype != inputs.dtype:
            weights, inputs = weights.to(torch.complex128), inputs.to(torch.complex128)
        if self.use_bias:
            inputs = torch.cat([inputs, torch.ones(1, inputs.shape[1], dtype=inputs.dtype)])
        return self.activation.torch(weights @ inputs)

    def _vjp(self, weights, inputs, derivs):
        holomorphic = derivs.is_complex() or weights.is_complex() or inputs.is_complex()
        if holomorphic:  # J^T v = conj(torch's vjp of conj(v))
            weights, inputs, derivs = (t.to(torch.complex128) for t in (weights, inputs, derivs))
        _, pullback = torch.func.vjp(self._forward, weights, inputs)
        weights_grad, inputs_grad = pullback(derivs.conj() if holomorphic else derivs)
        if holomorphic:
            weights_grad, inputs_grad = weights_grad.conj().resolve_conj(), inputs_grad.conj().resolve_conj()
        return inputs_grad, weights_grad

    def forward(self, inputs):
        self.inputs = inputs
        self.outputs = self._forward(self._tensor(self.weights), self._tensor(inputs)).numpy()
        return self.outputs

    def backward(self, derivs):
        self.derivs = derivs
        inputs_grad, weights_grad = self._vjp(*(self._tensor(a) for a in (self.weights, self.inputs, derivs)))
        return inputs_grad.numpy(), weights_grad.numpy().ravel()

    def Rp_forward(self, Rp_inputs):
        self.kept_Rp_inputs = Rp_inputs
        _, tangent = torch.func.jvp(self._forward, (self._tensor(self.weights), self._tensor(self.inputs)),
                                    (self._tensor(self.direction), self._tensor(Rp_inputs)))
        return tangent.numpy()

    def Rp_backward(self, Rp_derivs):
        primals = tuple(self._tensor(a) for a in (self.weights, self.inputs, self.derivs))
        tangents = tuple(self._tensor(a) for a in (self.direction, self.kept_Rp_inputs, Rp_derivs))
        _, (inputs_tangent, weights_tangent) = torch.func.jvp(self._vjp, primals, tangents)
        return inputs_tangent.numpy(), weights_tangent.numpy().ravel()


# ============================ architectures and their torch twins ============================
@dataclass(frozen=True)
class Architecture:
    sizes: tuple        # units of z^0, z^1, ..., z^L
    biases: tuple       # use_bias of each of the L layers
    activations: tuple  # a kit activation class for each layer

    @property
    def layer_shapes(self):
        """(num_outputs, num_inputs (+1)) of each W_bar."""
        return [(n_out, n_in + int(bias)) for n_in, n_out, bias in zip(self.sizes, self.sizes[1:], self.biases)]

    @property
    def num_params(self):
        return sum(rows * columns for rows, columns in self.layer_shapes)

    def describe(self):
        layers = ', '.join(f"{n_in}->{n_out}{' +bias' if bias else ''} {activation.name.split(' g(')[0][4:]}"
                           for n_in, n_out, bias, activation in
                           zip(self.sizes, self.sizes[1:], self.biases, self.activations))
        return f"autoencoder [{layers}]"

    def layers(self, solution):
        return [solution.FCLayer((n_in, n_out), activation(), use_bias=bias)
                for n_in, n_out, bias, activation in zip(self.sizes, self.sizes[1:], self.biases, self.activations)]

    def autoencoder_net(self, solution, theta):
        """The kit's FFNet of oracle layers, its weights set (no Autoencoder of yours)."""
        net = kit_interface(solution).FFNet(self.oracle_layers())
        net.set_weights(theta)
        return net

    def oracle_layers(self):
        return [OracleLayer((n_in, n_out), activation, bias)
                for n_in, n_out, bias, activation in zip(self.sizes, self.sizes[1:], self.biases, self.activations)]

    def autoencoder(self, solution, theta, yours=False):
        """Your Autoencoder over the kit's oracle layers (``yours``: over your FCLayer), with the kit's FFNet
        as its ``net`` whatever the constructor did with the layers, the weights set."""
        layers = self.layers(solution) if yours else self.oracle_layers()
        model = solution.Autoencoder(layers)
        model.net = kit_interface(solution).FFNet(layers)
        model.net.set_weights(theta)
        return model

    def random_theta(self, rng):
        parts = [rng.normal(size=(rows, columns)) / np.sqrt(columns) for rows, columns in self.layer_shapes]
        return np.concatenate([part.ravel() for part in parts])

    def torch_outputs(self, theta, inputs):
        """z^L in torch: theta (num_params,), inputs (D, n) tensors."""
        outputs, start = inputs, 0
        for (rows, columns), bias, activation in zip(self.layer_shapes, self.biases, self.activations):
            weights = theta[start:start + rows * columns].reshape(rows, columns)
            start += rows * columns
            if bias:
                outputs = torch.cat([outputs, torch.ones(1, outputs.shape[1], dtype=torch.float64)])
            outputs = activation.torch(weights @ outputs)
        return outputs

    def torch_loss(self, theta, inputs):
        residual = self.torch_outputs(theta, inputs) - inputs
        return 0.5 * (residual * residual).sum() / inputs.shape[1]


def random_architecture(rng, num_layers=None, use_bias=None):
    """3-5 layers D -> ... -> d -> ... -> D with a bottleneck of d = 1 or 2 units (linear there)."""
    num_layers = int(num_layers or rng.integers(3, 6))
    features = int(rng.integers(4, 7))
    middle = num_layers // 2
    sizes = [features] + [int(rng.integers(3, 6)) for _ in range(num_layers - 1)] + [features]
    sizes[middle] = int(rng.integers(1, 3))
    biases = tuple(bool(rng.integers(2)) if use_bias is None else use_bias for _ in range(num_layers))
    activations = [KIT_ACTIVATIONS[int(rng.integers(2))] for _ in range(num_layers)]
    activations[middle - 1] = KitLinear
    return Architecture(tuple(sizes), biases, tuple(activations))


def problems(seed, batch_sizes=(1, 7), count=2, **architecture):
    """(architecture, theta, inputs, what) for ``count`` random architectures and each batch size."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        arch = random_architecture(rng, **architecture)
        for batch in batch_sizes:
            theta = arch.random_theta(rng)
            inputs = rng.normal(size=(arch.sizes[0], batch))
            yield arch, theta, inputs, f"{arch.describe()}, batch of {batch}"


# ============================ 2 activation functions ============================
def student_activations(solution):
    """(label, instance, closed form in torch, smooth) of every activation of the handout."""
    return [
        ('SigmoidActivationFunction', solution.SigmoidActivationFunction(), torch.sigmoid, True),
        ('TanhActivationFunction', solution.TanhActivationFunction(), torch.tanh, True),
        ('ReluActivationFunction', solution.ReluActivationFunction(), torch.relu, False),
        ('LeakyReluActivationFunction(alpha=0.3)', solution.LeakyReluActivationFunction(alpha=0.3),
         lambda t: torch_functional.leaky_relu(t, 0.3), False),
        ('LeakyReluActivationFunction() (alpha 0.01)', solution.LeakyReluActivationFunction(),
         lambda t: torch_functional.leaky_relu(t, 0.01), False),
        ('SoftplusActivationFunction', solution.SoftplusActivationFunction(),
         lambda t: torch.log1p(torch.exp(t)), True),
        ('LinearActivationFunction', solution.LinearActivationFunction(), lambda t: t, True),
    ]


ACTIVATION_SHAPES = ((6,), (3, 4), (5, 1))


def activation_inputs(seed):
    rng = np.random.default_rng(seed)
    return [away_from_zero(rng, shape) for shape in ACTIVATION_SHAPES]


@case('activations')
def activations_val_matches_closed_form(solution):
    for X in activation_inputs(1):
        for label, function, closed_form, _ in student_activations(solution):
            close_to_torch(ndarray(function.val(X), f"{label}.val"), to_numpy(closed_form(to_torch(X))),
                           f"{label}.val on X of shape {X.shape}")


@case('activations')
def activations_keep_the_shape_of_their_input(solution):
    for X in activation_inputs(2):
        for label, function, _, _ in student_activations(solution):
            for method in ('val', 'deriv', 'second_deriv'):
                value = getattr(function, method)(X)
                assert_true(isinstance(value, np.ndarray) and value.shape == X.shape, f"{label}.{method}",
                            f"X of shape {X.shape} gave {type(value).__name__} of shape {np.shape(value)}: "
                            "expected an array of X's shape")


@case('activations')
def activations_deriv_matches_central_differences_of_val(solution):
    for X in activation_inputs(3):
        for label, function, _, _ in student_activations(solution):
            numeric = (function.val(X + CENTRAL_STEP) - function.val(X - CENTRAL_STEP)) / (2 * CENTRAL_STEP)
            close_to_central(ndarray(function.deriv(X), f"{label}.deriv"), numeric,
                             f"{label}.deriv on X of shape {X.shape} (inputs kept away from 0)")


@case('activations')
def activations_deriv_matches_complex_step_of_val(solution):
    for X in activation_inputs(4):
        for label, function, _, _ in student_activations(solution):
            value = function.val(X + 1j * COMPLEX_STEP)
            what = f"{label}.val on complex X of shape {X.shape}"
            close_to_complex_step(ndarray(function.deriv(X), f"{label}.deriv"), imaginary_over_step(value, what),
                                  f"{label}.deriv on X of shape {X.shape}")
            close_to_value(np.real(value), function.val(X), f"{what}: its real part must be val(X.real)")


@case('activations')
def activations_second_deriv_matches_central_differences_of_deriv(solution):
    for X in activation_inputs(5):
        for label, function, _, _ in student_activations(solution):
            numeric = (function.deriv(X + CENTRAL_STEP) - function.deriv(X - CENTRAL_STEP)) / (2 * CENTRAL_STEP)
            close_to_central(ndarray(function.second_deriv(X), f"{label}.second_deriv"), numeric,
                             f"{label}.second_deriv on X of shape {X.shape}")


@case('activations')
def activations_second_deriv_matches_complex_step_of_deriv(solution):
    for X in activation_inputs(6):
        for label, function, _, smooth in student_activations(solution):
            value = function.deriv(X + 1j * COMPLEX_STEP)
            # ReLU's and LeakyReLU's deriv is piecewise constant: a real result is fine there
            numeric = imaginary_over_step(value, f"{label}.deriv on complex X of shape {X.shape}",
                                          may_be_real=not smooth or label.startswith('Linear'))
            close_to_complex_step(ndarray(function.second_deriv(X), f"{label}.second_deriv"), numeric,
                                  f"{label}.second_deriv on X of shape {X.shape}")


@case('activations')
def activations_second_derivs_against_closed_forms(solution):
    # g'' of sigmoid: s (1 - s) (1 - 2 s); of tanh: -2 t (1 - t^2); of softplus: s (1 - s); 0 for the rest
    X = away_from_zero(np.random.default_rng(7), (4, 5))
    s, t = 1 / (1 + np.exp(-X)), np.tanh(X)
    expected = {'SigmoidActivationFunction': s * (1 - s) * (1 - 2 * s), 'TanhActivationFunction': -2 * t * (1 - t * t),
                'SoftplusActivationFunction': s * (1 - s)}
    for label, function, _, _ in student_activations(solution):
        close_to_value(ndarray(function.second_deriv(X), f"{label}.second_deriv"),
                       expected.get(label, np.zeros(X.shape)),
                       f"{label}.second_deriv on X of shape {X.shape}, against the closed form")


@case('activations')
def leaky_relu_uses_its_alpha(solution):
    X = np.array([[-2.0, -0.5, 1.5], [3.0, -1.0, -4.0]])
    for alpha in (0.05, 0.5):
        function = solution.LeakyReluActivationFunction(alpha=alpha)
        close_to_value(ndarray(function.val(X), 'val'), np.where(X > 0, X, alpha * X),
                       f"LeakyReluActivationFunction(alpha={alpha}).val")
        close_to_value(ndarray(function.deriv(X), 'deriv'), np.where(X > 0, 1.0, alpha),
                       f"LeakyReluActivationFunction(alpha={alpha}).deriv")


# ============================ 2 FCLayer forward and backward ============================
def layer_problems(seed, count=4):
    """(layer arguments, W_bar flat, inputs, upstream derivs, what): bias on and off, batch 1 and 6."""
    rng = np.random.default_rng(seed)
    for number in range(count):
        num_inputs, num_outputs = int(rng.integers(2, 6)), int(rng.integers(1, 5))
        use_bias, batch = number % 2 == 0, (1, 6)[number // 2 % 2]
        activation = (KitWave, KitSquare)[number % 2]
        columns = num_inputs + int(use_bias)
        theta = rng.normal(size=num_outputs * columns) / np.sqrt(columns)
        inputs, upstream = rng.normal(size=(num_inputs, batch)), rng.normal(size=(num_outputs, batch))
        what = (f"FCLayer(({num_inputs}, {num_outputs}), {activation.name}, use_bias={use_bias}), "
                f"batch of {batch}")
        yield (num_inputs, num_outputs), activation, use_bias, theta, inputs, upstream, what


def make_layer(solution, shape, activation, use_bias, theta):
    layer = solution.FCLayer(shape, activation(), use_bias=use_bias)
    layer.set_weights(theta)
    return layer


def torch_layer(shape, activation, use_bias):
    """(inputs (n_in, batch), theta flat) -> outputs in torch."""
    num_inputs, num_outputs = shape

    def outputs(inputs, theta):
        weights = theta.reshape(num_outputs, num_inputs + int(use_bias))
        if use_bias:
            inputs = torch.cat([inputs, torch.ones(1, inputs.shape[1], dtype=torch.float64)])
        return activation.torch(weights @ inputs)
    return outputs


@case('fclayer')
def fclayer_forward_hand_computed(solution):
    # W_bar = [[1, 2 | 0.5], [-1, 0 | 1]], g(s) = s: u = W x + b
    layer = make_layer(solution, (2, 2), KitLinear, True, np.array([1.0, 2.0, 0.5, -1.0, 0.0, 1.0]))
    outputs = layer.forward(np.array([[1.0, 0.0], [-1.0, 2.0]]))
    assert_close(outputs, [[-0.5, 4.5], [0.0, 1.0]], "FCLayer((2, 2), linear, use_bias=True).forward: "
                 "W_bar = [W, b] flattened in C order, the bias in the last column")
    without_bias = make_layer(solution, (2, 2), KitLinear, False, np.array([1.0, 2.0, -1.0, 0.0]))
    assert_close(without_bias.forward(np.array([[1.0, 0.0], [-1.0, 2.0]])), [[-1.0, 4.0], [-1.0, 0.0]],
                 "FCLayer((2, 2), linear, use_bias=False).forward: W x")


@case('fclayer')
def fclayer_backward_hand_computed(solution):
    # dL/dW_bar = dL/du [x; 1]^T (summed over the batch), dL/dx = W^T dL/du (no bias column)
    layer = make_layer(solution, (2, 2), KitLinear, True, np.array([1.0, 2.0, 0.5, -1.0, 0.0, 1.0]))
    layer.forward(np.array([[1.0, 0.0], [-1.0, 2.0]]))
    input_grad, weights_grad = layer.backward(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert_close(input_grad, [[1.0, -1.0], [2.0, 0.0]], "FCLayer.backward: dL/dinputs = W^T dL/du")
    assert_close(weights_grad, [1.0, -1.0, 1.0, 0.0, 2.0, 1.0],
                 "FCLayer.backward: dL/dW_bar = dL/du [inputs; 1]^T flattened in C order")


@case('fclayer')
def fclayer_forward_matches_torch(solution):
    for shape, activation, use_bias, theta, inputs, _, what in layer_problems(11):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        expected = torch_layer(shape, activation, use_bias)(to_torch(inputs), to_torch(theta))
        close_to_torch(layer.forward(inputs), to_numpy(expected), f"{what}: forward")
        close_to_torch(layer.get_activations(), to_numpy(expected),
                       f"{what}: get_activations() after forward (keep the outputs in self.outputs)")


@case('fclayer')
def fclayer_backward_matches_torch(solution):
    for shape, activation, use_bias, theta, inputs, upstream, what in layer_problems(12):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        layer.forward(inputs)
        input_grad, weights_grad = layer.backward(upstream)
        x, w = to_torch(inputs).requires_grad_(), to_torch(theta).requires_grad_()
        (torch_layer(shape, activation, use_bias)(x, w) * to_torch(upstream)).sum().backward()
        close_to_torch(input_grad, to_numpy(x.grad), f"{what}: backward, dL/dinputs")
        close_to_torch(weights_grad, to_numpy(w.grad), f"{what}: backward, dL/dweights (summed over the batch)")


def coordinatewise(function, point, step):
    """[function(point + step e_k) for each k] (point flattened), as a list."""
    values = []
    for index in range(point.size):
        moved = point.astype(np.result_type(point, step)).ravel().copy()
        moved[index] += step
        values.append(function(moved.reshape(point.shape)))
    return values


@case('fclayer')
def fclayer_backward_matches_central_differences(solution):
    for shape, activation, use_bias, theta, inputs, upstream, what in layer_problems(13):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        layer.forward(inputs)
        input_grad, weights_grad = layer.backward(upstream)

        def of_inputs(x):
            return np.sum(layer.forward(x) * upstream)

        def of_weights(w):
            layer.set_weights(w)
            return np.sum(layer.forward(inputs) * upstream)

        for function, point, analytic, name in ((of_inputs, inputs, input_grad, 'dL/dinputs'),
                                                (of_weights, theta, weights_grad, 'dL/dweights')):
            plus = np.array(coordinatewise(function, point, CENTRAL_STEP))
            minus = np.array(coordinatewise(function, point, -CENTRAL_STEP))
            close_to_central(analytic, ((plus - minus) / (2 * CENTRAL_STEP)).reshape(point.shape),
                             f"{what}: backward, {name} of L = sum(forward(inputs) * upstream)")
            layer.set_weights(theta)


@case('fclayer')
def fclayer_backward_matches_complex_step(solution):
    for shape, activation, use_bias, theta, inputs, upstream, what in layer_problems(14):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        layer.forward(inputs)
        input_grad, weights_grad = layer.backward(upstream)

        def of_inputs(x):
            return imaginary_over_step(np.sum(layer.forward(x) * upstream),
                                       f"{what}: forward of complex inputs")

        def of_weights(w):
            layer.set_weights(w)
            return imaginary_over_step(np.sum(layer.forward(inputs) * upstream),
                                       f"{what}: forward with complex weights (set_weights keeps the dtype)")

        close_to_complex_step(input_grad, np.array(coordinatewise(of_inputs, inputs, 1j * COMPLEX_STEP)).reshape(
            inputs.shape), f"{what}: backward, dL/dinputs")
        close_to_complex_step(weights_grad, np.array(coordinatewise(of_weights, theta, 1j * COMPLEX_STEP)),
                              f"{what}: backward, dL/dweights")


@case('fclayer')
def fclayer_complex_backward_is_the_derivative_of_the_real_one(solution):
    # backward after a forward of complex inputs x + i eps dx: Im(backward) / eps is the derivative of
    # the real backward along dx, and Re(backward) the real backward (the Hessian checks rely on this)
    for shape, activation, use_bias, theta, inputs, upstream, what in layer_problems(15, count=2):
        direction = np.random.default_rng(15).normal(size=inputs.shape)
        layer = make_layer(solution, shape, activation, use_bias, theta)
        layer.forward(inputs + 1j * COMPLEX_STEP * direction)
        complex_grads = layer.backward(upstream)
        moved = []
        for sign in (1, -1):
            layer.forward(inputs + sign * CENTRAL_STEP * direction)
            moved.append(layer.backward(upstream))
        layer.forward(inputs)
        real_grads = layer.backward(upstream)
        for number, name in enumerate(('dL/dinputs', 'dL/dweights')):
            derivative = imaginary_over_step(complex_grads[number], f"{what}: backward after a complex forward")
            close_to_central(derivative, (moved[0][number] - moved[1][number]) / (2 * CENTRAL_STEP),
                             f"{what}: Im {name}(inputs + i eps dx) / eps")
            close_to_value(np.real(complex_grads[number]), real_grads[number],
                           f"{what}: Re {name}(inputs + i eps dx) must be {name}(inputs)")


@case('fclayer')
def fclayer_keeps_what_the_rp_passes_read(solution):
    # the docstrings' contract: forward keeps self.inputs, self.u = W_bar z_bar_in and self.outputs,
    # backward keeps self.derivs (the checker's R_p scenarios put true values there)
    for shape, activation, use_bias, theta, inputs, upstream, what in layer_problems(18, count=2):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        layer.forward(inputs)
        x = to_torch(inputs)
        if use_bias:
            x = torch.cat([x, torch.ones(1, x.shape[1], dtype=torch.float64)])
        u = to_numpy(to_torch(theta).reshape(shape[1], -1) @ x)
        for name, expected in (('inputs', inputs), ('u', u), ('outputs', to_numpy(activation.torch(to_torch(u))))):
            assert_true(hasattr(layer, name), f"{what}: forward", f"keeps no self.{name}")
            close_to_value(ndarray(np.asarray(getattr(layer, name)), f"self.{name}"), expected,
                           f"{what}: self.{name} after forward")
        layer.backward(upstream)
        assert_true(hasattr(layer, 'derivs'), f"{what}: backward", "keeps no self.derivs (the derivs it was given)")
        close_to_value(ndarray(np.asarray(layer.derivs), 'self.derivs'), upstream,
                       f"{what}: self.derivs after backward")


@case('fclayer')
def fclayer_two_batches_in_a_row(solution):
    # a second forward/backward on another batch (another size) must forget the first one
    for shape, activation, use_bias, theta, inputs, upstream, what in layer_problems(16, count=2):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        layer.forward(inputs)
        layer.backward(upstream)
        second_inputs = np.random.default_rng(16).normal(size=(shape[0], 3))
        second_upstream = np.random.default_rng(17).normal(size=(shape[1], 3))
        outputs = layer.forward(second_inputs)
        input_grad, weights_grad = layer.backward(second_upstream)
        x, w = to_torch(second_inputs).requires_grad_(), to_torch(theta).requires_grad_()
        expected = torch_layer(shape, activation, use_bias)(x, w)
        (expected * to_torch(second_upstream)).sum().backward()
        close_to_torch(outputs, to_numpy(expected), f"{what}, then a batch of 3: forward")
        close_to_torch(input_grad, to_numpy(x.grad), f"{what}, then a batch of 3: dL/dinputs")
        close_to_torch(weights_grad, to_numpy(w.grad), f"{what}, then a batch of 3: dL/dweights")


# ============================ 3 FCLayer R_p passes ============================
def rp_problems(seed, count=4):
    """layer_problems plus R_p{inputs}, the direction P_bar (flat) and R_p{dL/d outputs}."""
    rng = np.random.default_rng(seed)
    for number, (shape, activation, use_bias, theta, inputs, upstream, what) in enumerate(
            layer_problems(seed, count)):
        activation = KitWave if number < 2 else activation  # g'' != 0 everywhere
        what = what.replace(KitSquare.name, activation.name)
        Rp_inputs = rng.normal(size=inputs.shape) if number != 1 else np.zeros(inputs.shape)
        direction = rng.normal(size=theta.shape)
        Rp_derivs = rng.normal(size=upstream.shape)
        what += ', R_p{inputs} = 0 (a first layer)' if number == 1 else ''
        yield shape, activation, use_bias, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, what


def true_state(layer, activation, use_bias, theta, inputs, upstream=None):
    """Put the true values where the docstrings say the R_p passes read them (self.inputs, self.u,
    self.outputs after forward; self.derivs after backward): a wrong forward costs fclayer, not rp."""
    extended = np.vstack([inputs, np.ones((1, inputs.shape[1]))]) if use_bias else inputs
    layer.inputs, layer.u = inputs, theta.reshape(-1, extended.shape[0]) @ extended
    layer.outputs = activation().val(layer.u)
    if upstream is not None:
        layer.derivs = upstream


def run_rp_passes(layer, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, activation=None):
    """forward, Rp_forward, backward, Rp_backward; with ``activation``, the state forward and backward
    keep is replaced by the true one before each R_p pass."""
    use_bias = layer.use_bias
    layer.set_weights(theta)
    layer.set_direction(direction)
    layer.forward(inputs)
    if activation is not None:
        true_state(layer, activation, use_bias, theta, inputs)
    Rp_outputs = layer.Rp_forward(Rp_inputs)
    layer.backward(upstream)
    if activation is not None:
        true_state(layer, activation, use_bias, theta, inputs, upstream)
    Rp_input_derivs, Rp_weights_derivs = layer.Rp_backward(Rp_derivs)
    return Rp_outputs, Rp_input_derivs, Rp_weights_derivs


def torch_rp(shape, activation, use_bias, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs):
    """(R{outputs}, R{dL/dinputs}, R{dL/dweights}): jvp of the forward and of the autograd backward."""
    forward = torch_layer(shape, activation, use_bias)

    def backward(x, w, derivs):
        return torch.autograd.grad((forward(x, w) * derivs).sum(), (x, w), create_graph=True)

    primals = (to_torch(inputs), to_torch(theta))
    _, Rp_outputs = torch.autograd.functional.jvp(forward, primals, (to_torch(Rp_inputs), to_torch(direction)))
    _, (Rp_input_derivs, Rp_weights_derivs) = torch.autograd.functional.jvp(
        backward, primals + (to_torch(upstream),), (to_torch(Rp_inputs), to_torch(direction), to_torch(Rp_derivs)))
    return to_numpy(Rp_outputs), to_numpy(Rp_input_derivs), to_numpy(Rp_weights_derivs)


@case('rp')
def rp_forward_hand_computed(solution):
    # R{u} = W R{inputs} + P_bar [inputs; 1], R{z} = g'(u) R{u} with g(s) = s
    layer = make_layer(solution, (2, 1), KitLinear, True, np.array([1.0, 2.0, 0.5]))
    layer.set_direction(np.array([0.0, 1.0, -1.0]))
    layer.forward(np.array([[1.0], [3.0]]))
    true_state(layer, KitLinear, True, np.array([1.0, 2.0, 0.5]), np.array([[1.0], [3.0]]))
    assert_close(layer.Rp_forward(np.array([[2.0], [0.0]])), [[4.0]],
                 "FCLayer((2, 1), linear, use_bias=True).Rp_forward: W R{inputs} + P_bar [inputs; 1] "
                 "= 1*2 + 2*0 + (0*1 + 1*3 - 1*1)")


@case('rp')
@relies_on('fclayer')
def rp_forward_matches_torch_jvp(solution):
    for shape, activation, use_bias, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, what in \
            rp_problems(21):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        Rp_outputs, _, _ = run_rp_passes(layer, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs,
                                         activation)
        expected, _, _ = torch_rp(shape, activation, use_bias, theta, inputs, upstream, Rp_inputs, direction,
                                  Rp_derivs)
        close_to_torch(Rp_outputs, expected, f"{what}: Rp_forward (torch: jvp of forward)")


@case('rp')
@relies_on('fclayer')
def rp_backward_matches_torch_jvp_of_backward(solution):
    for shape, activation, use_bias, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, what in \
            rp_problems(22):
        layer = make_layer(solution, shape, activation, use_bias, theta)
        _, Rp_input_derivs, Rp_weights_derivs = run_rp_passes(layer, theta, inputs, upstream, Rp_inputs,
                                                              direction, Rp_derivs, activation)
        _, expected_inputs, expected_weights = torch_rp(shape, activation, use_bias, theta, inputs, upstream,
                                                        Rp_inputs, direction, Rp_derivs)
        close_to_torch(Rp_input_derivs, expected_inputs, f"{what}: Rp_backward, R{{dL/dinputs}}")
        close_to_torch(Rp_weights_derivs, expected_weights, f"{what}: Rp_backward, R{{dL/dweights}}")


@case('rp')
@relies_on('fclayer')
def rp_passes_match_complex_step_of_forward_and_backward(solution):
    # R{.} is the derivative along (R{inputs}, P, R{derivs}): one complex forward and backward with
    # inputs + i eps R{inputs}, weights + i eps P, derivs + i eps R{derivs} give all three
    for shape, activation, use_bias, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, what in \
            rp_problems(23):
        # the kit's forward and backward are differentiated (torch's, with complex arguments), and your R_p
        # passes read the true state: a wrong forward or backward costs fclayer, not rp (as in the checker)
        oracle = OracleLayer(shape, activation, use_bias)
        oracle.set_weights(theta + 1j * COMPLEX_STEP * direction)
        outputs = oracle.forward(inputs + 1j * COMPLEX_STEP * Rp_inputs)
        input_derivs, weights_derivs = oracle.backward(upstream + 1j * COMPLEX_STEP * Rp_derivs)
        complex_what = "the kit's forward/backward with complex inputs, weights and derivs"
        expected = [imaginary_over_step(value, complex_what) for value in (outputs, input_derivs, weights_derivs)]
        layer = make_layer(solution, shape, activation, use_bias, theta)
        actual = run_rp_passes(layer, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, activation)
        for value, reference, name in zip(actual, expected, ('Rp_forward', 'Rp_backward, R{dL/dinputs}',
                                                             'Rp_backward, R{dL/dweights}')):
            close_to_complex_step(value, reference, f"{what}: {name}")


@case('rp')
@relies_on('fclayer')
def rp_passes_match_central_differences(solution):
    for shape, activation, use_bias, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, what in \
            rp_problems(24, count=2):
        oracle, moved = OracleLayer(shape, activation, use_bias), []  # central differences of the kit's passes
        for sign in (1, -1):
            oracle.set_weights(theta + sign * CENTRAL_STEP * direction)
            outputs = oracle.forward(inputs + sign * CENTRAL_STEP * Rp_inputs)
            moved.append((outputs,) + tuple(oracle.backward(upstream + sign * CENTRAL_STEP * Rp_derivs)))
        layer = make_layer(solution, shape, activation, use_bias, theta)
        actual = run_rp_passes(layer, theta, inputs, upstream, Rp_inputs, direction, Rp_derivs, activation)
        for number, name in enumerate(('Rp_forward', 'Rp_backward, R{dL/dinputs}', 'Rp_backward, R{dL/dweights}')):
            close_to_central(actual[number], (moved[0][number] - moved[1][number]) / (2 * CENTRAL_STEP),
                             f"{what}: {name}")


@case('rp')
@relies_on('fclayer')
def rp_network_outputs_match_torch_jvp(solution):
    # FFNet.compute_Rp_outputs chains your Rp_forward: R{z^L} = J p
    for arch, theta, inputs, what in problems(25):
        direction = np.random.default_rng(25).normal(size=theta.shape)
        model = arch.autoencoder(solution, theta, yours=True)
        model.net.compute_outputs(inputs)
        layer_inputs, start = inputs, 0
        for layer, activation, bias in zip(model.net.layers, arch.activations, arch.biases):  # the true state
            count = layer.get_params_number()
            true_state(layer, activation, bias, theta[start:start + count], layer_inputs)
            layer_inputs, start = layer.outputs, start + count
        model.net.set_direction(direction)
        actual = model.net.compute_Rp_outputs()
        _, expected = torch.autograd.functional.jvp(lambda t: arch.torch_outputs(t, to_torch(inputs)),
                                                    to_torch(theta), to_torch(direction))
        close_to_torch(actual, to_numpy(expected), f"{what}: compute_Rp_outputs, R{{z^L}} = J p")


# ============================ 2 the autoencoder's loss and gradient ============================
def loss_and_grad(model, theta, inputs, what):
    model.net.set_weights(theta)
    result = model.compute_loss(inputs)
    assert_true(isinstance(result, tuple) and len(result) == 2, f"{what}: compute_loss",
                f"expected a pair (loss, gradient), got {type(result).__name__}")
    loss, grad = result
    assert_true(np.ndim(loss) == 0, f"{what}: compute_loss", f"the loss must be a number, got shape {np.shape(loss)}")
    return loss, ndarray(grad, f"{what}: compute_loss (gradient)")


@case('loss')
def loss_hand_computed(solution):
    # one layer z = W x, W = [[1, 0], [0, 0.5]]; x = [[2, 0], [1, 4]] (2 objects): residual z - x =
    # [[0, 0], [-0.5, -2]]; F = (0.25 + 4) / (2 * 2); dF/dW = (z - x) x^T / 2
    model = Architecture((2, 2), (False,), (KitLinear,)).autoencoder(solution, np.array([1.0, 0.0, 0.0, 0.5]))
    loss, grad = loss_and_grad(model, np.array([1.0, 0.0, 0.0, 0.5]), np.array([[2.0, 0.0], [1.0, 4.0]]),
                               "one linear layer 2->2 without bias, batch of 2")
    assert_close(np.array([float(np.real(loss))]), [1.0625], "compute_loss: the loss of a hand-computed case")
    assert_close(grad, [0.0, 0.0, -0.5, -4.25], "compute_loss: the gradient dF/dW (C order)")


@case('loss')
def loss_matches_torch(solution):
    for arch, theta, inputs, what in problems(31, count=3):
        model = arch.autoencoder(solution, theta)
        loss, grad = loss_and_grad(model, theta, inputs, what)
        t = to_torch(theta).requires_grad_()
        expected = arch.torch_loss(t, to_torch(inputs))
        expected.backward()
        close_to_torch(np.array([loss]), [expected.item()], f"{what}: compute_loss, the loss F")
        close_to_torch(grad, to_numpy(t.grad), f"{what}: compute_loss, the gradient of F")


@case('loss')
def loss_is_a_mean_over_the_objects(solution):
    for arch, theta, inputs, what in problems(32, batch_sizes=(3,), count=1):
        model = arch.autoencoder(solution, theta)
        loss, grad = loss_and_grad(model, theta, inputs, what)
        twice, twice_grad = loss_and_grad(model, theta, np.hstack([inputs, inputs]), what)
        close_to_value(np.array([twice]), [loss], f"{what}: the loss of the batch repeated twice "
                       "(F is 1/n sum over the n objects, not the sum)")
        close_to_value(twice_grad, grad, f"{what}: the gradient of the batch repeated twice")


@case('loss')
def loss_gradient_matches_central_differences(solution):
    for arch, theta, inputs, what in problems(33):
        model = arch.autoencoder(solution, theta)
        _, grad = loss_and_grad(model, theta, inputs, what)

        def loss_at(weights):
            model.net.set_weights(weights)
            return np.real(model.compute_loss(inputs)[0])

        plus = np.array(coordinatewise(loss_at, theta, CENTRAL_STEP))
        minus = np.array(coordinatewise(loss_at, theta, -CENTRAL_STEP))
        close_to_central(grad, (plus - minus) / (2 * CENTRAL_STEP), f"{what}: compute_loss, dF/dtheta")


@case('loss')
def loss_gradient_matches_complex_step(solution):
    for arch, theta, inputs, what in problems(34):
        model = arch.autoencoder(solution, theta)
        _, grad = loss_and_grad(model, theta, inputs, what)

        def derivative_at(weights):
            model.net.set_weights(weights)
            return imaginary_over_step(model.compute_loss(inputs)[0],
                                       f"{what}: compute_loss with complex weights theta + i eps e_k")

        close_to_complex_step(grad, np.array(coordinatewise(derivative_at, theta, 1j * COMPLEX_STEP)),
                              f"{what}: compute_loss, dF/dtheta_k")


@case('loss')
def loss_of_complex_weights_along_a_direction(solution):
    # the check of the handout (7): grad F . p = Im F(theta + i eps p) / eps, and Re F(theta + i eps p) = F(theta)
    for arch, theta, inputs, what in problems(35):
        model = arch.autoencoder(solution, theta)
        loss, grad = loss_and_grad(model, theta, inputs, what)
        directions = np.random.default_rng(35).normal(size=(3, theta.size))
        values = []
        for direction in directions:
            complex_loss, _ = loss_and_grad(model, theta + 1j * COMPLEX_STEP * direction, inputs, what)
            values.append(imaginary_over_step(complex_loss, f"{what}: compute_loss with complex weights"))
            close_to_value(np.array([np.real(complex_loss)]), [np.real(loss)],
                           f"{what}: Re F(theta + i eps p) must be F(theta)")
        close_to_complex_step(directions @ grad, np.array(values), f"{what}: grad F . p for 3 directions p")


# ============================ 3, 4 Hessian-vector and Gauss-Newton-vector products ============================
def hessvec_problems(seed, **kwargs):
    for arch, theta, inputs, what in problems(seed, **kwargs):
        yield arch, theta, inputs, np.random.default_rng(seed).normal(size=theta.shape), what


def torch_hvp(arch, theta, inputs, direction):
    _, product = torch.autograd.functional.hvp(lambda t: arch.torch_loss(t, to_torch(inputs)), to_torch(theta),
                                               to_torch(direction))
    return to_numpy(product)


def torch_gauss_newton(arch, theta, inputs, direction):
    """J^T J p / n with J = d z^L / d theta: jvp, then vjp."""
    def outputs(t):
        return arch.torch_outputs(t, to_torch(inputs))
    _, jacobian_p = torch.autograd.functional.jvp(outputs, to_torch(theta), to_torch(direction))
    _, product = torch.autograd.functional.vjp(outputs, to_torch(theta), jacobian_p)
    return to_numpy(product) / inputs.shape[1]


def kit_loss(net, inputs):
    """(F, grad F) through the kit's network of oracle layers; it leaves their true forward and backward state."""
    outputs = net.compute_outputs(inputs)
    difference = outputs - inputs
    count = inputs.shape[1]
    return 0.5 * np.sum(difference * difference) / count, net.compute_loss_grad(difference / count)


def kit_gradient(solution, arch, theta, inputs):
    """grad F at ``theta`` (complex too) through a network of oracle layers: expected values of hessvec."""
    return kit_loss(arch.autoencoder_net(solution, theta), inputs)[1]


def after_compute_loss(model, theta, inputs):
    """Your compute_loss on the batch (whatever it keeps; its values are judged in the loss section), then
    the true forward and backward state of the layers, as the checker sets it before a product."""
    model.net.set_weights(theta)
    try:
        model.compute_loss(inputs)
    except Exception:  # noqa: BLE001 - judged in the loss section
        pass
    kit_loss(model.net, inputs)


def product(model, method, theta, inputs, direction, what):
    after_compute_loss(model, theta, inputs)
    return ndarray(getattr(model, method)(direction), f"{what}: {method}")


@case('hessvec')
def hessvec_matches_torch_hvp(solution):
    for arch, theta, inputs, direction, what in hessvec_problems(41, count=3):
        model = arch.autoencoder(solution, theta)
        close_to_torch(product(model, 'compute_hessvec', theta, inputs, direction, what),
                       torch_hvp(arch, theta, inputs, direction), f"{what}: compute_hessvec (torch: hvp)")


@case('hessvec')
def hessvec_matches_complex_step_of_the_gradient(solution):
    # H p = Im grad F(theta + i eps p) / eps: one compute_loss with complex weights
    for arch, theta, inputs, direction, what in hessvec_problems(42):
        model = arch.autoencoder(solution, theta)
        complex_grad = kit_gradient(solution, arch, theta + 1j * COMPLEX_STEP * direction, inputs)
        expected = imaginary_over_step(complex_grad, f"{what}: the gradient with complex weights")
        close_to_complex_step(product(model, 'compute_hessvec', theta, inputs, direction, what), expected,
                              f"{what}: compute_hessvec")


@case('hessvec')
def hessvec_matches_central_differences_of_the_gradient(solution):
    for arch, theta, inputs, direction, what in hessvec_problems(43):
        model = arch.autoencoder(solution, theta)
        plus = kit_gradient(solution, arch, theta + CENTRAL_STEP * direction, inputs)
        minus = kit_gradient(solution, arch, theta - CENTRAL_STEP * direction, inputs)
        close_to_central(product(model, 'compute_hessvec', theta, inputs, direction, what),
                         (plus - minus) / (2 * CENTRAL_STEP), f"{what}: compute_hessvec")


@case('hessvec')
def hessvec_is_symmetric_and_linear(solution):
    # one compute_loss, then several products: q . H p = p . H q and H (2p - 3q) = 2 Hp - 3 Hq
    for arch, theta, inputs, p, what in hessvec_problems(44, count=1):
        q = np.random.default_rng(45).normal(size=p.shape)
        model = arch.autoencoder(solution, theta)
        after_compute_loss(model, theta, inputs)
        Hp, Hq, combined = (ndarray(model.compute_hessvec(v), f"{what}: compute_hessvec")
                            for v in (p, q, 2 * p - 3 * q))
        close(np.array([q @ Hp]), [p @ Hq], f"{what}: q . Hp against p . Hq", 1e-9, 1e-12)
        close(combined, 2 * Hp - 3 * Hq, f"{what}: H(2p - 3q) against 2 Hp - 3 Hq (three calls after one "
              "compute_loss: the R_p passes must not change what forward and backward stored)", 1e-9, 1e-12)


@case('gaussnewton')
def gaussnewton_matches_torch_jvp_vjp(solution):
    for arch, theta, inputs, direction, what in hessvec_problems(51, count=3):
        model = arch.autoencoder(solution, theta)
        close_to_torch(product(model, 'compute_gaussnewtonvec', theta, inputs, direction, what),
                       torch_gauss_newton(arch, theta, inputs, direction),
                       f"{what}: compute_gaussnewtonvec (torch: J^T J p / n by jvp, then vjp)")


@case('gaussnewton')
def gaussnewton_quadratic_form_matches_complex_step_jacobian(solution):
    # q . G p = (J q) . (J p) / n, with J p = Im z^L(theta + i eps p) / eps from complex forward passes
    for arch, theta, inputs, p, what in hessvec_problems(52):
        q = np.random.default_rng(53).normal(size=p.shape)
        model = arch.autoencoder(solution, theta)
        jacobian = []
        for direction in (p, q):
            model.net.set_weights(theta + 1j * COMPLEX_STEP * direction)
            jacobian.append(imaginary_over_step(model.net.compute_outputs(inputs),
                                                f"{what}: forward with complex weights"))
        Gp = product(model, 'compute_gaussnewtonvec', theta, inputs, p, what)
        Gq = product(model, 'compute_gaussnewtonvec', theta, inputs, q, what)
        expected = np.array([np.sum(jacobian[0] * jacobian[0]), np.sum(jacobian[1] * jacobian[0])]) / inputs.shape[1]
        close_to_complex_step(np.array([p @ Gp, q @ Gp]), expected, f"{what}: p . Gp and q . Gp")
        close(np.array([q @ Gp]), [p @ Gq], f"{what}: G is symmetric, q . Gp against p . Gq", 1e-9, 1e-12)


@case('gaussnewton')
def gaussnewton_is_positive_semidefinite(solution):
    for arch, theta, inputs, _, what in hessvec_problems(54, count=1):
        model = arch.autoencoder(solution, theta)
        directions = np.random.default_rng(54).normal(size=(5, theta.size))
        values = np.array([p @ product(model, 'compute_gaussnewtonvec', theta, inputs, p, what) for p in directions])
        assert_true(np.all(values >= -1e-12), f"{what}: compute_gaussnewtonvec",
                    f"p . Gp must be >= 0 (G = J^T J / n), got {np.array2string(values, precision=4)}")


@case('gaussnewton')
def gaussnewton_is_the_hessian_of_one_linear_layer(solution):
    # z = W_bar [x; 1] is linear in theta: the second term of the Hessian vanishes, G = H
    rng = np.random.default_rng(55)
    for use_bias, batch in ((True, 4), (False, 1)):
        arch = Architecture((3, 3), (use_bias,), (KitLinear,))
        theta, inputs, direction = arch.random_theta(rng), rng.normal(size=(3, batch)), rng.normal(size=arch.num_params)
        what = f"{arch.describe()}, batch of {batch}"
        model = arch.autoencoder(solution, theta)
        close_to_torch(product(model, 'compute_gaussnewtonvec', theta, inputs, direction, what),
                       torch_hvp(arch, theta, inputs, direction), f"{what}: compute_gaussnewtonvec (torch: hvp)")



# ---------------- the Gauss-Newton product drives the kit's Hessian-free Newton method (interface.run_hfn) ----------------
HFN_ARCHITECTURE = Architecture((5, 3, 2, 5), (True, False, True), (KitWave, KitLinear, KitSquare))
# one step per epoch (all 12 objects), the products on half of them, at most 8 CG iterations a step
HFN_SETTINGS = dict(num_epoch=3, curvature_size=6, l2_coef=1e-3, damping=1.0, max_cg_iterations=8)
# the course's tolerances: the same steps with products that differ by rounding (1e-16) give losses that
# differ by about 1e-11 (CG amplifies it: close eigenvalues of G), a wrong product by 0.1 and more
HFN_RTOL, HFN_ATOL = 1e-5, 1e-10


class OracleWeights:
    """The ``net`` of OracleModel: what run_hfn reads and writes of a model's network (its weights)."""

    def __init__(self, weights):
        self.weights = np.array(weights, dtype=np.float64)

    def get_weights(self):
        return self.weights.copy()

    def set_weights(self, w):
        self.weights = np.array(w, dtype=np.float64)


class OracleModel:
    """An autoencoder computed by torch: F and its gradient by autograd, G p = J^T J p / n by jvp and vjp."""

    def __init__(self, arch, theta):
        self.arch, self.net, self.inputs = arch, OracleWeights(theta), None

    def compute_loss(self, inputs):
        self.inputs = inputs
        theta = to_torch(self.net.weights).requires_grad_()
        loss = self.arch.torch_loss(theta, to_torch(inputs))
        loss.backward()
        return loss.item(), to_numpy(theta.grad)

    def compute_gaussnewtonvec(self, p):
        return torch_gauss_newton(self.arch, self.net.weights, self.inputs, p)


def kit_interface(solution):
    """The kit's interface module that ``solution`` imported (``from interface import *``)."""
    import importlib
    return importlib.import_module(solution.FFNet.__module__)


def hfn_problem(yours, oracle, initial, oracle_name, product_error, product_scale):
    """None when the two runs of HFN agree (the training loss at the end of each step), else what the student
    sees; ``product_error``: the largest difference of the student's G p from the oracle's at the start."""
    yours, oracle = np.asarray(yours, dtype=np.float64), np.asarray(oracle, dtype=np.float64)
    if yours.shape == oracle.shape and np.all(np.isfinite(yours)) and \
            np.allclose(yours, oracle, rtol=HFN_RTOL, atol=HFN_ATOL):
        return None
    steps, theirs = len(oracle), f"{initial:.6g} -> {oracle[-1]:.6g} with {oracle_name}'s products"
    if yours.shape != oracle.shape:
        head = f"HFN made {len(yours)} steps with your Gauss-Newton products, {steps} with {oracle_name}'s"
    elif not np.all(np.isfinite(yours)) or yours[-1] > initial:
        head = (f"HFN diverges with your Gauss-Newton products: the training loss went {initial:.6g} -> "
                f"{yours[-1]:.6g} in {steps} steps ({theirs})")
    elif yours[-1] > oracle[-1] * (1 + HFN_RTOL):
        head = (f"HFN does not decrease the loss as it should with your Gauss-Newton products: {initial:.6g} -> "
                f"{yours[-1]:.6g} in {steps} steps ({theirs})")
    else:
        head = (f"HFN takes other steps with your Gauss-Newton products than with {oracle_name}'s: the training "
                f"loss after each step {np.array2string(yours, precision=6)}, expected "
                f"{np.array2string(oracle, precision=6)}")
    if product_error <= 1e-9 * max(1.0, product_scale):
        head = head.replace('your Gauss-Newton products', 'your compute_loss', 1)
        tail = (f"at the initial weights your compute_gaussnewtonvec(p) agrees with {oracle_name}'s J^T J p / n, so "
                f"the steps differ through what else they use: compute_loss (the loss and its gradient)")
    else:
        tail = (f"at the initial weights your compute_gaussnewtonvec(p) differs from {oracle_name}'s J^T J p / n "
                f"by up to {product_error:.3g} (its entries are up to {product_scale:.3g})")
    return f"{head}; {tail}"


@case('gaussnewton')
def gaussnewton_drives_hessian_free_newton(solution):
    # the kit's run_hfn solves (G + lambda I) d = -g by CG with G p from compute_gaussnewtonvec: the same
    # steps with torch's G p (and torch's loss) must give the same training loss after every step
    rng = np.random.default_rng(56)
    arch = HFN_ARCHITECTURE
    theta, inputs = arch.random_theta(rng), rng.normal(size=(arch.sizes[0], 12))
    what = f"{arch.describe()}, 12 objects, interface.run_hfn({', '.join(f'{k}={v}' for k, v in HFN_SETTINGS.items())})"
    run_hfn = kit_interface(solution).run_hfn
    oracle = OracleModel(arch, theta)
    initial = oracle.compute_loss(inputs)[0] + 0.5 * HFN_SETTINGS['l2_coef'] * float(theta @ theta)
    np.random.seed(56)
    expected = run_hfn(oracle, inputs, **HFN_SETTINGS)['train_loss']
    model = arch.autoencoder(solution, theta)
    own_loss = model.compute_loss

    def compute_loss(batch):  # the products alone are judged here: the kit's loss, after whatever yours keeps
        try:
            own_loss(batch)
        except Exception:  # noqa: BLE001 - judged in the loss section
            pass
        return kit_loss(model.net, batch)

    model.compute_loss = compute_loss
    np.random.seed(56)
    with np.errstate(all='ignore'):  # a wrong product may make the steps overflow: reported below
        history = run_hfn(model, inputs, **HFN_SETTINGS)
    direction = rng.normal(size=theta.shape)
    yours, theirs = (product(model, 'compute_gaussnewtonvec', theta, inputs, direction, what),
                     torch_gauss_newton(arch, theta, inputs, direction))
    with np.errstate(all='ignore'):
        error = float(np.max(np.abs(yours - theirs), initial=0.0)) if yours.shape == theirs.shape else np.inf
    problem = hfn_problem(history['train_loss'], expected, initial, 'torch', error, float(np.max(np.abs(theirs))))
    if problem:
        raise CheckFailure(what, problem)


# ============================ 6 the optimizers ============================
class KitParameters:
    """A kit 'layer' that only holds a parameter vector: the optimizer cases run no FCLayer."""

    def __init__(self, weights):
        self.weights = np.array(weights, dtype=np.float64)

    def get_params_number(self):
        return self.weights.size

    def get_weights(self):
        return self.weights.copy()

    def set_weights(self, w):
        self.weights = np.array(w, dtype=np.float64).reshape(self.weights.shape)

    def set_direction(self, p):
        pass


@dataclass
class KitProblem:
    """F(w; X) = 1/n sum_i 1/2 ||A w - x_i||^2 + c/4 sum_j w_j^4 on the n columns x_i of X."""
    A: np.ndarray
    c: float

    def loss_grad(self, weights, inputs):
        with np.errstate(over='ignore', invalid='ignore'):  # a diverging step: minimize reports it
            residual = (self.A @ weights)[:, None] - inputs
            loss = 0.5 * np.mean(np.sum(residual * residual, axis=0)) + self.c / 4 * np.sum(weights ** 4)
            return loss, self.A.T @ residual.mean(axis=1) + self.c * weights ** 3


class CenterProblem(KitProblem):
    """F(w; X) = 1/2 ||w - mean_i x_i||^2: its gradient w - mean x does not depend on the order."""

    def __init__(self):
        super().__init__(None, 0.0)

    def loss_grad(self, weights, inputs):
        residual = weights - inputs.mean(axis=1)
        return 0.5 * residual @ residual, residual


def kit_model(solution, problem, weights, train, test):
    """An Autoencoder whose compute_loss is ``problem``'s; returns (model, the weights of each step)."""
    model = solution.Autoencoder([KitParameters(weights)])
    steps = []

    def compute_loss(inputs):
        current = model.net.get_weights()
        if inputs is not train and inputs is not test:  # a minibatch: the weights a step starts from
            steps.append(current)
        return problem.loss_grad(current, inputs)

    model.compute_loss = compute_loss
    return model, steps


TORCH_OPTIMIZERS = {
    'sgd': lambda params, o: torch.optim.SGD(params, lr=o['step_size'], weight_decay=o['l2_coef'], foreach=False),
    'momentum': lambda params, o: torch.optim.SGD(params, lr=o['step_size'], momentum=o['momentum'], dampening=0,
                                                  weight_decay=o['l2_coef'], foreach=False),
    'rmsprop': lambda params, o: torch.optim.RMSprop(params, lr=o['step_size'], alpha=o.get('ro', 0.9),
                                                     eps=o.get('eps', 1e-8), weight_decay=o['l2_coef'],
                                                     foreach=False),
    'adam': lambda params, o: torch.optim.Adam(params, lr=o['step_size'],
                                               betas=(o.get('beta1', 0.9), o.get('beta2', 0.999)),
                                               eps=o.get('eps', 1e-8), weight_decay=o['l2_coef'], foreach=False),
}
METHODS = {'sgd': 'run_sgd', 'momentum': 'run_sgd_momentum', 'rmsprop': 'run_rmsprop', 'adam': 'run_adam'}
TORCH_NAMES = {'sgd': 'torch.optim.SGD', 'momentum': 'torch.optim.SGD(momentum, dampening=0)',
               'rmsprop': 'torch.optim.RMSprop', 'adam': 'torch.optim.Adam'}


def torch_run(optimizer, problem, weights, train, test, options, seed):
    """The weights before each step, the final weights and the history, with torch.optim doing the steps
    (the gradient without the L2 term: torch's weight_decay adds l2_coef * w)."""
    np.random.seed(seed)
    parameter = torch.tensor(np.array(weights, dtype=np.float64), requires_grad=True)
    torch_optimizer = TORCH_OPTIMIZERS[optimizer]([parameter], options)
    l2_coef, size = options['l2_coef'], options['minibatch_size']
    steps, history = [], {'train_loss': [], 'train_grad': [], 'test_loss': [], 'test_grad': []}
    for _ in range(options['num_epoch']):
        order = np.random.permutation(train.shape[1])
        for start in range(0, train.shape[1], size):
            current = to_numpy(parameter)
            steps.append(current)
            parameter.grad = to_torch(problem.loss_grad(current, train[:, order[start:start + size]])[1])
            torch_optimizer.step()
        current = to_numpy(parameter)
        for name, data in (('train', train), ('test', test)):
            if data is not None:
                loss, grad = problem.loss_grad(current, data)
                history[f'{name}_loss'].append(loss + 0.5 * l2_coef * current @ current)
                history[f'{name}_grad'].append(np.linalg.norm(grad + l2_coef * current))
    return steps, to_numpy(parameter), history


def check_history(history, expected, num_epoch, what):
    assert_true(isinstance(history, dict), f"{what}: the history", f"expected a dict, got {type(history).__name__}")
    for key, values in expected.items():
        assert_true(key in history, f"{what}: the history", f"no '{key}' (keys: {sorted(history)})")
        got = history[key]
        assert_true(len(got) == len(values), f"{what}: history['{key}']",
                    f"{len(got)} values, expected {len(values)} ({'one per epoch' if values else 'no test_inputs'})")
        close_to_torch(np.array(got, dtype=np.float64), np.array(values, dtype=np.float64),
                       f"{what}: history['{key}'] ({num_epoch} epochs)")


def optimizer_problem(seed, num_params=5, num_features=3, num_train=11, num_test=5):
    rng = np.random.default_rng(seed)
    problem = KitProblem(rng.normal(size=(num_features, num_params)) / np.sqrt(num_params), 0.1)
    return (problem, rng.normal(size=num_params), rng.normal(size=(num_features, num_train)),
            rng.normal(size=(num_features, num_test)))


def check_against_torch(solution, optimizer, options, seed, runs=1, with_test=True):
    """Run ``optimizer`` ``runs`` times in a row on one model (each run must start with a fresh state)
    and compare every step, the final weights and the history with torch.optim."""
    problem, weights, train, test = optimizer_problem(seed)
    test = test if with_test else None
    model, steps = kit_model(solution, problem, weights, train, test)
    shown = ', '.join(f"{key}={value:g}" for key, value in options.items())
    for run in range(runs):
        what = (f"{METHODS[optimizer]}({shown}) on a kit quadratic-plus-quartic loss, 11 objects"
                + (f", run {run + 1} of {runs} on the same model (state must start afresh)" if runs > 1 else ''))
        start = model.net.get_weights()
        steps.clear()
        np.random.seed(seed + run)
        history = getattr(model, METHODS[optimizer])(train, test_inputs=test, **options)
        expected_steps, expected_final, expected_history = torch_run(optimizer, problem, start, train, test, options,
                                                                     seed + run)
        assert_true(len(steps) == len(expected_steps), what,
                    f"{len(steps)} minibatch gradients were taken, expected {len(expected_steps)}")
        total = len(expected_steps)
        for number in range(1, total):
            close_to_torch(steps[number], expected_steps[number],
                           f"{what}: the weights after step {number} of {total} ({TORCH_NAMES[optimizer]})")
        close_to_torch(model.net.get_weights(), expected_final,
                       f"{what}: the weights after step {total} of {total} ({TORCH_NAMES[optimizer]})")
        check_history(history, expected_history, options['num_epoch'], what)


def hand_computed(solution, method, options, expected, what):
    # F = 1/2 ||w - mean x||^2 with w0 = [1, -2], mean x = [2, 0]: the first gradient is [-1, -2];
    # one minibatch of both objects per epoch, no L2
    train = np.array([[3.0, 1.0], [0.0, 0.0]])
    model, _ = kit_model(solution, CenterProblem(), [1.0, -2.0], train, None)
    np.random.seed(0)
    getattr(model, method)(train, minibatch_size=2, l2_coef=0.0, **options)
    assert_close(model.net.get_weights(), expected, what)


@case('sgd')
def sgd_hand_computed(solution):
    # w1 = w0 - 0.5 [-1, -2] = [1.5, -1]; g1 = [-0.5, -1]; w2 = [1.75, -0.5]
    hand_computed(solution, 'run_sgd', dict(step_size=0.5, num_epoch=1), [1.5, -1.0], "run_sgd: one step")
    hand_computed(solution, 'run_sgd', dict(step_size=0.5, num_epoch=2), [1.75, -0.5], "run_sgd: two steps")


@case('sgd')
def sgd_matches_torch_sgd(solution):
    check_against_torch(solution, 'sgd', dict(step_size=0.3, num_epoch=3, minibatch_size=4, l2_coef=0.01), 61)


@case('sgd')
def sgd_history_has_one_value_per_epoch(solution):
    check_against_torch(solution, 'sgd', dict(step_size=0.1, num_epoch=4, minibatch_size=11, l2_coef=0.0), 62,
                        with_test=False)
    check_against_torch(solution, 'sgd', dict(step_size=0.1, num_epoch=2, minibatch_size=1, l2_coef=0.1), 63)


@case('momentum')
def momentum_hand_computed(solution):
    # v1 = 0.5 [-1, -2], w1 = [1.5, -1]; g1 = [-0.5, -1], v2 = 0.5 v1 + 0.5 g1 = [-0.5, -1], w2 = [2, 0]
    hand_computed(solution, 'run_sgd_momentum', dict(step_size=0.5, momentum=0.5, num_epoch=1), [1.5, -1.0],
                  "run_sgd_momentum: the first step (v = 0 before it)")
    hand_computed(solution, 'run_sgd_momentum', dict(step_size=0.5, momentum=0.5, num_epoch=2), [2.0, 0.0],
                  "run_sgd_momentum: two steps")


@case('momentum')
def momentum_matches_torch_sgd_momentum(solution):
    check_against_torch(solution, 'momentum',
                        dict(step_size=0.2, momentum=0.7, num_epoch=3, minibatch_size=4, l2_coef=0.01), 71)


@case('momentum')
def momentum_state_starts_afresh_each_run(solution):
    check_against_torch(solution, 'momentum',
                        dict(step_size=0.1, momentum=0.9, num_epoch=2, minibatch_size=3, l2_coef=0.0), 72, runs=2)


@case('rmsprop')
def rmsprop_hand_computed(solution):
    # r1 = (1 - 0.9) g^2, w1 = w0 - 0.1 g / sqrt(0.1 g^2) = w0 + sqrt(0.1) (g < 0), with eps = 0
    hand_computed(solution, 'run_rmsprop', dict(step_size=0.1, num_epoch=1, ro=0.9, eps=0.0),
                  [1 + np.sqrt(0.1), -2 + np.sqrt(0.1)], "run_rmsprop: the first step (r = 0 before it, eps = 0)")


@case('rmsprop')
def rmsprop_matches_torch_rmsprop(solution):
    check_against_torch(solution, 'rmsprop',
                        dict(step_size=0.05, num_epoch=3, minibatch_size=4, l2_coef=0.01, ro=0.8, eps=1e-8), 81)
    # a large eps shows where it goes: sqrt(r) + eps
    check_against_torch(solution, 'rmsprop',
                        dict(step_size=0.05, num_epoch=2, minibatch_size=4, l2_coef=0.0, ro=0.95, eps=0.1), 82)


@case('rmsprop')
def rmsprop_state_starts_afresh_each_run(solution):
    check_against_torch(solution, 'rmsprop', dict(step_size=0.02, num_epoch=2, minibatch_size=3, l2_coef=0.0), 83,
                        runs=2)


@case('adam')
def adam_hand_computed(solution):
    # with the bias corrections, m_hat = g and v_hat = g^2 after the first step: w1 = w0 - lr sign(g)
    hand_computed(solution, 'run_adam', dict(step_size=0.1, num_epoch=1, eps=0.0), [1.1, -1.9],
                  "run_adam: the first step moves each weight by step_size (bias-corrected m and v, eps = 0)")


@case('adam')
def adam_matches_torch_adam(solution):
    check_against_torch(solution, 'adam', dict(step_size=0.05, num_epoch=3, minibatch_size=4, l2_coef=0.01,
                                               beta1=0.8, beta2=0.95, eps=1e-8), 91)
    check_against_torch(solution, 'adam', dict(step_size=0.05, num_epoch=2, minibatch_size=4, l2_coef=0.0,
                                               eps=0.1), 92)


@case('adam')
def adam_default_hyperparameters_match_torch(solution):
    check_against_torch(solution, 'adam', dict(step_size=0.01, num_epoch=3, minibatch_size=2, l2_coef=1e-5), 93)


@case('adam')
def adam_state_starts_afresh_each_run(solution):
    check_against_torch(solution, 'adam', dict(step_size=0.05, num_epoch=2, minibatch_size=3, l2_coef=0.0), 94,
                        runs=2)
