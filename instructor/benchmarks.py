"""``./run.py benchmark``: the figures the README quotes, with the thresholds beside them.

convolve  reference convolve_numpy vs torch conv2d, float64, inputs (64, 32, 32, 32), kernels (64, 32, 3, 3)
grading   sandboxed grading of the 12 unit sections of the reference (a fresh grader, then a warm one), and of a
          submission with a mistake in every section (diagnosis and shrinking for each)
mnist     the MNIST gate with the reference (training + test evaluation, in-process as a student runs it)
cifar10   the same for CIFAR-10 (slow: up to 20 minutes on 2 cores)
scale     40 submissions' unit sections serially vs on 2 local Dask workers, the executor's per-job overhead,
          and hours to grade 300 students with both gates on 1-64 two-core machines (instructor/scale_benchmark.py)
loaded    the sandboxed MNIST and bottleneck gates of the references with 3 CPU-bound processes beside them
deadline  the upload checker through a deadline rush (service.loadtest --deadline): 300 students, most in the
          last hour (replayed in 4 minutes), hostile and broken files among them; on the server's local
          workers, on a Dask cluster it starts, and on a null executor (grading that costs no CPU): upload
          latency, time to the unit report against the queue's fair share, nothing lost or graded twice
speed     the kit's training loop vs torch CPU, same architectures (MNIST MLP, CIFAR-10 CNN): epoch and
          per-layer ratios, and the share of an epoch the kit's checks cost (about 1.5 minutes)
"""
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from public_tests.gates import GATES, run_gate
from public_tests.runner import load_solution
from public_tests.sections import UNIT_SECTIONS
from grader.sandbox import KIT_ROOT

TARGETS = {'convolve': 3.0, 'grading': 30.0, 'mnist': (0.985, 60.0), 'cifar10': (0.85, 15 * 60.0)}


def best_of(function, repeats=5):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_convolve(solution, args):
    import torch
    rng = np.random.default_rng(0)
    inputs, kernels = rng.normal(size=(64, 32, 32, 32)), rng.normal(size=(64, 32, 3, 3))
    numpy_seconds = best_of(lambda: solution.convolve_numpy(inputs, kernels, 1))
    x, w = torch.from_numpy(inputs), torch.from_numpy(kernels)
    torch_seconds = best_of(lambda: torch.nn.functional.conv2d(x, w, padding=1))
    ratio = numpy_seconds / torch_seconds
    return {'numpy_seconds': numpy_seconds, 'torch_seconds': torch_seconds, 'ratio': ratio,
            'target_ratio': TARGETS['convolve'], 'meets_target': ratio <= TARGETS['convolve'],
            'summary': f"convolve_numpy {numpy_seconds * 1e3:.0f} ms, torch conv2d {torch_seconds * 1e3:.0f} ms: "
                       f"{ratio:.2f}x (target <= {TARGETS['convolve']:g}x)"}


def every_section_wrong():
    """The reference with one catalogued mistake in each unit section: every section fails, so every
    section gets the diagnosis and a shrinking child (the worst case for grading time)."""
    from grader.mistakes import apply, mistakes_of
    source = (KIT_ROOT / 'solution.py').read_text()
    for section in UNIT_SECTIONS:
        source = apply(source, mistakes_of(section.name)[0])
    return source


def bench_grading(solution, args):
    import tempfile
    from grader.grade import Grader
    names = [section.name for section in UNIT_SECTIONS]
    started = time.perf_counter()
    grader = Grader()
    report = grader.grade(KIT_ROOT / 'solution.py', names)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    grader.grade(KIT_ROOT / 'solution.py', names)
    warm = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        failing = Path(folder) / 'solution.py'
        failing.write_text(every_section_wrong())
        started = time.perf_counter()
        failed = grader.grade(failing, names)
        failing_seconds = time.perf_counter() - started
    diagnosed = sum(bool(verdict.diagnosis) for verdict in failed.sections)
    shrunk = sum(bool(verdict.smallest_case) for verdict in failed.sections)
    return {'cold_seconds': cold, 'warm_seconds': warm, 'score': report.total, 'target_seconds': TARGETS['grading'],
            'failing_seconds': failing_seconds, 'failing_diagnosed': diagnosed, 'failing_shrunk': shrunk,
            'meets_target': max(cold, failing_seconds) <= TARGETS['grading'] and report.total == 15,
            'summary': f"12 unit sections: {cold:.1f} s on a fresh grader, {warm:.1f} s per further submission, "
                       f"score {report.total:g}/15; every section wrong: {failing_seconds:.1f} s ({diagnosed} "
                       f"diagnosed, {shrunk} shrunk) (target <= {TARGETS['grading']:g} s)"}


def bench_gate(name):
    def bench(solution, args):
        result = run_gate(name, solution, args.data_dir, args.allow_unverified)
        accuracy, seconds = TARGETS[name]
        return {'accuracy': result.accuracy, 'seconds': result.seconds, 'test_images': result.test_images,
                'target_accuracy': accuracy, 'target_seconds': seconds,
                'gate_accuracy': GATES[name].min_accuracy, 'gate_seconds': GATES[name].max_seconds,
                'meets_target': result.accuracy >= accuracy and result.seconds <= seconds,
                'summary': f"{result.describe()}; reference target >= {accuracy:.1%} in <= {seconds:g} s"}
    return bench


