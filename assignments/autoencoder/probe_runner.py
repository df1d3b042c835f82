"""Runs the autoencoder's loop probes (``probes``) in the student kit, for ``./run.py unittest``.

The checker runs the probes with its scenario runner (``execute``: the kit's oracle layers and
loss, which stay with the checker).  Only how often each line of solution.py runs matters to the
loop rule, not the values, so here the Autoencoder sections run over stand-in layers that return
pseudo-random arrays of the right shapes, the optimisers over a stand-in objective, and the R_p
passes over a layer whose kept state is filled in by the kit.  Each section's own lines run as they
run in the checker; lines of another section never count for this one (``grader.loops``).
"""
import contextlib

import numpy as np

import interface


class Wave(interface.BaseActivationFunction):
    """The kit's own activation for the layer probes: g(s) = sin(s) + s / 2."""

    def val(self, X):
        return np.sin(X) + X / 2

    def deriv(self, X):
        return np.cos(X) + 0.5

    def second_deriv(self, X):
        return -np.sin(X)


class StandInLayer(interface.BaseLayer):
    """A layer of the right shapes whose passes return pseudo-random arrays (not a layer's values)."""

    def __init__(self, shape, use_bias, seed):
        self.shape, self.use_bias = tuple(shape), use_bias
        self.weights = np.zeros((self.shape[1], self.shape[0] + (1 if use_bias else 0)))
        self.rng = np.random.default_rng(seed)

    def _array(self, shape, like):
        values = self.rng.uniform(0.5, 1.5, size=shape)
        return values.astype(np.result_type(like, np.float64))

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

    def forward(self, inputs):
        self.inputs = inputs
        self.outputs = self._array((self.shape[1], inputs.shape[1]), inputs)
        return self.outputs

    def backward(self, derivs):
        return self._array((self.shape[0], derivs.shape[1]), derivs), self._array(self.weights.size, derivs)

    def Rp_forward(self, Rp_inputs):
        return self._array((self.shape[1], Rp_inputs.shape[1]), Rp_inputs)

    def Rp_backward(self, Rp_derivs):
        return self._array((self.shape[0], Rp_derivs.shape[1]), Rp_derivs), self._array(self.weights.size, Rp_derivs)


def _autoencoder(solution, scenario):
    layers = [StandInLayer((n_in, n_out), bool(bias), seed) for seed, (n_in, n_out, bias)
              in enumerate(scenario['layers'])]
    autoencoder = solution.Autoencoder(layers)
    autoencoder.net = interface.FFNet(layers)
    autoencoder.net.set_weights(np.array(scenario['weights']))
    return autoencoder


def run_probe(solution, scenario):
    """Run one probe scenario on ``solution`` (exceptions propagate: the caller ignores them)."""
    kind = scenario['kind']
    if kind == 'activation':
        function = getattr(solution, scenario['class'])(**scenario.get('kwargs', {}))
        for method in ('val', 'deriv', 'second_deriv'):
            getattr(function, method)(np.array(scenario['X']))
    elif kind == 'layer':
        shape, use_bias = tuple(scenario['shape']), bool(scenario['use_bias'])
        layer = solution.FCLayer(shape, Wave(), use_bias)
        layer.set_weights(np.array(scenario['weights']))
        inputs, derivs = np.array(scenario['inputs']), np.array(scenario['derivs'])
        if scenario['pass'] == 'fclayer':
            layer.forward(inputs)
            layer.backward(derivs)
            return
        try:  # as in the checker: forward and backward first, then the kept state is the kit's
            layer.forward(inputs)
            layer.backward(derivs)
        except Exception:  # noqa: BLE001 - judged in the fclayer section
            pass
        weights = np.array(scenario['weights']).reshape(shape[1], -1)
        u = weights[:, :shape[0]] @ inputs + (weights[:, shape[0]:] if use_bias else 0)
        layer.inputs, layer.u, layer.outputs, layer.derivs = inputs, u, Wave().val(u), derivs
        layer.set_direction(np.array(scenario['direction']))
        layer.Rp_forward(np.array(scenario['Rp_inputs']))
        layer.Rp_backward(np.array(scenario['Rp_derivs']))
    elif kind == 'autoencoder':
        autoencoder, inputs = _autoencoder(solution, scenario), np.array(scenario['inputs'])
        if scenario['method'] == 'loss':
            autoencoder.compute_loss(inputs)
            return
        try:
            autoencoder.compute_loss(inputs)
        except Exception:  # noqa: BLE001 - judged in the loss section
            pass
        method = {'hessvec': 'compute_hessvec', 'gaussnewton': 'compute_gaussnewtonvec'}[scenario['method']]
        getattr(autoencoder, method)(np.array(scenario['p']))
    elif kind == 'optimizer':
        autoencoder = _autoencoder(solution, scenario)
        size, rng = autoencoder.net.get_weights().size, np.random.default_rng(5)
        autoencoder.compute_loss = lambda inputs: (1.0, rng.uniform(-1.0, 1.0, size=size))  # a stand-in objective
        np.random.seed(scenario['seed'])
        getattr(autoencoder, scenario['method'])(np.array(scenario['inputs']), test_inputs=None, **scenario['kwargs'])


def running(task):
    """Nothing to switch in this assignment."""
    return contextlib.nullcontext()
