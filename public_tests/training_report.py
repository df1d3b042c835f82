"""``./run.py train mnist|cifar10``: train the solution's model and save pictures of it.

Saves <dataset>_training.png (loss and accuracy per epoch, train vs validation)
and <dataset>_predictions.png (test images with predicted and true labels).
"""
import time
from pathlib import Path

import numpy as np

CLASS_NAMES = {'mnist': [str(digit) for digit in range(10)],
               'cifar10': ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']}


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_history(model, path, title):
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    epochs = np.arange(1, len(model.loss_train_history) + 1)
    for axis, name in zip(axes, ('loss', 'accuracy')):
        axis.plot(epochs, getattr(model, f'{name}_train_history'), 'o-', label='train')
        valid = getattr(model, f'{name}_valid_history')
        if valid:
            axis.plot(epochs[:len(valid)], valid, 'o-', label='validation')
        axis.set_xlabel('epoch')
        axis.set_title(f'{title}: {name}')
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_predictions(images, predicted, labels, names, path, count=16):
    """A 4x4 grid of test images (standardised, shown rescaled) with predicted / true labels."""
    plt = _pyplot()
    figure, axes = plt.subplots(4, 4, figsize=(8, 8.5))
    for axis, image, guess, truth in zip(axes.flat, images[:count], predicted[:count], labels[:count]):
        picture = image.reshape(28, 28) if image.size == 784 else image.transpose(1, 2, 0)
        picture = (picture - picture.min()) / (np.ptp(picture) or 1)
        axis.imshow(picture, cmap='gray' if picture.ndim == 2 else None)
        axis.set_title(f"{names[guess]} ({names[truth]})", color='green' if guess == truth else 'red', fontsize=9)
        axis.axis('off')
    figure.suptitle('predicted (true)')
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def add_train_arguments(parser):
    parser.add_argument('dataset', choices=('mnist', 'cifar10'))


def train(args):
    """./run.py train DATASET"""
    return train_command(args.dataset, args.solution, args.out, args.data_dir, args.allow_unverified)


def train_command(dataset, solution_path, out_dir, data_dir=None, unverified_ok=None):
    from public_tests.gates import GATES, judge, load_gate_data, train_and_predict
    from public_tests.runner import load_solution
    solution = load_solution(solution_path)
    gate = GATES[dataset]
    training, x_test, y_test = load_gate_data(dataset, data_dir, unverified_ok)
    started = time.perf_counter()
    model, predicted = train_and_predict(solution, gate, training, x_test)
    result = judge(gate, predicted, y_test, time.perf_counter() - started)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_history(model, out_dir / f'{dataset}_training.png', dataset)
    plot_predictions(x_test, predicted, y_test.argmax(axis=1), CLASS_NAMES[dataset], out_dir / f'{dataset}_predictions.png')
    print(f"{'PASS' if result.passed else 'FAIL'}  {result.describe()}")
    print(f"Saved {out_dir / f'{dataset}_training.png'} and {out_dir / f'{dataset}_predictions.png'}")
    return 0 if result.passed else 1
