"""The autoencoder's training gate (2-unit bottleneck on MNIST) and ``./run.py --assignment autoencoder train``:
the reference passes the full gate, weak optimisers fail it, the verdict is robust to NaN and bad shapes,
and the training command saves both pictures."""
import ast
import dataclasses
import os
import time
import types

import numpy as np
import pytest

import assignments
from assignments.autoencoder import gates
from assignments.autoencoder.gates import GATES, judge, load_gate_data, run_gate, train_and_predict
from tests.conftest import DATA_DIR

AE = assignments.get('autoencoder')
GATE = GATES['bottleneck']


@pytest.fixture(scope='module')
def ae_reference():
    return AE.load(AE.reference_path, 'ae_gate_reference')


@pytest.fixture(scope='module')
def gate_data():
    """The gate's data from NN_KIT_DATA_DIR (../shared/data by default); missing data fails under CI."""
    if not (DATA_DIR / 'mnist').is_dir():
        if os.environ.get('CI'):
            pytest.fail(f"no MNIST data in {DATA_DIR} (set NN_KIT_DATA_DIR)")
        pytest.skip(f"no MNIST data in {DATA_DIR}")
    return load_gate_data('bottleneck', DATA_DIR)


def with_run_adam(solution, run_adam):
    """``solution`` with Autoencoder.run_adam replaced (a weak student's optimiser)."""
    class Autoencoder(solution.Autoencoder):
        pass
    Autoencoder.run_adam = run_adam
    return types.SimpleNamespace(**{**vars(solution), 'Autoencoder': Autoencoder})


