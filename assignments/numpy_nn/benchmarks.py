"""The first assignment's benchmarks (``./run.py benchmark NAME``):

convolve  reference convolve_numpy vs torch conv2d, float64, inputs (64, 32, 32, 32), kernels (64, 32, 3, 3)
mnist     the MNIST gate with the reference (training + test evaluation, in-process as a student runs it)
cifar10   the same for CIFAR-10 (slow: up to 20 minutes on 2 cores)
scale     40 submissions' unit sections serially vs on 2 local Dask workers, the executor's per-job overhead,
          and hours to grade 300 students with both gates on 1-64 two-core machines (scale_benchmark.py)
speed     the kit's training loop vs torch CPU, same architectures (MNIST MLP, CIFAR-10 CNN): epoch and
          per-layer ratios, and the share of an epoch the kit's checks cost (about 1.5 minutes; speed.py)
"""
from functools import lru_cache

import numpy as np

from assignments import KIT_ROOT
from instructor.benchmarks import best_of

TARGETS = {'convolve': 3.0, 'mnist': (0.985, 60.0), 'cifar10': (0.85, 15 * 60.0)}


@lru_cache(maxsize=1)
def reference():
    from public_tests.runner import load_solution
    return load_solution(KIT_ROOT / 'solution.py')


def bench_convolve(args):
    import torch
    rng = np.random.default_rng(0)
    inputs, kernels = rng.normal(size=(64, 32, 32, 32)), rng.normal(size=(64, 32, 3, 3))
    numpy_seconds = best_of(lambda: reference().convolve_numpy(inputs, kernels, 1))
    x, w = torch.from_numpy(inputs), torch.from_numpy(kernels)
    torch_seconds = best_of(lambda: torch.nn.functional.conv2d(x, w, padding=1))
    ratio = numpy_seconds / torch_seconds
    return {'numpy_seconds': numpy_seconds, 'torch_seconds': torch_seconds, 'ratio': ratio,
            'target_ratio': TARGETS['convolve'], 'meets_target': ratio <= TARGETS['convolve'],
            'summary': f"convolve_numpy {numpy_seconds * 1e3:.0f} ms, torch conv2d {torch_seconds * 1e3:.0f} ms: "
                       f"{ratio:.2f}x (target <= {TARGETS['convolve']:g}x)"}


def bench_gate(name):
    def bench(args):
        from public_tests.gates import GATES, run_gate
        result = run_gate(name, reference(), args.data_dir, args.allow_unverified)
        accuracy, seconds = TARGETS[name]
        return {'accuracy': result.accuracy, 'seconds': result.seconds, 'test_images': result.test_images,
                'target_accuracy': accuracy, 'target_seconds': seconds,
                'gate_accuracy': GATES[name].min_accuracy, 'gate_seconds': GATES[name].max_seconds,
                'meets_target': result.accuracy >= accuracy and result.seconds <= seconds,
                'summary': f"{result.describe()}; reference target >= {accuracy:.1%} in <= {seconds:g} s"}
    return bench


def bench_speed(args):
    from assignments.numpy_nn.speed import bench_speed as speed
    return speed(reference(), args)


def bench_scale(args):
    from assignments.numpy_nn.scale_benchmark import bench_scale as scale
    figures = getattr(args, 'figures', {})  # gates measured earlier in this run feed the capacity table
    return scale(reference(), args,
                 {name: figures[name]['seconds'] for name in ('mnist', 'cifar10') if name in figures})


BENCHMARKS = {'convolve': bench_convolve, 'mnist': bench_gate('mnist'), 'cifar10': bench_gate('cifar10'),
              'speed': bench_speed, 'scale': bench_scale}
