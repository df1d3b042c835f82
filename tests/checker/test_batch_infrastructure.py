"""Batch grading when our side fails: the README's cluster commands work as written (no PYTHONPATH),
a cluster that differs from this machine is refused and nothing it could not grade gets points,
``--resume`` grades it later, Ctrl-C stops in one line, and nonsense options are refused."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA_DIR, KIT_ROOT
from tests.support.mutants import MUTANTS, apply as apply_mutant

pytestmark = pytest.mark.cluster  # markers: pyproject.toml

REFERENCE = (KIT_ROOT / 'solution.py').read_text()
SECTIONS = ['relu', 'sgd']
MUTANT = next(m for m in MUTANTS if m.section == 'sgd')


def needs_dask():
    """Cluster tests run wherever dask is installed; under CI a missing dask fails them."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        if os.environ.get('CI'):
            raise
        pytest.skip('dask[distributed] is not installed')


def uploads(folder, references=3, mutants=1):
    """``references`` copies of the reference and ``mutants`` of an sgd mistake, one .py per student."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(references):
        (folder / f"ref{index}.py").write_text(REFERENCE)
    for index in range(mutants):
        (folder / f"wrong{index}.py").write_text(apply_mutant(REFERENCE, MUTANT))
    return folder


def run_kit(*arguments, cwd=KIT_ROOT, run_py=KIT_ROOT / 'run.py', timeout=240, **options):
    from tests.support.dask_cluster import environment
    return subprocess.run([sys.executable, str(run_py), *map(str, arguments)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=environment(NN_KIT_DATA_DIR=str(DATA_DIR)), **options)


def rows(path):
    with open(path) as file:
        return {row['student_id']: row for row in csv.DictReader(file)}


def assert_graded(gradebook, references=3, mutants=1):
    found = rows(gradebook)
    assert sorted(found) == sorted([f"ref{i}" for i in range(references)] + [f"wrong{i}" for i in range(mutants)])
    for student, row in found.items():
        if student.startswith('ref'):
            assert (row['total'], row['verdicts']) == ('1.5', 'ok'), row
        else:
            assert (row['total'], row['verdicts']) == ('1', 'sgd WA'), row


def assert_nothing_scored(gradebook, outdir, reason):
    """Every row and report says 'not graded' (with ``reason``) and holds no points, zero or other."""
    for row in rows(gradebook).values():
        assert row['total'] == 'not graded' and row['verdicts'].startswith('not graded: ') and reason in row['verdicts']
        assert all(row[name] == 'not graded' for name in SECTIONS), row
    for path in outdir.glob('*.json'):
        report = json.loads(path.read_text())
        assert report['total'] is None and reason in report['not_graded']
        assert {(s['verdict'], s['points']) for s in report['sections']} == {('not graded', None)}


# -- options --------------------------------------------------------------------------------------
@pytest.mark.parametrize('arguments, complaint', [
    (['--workers', '0'], '--workers 0: '), (['--workers', '-3'], '--workers -3: '),
    (['--workers', 'two'], '--workers two: '),
    (['--workers', '2', '--scheduler', 'tcp://127.0.0.1:9'], 'makes no sense with --scheduler'),
    (['--workers', '2', '--serial'], 'makes no sense with --serial'),
])
def test_nonsense_worker_counts_are_refused_in_one_line(tmp_path, arguments, complaint):
    folder = uploads(tmp_path / 'uploads', references=2, mutants=0)
    run = run_kit('grade', folder, '--csv', tmp_path / 'g.csv', *arguments, timeout=60)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().count('\n') == 0 and complaint in run.stderr, run.stderr
    assert run.stdout == '' and not (tmp_path / 'g.csv').exists()


# -- failures of ours without a cluster ----------------------------------------------------------
def test_a_sandbox_that_cannot_start_grades_nothing_and_resume_grades_it(tmp_path, monkeypatch, capsys):
    """The sandbox failing to start (grader.sandbox.run_child raises InfrastructureError) stops the
    batch: no points, 'not graded', exit status 4."""
    import run
    from grader import grade
    from grader.infrastructure import InfrastructureError
    folder = uploads(tmp_path / 'uploads', references=2, mutants=1)
    outdir, gradebook = tmp_path / 'reports', tmp_path / 'g.csv'
    arguments = ['grade', str(folder), '--serial', '--sections', *SECTIONS, '--json', str(outdir),
                 '--csv', str(gradebook), '--data-dir', str(DATA_DIR)]
    real = grade.run_child

    def no_sandbox(*arguments, **options):
        raise InfrastructureError("the sandbox could not be started ([Errno 2] No such file or directory: 'bwrap')")
    monkeypatch.setattr(grade, 'run_child', no_sandbox)
    assert run.main(arguments) == 4
    err = capsys.readouterr().err
    assert 'Stopped: the sandbox could not be started' in err and '--resume' in err, err
    assert not gradebook.exists()
    assert_nothing_scored(tmp_path / 'g.partial.csv', outdir, 'the sandbox could not be started')
    assert len(list(outdir.glob('*.json'))) == 3

    monkeypatch.setattr(grade, 'run_child', real)
    assert run.main(arguments + ['--resume']) == 0
    assert '--resume: 0 of 3 submissions already graded' in capsys.readouterr().out
    assert_graded(gradebook, references=2, mutants=1)
    assert not (tmp_path / 'g.partial.csv').exists()


def test_an_internal_error_is_not_graded_and_the_batch_goes_on(tmp_path, monkeypatch):
    from grader.batch import find_submissions, grade_batch
    from grader.executor import SerialExecutor, run_job
    from grader.grade import Grader
    folder = uploads(tmp_path / 'uploads', references=2, mutants=0)
    real = Grader.grade

    def buggy(self, path, *rest):  # a bug of ours that only this input shows
        if Path(path).read_text().startswith('#ref0'):
            raise KeyError('oops')
        return real(self, path, *rest)
    monkeypatch.setattr(Grader, 'grade', buggy)
    (folder / 'ref0.py').write_text('#ref0\n' + REFERENCE)
    reports, stop = grade_batch(find_submissions([folder]), SECTIONS, SerialExecutor(run_job), {}, progress=False)
    by_student = {s.student: r for s, r in reports.items()}
    assert stop is None
    assert by_student['ref0']['total'] is None and 'internal grader error (KeyError' in by_student['ref0']['not_graded']
    assert by_student['ref1']['total'] == 1.5


def test_dask_failures_are_ours_and_say_how_to_fix_them():
    needs_dask()
    from distributed import KilledWorker
    from grader.executor import dask_failure
    graph = dask_failure(RuntimeError("Error during deserialization of the task graph. This frequently\noccurs..."))
    assert graph.stops_batch and 'could not read a grading job' in str(graph) and 'requirements.txt' in str(graph)
    missing = dask_failure(ModuleNotFoundError("No module named 'grader'"))
    assert missing.stops_batch and '--preload dask_preload.py' in str(missing)
    killed = dask_failure(KilledWorker('units-1', 'tcp://127.0.0.1:1', 2))
    assert not killed.stops_batch and 'KilledWorker' in str(killed)


def test_a_dask_task_unpickles_without_the_kit(tmp_path):
    """What the scheduler unpickles (the task of a job) needs no kit: a Python without the kit on its
    path (isolated mode, another folder) loads it; only plain data goes in."""
    needs_dask()
    import dataclasses

    from dask._task_spec import Task
    from distributed.protocol.pickle import dumps
    from grader.executor import dask_task, kit_identity, plain, split_jobs
    job = split_jobs('uploads/alice.py', REFERENCE.encode(), SECTIONS, policy_options={'policy': {'loops': 'warn'}})[0]
    payload = {'run': 'grader.executor:run_job', 'job': dataclasses.asdict(job), 'kit': kit_identity()['kit']}
    function, *arguments = dask_task(payload)
    task = dumps(Task('units-1', function, *arguments))
    loader = ("import pickle, sys; task = pickle.loads(sys.stdin.buffer.read()); "
              "assert not [name for name in sys.modules if name.split('.')[0] in ('grader', 'assignments')]; "
              "print(type(task).__name__, task.args[1][0]['job']['label'])")
    loaded = subprocess.run([sys.executable, '-I', '-c', loader], input=task, cwd=tmp_path, capture_output=True,
                            timeout=60)
    assert loaded.returncode == 0, loaded.stderr.decode()[-2000:]
    assert loaded.stdout.decode().split() == ['Task', 'uploads/alice.py']
    with pytest.raises(TypeError, match=r"payload\['job'\] is a Job"):
        plain({'job': job})


# -- on a real cluster ----------------------------------------------------------------------------
def test_the_readme_commands_grade_on_a_fresh_kit_without_pythonpath(tmp_path):
    """The README's one-machine recipe, line by line, in a fresh copy of the kit (no PYTHONPATH):
    the scheduler cannot import the kit and does not need to."""
    needs_dask()
    from distributed import Client
    from tests.support.dask_cluster import (copy_kit, environment, free_port, readme_one_machine_commands,
                                    start_command, stop_process)
    scheduler_line, worker_line, grade_line = readme_one_machine_commands()
    assert scheduler_line.startswith('dask scheduler ') and worker_line.startswith('dask worker ')
    assert grade_line.startswith('./run.py grade uploads/ --scheduler tcp://127.0.0.1:8786')
    kit = copy_kit(tmp_path / 'kit')
    uploads(kit / 'uploads')
    port = free_port()
    env = environment(NN_KIT_DATA_DIR=str(DATA_DIR))
    assert 'PYTHONPATH' not in env
    processes = []
    try:
        processes.append(start_command(scheduler_line, kit, tmp_path / 'scheduler.log', env, port))
        processes.append(start_command(worker_line, kit, tmp_path / 'worker.log', env, port))
        with Client(f"tcp://127.0.0.1:{port}", timeout='60s') as client:
            client.wait_for_workers(2, timeout=90)
            import importlib.util
            assert client.run_on_scheduler(importlib.util.find_spec, 'grader') is None
        command = grade_line.replace(':8786', f':{port}').split() + ['--skip-gates', '--sections', *SECTIONS]
        run = subprocess.run(command, cwd=kit, env=env, capture_output=True, text=True, timeout=300)
    finally:
        for process in reversed(processes):
            stop_process(process)
    logs = '\n'.join(path.read_text(errors='replace')[-3000:] for path in tmp_path.glob('*.log'))
    assert run.returncode == 0, run.stderr[-3000:] + logs
    assert '4 of 4 submissions graded' in run.stdout
    assert_graded(kit / 'grades.csv')
    assert all(json.loads(path.read_text())['total'] in (1.0, 1.5) for path in (kit / 'reports').glob('*.json'))


def test_a_worker_with_another_kit_is_refused_and_resume_grades_later(tmp_path):
    """A worker started from a copy of the kit with one file changed: refused before the first job
    (and by each job, should it join later); a worker without --preload: refused; nothing gets a
    point; on a healthy cluster --resume grades everything."""
    needs_dask()
    from grader.batch import find_submissions, grade_batch
    from grader.executor import make_executor
    from tests.support.dask_cluster import Cluster, copy_kit
    other = copy_kit(tmp_path / 'other-kit')
    with open(other / 'grader' / 'compare.py', 'a') as file:
        file.write('\n# changed on one grading machine\n')
    folder = uploads(tmp_path / 'uploads', references=2, mutants=1)
    outdir, gradebook, partial = tmp_path / 'reports', tmp_path / 'g.csv', tmp_path / 'g.partial.csv'
    (tmp_path / 'logs').mkdir()
    with Cluster(workers=0, log_dir=tmp_path / 'logs', kit=other) as cluster:
        bad = cluster.add_worker(gate=True)
        cluster.wait_for_workers(1)
        arguments = ['grade', folder, '--scheduler', cluster.address, '--sections', *SECTIONS, '--json', outdir,
                     '--csv', gradebook]
        run = run_kit(*arguments)
        assert run.returncode == 4, run.stderr[-3000:] + cluster.logs()
        assert 'another version of the kit' in run.stderr and 'grader/compare.py' in run.stderr, run.stderr
        assert 'Traceback' not in run.stderr
        assert not gradebook.exists()
        assert_nothing_scored(partial, outdir, 'grader/compare.py')

        # the same worker joining after the check: each job compares the kit itself
        with make_executor(cluster.address, verify=False) as executor:
            reports, stop = grade_batch(find_submissions([folder]), SECTIONS, executor, {}, progress=False)
        assert 'another version of the kit' in str(stop) and stop.stops_batch
        assert all(report['total'] is None for report in reports.values()) and len(reports) == 3

        cluster.kill_worker(bad)  # a worker started from the kit's folder without --preload
        cluster.add_worker(gate=True, kit=KIT_ROOT, preload=False)
        cluster.wait_for_workers(1)
        run = run_kit(*arguments, '--resume')
        assert run.returncode == 4, run.stderr[-3000:]
        assert 'cannot import the kit' in run.stderr and '--preload dask_preload.py' in run.stderr, run.stderr
        assert_nothing_scored(partial, outdir, 'cannot import the kit')

        cluster.kill_worker(len(cluster.workers) - 1)  # fixed: a worker as the README says
        cluster.add_worker(gate=True, kit=KIT_ROOT)
        cluster.wait_for_workers(1)
        run = run_kit(*arguments, '--resume')
        logs = cluster.logs()
    assert run.returncode == 0, run.stderr[-3000:] + logs
    assert '--resume: 0 of 3 submissions already graded' in run.stdout
    assert_graded(gradebook, references=2, mutants=1)
    assert not partial.exists()


def test_ctrl_c_stops_in_one_line_and_resume_finishes(tmp_path):
    """SIGINT to the grade command's process group (what Ctrl-C on a terminal does, the local
    cluster's workers included): one line, exit status 130, the finished reports kept, a partial
    gradebook that does not pass for the final one; --resume grades the rest."""
    needs_dask()
    folder = uploads(tmp_path / 'uploads', references=11, mutants=1)
    outdir, gradebook = tmp_path / 'reports', tmp_path / 'g.csv'
    arguments = [sys.executable, str(KIT_ROOT / 'run.py'), 'grade', str(folder), '--workers', '2',
                 '--sections', *SECTIONS, '--json', str(outdir), '--csv', str(gradebook)]
    from tests.support.dask_cluster import environment, stop_process, wait_until
    env = environment(NN_KIT_DATA_DIR=str(DATA_DIR))
    grading = subprocess.Popen(arguments, cwd=KIT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        assert wait_until(lambda: any(outdir.glob('*.json')), timeout=180), grading.stderr
        os.killpg(grading.pid, signal.SIGINT)
        started = time.monotonic()
        out, err = grading.communicate(timeout=90)
        stopping = time.monotonic() - started
    finally:
        stop_process(grading)
    assert grading.returncode == 130, err[-3000:]
    assert 'Traceback' not in err and 'distributed.' not in err, err[-3000:]
    interrupted = [line for line in err.splitlines() if 'Interrupted' in line]
    assert len(interrupted) == 1 and '--resume' in interrupted[0] and 'g.partial.csv' in interrupted[0], err
    assert stopping < 60
    kept = {path.stem for path in outdir.glob('*.json')}
    assert 1 <= len(kept) < 12 and not list(outdir.glob('*.partial'))
    assert not gradebook.exists(), "an interrupted batch's gradebook never passes for the final one"
    assert set(rows(tmp_path / 'g.partial.csv')) == kept

    run = subprocess.run(arguments + ['--resume'], cwd=KIT_ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"--resume: {len(kept)} of 12 submissions already graded" in run.stdout
    assert_graded(gradebook, references=11, mutants=1)
    assert not (tmp_path / 'g.partial.csv').exists()
