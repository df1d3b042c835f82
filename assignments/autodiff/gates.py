"""The autodiff assignment's training gate (section 7): a small softmax classifier on MNIST.

Same protocol as ``public_tests/gates.py``: the student's side gets the arrays named in
``TRAINING_NAMES`` (training images and their one-hot labels) and the test images;
``train_and_predict`` trains the kit's fixed network with the student's
``mlp_loss_and_grads`` by the kit's plain minibatch SGD and returns the student's
``mlp_forward`` class predictions for the test images; ``judge`` compares them with the test
labels (whoever runs the gate keeps those) and checks the time.  The grader runs the first in
a sandbox and the second in its own process, so this file imports nothing but the standard
library and numpy at the top (``data_loaders`` is imported inside ``load_gate_data``, which
runs on the grader's side).

The data: images flattened to 784 values and standardised as in the first assignment (the
mean and std over all 70,000 images); training images from the official training set after
its first 20% (the validation split of the first assignment's loader), test images the
official test set.

Measured on the development machine (2 cores shared with other jobs; numpy 2 with OpenBLAS),
the reference solution, the gate as fixed below (784 -> 128 ReLU -> 10, 5 epochs of SGD with
learning rate 0.05 on 30,000 images in minibatches of 64):

    test accuracy 0.9649 on the 10,000 test images (deterministic: the same figure in every run,
    with one BLAS thread or two; 0.9676, 0.9662, 0.9658 with SEED 0, 1, 7 in place of 42: the
    spread a correct solution may show);
    training + prediction 3.0 s with one BLAS thread (CPU time = wall time), 2.0-3.8 s of wall
    clock but 4.0-6.2 s of CPU with two; 5.1-5.6 s in the checker's sandbox (one thread, the
    child's imports counted) while other jobs kept the machine busy; 26-34 s with two threads
    on a fully loaded machine: hence one BLAS thread (limits.py, ``one_blas_thread``).

Deliberately weak variants (same seed, data and architecture):

    softmax regression (no hidden layer, the same SGD)             0.9142
    ReLU backward without its mask (the gradient passes everywhere) 0.9201
    dense backward dividing dW and db by N again (1/N twice)       0.8730
    cross-entropy's gradient a sum, not a mean (steps N = 64x too long: diverges)  0.1134
    log-softmax backward assuming cross-entropy's upstream         0.9649 (right for this loss: the
                                                                   unit cases catch it, not the gate)

``min_accuracy`` = 0.95: 1.5 points below the reference (1.1 below the worst seed), 3.6 above
softmax regression, so a pass means the hidden layer learnt, and 3.0 above the best broken
backward pass.  ``max_seconds`` = 60: 20x the quiet reference time, 10x the loaded sandbox run.
"""
import random
import time
from dataclasses import dataclass

import numpy as np

SEED = 42

# the arrays handed to the student's side, in order (train_and_predict's ``training``)
TRAINING_NAMES = ('x_train', 'y_train')

OFFICIAL_TRAIN_SIZE = 60000
NUM_CLASSES = 10


@dataclass(frozen=True)
class Gate:
    name: str
    min_accuracy: float             # on the test images
    max_seconds: float              # training + prediction of the test images
    hidden: tuple = (128,)          # the fixed architecture: 784 -> hidden... (ReLU) -> 10 (log-softmax)
    learning_rate: float = 0.05     # plain SGD: W <- W - learning_rate dQ/dW (Q a mean over the minibatch)
    num_epochs: int = 5
    batch_size: int = 64
    dataset: str = 'mnist'          # what data_loaders loads for it (checked by `serve` at start)
    train_size: int = 30000
    test_size: int = 10000
    fast_convolve: bool = False     # read by the grader (no torch here)

    @property
    def sizes(self):
        return (784, *self.hidden, NUM_CLASSES)


GATES = {
    'classifier': Gate('classifier', min_accuracy=0.95, max_seconds=60),
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
        return (f"test accuracy {self.accuracy:.4f} (need >= {self.gate.min_accuracy:.2f}) on "
                f"{self.test_images:,} test images; training + prediction {self.seconds:.1f} s "
                f"(limit {self.gate.max_seconds:.0f} s)")


# ------------------------------------------------------------------------------------------ the data
def load_images(name, data_dir=None, unverified_ok=None):
    """{'x_train' (n, 784), 'labels_train' (n,), 'x_test' (m, 784), 'labels_test' (m,)}: standardised
    images, one per row, and their digits, for gate ``name``."""
    from data_loaders.mnist import VALID_SHARE, find_files, read_idx, standardise
    from data_loaders.storage import DataError
    gate = GATES[name]
    files = find_files(data_dir, unverified_ok)  # md5-verified (or the loud unverified warning)
    images = {part: read_idx(files[f'{part}-images-idx3-ubyte.gz']) for part in ('train', 't10k')}
    labels = {part: read_idx(files[f'{part}-labels-idx1-ubyte.gz']) for part in ('train', 't10k')}
    for part in images:
        if images[part].ndim != 3 or images[part].shape[1:] != (28, 28) or len(images[part]) != len(labels[part]):
            raise DataError(f"mnist {part}: {images[part].shape} images do not match {labels[part].shape} labels")
    start = int(len(images['train']) * VALID_SHARE)  # 12,000 of the official 60,000
    train = slice(start, start + gate.train_size)
    return {'x_train': standardise(images['train'][train]), 'labels_train': labels['train'][train].astype(np.int64),
            'x_test': standardise(images['t10k'][:gate.test_size]),
            'labels_test': labels['t10k'][:gate.test_size].astype(np.int64)}


def load_gate_data(name, data_dir=None, unverified_ok=None):
    """((x_train (n, 784), y_train (n, 10) one-hot), x_test (m, 784), y_test (m,) the test digits)."""
    data = load_images(name, data_dir, unverified_ok)
    y_train = np.eye(NUM_CLASSES)[data['labels_train']]
    return (data['x_train'], y_train), data['x_test'], data['labels_test']


# ------------------------------------------------------------------------------------------ training
def initial_params(gate):
    """Seed ``random`` and ``np.random`` with SEED; He-initialised [(W, b)] of the gate's architecture."""
    random.seed(SEED)
    np.random.seed(SEED)
    rng = np.random.default_rng(SEED)
    return [(rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)), np.zeros(fan_out))
            for fan_in, fan_out in zip(gate.sizes[:-1], gate.sizes[1:])]


