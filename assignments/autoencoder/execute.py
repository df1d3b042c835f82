"""Run one hidden scenario of the autoencoder assignment on a solution module; returns plain arrays.

Runs in the grader on the reference (expected values) and in the sandboxed child on the
submission (as kit_execute.py, next to this assignment's interface.py).  Each section is
judged on its own: the layer sections use the kit's own activation (``Wave``), and the
Autoencoder sections run on the kit's oracle layers (``TorchLayer``: torch autograd and
forward-mode jvp, float64 or complex128), so a wrong FCLayer costs fclayer and rp alone.

A scenario is a dict:
  {'kind': 'activation', 'class', 'kwargs', 'X', 'X_imag' (optional: then X + i X_imag, val only)}
  {'kind': 'layer', 'pass': 'fclayer' | 'rp', 'shape', 'use_bias', 'weights', 'inputs', 'derivs',
   'direction', 'Rp_inputs', 'Rp_derivs', 'weights_imag', 'inputs_imag' (complex forward, optional)}
  {'kind': 'autoencoder', 'method': 'loss' | 'hessvec' | 'gaussnewton', 'layers': [[n_in, n_out, bias]],
   'weights', 'inputs', 'p', 'weights_imag' = step * p and 'step' (the complex step of the loss, optional)}
  {'kind': 'optimizer', 'method': 'run_sgd' | ..., 'kwargs', 'layers', 'weights', 'inputs',
   'test_inputs' (optional), 'seed', 'runs' (optional: that many runs on one model, from where the last ended)}
  {'kind': 'hfn', 'layers', 'weights', 'inputs', 'p', 'kwargs' (of interface.run_hfn), 'seed'}: the kit's
   Hessian-free Newton method driven by the student's compute_gaussnewtonvec (the oracle's loss)
"""
import contextlib

import numpy as np

import interface

try:  # in the sandbox, beside this file
    from kit_runner import Output, StepFailed, call, describe_exception  # noqa: F401 - describe_exception: harness
except ImportError:  # in the grader
    from grader.kit_runner import Output, StepFailed, call, describe_exception  # noqa: F401


def as_output(value, what, part=None):
    """``value`` as a real Output; ``part`` ('real' or 'imag') takes that part of a complex array."""
    if isinstance(value, (float, int, complex, np.number)) and not isinstance(value, bool):
        value = np.asarray(value)
    if type(value) is not np.ndarray:
        return Output(problem=f"{what} returned {type(value).__module__}.{type(value).__qualname__}, "
                              f"expected numpy.ndarray")
    if value.dtype.kind not in 'biufc':
        return Output(problem=f"{what} returned an array of dtype {value.dtype}, expected numbers")
    if part is not None:
        return Output(np.array(getattr(value, part), dtype=np.float64))
    if value.dtype.kind == 'c':
        return Output(problem=f"{what} returned complex numbers for real inputs")
    return Output(np.array(value))


def complex_or_real(scenario, name):
    """scenario[name] + 1j * scenario[name + '_imag'] when the scenario has the imaginary part."""
    value = np.array(scenario[name])
    imag = scenario.get(f'{name}_imag')
    return value if imag is None else value + 1j * np.array(imag)


# -- the kit's own activation and oracle layer (not the reference: nothing of a student section) --
class Wave(interface.BaseActivationFunction):
    """g(s) = sin(s) + s / 2: analytic (complex inputs work), with g'' nonzero almost everywhere."""

    def val(self, X):
        return np.sin(X) + X / 2

    def deriv(self, X):
        return np.cos(X) + 0.5

    def second_deriv(self, X):
        return -np.sin(X)


def _torch():
    import torch
    return torch


