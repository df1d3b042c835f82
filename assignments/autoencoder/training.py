"""``./run.py --assignment autoencoder train``: the study of section 2 on the student's solution.

Trains the gate's architecture (784 -> 256 -> 64 -> 2 -> 64 -> 256 -> 784, see gates.py) from the
same initial weights with each of the four optimisers and saves two pictures:

    autoencoder_convergence.png  validation loss per epoch (solid) and training loss (dashed),
                                 the four optimisers on one axis
    autoencoder_embedding.png    the 2 bottleneck outputs of the validation images, coloured by
                                 digit, for the initial weights and after Adam

Prints each optimiser's final validation loss and the gate's verdict on the Adam run (which
is the gate's own run when the number of epochs is the gate's).

``--study hfn`` is the study of the Hessian-free Newton method (``interface.run_hfn``, driven by the
student's ``compute_gaussnewtonvec``) against Adam, on scikit-learn's digits and on a subset of MNIST,
with two architectures each (a linear 2-unit middle layer and a linear output layer), every pair of
runs from the same initial weights.  It saves, for each data set, ``hfn_<data>_convergence.png``
(validation loss against epochs and against seconds) and ``hfn_<data>_codes.png`` (the 2-D codes of
the validation images for the initial weights and after each method), and ``hfn_summary.txt``.
"""
import dataclasses
import time
from dataclasses import dataclass
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


# ------------------------------------------------------------------ --study hfn: HFN against Adam
@dataclass(frozen=True)
class StudyData:
    name: str
    title: str
    architectures: tuple   # (label, hidden units of the encoder (the decoder mirrors them), hidden activation class)
    adam: dict             # run_adam's settings
    hfn: dict              # interface.run_hfn's settings
    l2_coef: float = 1e-5


HFN_STUDY = (
    StudyData('digits', "scikit-learn's digits: 1,297 training and 500 validation images of 8x8 pixels",
              (('64-32-2-32-64, tanh', (32,), 'TanhActivationFunction'),
               ('64-64-16-2-16-64-64, ReLU', (64, 16), 'ReluActivationFunction')),
              adam=dict(step_size=5e-3, num_epoch=60, minibatch_size=50),
              hfn=dict(num_epoch=12, minibatch_size=433, curvature_size=200, damping=1.0, max_cg_iterations=50)),
    StudyData('mnist', "MNIST, a subset (to run in minutes): 3,000 training and 1,000 validation images of "
                       "28x28 pixels",
              (('784-64-2-64-784, tanh', (64,), 'TanhActivationFunction'),
               ('784-128-32-2-32-128-784, ReLU', (128, 32), 'ReluActivationFunction')),
              adam=dict(step_size=2e-3, num_epoch=20, minibatch_size=100),
              hfn=dict(num_epoch=6, minibatch_size=1000, curvature_size=300, damping=1.0, max_cg_iterations=50)),
)
DIGITS_VALIDATION, MNIST_TRAIN, MNIST_VALIDATION = 500, 3000, 1000
STUDY_THREADS = 1  # BLAS threads during the study (see hfn_study)
METHOD_STYLE = {'Adam': ('tab:blue', '--', 'o'), 'HFN': ('tab:red', '-', 's')}
ARCHITECTURE_MARKERS = ('o', '^', 's', 'D')


def study_data(name, data_dir=None, unverified_ok=None):
    """(x_train, x_valid, labels_valid): (D, n) pixels in [0, 1], one column per image."""
    if name == 'digits':
        try:
            from sklearn.datasets import load_digits  # bundled with scikit-learn: nothing to download
        except ImportError:
            raise SystemExit("The HFN study's digits come with scikit-learn, which the kit does not install: "
                             "run .venv/bin/pip install -r requirements-study.txt (about 200 MB)") from None
        digits = load_digits()
        order = np.random.default_rng(0).permutation(len(digits.target))
        images, labels = digits.data[order].T / 16.0, digits.target[order]
        return (np.ascontiguousarray(images[:, DIGITS_VALIDATION:]), np.ascontiguousarray(images[:, :DIGITS_VALIDATION]),
                labels[:DIGITS_VALIDATION])
    from assignments.autoencoder.gates import load_images
    data = load_images('bottleneck', data_dir, unverified_ok)
    return (np.ascontiguousarray(data['x_train'][:, :MNIST_TRAIN]),
            np.ascontiguousarray(data['x_valid'][:, :MNIST_VALIDATION]), data['labels_valid'][:MNIST_VALIDATION])


def study_autoencoder(solution, features, hidden, activation, seed=0):
    """features -> hidden... -> 2 (linear) -> reversed(hidden)... -> features (linear), biases everywhere,
    from the student's classes; seeded: the same initial weights for both methods."""
    np.random.seed(seed)
    sizes = [features, *hidden, 2, *reversed(hidden), features]
    layers = []
    for number, shape in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = number in (len(hidden), len(sizes) - 2)
        afun = solution.LinearActivationFunction() if linear else getattr(solution, activation)()
        layers.append(solution.FCLayer(shape, afun, use_bias=True))
    return solution.Autoencoder(layers)


