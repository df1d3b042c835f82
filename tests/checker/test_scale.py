"""Grading at scale on a real Dask cluster (a `dask scheduler` and two `dask worker` processes on
127.0.0.1): a killed worker's job runs again elsewhere and is recorded once, a job that kills every
worker it lands on is not graded (never 0 points), the verdicts equal those of grading in this
process, the gradebook CSV, the loss of the scheduler, and --resume."""
import csv
import json
import os
import subprocess
import sys
import time

import pytest

try:
    import distributed  # noqa: F401
except ImportError:  # CI must run these tests: a missing dask fails there
    if os.environ.get('CI'):
        raise
    pytest.skip('dask[distributed] is not installed', allow_module_level=True)

from grader.batch import find_submissions, grade_batch
from grader.executor import SerialExecutor, make_executor, split_jobs
from public_tests.sections import UNIT_SECTIONS
from tests.conftest import KIT_ROOT
from tests.support.dask_cluster import Cluster, run_or_die, wait_until, worker_name
from tests.support.mutants import MUTANTS, apply as apply_mutant

pytestmark = pytest.mark.cluster  # markers: pyproject.toml

UNITS = [section.name for section in UNIT_SECTIONS]
REFERENCE = (KIT_ROOT / 'solution.py').read_text()
PICKED = {'bob': 'sgd', 'carol': 'softmax', 'dave': 'dropout'}  # student -> the section their mistake costs


def verdicts(report):
    return [(section['name'], section['verdict']) for section in report['sections']]


@pytest.fixture(scope='module')
def uploads(tmp_path_factory):
    """alice/solution.py (the reference) and bob.py, carol.py, dave.py (one mutant each)."""
    folder = tmp_path_factory.mktemp('uploads')
    (folder / 'alice').mkdir()
    (folder / 'alice' / 'solution.py').write_text(REFERENCE)
    for student, section in PICKED.items():
        mutant = next(m for m in MUTANTS if m.section == section)
        (folder / f'{student}.py').write_text(apply_mutant(REFERENCE, mutant))
    return folder


@pytest.fixture(scope='module')
def serial(uploads):
    """{student: verdicts} graded in this process, one job after another."""
    executor = SerialExecutor()
    reports, problem = grade_batch(find_submissions([uploads]), UNITS, executor, {}, progress=False)
    assert problem is None
    by_student = {submission.student: verdicts(report) for submission, report in reports.items()}
    assert {student for student, found in by_student.items() if all(v == 'passed' for _, v in found)} == {'alice'}
    for student, section in PICKED.items():
        assert [name for name, verdict in by_student[student] if verdict != 'passed'] == [section]
    return by_student


def test_split_jobs_keeps_units_together_and_each_gate_alone():
    jobs = split_jobs('x', b'', ['relu', 'mnist', 'dense', 'cifar10'])
    assert [job.sections for job in jobs] == [('relu', 'dense'), ('mnist',), ('cifar10',)]
    assert [job.needs_gate_worker for job in jobs] == [False, True, True]
    assert not split_jobs('x', b'', ['mnist'], skip_gates=True)[0].needs_gate_worker


def test_cluster_survives_a_killed_worker_and_a_job_that_kills_workers(uploads, serial, tmp_path):
    folder = tmp_path / 'uploads'
    folder.mkdir()
    for path in uploads.rglob('*.py'):
        target = folder / path.relative_to(uploads)
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(path.read_bytes())
    (folder / 'zoe_die.py').write_text(REFERENCE)  # run_or_die ends its worker for this one
    submissions = find_submissions([folder])
    outdir = tmp_path / 'reports'
    outdir.mkdir()
    with Cluster(workers=2, log_dir=tmp_path, allowed_failures=2) as cluster:
        with make_executor(cluster.address, run=worker_name) as probe:  # where do gate jobs go?
            gates = [probe.submit(job) for job in split_jobs('x', b'', ['mnist', 'cifar10'] * 3)]
            units = [probe.submit(job) for job in split_jobs('x', b'', ['relu']) * 6]
            assert {future.result(timeout=60) for future in gates} == {'w0'}, "a gate job ran on a worker without gate"
            assert 'w1' in {future.result(timeout=60) for future in units}  # not all queued behind the gates
        executor = make_executor(cluster.address, run=run_or_die)
        try:
            assert executor.workers == 2 and executor.gate_workers() == ['w0']
            killed = []

            def kill_a_busy_worker():
                """Once a unit job has run a moment on some worker, SIGKILL that worker and its nanny."""
                while not killed:
                    processing = executor.client.processing()
                    names = {address: info['name'] for address, info in
                             executor.client.scheduler_info(n_workers=-1)['workers'].items()}
                    busy = [names[address] for address, keys in processing.items()
                            if any('die' not in key for key in keys)]
                    if busy:
                        time.sleep(1.0)
                        index = int(busy[0][1:])
                        cluster.kill_worker(index)
                        killed.append(busy[0])
                    time.sleep(0.05)

            import threading
            killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
            killer.start()
            recorded = []
            reports, problem = grade_batch(submissions, UNITS, executor, {}, outdir,
                                           on_report=lambda s, r: recorded.append(s.student), progress=False)
            killer.join(timeout=30)
        finally:
            executor.close()
        logs = cluster.logs()
    assert problem is None, logs
    assert killed, "no worker was killed mid-job"
    assert sorted(recorded) == ['alice', 'bob', 'carol', 'dave', 'zoe_die'], "each submission recorded once"
    by_student = {s.student: r for s, r in reports.items()}
    for student, expected in serial.items():
        assert verdicts(by_student[student]) == expected, (student, logs)
        assert json.loads((outdir / f"{'alice__solution' if student == 'alice' else student}.json").read_text()
                          )['sections'] == by_student[student]['sections']
    lost = by_student['zoe_die']
    assert [s['verdict'] for s in lost['sections']] == ['not graded'] * len(UNITS)
    assert [s['points'] for s in lost['sections']] == [None] * len(UNITS) and lost['total'] is None
    assert 'KilledWorker' in lost['not_graded'] and 'KilledWorker' in lost['sections'][0]['reason']
    assert len(list(outdir.glob('*.json'))) == 5