# ------------------------------------------------------------------------------------------- no data needed
def test_gates_module_imports_nothing_but_numpy_and_the_standard_library_at_the_top():
    """It is copied alone into the sandbox: data_loaders, interface and the kit are not there."""
    tree = ast.parse(open(gates.__file__).read())
    imported = {alias.name.split('.')[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split('.')[0] for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert imported <= {'random', 'time', 'dataclasses', 'numpy'}, imported


def test_judge_computes_the_assignments_loss_and_checks_time():
    y_test = np.zeros((784, 4))
    predicted = np.zeros((784, 4))
    predicted[:, 0] = 0.5  # 0.5 * 784 * 0.25 = 98 on one image of four
    result = judge(GATE, predicted, y_test, seconds=10.0)
    assert result.loss == pytest.approx(98 / 4) and not result.passed
    assert judge(GATE, np.zeros((784, 4)), y_test, seconds=10.0).passed
    slow = judge(GATE, np.zeros((784, 4)), y_test, seconds=GATE.max_seconds + 1)
    assert not slow.passed and f"limit {GATE.max_seconds:.0f} s" in slow.describe()
    assert 'validation loss 0.00 (need <= 18.5) on 4 test images' in slow.describe()


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_judge_fails_non_finite_reconstructions_with_a_message(bad):
    predicted = np.zeros((784, 5))
    predicted[3, 1] = bad
    predicted[7, 4] = bad
    result = judge(GATE, predicted, np.zeros((784, 5)), seconds=1.0)
    assert not result.passed and result.non_finite == 2
    assert 'NaN or infinite values' in result.describe() and '2 of 5 test images' in result.describe()


def test_judge_rejects_reconstructions_of_the_wrong_shape():
    with pytest.raises(ValueError, match='one column per image'):
        judge(GATE, np.zeros((4, 784)), np.zeros((784, 4)), seconds=1.0)


def test_train_and_predict_checks_the_shape_of_the_reconstructions(ae_reference):
    def run_adam(self, inputs, **settings):
        history = ae_reference.Autoencoder.run_adam(self, inputs, **settings)
        forward = self.net.compute_outputs
        self.net.compute_outputs = lambda images: forward(images).T  # a network returning (batch, 784)
        return history

    tiny = dataclasses.replace(GATE, num_epoch=1, hidden=(8,))
    x = np.random.default_rng(0).random((784, 30))
    with pytest.raises(ValueError, match=r'as an array of shape \(10, 784\), expected \(784, 10\)'):
        train_and_predict(with_run_adam(ae_reference, run_adam), tiny, (x[:, :20], x[:, 20:]), x[:, :10])


def test_the_architecture_is_built_from_the_students_classes_with_fixed_initial_weights(ae_reference):
    first, second = (gates.build_autoencoder(ae_reference, GATE) for _ in range(2))
    assert [layer.shape for layer in first.net.layers] == [(784, 256), (256, 64), (64, 2), (2, 64), (64, 256),
                                                          (256, 784)]
    assert isinstance(first.net.layers[GATE.code_layer].afun, ae_reference.LinearActivationFunction)
    assert isinstance(first.net.layers[-1].afun, ae_reference.SigmoidActivationFunction)
    assert all(layer.use_bias for layer in first.net.layers)
    np.testing.assert_array_equal(first.net.get_weights(), second.net.get_weights())


# ------------------------------------------------------------------------------------------- on MNIST
def test_gate_data_are_pixels_in_0_1_one_column_per_image(gate_data):
    (x_train, x_valid), x_test, y_test = gate_data
    assert x_train.shape == (784, GATE.train_size) and x_valid.shape == (784, GATE.valid_size)
    assert x_test.shape == (784, GATE.test_size)
    for array in (x_train, x_valid, x_test):
        assert array.dtype == np.float64 and array.min() == 0.0 and array.max() == 1.0
    np.testing.assert_array_equal(x_test, y_test)
    assert not np.shares_memory(x_test, y_test)


@pytest.mark.gate  # minutes of training: pytest -m gate, or ./run.py benchmark
def test_reference_passes_the_full_gate(ae_reference, gate_data):
    """The honest run: the gate exactly as the grader runs it (about 35 s on 2 quiet cores)."""
    result = run_gate('bottleneck', ae_reference, DATA_DIR)
    assert result.passed, result.describe()
    assert result.loss < GATE.max_loss - 1.5, result.describe()  # the margin the threshold was chosen with


def test_untrained_network_fails(ae_reference, gate_data):
    training, x_test, y_test = gate_data
    untrained = dataclasses.replace(GATE, num_epoch=0)
    history, predicted = train_and_predict(ae_reference, untrained, training, x_test)
    result = judge(GATE, predicted, y_test, 1.0)
    assert history['test_loss'] == [] and not result.passed and result.loss > 50, result.describe()


@pytest.mark.gate  # minutes of training: pytest -m gate, or ./run.py benchmark
def test_plain_sgd_in_place_of_adam_fails(ae_reference, gate_data):
    """SGD with Adam's step size only learns the mean image (about 23.7; the linear 2-D code is 21.1)."""
    def run_adam(self, inputs, step_size, num_epoch, minibatch_size, l2_coef, test_inputs=None,
                 display=False, beta1=0.9, beta2=0.999, eps=1e-8):
        return self.run_sgd(inputs, step_size, num_epoch, minibatch_size, l2_coef, test_inputs)

    training, x_test, y_test = gate_data
    started = time.perf_counter()
    _, predicted = train_and_predict(with_run_adam(ae_reference, run_adam), GATE, training, x_test)
    result = judge(GATE, predicted, y_test, time.perf_counter() - started)
    assert not result.passed and result.loss > GATE.max_loss + 3, result.describe()


@pytest.mark.gate  # minutes of training: pytest -m gate, or ./run.py benchmark
def test_train_command_saves_both_pictures(tmp_path, capsys, gate_data):
    import matplotlib.image
    from assignments.autoencoder.training import train_command
    code = train_command(AE.reference_path, tmp_path, DATA_DIR, epochs=1)
    out = capsys.readouterr().out
    assert code in (0, 1)
    for name in ('SGD', 'SGD + momentum', 'RMSprop', 'Adam'):
        assert f"{name} " in out and 'final validation loss' in out
    assert "1 epochs instead of the gate's 15" in out and ('PASS  validation loss' in out or 'FAIL  validation loss' in out)
    for name in ('autoencoder_convergence.png', 'autoencoder_embedding.png'):
        image = matplotlib.image.imread(tmp_path / name)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400
        assert image[..., :3].std() > 0.05  # something is drawn
