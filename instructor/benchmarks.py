"""``./run.py benchmark``: the figures the README quotes, with the thresholds beside them.

Every assignment's (its ``benchmarks`` module: the first assignment's convolve, mnist, cifar10, scale and
speed, the second's autoencoder), and these, for any assignment:

grading      sandboxed grading of the chosen assignment's reference (a fresh grader, then a warm one), and,
             where it has a mistake catalogue, of a submission with a mistake in every unit section
             (diagnosis and shrinking for each)
loaded       each assignment's quickest gate, sandboxed, with 3 CPU-bound processes beside it
kit-install  each assignment's student kit installed in a fresh venv as its README says, then used
             (instructor/kit_install.py): install time and venv size against 1 minute and 1 GB
deadline     the upload checker through a deadline rush (service.loadtest --deadline): 300 students, most in
             the last hour (replayed in 4 minutes), hostile and broken files among them; on the server's local
             workers, on a Dask cluster it starts, and on a null executor (grading that costs no CPU): upload
             latency, time to the unit report against the queue's fair share, nothing lost or graded twice
"""
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import assignments

TARGETS = {'grading': 30.0}


def best_of(function, repeats=5):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def every_section_wrong(assignment):
    """The reference with one catalogued mistake in each unit section that has one: those sections fail, so
    each gets the diagnosis and a shrinking child (the worst case for grading time)."""
    from grader.mistakes import apply, mistakes_of
    source = assignment.reference_path.read_text()
    for section in assignment.unit_sections:
        mistakes = mistakes_of(section.name, assignment.catalogue)
        if mistakes:
            source = apply(source, mistakes[0])
    return source


def grading_figures(assignment):
    """Seconds to grade ``assignment``'s reference (fresh grader, warm grader) and a file with every section wrong."""
    from grader.grade import Grader
    names = [section.name for section in assignment.unit_sections]
    units = sum(section.points for section in assignment.unit_sections)
    started = time.perf_counter()
    grader = Grader(assignment=assignment)
    report = grader.grade(assignment.reference_path, names)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    grader.grade(assignment.reference_path, names)
    warm = time.perf_counter() - started
    figures = {'cold_seconds': cold, 'warm_seconds': warm, 'score': report.total, 'target_seconds': TARGETS['grading']}
    summary = (f"{len(names)} unit sections of {assignment.name}: {cold:.1f} s on a fresh grader, {warm:.1f} s per "
               f"further submission, score {report.total:g}/{units:g}")
    slowest = cold
    if assignment.catalogue:
        with tempfile.TemporaryDirectory() as folder:
            failing = Path(folder) / 'solution.py'
            failing.write_text(every_section_wrong(assignment))
            started = time.perf_counter()
            failed = grader.grade(failing, names)
            slowest = max(cold, time.perf_counter() - started)
            figures.update(failing_seconds=time.perf_counter() - started,
                           failing_diagnosed=sum(bool(verdict.diagnosis) for verdict in failed.sections),
                           failing_shrunk=sum(bool(verdict.smallest_case) for verdict in failed.sections))
        summary += (f"; every section wrong: {figures['failing_seconds']:.1f} s ({figures['failing_diagnosed']} "
                    f"diagnosed, {figures['failing_shrunk']} shrunk)")
    return {**figures, 'meets_target': slowest <= TARGETS['grading'] and report.total == units,
            'summary': summary + f" (target <= {TARGETS['grading']:g} s)"}


def bench_grading(args):
    return grading_figures(assignments.get(getattr(args, 'assignment', None)))


def _spin(stop):
    while not stop.is_set():
        pass


def bench_loaded(args, burners=3):
    """Each assignment's quickest gate, sandboxed, with ``burners`` CPU-bound processes beside it on purpose:
    a busy grading machine must not fail a correct student."""
    import multiprocessing
    from grader.grade import Grader
    context = multiprocessing.get_context('spawn')
    stop = context.Event()
    spinners = [context.Process(target=_spin, args=(stop,), daemon=True) for _ in range(burners)]
    for spinner in spinners:
        spinner.start()
    figures = {}
    try:
        for assignment in assignments.ASSIGNMENTS.values():
            gates = assignment.gates
            if not gates:
                continue
            gate = min(gates, key=lambda name: gates[name].max_seconds)
            grader = Grader(data_dir=args.data_dir, unverified_ok=args.allow_unverified, assignment=assignment)
            started = time.perf_counter()
            verdict = grader.grade(assignment.reference_path, [gate]).sections[0]
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


def bench_kit_install(args):
    from instructor.kit_install import bench_kit_install as kit_install
    return kit_install(args)


def bench_deadline(args):
    """The deadline rush (service/loadtest.py); ``args.workers`` grading workers."""
    from service.loadtest import DEADLINE_TARGETS, deadline, deadline_options, deadline_verdict
    runs = deadline(deadline_options(workers=args.workers, executors=['local', 'dask', 'null']))
    return {'runs': runs, 'targets': DEADLINE_TARGETS, **deadline_verdict(runs)}


def all_benchmarks():
    """{name: function(args) -> figures}: these and every assignment's own."""
    found = {'grading': bench_grading, 'loaded': bench_loaded, 'kit-install': bench_kit_install,
             'deadline': bench_deadline}
    for assignment in assignments.ASSIGNMENTS.values():
        if assignment.has('benchmarks'):
            found.update(assignment.module('benchmarks').BENCHMARKS)
    return found


def benchmark_command(args):
    import torch
    benchmarks = all_benchmarks()
    unknown = [name for name in args.what if name not in benchmarks]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}. Choices: {', '.join(benchmarks)}")
    machine = {'cores': os.cpu_count(), 'processor': platform.processor() or platform.machine(),
               'python': platform.python_version(), 'numpy': np.__version__, 'torch': torch.__version__}
    figures = args.figures = {'machine': machine}
    for name in args.what:
        figures[name] = benchmarks[name](args)
    print(f"\nBenchmarks on {machine['cores']} cores ({machine['processor']}), numpy {machine['numpy']}, "
          f"torch {machine['torch']}")
    for name in args.what:
        mark = 'meets target' if figures[name]['meets_target'] else 'MISSES target'
        print(f"  {name:<9} {figures[name]['summary']}  [{mark}]")
    with open(args.json, 'w') as file:
        json.dump(figures, file, indent=2)
    print(f"Written to {args.json}")
    return 0