def _checked_grads(grads, params, step):
    """The student's gradient list, checked against the parameters' shapes and for finiteness."""
    if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
        raise ValueError(f"step {step}: mlp_loss_and_grads returned {type(grads).__name__} as the gradient, "
                         f"expected a list of {len(params)} (dW, db) pairs")
    checked = []
    for number, ((W, b), pair) in enumerate(zip(params, grads), start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"step {step}: the gradient of layer {number} is not a (dW, db) pair")
        dW, db = (np.asarray(part, dtype=np.float64) for part in pair)
        if dW.shape != W.shape or db.shape != b.shape:
            raise ValueError(f"step {step}: layer {number}: gradients of shapes {dW.shape}, {db.shape} for "
                             f"W {W.shape} and b {b.shape}")
        if not (np.all(np.isfinite(dW)) and np.all(np.isfinite(db))):
            raise FloatingPointError(f"step {step}: layer {number}: the gradient holds NaN or infinite values")
        checked.append((dW, db))
    return checked


def sgd_train(loss_and_grads, params, x_train, y_train, gate, on_epoch=None):
    """Plain minibatch SGD, the kit's loop: each epoch draws one permutation of the objects
    (``np.random.permutation``) and walks through it in minibatches of ``gate.batch_size`` (the last
    may be smaller); each step is ``W <- W - learning_rate dW``, ``b <- b - learning_rate db``.

    :param loss_and_grads: (X (n, D), Y (n, K), params) -> (Q, grads), the student's mlp_loss_and_grads
    :param on_epoch: called as on_epoch(epoch, params, mean training loss of the epoch's steps)
    :return: (the trained params, {'train_loss': [mean loss of each epoch's minibatches]})
    """
    history, step = {'train_loss': []}, 0
    for epoch in range(gate.num_epochs):
        order = np.random.permutation(len(x_train))
        losses = []
        for start in range(0, len(x_train), gate.batch_size):
            chosen = order[start:start + gate.batch_size]
            step += 1
            loss, grads = loss_and_grads(x_train[chosen], y_train[chosen], params)
            losses.append(float(loss))
            params = [(W - gate.learning_rate * dW, b - gate.learning_rate * db)
                      for (W, b), (dW, db) in zip(params, _checked_grads(grads, params, step))]
        history['train_loss'].append(float(np.mean(losses)))
        if on_epoch is not None:
            on_epoch(epoch, params, history['train_loss'][-1])
    return params, history


def predict(forward, params, x):
    """Class numbers (m,) from the student's ``forward(x, params)`` log-probabilities (m, 10), checked."""
    scores = forward(x, params)
    if not isinstance(scores, np.ndarray) or scores.shape != (len(x), NUM_CLASSES):
        shape = scores.shape if isinstance(scores, np.ndarray) else type(scores).__name__
        raise ValueError(f"mlp_forward returned {shape} for {len(x):,} test images, expected an array of shape "
                         f"({len(x)}, {NUM_CLASSES}): one row of log-probabilities per image")
    return np.argmax(scores, axis=1)


def train_and_predict(solution, gate, training, x_test):
    """Seed, initialise the fixed architecture, train it with the student's mlp_loss_and_grads, predict
    the classes of ``x_test`` (m, 784) with their mlp_forward.  Returns (the history, labels (m,))."""
    x_train, y_train = training
    params, history = sgd_train(solution.mlp_loss_and_grads, initial_params(gate), x_train, y_train, gate)
    return history, predict(solution.mlp_forward, params, x_test)


def judge(gate, predicted, y_test, seconds):
    """The verdict on the predicted classes ``predicted`` (m,) of the test images with digits ``y_test`` (m,)."""
    predicted, y_test = np.asarray(predicted), np.asarray(y_test)
    if predicted.shape != y_test.shape:
        raise ValueError(f"{predicted.shape} predictions for {y_test.shape[0]:,} test images")
    return GateResult(gate, float(np.mean(predicted == y_test)), float(seconds), len(y_test))


def one_blas_thread():
    """numpy's BLAS on one thread meanwhile, as in the checker's sandbox (grader limits: threads=1): the
    gate's small products gain nothing from more, and on a busy machine several threads cost many times
    the time.  A no-op without threadpoolctl (the kit's requirements install it)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api='blas')


def run_gate(name, solution, data_dir=None, unverified_ok=None):
    """Run gate ``name`` in this process (the student's local check); returns a GateResult."""
    gate = GATES[name]
    training, x_test, y_test = load_gate_data(name, data_dir, unverified_ok)
    with one_blas_thread():
        started = time.perf_counter()
        _, predicted = train_and_predict(solution, gate, training, x_test)
        seconds = time.perf_counter() - started
    return judge(gate, predicted, y_test, seconds)
