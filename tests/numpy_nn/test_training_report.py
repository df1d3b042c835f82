"""The pictures of ./run.py train: curves per epoch and a grid of predictions, as PNG files."""
import types

import numpy as np

from public_tests.training_report import CLASS_NAMES, plot_history, plot_predictions

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def test_training_curves_png(tmp_path):
    model = types.SimpleNamespace(loss_train_history=[1.0, 0.5, 0.3], loss_valid_history=[1.1, 0.7, 0.6],
                                  accuracy_train_history=[0.5, 0.8, 0.9], accuracy_valid_history=[0.4, 0.7, 0.8])
    plot_history(model, tmp_path / 'curves.png', 'mnist')
    assert (tmp_path / 'curves.png').read_bytes().startswith(PNG_SIGNATURE)


def test_prediction_grid_png(tmp_path):
    rng = np.random.default_rng(0)
    for name, shape in (('mnist', (16, 784)), ('cifar10', (16, 3, 32, 32))):
        path = tmp_path / f'{name}.png'
        plot_predictions(rng.normal(size=shape), rng.integers(10, size=16), rng.integers(10, size=16),
                         CLASS_NAMES[name], path)
        assert path.read_bytes().startswith(PNG_SIGNATURE)
