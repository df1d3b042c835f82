"""``./run.py benchmark speed``: the kit's training loop against torch on the same CPU.

The architectures are the reference's own: ``train_mnist_model`` and ``train_cifar10_model`` are
called on a handful of images (to get their models and optimizers), then the returned kit model
trains on a slice of the data while a ``torch.nn`` copy of it (same layer sizes, float32, batch
size, momentum SGD, thread count) trains on the same slice.  Per epoch: the kit with its checks on,
the kit with ``interface.use_checks(False)`` (the two taking turns first), and torch, interleaved
and the best of ``REPEATS`` taken (robust to a shared machine).  Per layer: the kit's own
forward/backward timing against torch module hooks (a separate hooked epoch, since hooks slow torch
down a little, in which torch also computes the gradient of the inputs, as the kit's first layer
must: same work per layer).

Torch differences, by design of each library: the kit ends in a ``Softmax`` layer and
``CategoricalCrossentropy``, torch in ``CrossEntropyLoss`` on logits (fused log-softmax); torch
skips the first layer's input gradient, which the kit's ``Layer.backward`` contract computes (the
ratio is given against both: torch as it trains, and torch asked for that gradient too).
"""
import contextlib
import io
import os
import time

import numpy as np

import interface

REPEATS = 3
TARGETS = {'mlp': 1.2, 'cnn': 1.5, 'checks': 0.05}
SLICES = {'mlp': 48000, 'cnn': 1024}  # training images per timed epoch
BATCH_SIZE = 128


def blas_threads():
    """The thread count numpy's BLAS uses: the usual environment variables, else one per core."""
    for name in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        if os.environ.get(name, '').isdigit():
            return int(os.environ[name])
    return os.cpu_count()


def gate_slice(name, images, data_dir, unverified_ok):
    """(x, one-hot y, where from): the first ``images`` training images of gate ``name``, float32;
    standard-normal images of the same shape if the data set cannot be loaded (speed is data-blind)."""
    from data_loaders import DataError
    from public_tests.gates import load_gate_data
    try:
        (x, y, _, _), _, _ = load_gate_data(name, data_dir, unverified_ok)
        return x[:images].astype(np.float32), y[:images].astype(np.float32), f"{name} training images"
    except DataError:
        shape = (images, 784) if name == 'mnist' else (images, 3, 32, 32)
        rng = np.random.default_rng(0)
        x = rng.normal(size=shape).astype(np.float32)
        return x, np.eye(10, dtype=np.float32)[rng.integers(10, size=images)], "synthetic images (data not found)"


def reference_model(solution, name, x, y):
    """The model and optimizer that the reference's ``train_<name>_model`` builds, trained on 8 images."""
    function = {'mnist': solution.train_mnist_model, 'cifar10': solution.train_cifar10_model}[name]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            interface.use_fast_convolve(name == 'cifar10'):
        model = function(x[:8], y[:8], x[:8], y[:8])
    return model


