"""``./run.py benchmark scale [--submissions 40] [--workers 2]``: grading throughput and capacity.

* Batch: N submissions (the reference and mutants from tests/support/mutants.py in turn), the 12 unit
  sections, graded serially in this process, then on a local Dask cluster of W single-threaded
  workers (its start-up timed apart): seconds each and the speedup (target >= 1.7x for 2 workers).
* Per-job overhead: one small job (the ReLU section of the reference) graded in-process with a
  warm grader, then submitted through a warm one-worker Dask cluster; the difference of the medians
  is what the executor adds to every job (scheduling, pickling, the worker's temporary file).
* Capacity on paper: from the measured unit-job cost and the gates' costs (measured in the same run
  when ``mnist`` / ``cifar10`` are benchmarked too, else the README's reference figures), the hours
  to grade 300 students with both gates on 1, 4, 16 and 64 two-core machines; gates use both cores
  of a machine, unit jobs one.  Both for reference-like submissions and for the worst case where
  every gate runs to its time limit.
"""
import statistics
import tempfile
import time
from pathlib import Path

import assignments
from grader.limits import limits_for
from grader.sandbox import KIT_ROOT

TARGET_SPEEDUP = 1.7
STUDENTS, MACHINES, CORES = 300, (1, 4, 16, 64), 2
README_GATE_SECONDS = {'mnist': 28.2, 'cifar10': 995.0}  # sandboxed reference runs, README (2026-11-22)


def planted_submissions(folder, count):
    """``count`` submissions: the reference, then one catalogued mistake after another."""
    from grader.mistakes import apply, load_mistakes
    mistakes = load_mistakes(assignments.get('numpy-nn').catalogue)
    reference = (KIT_ROOT / 'solution.py').read_text()
    for index in range(count):
        turn = index % (len(mistakes) + 1)
        source = reference if turn == 0 else apply(reference, mistakes[turn - 1])
        (Path(folder) / f"student{index:03d}.py").write_text(source)


def time_batch(submissions, names, executor):
    from grader.batch import grade_batch
    started = time.perf_counter()
    reports, problem = grade_batch(submissions, names, executor, {}, progress=False)
    if problem or len(reports) != len(submissions):
        raise RuntimeError(f"the batch did not finish: {problem}")
    return time.perf_counter() - started, {s.stem: [x['verdict'] for x in r['sections']] for s, r in reports.items()}


def job_overhead(repeats=7):
    """(in-process median, through Dask median) seconds for the ReLU section of the reference."""
    from grader.executor import make_executor, run_job, split_jobs
    job = split_jobs('overhead', (KIT_ROOT / 'solution.py').read_bytes(), ['relu'])[0]
    run_job(job)  # warm: the grader and its reference outputs
    local = []
    for _ in range(repeats):
        started = time.perf_counter()
        run_job(job)
        local.append(time.perf_counter() - started)
    with make_executor('local', workers=1) as executor:
        executor.submit(job).result()  # warm the worker's grader
        remote = []
        for _ in range(repeats):
            started = time.perf_counter()
            executor.submit(job).result()
            remote.append(time.perf_counter() - started)
    return statistics.median(local), statistics.median(remote)


def capacity(unit_seconds, gate_seconds):
    """{machines: hours} for STUDENTS students; core-seconds over cores, never less than one CIFAR run."""
    core_seconds = STUDENTS * (unit_seconds + CORES * (gate_seconds['mnist'] + gate_seconds['cifar10']))
    return {machines: max(core_seconds / (CORES * machines), gate_seconds['cifar10']) / 3600 for machines in MACHINES}


def bench_scale(solution, args, measured_gates=None):
    from grader.batch import find_submissions
    from grader.executor import make_executor
    from public_tests.sections import UNIT_SECTIONS
    names = [section.name for section in UNIT_SECTIONS]
    count, workers = args.submissions, args.workers
    with tempfile.TemporaryDirectory(prefix='nn-bench-scale-') as folder:
        planted_submissions(folder, count)
        submissions = find_submissions([folder])
        serial_seconds, serial_verdicts = time_batch(submissions, names, make_executor('serial'))
        started = time.perf_counter()
        executor = make_executor('local', workers=workers)
        startup = time.perf_counter() - started
        try:
            dask_seconds, dask_verdicts = time_batch(submissions, names, executor)
        finally:
            executor.close()
    if dask_verdicts != serial_verdicts:
        raise RuntimeError("the Dask batch's verdicts differ from the serial ones")
    local, remote = job_overhead()
    unit_seconds = serial_seconds / count
    gates = {name: (measured_gates or {}).get(name, README_GATE_SECONDS[name]) for name in README_GATE_SECONDS}
    limits = limits_for(assignments.get('numpy-nn'))
    worst = {name: limits[name].seconds for name in README_GATE_SECONDS}
    speedup = serial_seconds / dask_seconds
    table = {'reference': capacity(unit_seconds, gates), 'worst_case': capacity(unit_seconds, worst)}
    rows = ', '.join(f"{m} machine(s): {table['reference'][m]:.1f} h ({table['worst_case'][m]:.1f} h worst)"
                     for m in MACHINES)
    return {'submissions': count, 'workers': workers, 'serial_seconds': serial_seconds, 'dask_seconds': dask_seconds,
            'cluster_startup_seconds': startup, 'speedup': speedup, 'target_speedup': TARGET_SPEEDUP,
            'unit_job_seconds': unit_seconds, 'job_in_process_seconds': local, 'job_through_dask_seconds': remote,
            'job_overhead_seconds': remote - local, 'gate_seconds': gates, 'gate_limit_seconds': worst,
            'capacity_hours': table, 'meets_target': speedup >= TARGET_SPEEDUP,
            'summary': f"{count} submissions x 12 unit sections: serial {serial_seconds:.1f} s, {workers} Dask workers "
                       f"{dask_seconds:.1f} s (+{startup:.1f} s start-up): {speedup:.2f}x (target >= "
                       f"{TARGET_SPEEDUP}x); per-job overhead {1e3 * (remote - local):.0f} ms "
                       f"({1e3 * local:.0f} ms in-process vs {1e3 * remote:.0f} ms through Dask); "
                       f"{STUDENTS} students with both gates: {rows}"}