def first_reaching(history, target):
    """(epochs, seconds) when the validation loss first got to ``target`` or below, or None."""
    for epoch, (loss, seconds) in enumerate(zip(history['test_loss'], history['seconds'])):
        if loss <= target:
            return epoch + 1, seconds
    return None


def plot_study_convergence(runs, initial, data, path):
    """``runs``: {(architecture label, method): history}; ``initial``: {label: validation loss at the start}."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(13, 5))
    labels = [label for label, _, _ in data.architectures]
    for (label, method), history in runs.items():
        colour, style, _ = METHOD_STYLE[method]
        marker = ARCHITECTURE_MARKERS[labels.index(label) % len(ARCHITECTURE_MARKERS)]
        losses = [initial[label], *history['test_loss']]
        for axis, x in zip(axes, (np.arange(len(losses)), [0.0, *history['seconds']])):
            axis.plot(x, losses, style, color=colour, marker=marker, markersize=4,
                      label=f"{method}, {label} (final {losses[-1]:.3g})")
    from matplotlib.ticker import LogLocator, ScalarFormatter
    for axis, what in zip(axes, ('epoch', 'seconds of optimisation (the evaluation not counted)')):
        axis.set_xlabel(what)
        axis.set_ylabel('validation loss: mean of 0.5 ||x - z||^2 (+ L2 term)')
        axis.set_yscale('log')
        axis.yaxis.set_major_locator(LogLocator(subs=(1, 1.5, 2, 3, 5, 7)))
        axis.yaxis.set_major_formatter(ScalarFormatter())
        axis.yaxis.set_minor_formatter(plt.NullFormatter())
        axis.grid(alpha=0.3, which='both')
        axis.legend(fontsize=8)
    axes[0].set_title('against epochs (passes over the training images)')
    axes[1].set_title('against wall-clock time')
    figure.suptitle(f"HFN and Adam: {data.title}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_study_codes(codes, labels, data, path):
    """``codes``: {architecture label: [(title, (2, n) codes)]}, one row per architecture."""
    plt = _pyplot()
    rows, columns = len(codes), max(len(panels) for panels in codes.values())
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4.5 * rows), squeeze=False)
    for row, (label, panels) in enumerate(codes.items()):
        for column, (title, code) in enumerate(panels):
            axis = axes[row, column]
            code = np.real(np.asarray(code))
            for digit in range(10):
                chosen = labels == digit
                axis.scatter(code[0, chosen], code[1, chosen], s=5, alpha=0.7, color=plt.cm.tab10(digit),
                             label=str(digit))
            axis.set_title(f"{label}: {title}", fontsize=9)
            axis.grid(alpha=0.3)
    axes[0, -1].legend(title='digit', markerscale=3, loc='center left', bbox_to_anchor=(1.0, 0.5))
    figure.suptitle(f"2-D codes of the {len(labels):,} validation images: {data.title}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def hfn_study(solution_path, out_dir, data_dir=None, unverified_ok=None, datasets=None):
    """The study on one BLAS thread: timings of small matrix products are steadier so (several threads on a
    busy machine spend more time waiting for each other than computing), and both methods run alike."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=STUDY_THREADS, user_api='blas'):
        return _hfn_study(solution_path, out_dir, data_dir, unverified_ok, datasets)