def torch_model(model):
    """A torch.nn.Sequential mirroring the kit model's layers (the final Softmax goes into the loss)."""
    import torch.nn as nn
    modules, names = [], []
    for index, layer in enumerate(model.layers):
        kind = layer.name
        if kind == 'Dense':
            module = nn.Linear(layer.input_shape[0], layer.output_units)
        elif kind == 'Conv2D':
            module = nn.Conv2d(layer.input_shape[0], layer.output_channels, layer.kernel_size,
                               padding=(layer.kernel_size - 1) // 2)
        elif kind == 'BatchNorm':
            module = nn.BatchNorm2d(layer.input_shape[0], momentum=1 - layer.momentum)
        elif kind == 'Pooling2D':
            module = (nn.MaxPool2d if layer.pool_mode == 'max' else nn.AvgPool2d)(layer.pool_size)
        elif kind == 'ReLU':
            module = nn.ReLU()
        elif kind == 'Dropout':
            module = nn.Dropout(layer.p)
        elif kind == 'Flatten':
            module = nn.Flatten()
        elif kind == 'Softmax' and index == len(model.layers) - 1:
            continue
        else:
            raise ValueError(f"no torch equivalent for layer {index}. {kind}")
        modules.append(module)
        names.append(f"{index}. {kind}")
    return nn.Sequential(*modules), names


def torch_epoch(net, optimizer, x, y, input_grad=False):
    """One epoch of the same loop as Model.fit: permutation, batches, loss and accuracy per batch.

    ``input_grad``: also compute dL/d(inputs), as the kit's first layer does (for per-layer timing)."""
    import torch
    net.train()
    loss_function = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(x))
    for start in range(0, len(x), BATCH_SIZE):
        batch = order[start:start + BATCH_SIZE]
        inputs, labels = x[batch].requires_grad_(input_grad), y[batch]
        optimizer.zero_grad(set_to_none=True)
        logits = net(inputs)
        loss = loss_function(logits, labels)
        loss.backward()
        optimizer.step()
        float(loss.item()), float((logits.argmax(1) == labels).float().mean())


@contextlib.contextmanager
def torch_layer_timing(net):
    """Per-module forward and backward seconds through hooks: yields {module index: [forward, backward]}."""
    seconds, started, handles = {}, {}, []
    for index, module in enumerate(net):
        seconds[index] = [0.0, 0.0]

        def pre_forward(module, inputs, index=index):
            started[index, 0] = time.perf_counter()

        def post_forward(module, inputs, outputs, index=index):
            seconds[index][0] += time.perf_counter() - started[index, 0]

        def pre_backward(module, grad_outputs, index=index):
            started[index, 1] = time.perf_counter()

        def post_backward(module, grad_inputs, grad_outputs, index=index):
            seconds[index][1] += time.perf_counter() - started[index, 1]

        handles += [module.register_forward_pre_hook(pre_forward), module.register_forward_hook(post_forward),
                    module.register_full_backward_pre_hook(pre_backward),
                    module.register_full_backward_hook(post_backward)]
    try:
        yield seconds
    finally:
        for handle in handles:
            handle.remove()


def kit_epoch(model, x, y):
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=False)


def compare(solution, name, images, data_dir, unverified_ok):
    """Epoch and per-layer times of the kit (checks on / off) and torch on ``images`` images of ``name``."""
    import torch
    x, y, source = gate_slice(name, images, data_dir, unverified_ok)
    model = reference_model(solution, name, x, y)
    lr, momentum = model.optimizer.lr, getattr(model.optimizer, 'momentum', 0.0)
    net, names = torch_model(model)
    torch_optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.argmax(axis=1))
    times = {'kit': [], 'kit_unchecked': [], 'torch': [], 'torch_input_grad': []}
    with interface.use_fast_convolve(name == 'cifar10'):
        kit_epoch(model, x[:4 * BATCH_SIZE], y[:4 * BATCH_SIZE])  # warm-up: caches, allocator, torch kernels
        torch_epoch(net, torch_optimizer, tx[:4 * BATCH_SIZE], ty[:4 * BATCH_SIZE])
        layer_seconds = np.zeros((len(model.layers), 2))
        for repeat in range(REPEATS):
            # A kit epoch right after torch's ran ~1% slower (2 cores): the two kit epochs take turns
            # there, or the checks' share would include it.
            for checks in ((True, False) if repeat % 2 == 0 else (False, True)):
                if checks:
                    for layer in model.layers:
                        layer.forward_seconds = layer.backward_seconds = 0.0
                with interface.use_checks(checks):
                    started = time.perf_counter()
                    kit_epoch(model, x, y)
                    times['kit' if checks else 'kit_unchecked'].append(time.perf_counter() - started)
                if checks:
                    layer_seconds += [[layer.forward_seconds, layer.backward_seconds] for layer in model.layers]
            for input_grad in (False, True):
                started = time.perf_counter()
                torch_epoch(net, torch_optimizer, tx, ty, input_grad=input_grad)
                times['torch_input_grad' if input_grad else 'torch'].append(time.perf_counter() - started)
        with torch_layer_timing(net) as torch_seconds:
            torch_epoch(net, torch_optimizer, tx, ty, input_grad=True)
    layer_seconds /= REPEATS
    torch_by_name = dict(zip(names, torch_seconds.values()))
    layers = []
    for index, layer in enumerate(model.layers):
        label = f"{index}. {layer.name}"
        torch_forward, torch_backward = torch_by_name.get(label, (None, None))
        layers.append({'layer': label, 'kit_forward': layer_seconds[index, 0], 'kit_backward': layer_seconds[index, 1],
                       'torch_forward': torch_forward, 'torch_backward': torch_backward})
    best = {key: min(values) for key, values in times.items()}
    return {'images': len(x), 'data': source, 'batch_size': BATCH_SIZE, 'lr': lr, 'momentum': momentum,
            'epoch_seconds': best, 'epoch_seconds_all': times, 'ratio': best['kit'] / best['torch'],
            'ratio_same_work': best['kit'] / best['torch_input_grad'],
            'checks_share': (best['kit'] - best['kit_unchecked']) / best['kit'], 'layers': layers}