class TorchLayer(interface.BaseLayer):
    """A fully connected layer with g = Wave whose passes torch differentiates (float64, complex128).

    forward: z = g(W_bar [x; 1]); backward: the vector-Jacobian product of forward at (W_bar, x);
    the R_p passes: jvps of forward and of backward in the direction (P_bar, R{x}, R{dL/dz}).
    For complex (holomorphic) arguments, J^T v = conj(torch's vjp(conj(v))).
    """

    def __init__(self, shape, use_bias):
        self.shape, self.use_bias = tuple(shape), use_bias
        self.weights = np.zeros((self.shape[1], self.shape[0] + (1 if use_bias else 0)))
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
        torch = _torch()
        array = np.asarray(array)
        return torch.tensor(array, dtype=torch.complex128 if array.dtype.kind == 'c' else torch.float64)

    def _forward(self, weights, inputs):
        torch = _torch()
        if weights.dtype != inputs.dtype:
            weights, inputs = weights.to(torch.complex128), inputs.to(torch.complex128)
        u = weights[:, :self.shape[0]] @ inputs
        if self.use_bias:
            u = u + weights[:, self.shape[0]:]
        return torch.sin(u) + u / 2

    def _vjp(self, weights, inputs, derivs):
        torch = _torch()
        holomorphic = derivs.is_complex() or weights.is_complex() or inputs.is_complex()
        if holomorphic:
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
        inputs_grad, weights_grad = self._vjp(self._tensor(self.weights), self._tensor(self.inputs),
                                              self._tensor(derivs))
        return inputs_grad.numpy(), weights_grad.numpy().ravel()

    def Rp_forward(self, Rp_inputs):
        torch = _torch()
        self.Rp_inputs = Rp_inputs
        _, tangent = torch.func.jvp(self._forward, (self._tensor(self.weights), self._tensor(self.inputs)),
                                    (self._tensor(self.direction), self._tensor(Rp_inputs)))
        return tangent.numpy()

    def Rp_backward(self, Rp_derivs):
        torch = _torch()
        primals = tuple(self._tensor(a) for a in (self.weights, self.inputs, self.derivs))
        tangents = tuple(self._tensor(a) for a in (self.direction, self.Rp_inputs, Rp_derivs))
        _, (inputs_tangent, weights_tangent) = torch.func.jvp(self._vjp, primals, tangents)
        return inputs_tangent.numpy(), weights_tangent.numpy().ravel()


def oracle_autoencoder(solution, scenario):
    """The student's Autoencoder over the kit's oracle layers, its weights set."""
    layers = [TorchLayer((n_in, n_out), bool(bias)) for n_in, n_out, bias in scenario['layers']]
    autoencoder = call(lambda: solution.Autoencoder(layers), 'Autoencoder(layers)')
    net = interface.FFNet(layers)  # the kit's network, whatever the constructor did with it
    autoencoder.net = net
    net.set_weights(complex_or_real(scenario, 'weights'))
    return autoencoder, net


def oracle_loss(net, inputs):
    """(F, grad F) through the oracle layers: what compute_loss must return."""
    outputs = net.compute_outputs(inputs)
    residual = outputs - inputs
    return 0.5 * np.sum(residual * residual) / inputs.shape[1], net.compute_loss_grad(residual / inputs.shape[1])


# -- the runners ---------------------------------------------------------------------------
def run_activation(solution, scenario, record):
    function = call(lambda: getattr(solution, scenario['class'])(**scenario.get('kwargs', {})), 'constructor')
    X = complex_or_real(scenario, 'X')
    if X.dtype.kind == 'c':
        value = call(function.val, 'val (complex inputs)', X)
        record('val.real', value, 'val (complex inputs)', 'real')
        record('val.imag', value, 'val (complex inputs)', 'imag')
        return
    for method in ('val', 'deriv', 'second_deriv'):
        record(method, call(getattr(function, method), method, X), method)


def run_layer(solution, scenario, record):
    shape, use_bias = tuple(scenario['shape']), bool(scenario['use_bias'])
    layer = call(lambda: solution.FCLayer(shape, Wave(), use_bias), 'FCLayer(shape, afun, use_bias)')
    call(layer.set_weights, 'set_weights', complex_or_real(scenario, 'weights'))
    inputs = complex_or_real(scenario, 'inputs')
    if inputs.dtype.kind == 'c' or np.iscomplexobj(layer.weights):
        outputs = call(layer.forward, 'forward (complex inputs)', inputs)
        record('outputs.real', outputs, 'forward (complex inputs)', 'real')
        record('outputs.imag', outputs, 'forward (complex inputs)', 'imag')
        return
    outputs = call(layer.forward, 'forward', inputs)
    backward = call(layer.backward, 'backward', np.array(scenario['derivs']))
    if scenario['pass'] == 'fclayer':
        record('outputs', outputs, 'forward')
        _record_pair(record, backward, 'backward', ('inputs_derivs', 'weights_grad'))
        return
    # The R_p passes read what forward and backward kept: the kit puts the true values there, so
    # that rp is judged on its own (a wrong forward costs fclayer).
    oracle = TorchLayer(shape, use_bias)
    oracle.set_weights(scenario['weights'])
    layer.inputs, layer.outputs, layer.derivs = inputs, oracle.forward(inputs), np.array(scenario['derivs'])
    layer.u = oracle.weights[:, :shape[0]] @ inputs + (oracle.weights[:, shape[0]:] if use_bias else 0)
    call(layer.set_direction, 'set_direction', np.array(scenario['direction']))
    record('Rp_outputs', call(layer.Rp_forward, 'Rp_forward', np.array(scenario['Rp_inputs'])), 'Rp_forward')
    _record_pair(record, call(layer.Rp_backward, 'Rp_backward', np.array(scenario['Rp_derivs'])), 'Rp_backward',
                 ('Rp_inputs_derivs', 'Rp_weights_grad'))