def bench_autoencoder(solution, args):
    """The second assignment: grading its reference's unit sections in the sandbox, and its gate."""
    import assignments
    from grader.grade import Grader
    homework = assignments.get('autoencoder')
    names = [section.name for section in homework.unit_sections]
    started = time.perf_counter()
    grader = Grader(assignment=homework.name)
    report = grader.grade(homework.reference_path, names)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    grader.grade(homework.reference_path, names)
    warm = time.perf_counter() - started
    reference = homework.load(homework.reference_path, 'benchmark_autoencoder_reference')
    gate = homework.module('gates').run_gate('bottleneck', reference, args.data_dir, args.allow_unverified)
    units = sum(section.points for section in homework.unit_sections)
    return {'cold_seconds': cold, 'warm_seconds': warm, 'score': report.total, 'gate_loss': gate.loss,
            'gate_seconds': gate.seconds, 'gate_max_loss': gate.gate.max_loss, 'gate_max_seconds': gate.gate.max_seconds,
            'meets_target': cold <= TARGETS['grading'] and report.total == units and gate.passed,
            'summary': f"{len(names)} unit sections: {cold:.1f} s on a fresh grader, {warm:.1f} s per further "
                       f"submission, score {report.total:g}/{units:g} (target <= {TARGETS['grading']:g} s); "
                       f"gate: {gate.describe()}"}


def _spin(stop):
    while not stop.is_set():
        pass


def bench_loaded(solution, args, burners=3):
    """The sandboxed gates of both assignments' references (MNIST, the autoencoder's bottleneck) with
    ``burners`` CPU-bound processes beside them on purpose: a busy grading machine must not fail them."""
    import multiprocessing
    import assignments
    from grader.grade import Grader
    context = multiprocessing.get_context('spawn')
    stop = context.Event()
    spinners = [context.Process(target=_spin, args=(stop,), daemon=True) for _ in range(burners)]
    for spinner in spinners:
        spinner.start()
    figures = {}
    try:
        for assignment, gate in (('numpy-nn', 'mnist'), ('autoencoder', 'bottleneck')):
            grader = Grader(data_dir=args.data_dir, unverified_ok=args.allow_unverified, assignment=assignment)
            started = time.perf_counter()
            verdict = grader.grade(assignments.get(assignment).reference_path, [gate]).sections[0]
            figures[gate] = {'verdict': verdict.verdict, 'judged_seconds': verdict.seconds,
                             'wall_seconds': time.perf_counter() - started, 'reason': verdict.reason}
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(timeout=10)
    passed = all(figure['verdict'] == 'passed' for figure in figures.values())
    return {**figures, 'burners': burners, 'meets_target': passed,
            'summary': f"{burners} CPU-bound processes beside the sandboxed gates: " + '; '.join(
                f"{gate} {figure['verdict']} (judged {figure['judged_seconds']:.1f} s of CPU, "
                f"{figure['wall_seconds']:.1f} s wall)" for gate, figure in figures.items())}


def bench_speed(solution, args):
    from instructor.speed import bench_speed as speed
    return speed(solution, args)


def bench_deadline(solution, args):
    """The deadline rush (service/loadtest.py); ``args.workers`` grading workers."""
    from service.loadtest import DEADLINE_TARGETS, deadline, deadline_options, deadline_verdict
    runs = deadline(deadline_options(workers=args.workers, executors=['local', 'dask', 'null']))
    return {'runs': runs, 'targets': DEADLINE_TARGETS, **deadline_verdict(runs)}


def bench_scale(solution, args):
    from instructor.scale_benchmark import bench_scale as scale
    figures = getattr(args, 'figures', {})  # gates measured earlier in this run feed the capacity table
    return scale(solution, args, {name: figures[name]['seconds'] for name in ('mnist', 'cifar10') if name in figures})


BENCHMARKS = {'convolve': bench_convolve, 'grading': bench_grading, 'mnist': bench_gate('mnist'),
              'cifar10': bench_gate('cifar10'), 'speed': bench_speed, 'scale': bench_scale,
              'autoencoder': bench_autoencoder, 'loaded': bench_loaded, 'deadline': bench_deadline}


def benchmark_command(args):
    import torch
    solution = load_solution(KIT_ROOT / 'solution.py')
    machine = {'cores': os.cpu_count(), 'processor': platform.processor() or platform.machine(),
               'python': platform.python_version(), 'numpy': np.__version__, 'torch': torch.__version__}
    figures = args.figures = {'machine': machine}
    for name in args.what:
        figures[name] = BENCHMARKS[name](solution, args)
    print(f"\nBenchmarks on {machine['cores']} cores ({machine['processor']}), numpy {machine['numpy']}, "
          f"torch {machine['torch']}")
    for name in args.what:
        mark = 'meets target' if figures[name]['meets_target'] else 'MISSES target'
        print(f"  {name:<9} {figures[name]['summary']}  [{mark}]")
    with open(args.json, 'w') as file:
        json.dump(figures, file, indent=2)
    print(f"Written to {args.json}")
    return 0