def layer_table(result):
    def ratio(kit, torch_seconds):
        return f"{kit / torch_seconds:6.2f}x" if torch_seconds else "      -"

    def seconds(value):
        return f"{value:8.3f}" if value is not None else "       -"

    lines = [f"    {'layer':<16}{'kit fwd':>9}{'torch':>9}{'ratio':>8}{'kit bwd':>10}{'torch':>9}{'ratio':>8}  (s/epoch)"]
    for row in result['layers']:
        lines.append(f"    {row['layer']:<16}{seconds(row['kit_forward']):>9}{seconds(row['torch_forward']):>9}"
                     f"{ratio(row['kit_forward'], row['torch_forward']):>8}{seconds(row['kit_backward']):>10}"
                     f"{seconds(row['torch_backward']):>9}{ratio(row['kit_backward'], row['torch_backward']):>8}")
    return "\n".join(lines)


def bench_speed(solution, args):
    """The benchmark entry of instructor.benchmarks: MLP (MNIST) and CNN (CIFAR-10), kit vs torch."""
    import torch
    threads = blas_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    np.random.seed(0)
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    figures = {'threads': threads, 'load_average_before': load}
    lines = []
    for key, dataset, label in (('mlp', 'mnist', 'MNIST MLP'), ('cnn', 'cifar10', 'CIFAR-10 CNN, fast convolve')):
        result = compare(solution, dataset, SLICES[key], args.data_dir, args.allow_unverified)
        figures[key] = result
        best = result['epoch_seconds']
        lines.append(f"{label} ({result['images']:,} {result['data']}, batch {BATCH_SIZE}, float32, {threads} threads): "
                     f"kit {best['kit']:.2f} s/epoch, torch {best['torch']:.2f} s: {result['ratio']:.2f}x "
                     f"(target <= {TARGETS[key]:g}x; {result['ratio_same_work']:.2f}x against torch computing the "
                     f"first layer's input gradient too, as the kit's layers must); "
                     f"kit checks {result['checks_share']:.1%} of the epoch "
                     f"({best['kit_unchecked']:.2f} s without; target <= {TARGETS['checks']:.0%})")
        lines.append(layer_table(result))
    figures['meets_target'] = all(figures[key]['ratio'] <= TARGETS[key] and figures[key]['checks_share'] <= TARGETS['checks']
                                  for key in ('mlp', 'cnn'))
    figures['targets'] = TARGETS
    if load is not None and load > 0.5:
        lines.append(f"(load average {load:.1f} before the run: the machine was shared, figures are under load)")
    figures['summary'] = "\n  ".join(lines)
    return figures