def _hfn_study(solution_path, out_dir, data_dir, unverified_ok, datasets):
    import importlib

    import assignments
    solution = assignments.get('autoencoder').load(solution_path, 'autoencoder_solution')
    run_hfn = importlib.import_module(solution.FFNet.__module__).run_hfn  # the kit's, beside the student's classes
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["Hessian-free Newton (HFN, interface.run_hfn with your compute_gaussnewtonvec) against Adam (your",
             "run_adam): autoencoders with a linear 2-unit middle layer and a linear output layer; each pair of",
             "runs starts from the same weights.  Validation loss: mean over images of 0.5 ||x - z||^2 + the L2",
             "term.  Seconds: the optimisation alone (the history's evaluation not counted), on this machine,",
             f"with {STUDY_THREADS} BLAS thread{'s' if STUDY_THREADS > 1 else ''}.", '']
    saved, started_all, ratios = [], time.perf_counter(), []
    for data in HFN_STUDY:
        if datasets and data.name not in datasets:
            continue
        try:
            x_train, x_valid, labels = study_data(data.name, data_dir, unverified_ok)
        except ImportError as error:
            print(f"{data.name}: skipped ({error}: pip install scikit-learn)")
            continue
        lines += [f"{data.name}: {data.title}",
                  f"  Adam: {', '.join(f'{k}={v}' for k, v in data.adam.items())}",
                  f"  HFN:  {', '.join(f'{k}={v}' for k, v in data.hfn.items())}",
                  f"  {'architecture':32s} {'method':6s} {'epochs':>6s} {'seconds':>8s} {'valid loss':>10s} "
                  f"{'CG products':>11s}  to reach the worse final loss"]
        runs, initial, codes = {}, {}, {}
        for label, hidden, activation in data.architectures:
            start = study_autoencoder(solution, x_train.shape[0], hidden, activation)
            initial[label] = regularised_loss(start, x_valid, data.l2_coef)
            codes[label] = [('initial weights', bottleneck_of(start, len(hidden), x_valid))]
            for method in ('Adam', 'HFN'):
                autoencoder = study_autoencoder(solution, x_train.shape[0], hidden, activation)
                np.random.seed(1)
                settings = data.adam if method == 'Adam' else data.hfn
                try:
                    if method == 'Adam':
                        history = autoencoder.run_adam(x_train, test_inputs=x_valid, l2_coef=data.l2_coef, **settings)
                    else:
                        history = run_hfn(autoencoder, x_train, test_inputs=x_valid, l2_coef=data.l2_coef,
                                          **settings)
                except Exception as error:  # the student's study: report and go on
                    print(f"{data.name} {label} {method}: failed: {type(error).__name__}: {error}")
                    continue
                runs[label, method] = history
                codes[label].append((f"after {method} ({len(history['test_loss'])} epochs)",
                                     bottleneck_of(autoencoder, len(hidden), x_valid)))
                print(f"{data.name:7s} {label:32s} {method:5s} validation loss {initial[label]:.4g} -> "
                      f"{history['test_loss'][-1]:.4g} in {len(history['test_loss'])} epochs "
                      f"({history['seconds'][-1]:.1f} s)", flush=True)
            pair = [runs.get((label, method)) for method in ('Adam', 'HFN')]
            target = max(history['test_loss'][-1] for history in pair) if all(pair) else None
            reached = {}
            for method, history in zip(('Adam', 'HFN'), pair):
                if history is None:
                    continue
                products = sum(history['cg_iterations']) if 'cg_iterations' in history else 0
                reached[method] = first_reaching(history, target) if target is not None else None
                reach = f"{target:.4g}: after {reached[method][0]} epochs, {reached[method][1]:.1f} s" \
                    if reached[method] else ''
                lines.append(f"  {label:32s} {method:6s} {len(history['test_loss']):6d} "
                             f"{history['seconds'][-1]:8.1f} {history['test_loss'][-1]:10.4f} "
                             f"{products if products else '':>11}  {reach}")
            if reached.get('Adam') and reached.get('HFN'):
                (adam_epochs, adam_seconds), (hfn_epochs, hfn_seconds) = reached['Adam'], reached['HFN']
                lines.append(f"  {'':32s} to {target:.4g}: HFN took {adam_epochs / hfn_epochs:.1f}x fewer epochs "
                             f"than Adam and {hfn_seconds / adam_seconds:.1f}x its seconds")
                ratios.append((adam_epochs / hfn_epochs, hfn_seconds / max(adam_seconds, 1e-9)))
        convergence, scatter = out_dir / f'hfn_{data.name}_convergence.png', out_dir / f'hfn_{data.name}_codes.png'
        plot_study_convergence(runs, initial, data, convergence)
        plot_study_codes(codes, labels, data, scatter)
        saved += [convergence, scatter]
        lines.append('')
    lines += ["What to look for: per epoch, HFN gets further than Adam (each of its steps solves a damped",
              "Newton system with tens of Gauss-Newton products on the curvature batch); per second it pays for",
              "them, since one product costs about as much as a gradient on as many images.  The codes: both",
              "methods spread the digits over the plane from the codes the random initial weights squeeze together."]
    if ratios:
        epochs, seconds = [ratio for ratio, _ in ratios], [ratio for _, ratio in ratios]
        lines.append(f"Measured here, to the worse of each pair's final losses: HFN took {min(epochs):.1f}x to "
                     f"{max(epochs):.1f}x fewer epochs than Adam, and {min(seconds):.1f}x to {max(seconds):.1f}x "
                     f"Adam's seconds (above 1: Adam was faster per second).")
    lines.append(f"Total: {time.perf_counter() - started_all:.0f} s.")
    summary = out_dir / 'hfn_summary.txt'
    summary.write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    print(f"Saved {', '.join(str(path) for path in saved + [summary])}")
    return 0 if saved else 1


def bottleneck_of(autoencoder, layer, images):
    """The outputs of layer ``layer`` (the 2-unit middle one) for ``images``: (2, n)."""
    autoencoder.net.compute_outputs(images)
    return np.asarray(autoencoder.net.get_activations(layer))


def add_train_arguments(parser):
    """./run.py --assignment autoencoder train [--epochs N] [--study optimisers|hfn]"""
    parser.add_argument('--epochs', type=int, help="epochs per optimiser (default: the gate's; --study optimisers)")
    parser.add_argument('--study', choices=('optimisers', 'hfn'), default='optimisers',
                        help="optimisers: the four optimisers on the gate's network (default); hfn: the "
                             "Hessian-free Newton method against Adam on digits and MNIST")


def train(args):
    if getattr(args, 'study', 'optimisers') == 'hfn':
        return hfn_study(args.solution, args.out, args.data_dir, args.allow_unverified)
    return train_command(args.solution, args.out, args.data_dir, args.allow_unverified, args.epochs)
