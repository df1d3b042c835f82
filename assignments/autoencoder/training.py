"""``./run.py --assignment autoencoder train``: the study of section 2 on the student's solution.

Trains the gate's architecture (784 -> 256 -> 64 -> 2 -> 64 -> 256 -> 784, see gates.py) from the
same initial weights with each of the four optimisers and saves two pictures:

    autoencoder_convergence.png  validation loss per epoch (solid) and training loss (dashed),
                                 the four optimisers on one axis
    autoencoder_embedding.png    the 2 bottleneck outputs of the validation images, coloured by
                                 digit, for the initial weights and after Adam

Prints each optimiser's final validation loss and the gate's verdict on the Adam run (which
is the gate's own run when the number of epochs is the gate's).
"""
import dataclasses
import time
from pathlib import Path

import numpy as np

# optimiser -> (the method of Autoencoder, its keyword arguments besides the data and the epochs)
OPTIMISERS = {
    'SGD': ('run_sgd', dict(step_size=0.02)),
    'SGD + momentum': ('run_sgd_momentum', dict(step_size=0.005, momentum=0.9)),
    # not 1e-3: the weights of the always-black border pixels get the L2 term alone as gradient, RMSprop
    # (eps 1e-8) shrinks them geometrically, and at 1e-3 they become subnormal floats within the 15
    # epochs, which makes every matmul ~3x slower (86 s instead of 32 s); at 2e-3 they do not, and it trains better
    'RMSprop': ('run_rmsprop', dict(step_size=2e-3, ro=0.9)),
    'Adam': ('run_adam', None),  # the gate's settings (gates.adam_settings)
}
EMBEDDED_IMAGES = 2000
COLOURS = ('tab:blue', 'tab:orange', 'tab:green', 'tab:red')


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_convergence(histories, initial_losses, path):
    """``histories``: {optimiser: minimize's history}; ``initial_losses``: (train, validation) at epoch 0."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 5))
    for (name, history), colour in zip(histories.items(), COLOURS):
        valid = [initial_losses[1], *history['test_loss']]
        train = [initial_losses[0], *history['train_loss']]
        axis.plot(np.arange(len(valid)), valid, 'o-', color=colour, markersize=3,
                  label=f"{name}: validation (final {valid[-1]:.2f})")
        axis.plot(np.arange(len(train)), train, '--', color=colour, alpha=0.7, label=f"{name}: train")
    axis.set_yscale('log')
    from matplotlib.ticker import LogLocator, ScalarFormatter
    axis.yaxis.set_major_locator(LogLocator(subs=(1, 1.5, 2, 3, 5, 7)))
    axis.yaxis.set_minor_locator(LogLocator(subs='all'))
    axis.yaxis.set_major_formatter(ScalarFormatter())
    axis.yaxis.set_minor_formatter(plt.NullFormatter())
    axis.set_xlabel('epoch')
    axis.set_ylabel('loss: mean of 0.5 ||x - z||^2 (+ L2 term)')
    axis.set_title('Autoencoder with a 2-unit bottleneck on MNIST: convergence')
    axis.grid(alpha=0.3, which='both')
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_embedding(codes, labels, titles, path):
    """``codes``: list of (2, n) bottleneck outputs, one panel each; ``labels``: (n,) digits."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(codes), figsize=(6 * len(codes), 5.5))
    for axis, code, title in zip(np.atleast_1d(axes), codes, titles):
        code = np.real(np.asarray(code))
        for digit in range(10):
            chosen = labels == digit
            axis.scatter(code[0, chosen], code[1, chosen], s=4, alpha=0.7, color=plt.cm.tab10(digit),
                         label=str(digit))
        axis.set_title(title)
        axis.set_xlabel('bottleneck unit 1')
        axis.set_ylabel('bottleneck unit 2')
        axis.grid(alpha=0.3)
    np.atleast_1d(axes)[-1].legend(title='digit', markerscale=4, loc='center left', bbox_to_anchor=(1.0, 0.5))
    figure.suptitle(f'Bottleneck outputs of {len(labels):,} validation images')
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def bottleneck(autoencoder, gate, images):
    """The outputs of the 2-unit middle layer for ``images`` (784, n): (2, n)."""
    autoencoder.net.compute_outputs(images)
    return np.asarray(autoencoder.net.get_activations(gate.code_layer))


