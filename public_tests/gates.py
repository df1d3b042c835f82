"""The two training gates (2.3 MNIST, 4.2 CIFAR-10): seeds, data, thresholds, verdict.

The student's ``train_*_model`` gets the training and validation splits only.
Whoever runs the gate keeps the test labels: ``train_and_predict`` sees test
images alone and returns predicted classes; ``judge`` compares them with the
labels and the time limit.  The grader runs the first in a sandbox and the
second in its own process.
"""
import random
import time
from dataclasses import dataclass

import numpy as np

import interface

SEED = 42


@dataclass(frozen=True)
class Gate:
    name: str
    train_function: str
    min_accuracy: float
    max_seconds: float
    fast_convolve: bool


TRAINING_NAMES = ('x_train', 'y_train', 'x_valid', 'y_valid')  # what the student's function gets, in order
GATES = {
    'mnist': Gate('mnist', 'train_mnist_model', 0.90, 10 * 60, fast_convolve=False),
    'cifar10': Gate('cifar10', 'train_cifar10_model', 0.70, 60 * 60, fast_convolve=True),
}


@dataclass
class GateResult:
    gate: Gate
    accuracy: float
    seconds: float
    test_images: int

    @property
    def passed(self):
        return self.accuracy >= self.gate.min_accuracy and self.seconds <= self.gate.max_seconds

    def describe(self):
        accuracy = (f"test accuracy {self.accuracy:.4f} (need >= {self.gate.min_accuracy:.2f}) "
                    f"on {self.test_images:,} test images")
        seconds = f"training + test evaluation {self.seconds:.1f} s (limit {self.gate.max_seconds:.0f} s)"
        return f"{accuracy}; {seconds}"


def load_gate_data(name, data_dir=None, unverified_ok=None):
    """((x_train, y_train, x_valid, y_valid), x_test, y_test) for gate ``name``."""
    from data_loaders import LOADERS
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = LOADERS[name](data_dir, unverified_ok)
    return (x_train, y_train, x_valid, y_valid), x_test, y_test


def train_and_predict(solution, gate, training_data, x_test):
    """Seed, train with the student's function, predict classes of ``x_test``.

    Returns (the trained Model, predicted classes (n_test,) ints)."""
    random.seed(SEED)
    np.random.seed(SEED)
    with interface.use_fast_convolve(gate.fast_convolve):
        model = getattr(solution, gate.train_function)(*training_data)
        if not isinstance(model, interface.Model):
            raise TypeError(f"{gate.train_function} must return a Model, got {type(model).__name__}")
        outputs = model.predict(x_test)
    if outputs.shape != (len(x_test), 10):
        raise ValueError(f"the model outputs {outputs.shape} for {len(x_test)} test images, expected (n, 10)")
    return model, np.argmax(outputs, axis=1)


def judge(gate, predicted, y_test, seconds):
    labels = np.argmax(y_test, axis=1)
    predicted = np.asarray(predicted)
    if predicted.shape != labels.shape:
        raise ValueError(f"{predicted.shape} predictions for {labels.shape[0]} test images")
    return GateResult(gate, float(np.mean(predicted == labels)), seconds, len(labels))


def run_gate(name, solution, data_dir=None, unverified_ok=None):
    """Run gate ``name`` in this process (the student's local check); returns a GateResult."""
    gate = GATES[name]
    training_data, x_test, y_test = load_gate_data(name, data_dir, unverified_ok)
    started = time.perf_counter()
    _, predicted = train_and_predict(solution, gate, training_data, x_test)
    return judge(gate, predicted, y_test, time.perf_counter() - started)