def _record_pair(record, value, what, names):
    if not (isinstance(value, tuple) and len(value) == 2):
        record(names[0], value, f"{what} (expected a pair of arrays)")
        return
    for name, part in zip(names, value):
        record(name, part, f"{what}: {name}")


def run_autoencoder(solution, scenario, record):
    autoencoder, net = oracle_autoencoder(solution, scenario)
    inputs, method = np.array(scenario['inputs']), scenario['method']
    if method == 'loss':
        result = call(autoencoder.compute_loss, 'compute_loss', inputs)
        if not (isinstance(result, tuple) and len(result) == 2):
            record('loss', result, 'compute_loss (expected (loss, gradient))')
            return
        loss, grad = result
        if scenario.get('weights_imag') is not None:  # the complex step: Im F(theta + i h p) / h = grad F . p
            step = scenario['step']
            record('loss.imag / step', loss / step if np.iscomplexobj(loss) else 0 * np.asarray(loss),
                   'compute_loss (complex weights): loss', 'imag')
            record('grad.real', grad, 'compute_loss (complex weights): gradient', 'real')
        else:
            record('loss', loss, 'compute_loss: loss')
            record('grad', grad, 'compute_loss: gradient')
        return
    try:  # whatever the student's compute_loss keeps, then the true forward and backward state
        autoencoder.compute_loss(inputs)
    except Exception:  # noqa: BLE001 - judged in the loss section
        pass
    oracle_loss(net, inputs)
    function = {'hessvec': autoencoder.compute_hessvec, 'gaussnewton': autoencoder.compute_gaussnewtonvec}[method]
    name = function.__name__
    record('product', call(function, name, np.array(scenario['p'])), name)


def run_optimizer(solution, scenario, record):
    autoencoder, net = oracle_autoencoder(solution, scenario)
    autoencoder.compute_loss = lambda inputs: oracle_loss(net, inputs)  # the optimiser alone is judged
    method = getattr(autoencoder, scenario['method'])
    test_inputs = scenario.get('test_inputs')
    runs = scenario.get('runs', 1)  # several runs on one model: each starts with an empty state
    for run in range(runs):
        prefix, what = (f"run{run + 1}.", f"{scenario['method']} (run {run + 1} of {runs} on one model)") \
            if runs > 1 else ('', scenario['method'])
        np.random.seed(scenario['seed'] + run)
        history = call(lambda: method(np.array(scenario['inputs']), test_inputs=test_inputs, **scenario['kwargs']),
                       what)
        record(f'{prefix}weights', net.get_weights(), f"{what}: the final weights")
        if isinstance(history, dict):
            for key in ('train_loss', 'train_grad', 'test_loss', 'test_grad'):
                record(f'{prefix}history.{key}', np.array(history.get(key, []), dtype=np.float64),
                       f"{what}: history['{key}']")


class OracleDriven:
    """A model whose loss and Gauss-Newton products are the oracle's: the kit's FFNet over TorchLayers,
    G p = J^T (J p) / n by the R_p forward pass and a backward pass (what compute_gaussnewtonvec must give)."""

    def __init__(self, scenario):
        layers = [TorchLayer((n_in, n_out), bool(bias)) for n_in, n_out, bias in scenario['layers']]
        self.net = interface.FFNet(layers)
        self.net.set_weights(np.array(scenario['weights']))

    def compute_loss(self, inputs):
        return oracle_loss(self.net, inputs)

    def compute_gaussnewtonvec(self, p):
        self.net.set_direction(p)
        Rp_outputs = self.net.compute_Rp_outputs()
        return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])


# the grader's tolerances (grader.compare): products that differ by rounding give losses that differ by
# about 1e-11 (CG amplifies it: close eigenvalues of G), a wrong product by 0.1 and more
HFN_RTOL, HFN_ATOL = 1e-5, 1e-10


