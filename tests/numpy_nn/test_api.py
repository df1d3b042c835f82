"""The public API matches KIT-SPEC: names, defaults, attributes, shapes, and the Model's guarantees."""
import inspect

import numpy as np
import pytest

import interface
from public_tests.gradcheck import FrozenOptimizer, build_layer


def default(function, name):
    return inspect.signature(function).parameters[name].default


def test_module_globals():
    assert interface.eps == np.finfo(np.float64).eps
    settings = np.geterr()
    assert settings['divide'] == settings['over'] == settings['invalid'] == 'raise' and settings['under'] == 'ignore'
    for name in ('he_initializer', 'Model', 'convolve_pytorch', 'Layer', 'Loss', 'Optimizer'):
        assert hasattr(interface, name)


def test_solution_names_and_defaults(reference):
    for name in ('SGD', 'SGDMomentum', 'ReLU', 'Softmax', 'Dense', 'CategoricalCrossentropy', 'convolve_numpy',
                 'convolve', 'Conv2D', 'Pooling2D', 'BatchNorm', 'Flatten', 'Dropout', 'train_mnist_model',
                 'train_cifar10_model'):
        assert hasattr(reference, name), name
    assert default(reference.SGDMomentum, 'momentum') == 0.0
    assert default(reference.Conv2D, 'kernel_size') == 3
    assert default(reference.Pooling2D, 'pool_size') == 2 and default(reference.Pooling2D, 'pool_mode') == 'max'
    assert default(reference.BatchNorm, 'momentum') == 0.9
    assert default(reference.convolve, 'padding') == 0
    assert list(inspect.signature(reference.train_mnist_model).parameters) == ['x_train', 'y_train', 'x_valid', 'y_valid']


def test_layer_attributes(reference):
    layer = reference.ReLU(input_shape=(3,))
    for name in ('input_shape', 'output_shape', 'forward_inputs', 'forward_outputs', 'is_training'):
        assert hasattr(layer, name)
    dense = build_layer(reference.Dense(5), (7,))
    assert dense.output_units == 5
    assert dense.weights.shape == dense.weights_grad.shape == (5, 7)
    assert dense.biases.shape == dense.biases_grad.shape == (5,) and not dense.biases.any()
    conv = build_layer(reference.Conv2D(4, kernel_size=5), (2, 8, 6))
    assert conv.kernels.shape == conv.kernels_grad.shape == (4, 2, 5, 5) and conv.biases.shape == (4,)
    bn = build_layer(reference.BatchNorm(), (3, 4, 4))
    assert (bn.gamma == 1).all() and (bn.beta == 0).all()
    assert (bn.running_mean == 0).all() and (bn.running_var == 1).all()
    assert hasattr(bn, 'gamma_grad') and hasattr(bn, 'beta_grad') and not hasattr(bn, 'running_mean_grad')
    assert build_layer(reference.Flatten(), (2, 3, 4)).output_shape == (24,)
    assert build_layer(reference.Pooling2D(2), (3, 8, 6)).output_shape == (3, 4, 3)


def test_he_initializer_statistics():
    np.random.seed(0)
    values = interface.he_initializer(50)((400, 50))
    assert abs(values.mean()) < 0.01 and abs(values.std() - np.sqrt(2 / 50)) < 0.005


def test_loss_value_shape(reference):
    y = np.eye(3)[[0, 1]]
    assert reference.CategoricalCrossentropy().value(y, np.full((2, 3), 1 / 3)).shape == (1,)


def test_momentum_state_lives_on_the_updater(reference):
    updater = reference.SGDMomentum(0.1, 0.9).get_parameter_updater((2, 3))
    assert updater.inertia.shape == (2, 3)


class Vandal(interface.Layer):
    """Writes into the arrays it was given."""

    def forward_impl(self, inputs):
        inputs[...] = 0
        return inputs

    def backward_impl(self, output_grad):
        return output_grad


def test_layers_get_read_only_inputs():
    layer = build_layer(Vandal(), (3,))
    with pytest.raises(ValueError, match='read-only'):
        layer.forward(np.ones((2, 3)))


def test_shape_mismatch_names_the_layer_and_shapes(reference):
    layer = build_layer(reference.Dense(4), (3,))
    with pytest.raises(ValueError, match=r'Dense.forward inputs: expected shape \(2, 3\), got \(2, 5\)'):
        layer.forward(np.ones((2, 5)))

    class WrongShape(interface.Layer):
        def forward_impl(self, inputs):
            return inputs[:, :1]

        def backward_impl(self, output_grad):
            return output_grad

    with pytest.raises(ValueError, match=r'WrongShape.forward_impl output: expected shape \(2, 3\), got \(2, 1\)'):
        build_layer(WrongShape(), (3,)).forward(np.ones((2, 3)))


def test_nan_is_reported(reference):
    layer = build_layer(reference.Dense(2), (2,))
    layer.weights[0, 0] = np.nan
    with pytest.raises(ValueError, match='Dense.forward_impl output: 2 of 4 values are NaN'):
        layer.forward(np.ones((2, 2)))


def small_model(reference, dtype):
    np.random.seed(1)
    model = interface.Model(reference.CategoricalCrossentropy(), reference.SGDMomentum(0.1, 0.9), dtype=dtype)
    model.add(reference.Conv2D(2, input_shape=(1, 4, 4)))
    model.add(reference.BatchNorm())
    model.add(reference.ReLU())
    model.add(reference.Pooling2D(2))
    model.add(reference.Flatten())
    model.add(reference.Dropout(0.1))
    model.add(reference.Dense(3))
    model.add(reference.Softmax())
    return model


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_model_trains_end_to_end_in_its_dtype(reference, dtype):
    model = small_model(reference, dtype)
    x = np.random.normal(size=(40, 1, 4, 4))
    y = np.eye(3)[np.random.randint(3, size=40)]
    model.fit(x, y, batch_size=8, epochs=3, verbose=False, x_valid=x[:8], y_valid=y[:8])
    assert len(model.loss_train_history) == len(model.accuracy_valid_history) == 3
    assert model.loss_train_history[-1] < model.loss_train_history[0]
    assert model.predict(x).dtype == dtype
    assert all(getattr(layer, name).dtype == dtype for layer in model.layers for name in layer.parameter_updaters)
    loss, accuracy = model.evaluate(x, y, batch_size=16)
    assert np.isfinite(loss) and 0 <= accuracy <= 1


def test_model_summary_and_profile(reference):
    model = small_model(reference, np.float64)
    summary = str(model)
    assert 'Conv2D' in summary and 'Total parameters: 51' in summary  # conv 2*1*9+2, bn 2+2, dense 8*3+3
    model.predict(np.zeros((2, 1, 4, 4)))
    assert 'Conv2D' in model.profile_report() and 'forward, s' in model.profile_report()


def test_convolve_dispatch(reference):
    inputs, kernels = np.random.normal(size=(2, 3, 5, 5)), np.random.normal(size=(4, 3, 3, 3))
    assert not interface.fast_convolve
    with interface.use_fast_convolve():
        fast = reference.convolve(inputs, kernels, 1)
    np.testing.assert_allclose(fast, reference.convolve_numpy(inputs, kernels, 1), rtol=1e-10, atol=1e-12)
    assert not interface.fast_convolve


def test_frozen_optimizer_is_an_optimizer():
    assert isinstance(FrozenOptimizer(), interface.Optimizer)
