"""Model.fit for people: learning-rate schedules, augmentation, readable logs off a terminal, and the
checks switch (on by default; off computes the same numbers) with a cheaper but equally strict NaN check."""
import re

import numpy as np
import pytest

import interface


class RecordingSGD(interface.Optimizer):
    """Plain SGD that records the learning rate of every update it makes."""

    def __init__(self, lr):
        self.lr = lr
        self.applied = []

    def get_parameter_updater(self, parameter_shape):
        def updater(parameter, parameter_grad):
            self.applied.append(self.lr)
            return parameter - self.lr * parameter_grad
        return updater


class NoRate(interface.Optimizer):
    def get_parameter_updater(self, parameter_shape):
        return lambda parameter, parameter_grad: parameter


def dense_model(reference, optimizer, dtype=np.float64):
    model = interface.Model(reference.CategoricalCrossentropy(), optimizer, dtype=dtype)
    model.add(reference.Dense(6, input_shape=(4,)))
    model.add(reference.ReLU())
    model.add(reference.Dense(3))
    model.add(reference.Softmax())
    return model


def data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), np.eye(3)[rng.integers(3, size=n)]


@pytest.mark.parametrize('schedule', [[0.3, 0.2, 0.1], lambda epoch: 0.3 - 0.1 * epoch])
def test_schedule_sets_the_rate_of_each_epoch_and_logs_its_number(reference, capsys, schedule):
    np.random.seed(0)
    optimizer = RecordingSGD(lr=1.0)
    model = dense_model(reference, optimizer)
    x, y = data(20)
    model.fit(x, y, batch_size=10, epochs=3, lr_schedule=schedule)
    updates_per_epoch = 2 * 4  # 2 batches, 4 parameters (2 Dense layers: weights and biases)
    assert np.allclose(optimizer.applied, np.repeat([0.3, 0.2, 0.1], updates_per_epoch))
    assert np.allclose(model.lr_history, [0.3, 0.2, 0.1])
    lines = capsys.readouterr().out.splitlines()
    assert [re.match(r'Epoch (\d)/3 \(lr ([\d.]+)\): train loss', line).groups() for line in lines] == \
        [('1', '0.3'), ('2', '0.2'), ('3', '0.1')]


def test_schedule_mistakes_are_explained(reference):
    x, y = data(8)
    with pytest.raises(ValueError, match='lists 2 learning rates for 3 epochs'):
        dense_model(reference, RecordingSGD(0.1)).fit(x, y, 4, 3, verbose=False, lr_schedule=[0.1, 0.2])
    with pytest.raises(ValueError, match="needs an optimizer with an 'lr' attribute, NoRate has none"):
        dense_model(reference, NoRate()).fit(x, y, 4, 1, verbose=False, lr_schedule=[0.1])
    with pytest.raises(ValueError, match=r'lr_schedule gave nan for epoch 1'):
        dense_model(reference, RecordingSGD(0.1)).fit(x, y, 4, 2, verbose=False, lr_schedule=[0.1, float('nan')])


def test_off_a_terminal_fit_prints_one_line_per_epoch_and_no_carriage_return(reference, capsys):
    x, y = data(40)
    dense_model(reference, RecordingSGD(0.1)).fit(x, y, batch_size=4, epochs=2, x_valid=x[:8], y_valid=y[:8])
    captured = capsys.readouterr()
    assert '\r' not in captured.out + captured.err
    lines = captured.out.splitlines()
    assert len(lines) == 2 and all(re.match(r'Epoch [12]/2 \(lr 0\.1\): train loss .*; valid loss .*; [\d.]+ s$', line)
                                   for line in lines), lines
    assert captured.err == ''


def test_augment_gets_each_training_batch_read_only(reference):
    seen = []

    def negate(batch):
        seen.append((batch.shape, batch.flags.writeable))
        return -batch

    x, y = data(10)
    dense_model(reference, RecordingSGD(0.1)).fit(x, y, batch_size=4, epochs=2, verbose=False, augment=negate)
    assert seen == [((4, 4), False), ((4, 4), False), ((2, 4), False)] * 2


def trained(reference, checks):
    np.random.seed(3)
    model = dense_model(reference, reference.SGDMomentum(0.1, 0.9), dtype=np.float32)
    x, y = data(32, seed=1)
    with interface.use_checks(checks):
        model.fit(x, y, batch_size=8, epochs=2, verbose=False)
        outputs = model.predict(x)
    return model, outputs


