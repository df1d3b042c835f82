"""The gates: the reference passes MNIST on the real data; missing data is reported, not crashed on."""
import numpy as np
import pytest

from public_tests.gates import GATES, judge
from public_tests.runner import run_gate_section
from tests.conftest import DATA_DIR


def test_judge_counts_accuracy_and_time():
    y_test = np.eye(10)[[1, 2, 3, 4]]
    result = judge(GATES['mnist'], np.array([1, 2, 3, 0]), y_test, seconds=12.0)
    assert result.accuracy == 0.75 and not result.passed
    assert judge(GATES['mnist'], np.array([1, 2, 3, 4]), y_test, seconds=601).passed is False
    assert judge(GATES['mnist'], np.array([1, 2, 3, 4]), y_test, seconds=5).passed


def test_gate_with_missing_data_says_so(reference, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('NN_KIT_DATA_DIR', raising=False)
    monkeypatch.setattr('data_loaders.storage.CACHE_DIR', tmp_path / 'cache')
    assert run_gate_section('cifar10', reference, tmp_path / 'empty', None) == 0.0
    out = capsys.readouterr().out
    assert 'DATA MISSING' in out and 'cifar10 data not found' in out


@pytest.mark.skipif(not (DATA_DIR / 'mnist').is_dir(), reason='no ../shared/data/mnist')
@pytest.mark.gate  # minutes of training: pytest -m gate, or ./run.py benchmark
def test_reference_passes_the_mnist_gate_on_real_data(reference, capsys):
    assert run_gate_section('mnist', reference, DATA_DIR, None) == 2.0
    assert 'PASS  test accuracy 0.9' in capsys.readouterr().out