def run_kit(*arguments, **options):
    return subprocess.Popen([sys.executable, str(KIT_ROOT / 'run.py'), *map(str, arguments)], cwd=KIT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


def test_lost_scheduler_stops_the_batch_then_resume_finishes_it(uploads, serial, tmp_path):
    outdir, gradebook = tmp_path / 'reports', tmp_path / 'grades.csv'
    with Cluster(workers=2, log_dir=tmp_path) as cluster:
        run = run_kit('grade', uploads, '--sections', 'units', '--scheduler', cluster.address,
                      '--json', outdir, '--csv', gradebook)
        try:
            assert wait_until(lambda: any(outdir.glob('*.json')), timeout=90), cluster.logs()
            cluster.kill_scheduler()
            out, err = run.communicate(timeout=90)
        finally:
            if run.poll() is None:
                run.kill()
    assert run.returncode == 3, err[-3000:]
    assert 'lost the Dask scheduler' in err and '--resume' in err, err[-3000:]
    reports = {path: json.loads(path.read_text()) for path in outdir.glob('*.json')}
    kept = sorted(path.stem for path, report in reports.items() if report.get('not_graded') is None)
    assert 1 <= len(kept) < 4 and len(reports) == 4
    for report in reports.values():  # what was not finished is not graded: no points, never 0
        if report.get('not_graded') is not None:
            assert 'lost the Dask scheduler' in report['not_graded'] and report['total'] is None
            assert {(s['verdict'], s['points']) for s in report['sections']} == {('not graded', None)}
    assert not gradebook.exists(), "a gradebook that is not complete is never written as the final one"
    with open(tmp_path / 'grades.partial.csv') as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 4 and sum(row['total'] == 'not graded' for row in rows) == 4 - len(kept)
    assert all(row['verdicts'].startswith('not graded: ') for row in rows if row['total'] == 'not graded')
    assert not list(outdir.glob('*.partial'))

    before = {path: path.stat().st_mtime_ns for path in outdir.glob('*.json') if path.stem in kept}
    run = run_kit('grade', uploads, '--sections', 'units', '--serial', '--json', outdir, '--csv', gradebook,
                  '--resume')
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err[-3000:]
    assert f"--resume: {len(kept)} of 4 submissions already graded" in out
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in before.items()), "graded again"
    assert not (tmp_path / 'grades.partial.csv').exists(), "the complete gradebook supersedes the partial one"
    with open(gradebook) as file:
        rows = {row['student_id']: row for row in csv.DictReader(file)}
    assert sorted(rows) == ['alice', 'bob', 'carol', 'dave']
    for student, expected in serial.items():
        report = json.loads((outdir / f"{'alice__solution' if student == 'alice' else student}.json").read_text())
        assert verdicts(report) == expected
        row = rows[student]
        assert float(row['total']) == report['total'] and row['max_total'] == '15'
        assert [float(row[name]) for name in UNITS] == [s['points'] for s in report['sections']]
    assert rows['alice']['verdicts'] == 'ok' and rows['alice']['total'] == '15'
    assert rows['bob']['verdicts'] == 'sgd WA' and rows['bob']['sgd'] == '0' and rows['bob']['total'] == '14.5'


def test_student_ids_and_report_names_come_from_the_file_or_folder(tmp_path):
    from grader.gradebook_csv import student_id
    assert student_id(tmp_path / 'alice.py', tmp_path) == 'alice'
    assert student_id(tmp_path / 'bob' / 'solution.py', tmp_path) == 'bob'
    assert student_id(tmp_path / 'carol' / 'hw2' / 'solution.py', tmp_path) == 'carol'
    for name in ('a/solution.py', 'b/solution.py', 'c.py'):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text('')
    found = find_submissions([tmp_path])
    assert [(s.student, s.stem) for s in found] == [('a', 'a__solution'), ('b', 'b__solution'), ('c', 'c')]


def flaky(job):
    """Fails (the executor's fault, not the submission's) for bob's jobs."""
    if 'bob' in job.label:
        raise OSError('disk full')
    from grader.executor import run_job
    return run_job(job)


def test_a_job_the_executor_cannot_run_is_not_graded_and_stops_the_batch(uploads):
    submissions = [s for s in find_submissions([uploads]) if s.student in ('alice', 'bob', 'carol')]
    reports, problem = grade_batch(submissions, ['relu', 'sgd'], SerialExecutor(flaky), {}, progress=False)
    by_student = {s.student: r for s, r in reports.items()}
    assert 'OSError: disk full' in str(problem)
    assert verdicts(by_student['alice']) == [('relu', 'passed'), ('sgd', 'passed')]
    for student in ('bob', 'carol'):  # bob's job failed; carol's never ran: the batch stopped
        assert verdicts(by_student[student]) == [('relu', 'not graded'), ('sgd', 'not graded')]
        assert by_student[student]['total'] is None and 'OSError: disk full' in by_student[student]['not_graded']
        assert [s['points'] for s in by_student[student]['sections']] == [None, None]