def test_checks_are_on_by_default_and_off_computes_the_same_numbers(reference):
    assert interface.checks_enabled
    checked, checked_outputs = trained(reference, True)
    unchecked, unchecked_outputs = trained(reference, False)
    assert interface.checks_enabled
    np.testing.assert_array_equal(checked_outputs, unchecked_outputs)
    assert checked.loss_train_history == unchecked.loss_train_history
    for mine, theirs in zip(checked.layers, unchecked.layers):
        for name in mine.parameter_updaters:
            np.testing.assert_array_equal(getattr(mine, name), getattr(theirs, name))
            assert getattr(theirs, name).dtype == np.float32
    assert checked.layers[0].forward_seconds > 0


def test_checks_off_really_skips_them(reference):
    layer = reference.Dense(2, input_shape=(2,))
    layer.build(RecordingSGD(0.1))
    layer.weights[0, 0] = np.nan
    with interface.use_checks(False):
        outputs = layer.forward(np.ones((2, 2)))
    assert np.isnan(outputs).any() and outputs.flags.writeable
    with pytest.raises(ValueError, match='Dense.forward_impl output: 2 of 4 values are NaN'):
        layer.forward(np.ones((2, 2)))


class NaNAfter(interface.Layer):
    """Identity, except that one value of its output is NaN (forward) or of its input gradient (backward)."""

    def __init__(self, where, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.where = where

    def forward_impl(self, inputs):
        outputs = np.array(inputs)
        if self.where == 'forward':
            outputs[0, 0] = np.nan
        return outputs

    def backward_impl(self, output_grad):
        grad = np.array(output_grad)
        if self.where == 'backward':
            grad[-1, -1] = np.inf
        return grad


@pytest.mark.parametrize('where, message', [('forward', 'NaNAfter.forward_impl output: 1 of'),
                                            ('backward', 'NaNAfter.backward_impl result: 1 of')])
def test_inside_a_model_the_layer_that_made_a_nan_is_named(reference, where, message):
    model = interface.Model(reference.CategoricalCrossentropy(), RecordingSGD(0.1))
    model.add(reference.Dense(6, input_shape=(4,)))
    model.add(NaNAfter(where))
    model.add(reference.Dense(3))
    model.add(reference.Softmax())
    x, y = data(8)
    with pytest.raises(interface.ContractError, match=message):
        model.fit(x, y, batch_size=4, epochs=1, verbose=False)


def test_a_nan_gradient_or_update_is_still_caught(reference):
    x, y = data(8)
    model = dense_model(reference, RecordingSGD(float('inf')))
    with pytest.raises(interface.ContractError, match=r"optimizer update of 'weights'"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=False)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('size', [1, 5000, 8192, 3 * 8192 + 7])
def test_finiteness_check_finds_every_bad_value(dtype, size):
    rng = np.random.default_rng(size)
    array = rng.normal(size=size).astype(dtype)
    assert interface._all_finite(array)
    for bad in (np.nan, np.inf, -np.inf):
        for position in {0, size // 2, size - 1}:
            broken = array.copy()
            broken[position] = bad
            assert not interface._all_finite(broken)
            assert not interface._all_finite(broken.reshape(1, -1)[:, ::-1])  # not contiguous: the exact check
    huge = np.full(size, np.finfo(dtype).max / 2, dtype=dtype)  # squares overflow, yet all finite
    assert interface._all_finite(huge)
    assert interface._all_finite(np.asfortranarray(rng.normal(size=(7, size)).astype(dtype)))


def test_optimizer_state_follows_the_model_dtype(reference):
    """The template's ``updater.inertia = np.zeros(shape)`` is float64; in a float32 model it becomes
    float32, or every update of every parameter would be float64 work (and a float64 result)."""
    model = interface.Model(reference.CategoricalCrossentropy(), reference.SGDMomentum(0.1, 0.9), dtype=np.float32)
    model.add(reference.Dense(3, input_shape=(4,)))
    updaters = model.layers[0].parameter_updaters
    assert {updater.inertia.dtype for updater in updaters.values()} == {np.dtype(np.float32)}
    x, y = np.ones((2, 4), np.float32), np.eye(3, dtype=np.float32)[[0, 1]]
    model.train_step(x, y)
    assert model.layers[0].weights.dtype == np.float32
    assert {updater.inertia.dtype for updater in updaters.values()} == {np.dtype(np.float32)}
