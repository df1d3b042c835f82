"""Inside Model.train_step the kit checks finiteness on a few arrays per step, not on every layer's
(issue 12: the per-layer scans were 10% of an MLP epoch); a NaN or inf is still reported with the
name of the layer, gradient or update that made it, as the per-layer checks would report it."""
import numpy as np
import pytest

import interface


class SGD(interface.Optimizer):
    def __init__(self, lr=0.1):
        self.lr = lr

    def get_parameter_updater(self, parameter_shape):
        return lambda parameter, parameter_grad: parameter - self.lr * parameter_grad


class Scale(interface.Layer):
    """outputs = inputs * weights (one weight per feature); ``bad`` puts a NaN or inf in one place:
    'output', 'output inf', 'input_grad' or 'weights_grad'."""

    def __init__(self, bad=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bad = bad

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)
        self.weights, self.weights_grad = self.add_parameter('weights', self.input_shape, np.ones)

    def forward_impl(self, inputs):
        outputs = inputs * self.weights
        if self.bad in ('output', 'output inf'):
            outputs[0, 0] = np.nan if self.bad == 'output' else np.inf
        return outputs

    def backward_impl(self, output_grad):
        self.weights_grad = (output_grad * self.forward_inputs).sum(axis=0)
        if self.bad == 'weights_grad':
            self.weights_grad[0] = np.nan
        input_grad = output_grad * self.weights
        if self.bad == 'input_grad':
            input_grad[-1, -1] = np.inf
        return input_grad


def model_with(reference, bad_layer, lr=0.1):
    model = interface.Model(reference.CategoricalCrossentropy(), SGD(lr))
    model.add(reference.Dense(5, input_shape=(4,)))
    model.add(bad_layer)
    model.add(reference.Dense(3))
    model.add(reference.Softmax())
    return model


def data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), np.eye(3)[rng.integers(3, size=n)]


def test_few_finiteness_scans_per_step_whatever_the_depth(reference, monkeypatch):
    scans = []
    real = interface._all_finite
    monkeypatch.setattr(interface, '_all_finite', lambda array: scans.append(array.size) or real(array))
    model = interface.Model(reference.CategoricalCrossentropy(), SGD())
    model.add(reference.Dense(5, input_shape=(4,)))
    for _ in range(6):
        model.add(reference.Dense(5))
        model.add(reference.ReLU())
    model.add(reference.Dense(3))
    model.add(reference.Softmax())
    x, y = data(8)
    model.train_step(x[:4], y[:4])
    # the output and the loss; the loss gradient and the first layer's input gradient
    assert len(scans) == 4
    scans.clear()
    model.fit(x, y, batch_size=4, epochs=1, verbose=False)
    # the same two steps, then the last step's arrays: its 16 parameter gradients and updates among them
    parameters = [getattr(layer, name) for layer in model.layers for name in layer.parameter_updaters]
    assert len(parameters) == 16 and len(scans) >= 2 * 4 + 2 * 16
    scans.clear()
    model.train_step(x[:4], y[:4])
    assert len(scans) == 4


@pytest.mark.parametrize('bad, message', [
    ('output', 'Scale.forward_impl output: 1 of 40 values'),
    ('output inf', 'Scale.forward_impl output: 1 of 40 values'),  # the next layers compute inf - inf
    ('input_grad', 'Scale.backward_impl result: 1 of 40 values'),
    ('weights_grad', 'Scale.weights_grad: 1 of 5 values'),
])
@pytest.mark.parametrize('batches', [1, 3])  # caught in the step, by the next step, or at the epoch's end
def test_the_array_that_made_the_nan_is_named(reference, bad, message, batches):
    x, y = data(8 * batches)
    model = model_with(reference, Scale(bad))
    with pytest.raises(interface.ContractError, match=message):
        model.fit(x, y, batch_size=8, epochs=1, verbose=False)


def test_a_diverging_update_is_named_by_the_next_step_or_by_predict(reference):
    x, y = data(8)
    model = model_with(reference, Scale(), lr=np.inf)
    model.train_step(x, y)  # makes the parameters infinite: reported when they are next used
    with pytest.raises(interface.ContractError, match=r"Dense: optimizer update of 'weights'"):
        model.train_step(x, y)
    model = model_with(reference, Scale(), lr=np.inf)
    model.train_step(x, y)
    with pytest.raises(interface.ContractError, match=r"Dense: optimizer update of 'weights'"):
        model.predict(x)


def test_after_an_error_the_kit_checks_as_before(reference):
    x, y = data(8)
    model = model_with(reference, Scale('output'))
    with pytest.raises(interface.ContractError):
        model.train_step(x, y)
    assert interface._pending is None and model._unverified == []
    layer = reference.Dense(2, input_shape=(2,))
    layer.build(SGD())
    layer.weights[0, 0] = np.nan
    with pytest.raises(interface.ContractError, match='Dense.forward_impl output: 2 of 4 values are NaN'):
        layer.forward(np.ones((2, 2)))  # a layer alone is checked at once


def test_other_errors_are_left_alone(reference):
    class Broken(Scale):
        def backward_impl(self, output_grad):
            raise RuntimeError("student bug")

    x, y = data(8)
    with pytest.raises(RuntimeError, match="student bug"):
        model_with(reference, Broken()).train_step(x, y)