def hfn_problem(yours, oracle, initial, product_error, product_scale):
    """None when the student's run of HFN gives the oracle-driven run's training loss after every step,
    else the line the student sees (public_cases.hfn_problem says the same of torch's products)."""
    yours, oracle = np.asarray(yours, dtype=np.float64), np.asarray(oracle, dtype=np.float64)
    if yours.shape == oracle.shape and np.all(np.isfinite(yours)) and \
            np.allclose(yours, oracle, rtol=HFN_RTOL, atol=HFN_ATOL):
        return None
    steps, theirs = len(oracle), f"{initial:.6g} -> {oracle[-1]:.6g} with the oracle's products"
    if yours.shape != oracle.shape:
        head = f"HFN made {len(yours)} steps with your Gauss-Newton products, {steps} with the oracle's"
    elif not np.all(np.isfinite(yours)) or yours[-1] > initial:
        head = (f"HFN diverges with your Gauss-Newton products: the training loss went {initial:.6g} -> "
                f"{yours[-1]:.6g} in {steps} steps ({theirs})")
    elif yours[-1] > oracle[-1] * (1 + HFN_RTOL):
        head = (f"HFN does not decrease the loss as it should with your Gauss-Newton products: {initial:.6g} -> "
                f"{yours[-1]:.6g} in {steps} steps ({theirs})")
    else:
        head = (f"HFN takes other steps with your Gauss-Newton products than with the oracle's: the training loss "
                f"after each step {np.array2string(yours, precision=6)}, expected {np.array2string(oracle, precision=6)}")
    if product_error <= 1e-9 * max(1.0, product_scale):
        tail = "at the initial weights your compute_gaussnewtonvec(p) agrees with the oracle's J^T J p / n"
    else:
        tail = (f"at the initial weights your compute_gaussnewtonvec(p) differs from the oracle's J^T J p / n "
                f"by up to {product_error:.3g} (its entries are up to {product_scale:.3g})")
    return f"{head}; {tail}"


def run_hfn(solution, scenario, record):
    """A few steps of the kit's run_hfn with the student's Gauss-Newton products on the oracle layers (the
    oracle's loss and gradient), against the same steps with the oracle's products."""
    autoencoder, net = oracle_autoencoder(solution, scenario)
    own_loss = autoencoder.compute_loss

    def compute_loss(inputs):
        try:  # whatever the student's compute_loss keeps for the products (the batch size, ...)
            own_loss(inputs)
        except Exception:  # noqa: BLE001 - judged in the loss section
            pass
        return oracle_loss(net, inputs)

    autoencoder.compute_loss = compute_loss
    inputs, kwargs = np.array(scenario['inputs']), scenario['kwargs']
    what = "interface.run_hfn with your compute_gaussnewtonvec"
    np.random.seed(scenario['seed'])
    with np.errstate(all='ignore'):  # a wrong product may make the steps overflow: reported below
        history = call(lambda: interface.run_hfn(autoencoder, inputs, **kwargs), what)
    yours = np.array(history['train_loss'], dtype=np.float64)
    oracle = OracleDriven(scenario)
    initial, _ = interface.objective(oracle, inputs, np.array(scenario['weights']), kwargs['l2_coef'])
    np.random.seed(scenario['seed'])
    expected = interface.run_hfn(oracle, inputs, **kwargs)['train_loss']
    # the product at the initial weights, for the message and as an output of its own
    net.set_weights(np.array(scenario['weights']))
    compute_loss(inputs)
    product = call(autoencoder.compute_gaussnewtonvec, 'compute_gaussnewtonvec', np.array(scenario['p']))
    oracle.net.set_weights(np.array(scenario['weights']))
    oracle.compute_loss(inputs)
    theirs = oracle.compute_gaussnewtonvec(np.array(scenario['p']))
    with np.errstate(all='ignore'):
        error = float(np.max(np.abs(np.asarray(product, dtype=np.complex128) - theirs), initial=0.0)) \
            if np.shape(product) == theirs.shape else np.inf
    problem = hfn_problem(yours, expected, initial, error, float(np.max(np.abs(theirs))))
    record('hfn.train_loss', yours, f"{what}: the training loss after each step", problem=problem)
    record('product', product, 'compute_gaussnewtonvec at the initial weights')


def running(task):
    """The context a child's scenarios run in: nothing to switch in this assignment."""
    return contextlib.nullcontext()


def warm_up():
    """Load torch's autograd and jvp machinery (before the sandbox's guard is up)."""
    layer = TorchLayer((2, 2), True)
    layer.set_weights(np.ones(6))
    layer.set_direction(np.ones(6))
    for inputs in (np.ones((2, 3)), np.ones((2, 3)) + 1j):
        layer.forward(inputs)
        layer.backward(inputs)
        layer.Rp_forward(inputs)
        layer.Rp_backward(inputs)


RUNNERS = {'activation': run_activation, 'layer': run_layer, 'autoencoder': run_autoencoder,
           'optimizer': run_optimizer, 'hfn': run_hfn}


def run_scenario(solution, scenario):
    """({output name: Output}, failure text or None) of ``scenario`` on ``solution``."""
    outputs = {}

    def record(name, value, what, part=None, problem=None):
        outputs[name] = Output(problem=f"{what}: {problem}") if problem else as_output(value, what, part)

    try:
        RUNNERS[scenario['kind']](solution, scenario, record)
    except StepFailed as failure:
        return outputs, str(failure)
    return outputs, None
