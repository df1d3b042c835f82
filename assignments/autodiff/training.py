"""``./run.py --assignment autodiff train``: the gate's training on the student's solution, with curves.

Trains the gate's network (784 -> 128 ReLU -> 10 log-softmax, see gates.py) with the kit's SGD
and the student's ``mlp_loss_and_grads``, and a one-layer network (softmax regression, the
seminar's multiclass logistic regression) from the same data for comparison; after every epoch it
prints the mean training loss and the test accuracy of ``mlp_forward``.  Saves

    autodiff_training.png   training loss (left) and test accuracy (right) per epoch, both networks

and prints the gate's verdict on the first network (the gate's own run when the number of epochs
is the gate's).
"""
import dataclasses
import time
from pathlib import Path

import numpy as np


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_training(runs, path):
    """``runs``: {label: {'train_loss': [...], 'accuracy': [...]}}, one value per epoch."""
    plt = _pyplot()
    figure, (losses, accuracies) = plt.subplots(1, 2, figsize=(11, 4.5))
    for label, run in runs.items():
        epochs = np.arange(1, len(run['train_loss']) + 1)
        losses.plot(epochs, run['train_loss'], 'o-', label=label)
        accuracies.plot(epochs, run['accuracy'], 'o-', label=f"{label}: {run['accuracy'][-1]:.4f}")
    losses.set_xlabel('epoch')
    losses.set_ylabel('mean cross-entropy of the epoch\'s minibatches')
    losses.set_yscale('log')
    accuracies.set_xlabel('epoch')
    accuracies.set_ylabel('test accuracy')
    from matplotlib.ticker import MaxNLocator
    for axis in (losses, accuracies):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle('Softmax classifiers on MNIST, trained by SGD with your backward passes')
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def train_one(solution, gate, data, label):
    """Train ``gate``'s network on ``data``; print each epoch; {'train_loss', 'accuracy', 'seconds', 'predicted'}."""
    from assignments.autodiff.gates import initial_params, one_blas_thread, predict, sgd_train
    (x_train, y_train), x_test, y_test = data
    run = {'train_loss': [], 'accuracy': [], 'evaluating': 0.0}

    def on_epoch(epoch, params, loss):
        started = time.perf_counter()
        accuracy = float(np.mean(predict(solution.mlp_forward, params, x_test) == y_test))
        run['train_loss'].append(loss)
        run['accuracy'].append(accuracy)
        print(f"{label}, epoch {epoch + 1}/{gate.num_epochs}: training loss {loss:.4f}, test accuracy {accuracy:.4f}",
              flush=True)
        run['evaluating'] += time.perf_counter() - started

    with one_blas_thread():  # as the gate runs (gates.one_blas_thread)
        started = time.perf_counter()
        params, _ = sgd_train(solution.mlp_loss_and_grads, initial_params(gate), x_train, y_train, gate, on_epoch)
        run['predicted'] = predict(solution.mlp_forward, params, x_test)
        run['seconds'] = time.perf_counter() - started - run['evaluating']  # the gate's time: no curves
    return run


def train_command(solution_path, out_dir, data_dir=None, unverified_ok=None, epochs=None):
    import assignments
    from assignments.autodiff.gates import GATES, judge, load_gate_data
    solution = assignments.get('autodiff').load(solution_path, 'autodiff_solution')
    gate = GATES['classifier']
    epochs = gate.num_epochs if epochs is None else int(epochs)
    data = load_gate_data(gate.name, data_dir, unverified_ok)
    networks = {f"784-{'-'.join(map(str, gate.hidden))}-10 (the gate's)": dataclasses.replace(gate, num_epochs=epochs),
                "784-10 (softmax regression)": dataclasses.replace(gate, num_epochs=epochs, hidden=())}
    runs, result = {}, None
    for label, network in networks.items():
        try:
            runs[label] = train_one(solution, network, data, label)
        except Exception as error:  # the student's study: report and go on
            print(f"{label}: failed: {type(error).__name__}: {error}")
            continue
        if result is None and network.hidden == gate.hidden:
            result = judge(gate, runs[label]['predicted'], data[2], runs[label]['seconds'])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / 'autodiff_training.png'
    plot_training({label: run for label, run in runs.items()}, path)
    if result is None:
        print("FAIL  the gate's network did not train (see above)")
    else:
        note = '' if epochs == gate.num_epochs else \
            f"  [{epochs} epochs instead of the gate's {gate.num_epochs}: not the gate's verdict]"
        print(f"{'PASS' if result.passed else 'FAIL'}  {result.describe()}{note}")
    print(f"Saved {path}")
    return 0 if result is not None and result.passed else 1


def add_train_arguments(parser):
    """./run.py --assignment autodiff train [--epochs N]"""
    parser.add_argument('--epochs', type=int, help="epochs of SGD (default: the gate's)")


def train(args):
    return train_command(args.solution, args.out, args.data_dir, args.allow_unverified, args.epochs)