def regularised_loss(autoencoder, inputs, l2_coef):
    loss, _ = autoencoder.compute_loss(inputs)
    weights = autoencoder.net.get_weights()
    return float(np.real(loss)) + 0.5 * l2_coef * float(np.real(weights @ weights))


def train_command(solution_path, out_dir, data_dir=None, unverified_ok=None, epochs=None):
    import assignments
    from assignments.autoencoder.gates import GATES, adam_settings, build_autoencoder, judge, load_images
    solution = assignments.get('autoencoder').load(solution_path, 'autoencoder_solution')
    gate = GATES['bottleneck']
    epochs = gate.num_epoch if epochs is None else int(epochs)
    run_gate = dataclasses.replace(gate, num_epoch=epochs)
    data = load_images(gate.name, data_dir, unverified_ok)
    x_train, x_valid, x_test = data['x_train'], data['x_valid'], data['x_test']
    embedded, embedded_labels = x_valid[:, :EMBEDDED_IMAGES], data['labels_valid'][:EMBEDDED_IMAGES]

    initial = build_autoencoder(solution, gate)
    initial_losses = (regularised_loss(initial, x_train, gate.l2_coef), regularised_loss(initial, x_valid, gate.l2_coef))
    initial_codes = bottleneck(initial, gate, embedded)

    histories, result, trained_codes = {}, None, None
    for name, (method, settings) in OPTIMISERS.items():
        autoencoder = build_autoencoder(solution, gate)  # seeded: the same initial weights for all four
        if settings is None:
            settings = adam_settings(run_gate)
        else:
            settings = dict(settings, num_epoch=epochs, minibatch_size=gate.minibatch_size, l2_coef=gate.l2_coef)
        started = time.perf_counter()
        try:
            history = getattr(autoencoder, method)(x_train, test_inputs=x_valid, **settings)
            if name == 'Adam':
                reconstructions = autoencoder.net.compute_outputs(x_test)
        except Exception as error:  # the student's study: report and go on with the other optimisers
            print(f"{name:15s} step {settings['step_size']:g}: failed after {time.perf_counter() - started:.1f} s: "
                  f"{type(error).__name__}: {error}")
            continue
        seconds = time.perf_counter() - started
        histories[name] = history
        final = history['test_loss'][-1] if history['test_loss'] else initial_losses[1]
        print(f"{name:15s} step {settings['step_size']:g}: final validation loss {final:.3f} "
              f"after {epochs} epochs ({seconds:.1f} s)", flush=True)
        if name == 'Adam':
            try:
                result = judge(gate, reconstructions, x_test, seconds)
            except ValueError as error:
                print(f"Adam's reconstructions cannot be judged: {error}")
            trained_codes = bottleneck(autoencoder, gate, embedded)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    convergence, embedding = out_dir / 'autoencoder_convergence.png', out_dir / 'autoencoder_embedding.png'
    plot_convergence(histories, initial_losses, convergence)
    codes, titles = [initial_codes], ['initial weights']
    if trained_codes is not None:
        codes.append(trained_codes)
        titles.append(f'after Adam ({epochs} epochs)')
    plot_embedding(codes, embedded_labels, titles, embedding)

    if result is None:
        print("FAIL  Adam did not train (see above)")
    else:
        note = '' if epochs == gate.num_epoch else \
            f"  [{epochs} epochs instead of the gate's {gate.num_epoch}: not the gate's verdict]"
        print(f"{'PASS' if result.passed else 'FAIL'}  {result.describe()}{note}")
    print(f"Saved {convergence} and {embedding}")
    return 0 if result is not None and result.passed else 1


def add_train_arguments(parser):
    """./run.py --assignment autoencoder train [--epochs N]"""
    parser.add_argument('--epochs', type=int, help="epochs per optimiser (default: the gate's)")


def train(args):
    return train_command(args.solution, args.out, args.data_dir, args.allow_unverified, args.epochs)
