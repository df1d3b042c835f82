"""Running a course without surprises: a wrong setting is refused in one line (exit status 2), and
nothing is corrupted or silently emptied.  One test (or more) per item of the issue; the databases
are SQLite files in tmp_path, the commands run through run.py's main in this process."""
import csv
import importlib.util
import io
import json
import os
import re
import stat
import zipfile
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.models import Job, Person, Result, Submission
from service.security import new_token
from tests.conftest import DATA_DIR, KIT_ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.service]  # markers: pyproject.toml

SPEC = importlib.util.spec_from_file_location('kit_run_for_course_tests', KIT_ROOT / 'run.py')
RUN = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(RUN)


def cli(*argv):
    """``./run.py ARGV`` in this process: its exit status (0 when it returned normally)."""
    try:
        return RUN.main([str(arg) for arg in argv]) or 0
    except SystemExit as stop:
        return stop.code


def one_line_error(capsys):
    """What the command printed to stderr, which must be one line."""
    error = capsys.readouterr().err.strip()
    assert error and len(error.splitlines()) == 1 and 'Traceback' not in error, error
    return error


@pytest.fixture
def served(monkeypatch):
    """``serve`` builds its app and hands it to uvicorn: keep it instead of serving."""
    import uvicorn
    apps = []
    monkeypatch.setattr(uvicorn, 'run', lambda app, **options: apps.append(app))
    return apps


@pytest.fixture(autouse=True)
def usual_umask():
    """The permission tests must not pass because of a strict umask of the machine."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def add_student(app, student_id='alice'):
    with app.state.sessions.begin() as db:
        person = Person(student_id=student_id, name=student_id.title(), email=f'{student_id}@x.edu',
                        role='student', token_hash='')
        db.add(person)
        db.flush()
        return new_token(person)


def add_graded(app, student_id, sections, created_at=None, verdict='passed', reason='ok'):
    """A submission of ``student_id`` with a result (1 point) for each section; returns its id."""
    with app.state.sessions.begin() as db:
        person = db.scalar(select(Person).where(Person.student_id == student_id))
        submission = Submission(person_id=person.id, filename='solution.py', content=b'x = 1\n', sha256='0' * 64,
                                size=6, **({'created_at': created_at} if created_at else {}))
        db.add(submission)
        db.flush()
        job = Job(submission_id=submission.id, kind='units', sections=list(sections), state='done')
        db.add(job)
        db.flush()
        for name in sections:
            db.add(Result(submission_id=submission.id, job_id=job.id, section=name, verdict=verdict,
                          points=1.0 if verdict == 'passed' else 0.0, max_points=1.0, reason=reason, warnings=[]))
        return submission.id


def sign_in(client, token):
    page = client.get('/login')
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post('/login', data={'token': token, 'csrf_token': csrf}, follow_redirects=False).status_code == 303


def sqlite(path):
    return f"sqlite:///{path}"


# -- 1. a database records its assignment ----------------------------------------------------------------
def test_a_database_of_one_assignment_is_refused_to_another(tmp_path, served, capsys):
    db = sqlite(tmp_path / 'course.sqlite3')
    assert cli('serve', '--db', db, '--sections', 'relu', 'flatten', '--no-worker') == 0
    add_student(served[-1], 'alice')
    add_graded(served[-1], 'alice', ['relu', 'flatten'])
    capsys.readouterr()
    refused = [('--assignment', 'autoencoder', 'serve', '--db', db, '--sections', 'activations', '--no-worker'),
               ('--assignment', 'autoencoder', 'gradebook', '--db', db, '--csv', tmp_path / 'gradebook.csv'),
               ('--assignment', 'autoencoder', 'roster', 'token', 'alice', '--db', db),
               ('--assignment', 'autoencoder', 'roster', 'import', tmp_path / 'roster.csv', '--db', db,
                '--links', tmp_path / 'links.csv')]
    (tmp_path / 'roster.csv').write_text('id,name,email\nbob,Bob,bob@x.edu\n')
    for argv in refused:
        assert cli(*argv) == 2, argv
        error = one_line_error(capsys)
        assert "'numpy-nn'" in error and '--assignment numpy-nn' in error, error
    assert len(served) == 1 and not (tmp_path / 'gradebook.csv').exists() and not (tmp_path / 'links.csv').exists()
    # the numpy-nn report is untouched, and its own gradebook still reads it
    assert cli('gradebook', '--db', db, '--csv', tmp_path / 'ok.csv') == 0
    row = next(csv.DictReader(open(tmp_path / 'ok.csv')))
    assert (row['student_id'], row['relu'], row['flatten'], row['total']) == ('alice', '1', '1', '2')


def test_a_database_from_before_the_course_table_is_judged_by_its_results(tmp_path, served, capsys):
    """A course database made without the course row (an older checker, or create_app alone)."""
    from service.app import create_app
    from service.config import Settings
    db = sqlite(tmp_path / 'checker.sqlite3')
    app = create_app(Settings(db_url=db, start_worker=False, sections=['relu']))
    add_student(app, 'alice')
    add_graded(app, 'alice', ['relu'])
    assert cli('--assignment', 'autoencoder', 'serve', '--db', db, '--sections', 'activations', '--no-worker') == 2
    assert "--assignment numpy-nn" in one_line_error(capsys) and not served
    assert cli('serve', '--db', db, '--sections', 'relu', '--no-worker') == 0  # its own assignment: recorded now


def test_a_regrade_for_another_assignment_is_refused(tmp_path, served):
    from service import jobs
    assert cli('serve', '--db', sqlite(tmp_path / 'c.sqlite3'), '--sections', 'relu', '--no-worker') == 0
    app = served[-1]
    add_student(app, 'alice')
    sid = add_graded(app, 'alice', ['relu'])
    with pytest.raises(ValueError, match="'numpy-nn'"):  # service.course.CourseError
        with app.state.sessions.begin() as db:
            jobs.regrade(db, [sid], ['activations'], 'autoencoder')
    with app.state.sessions() as db:
        assert [r.section for r in db.scalars(select(Result)).all()] == ['relu']  # nothing was replaced


# -- 2. the deadline keeps its offset, shown with its zone, one instant everywhere --------------------------
def test_the_deadline_is_shown_in_its_own_zone_and_is_one_instant(tmp_path, served, capsys):
    db = sqlite(tmp_path / 'checker.sqlite3')
    assert cli('serve', '--db', db, '--deadline', '2026-12-15T23:59:00+01:00', '--sections', 'relu',
               '--no-worker') == 0
    printed = capsys.readouterr().out
    app = served[-1]
    token = add_student(app, 'alice')
    add_student(app, 'bob')
    on_time = add_graded(app, 'alice', ['relu'], datetime(2026, 12, 15, 22, 30, tzinfo=timezone.utc))  # 23:30 +01
    late = add_graded(app, 'bob', ['relu'], datetime(2026, 12, 15, 23, 30, tzinfo=timezone.utc))      # 00:30 +01
    with TestClient(app) as client:
        sign_in(client, token)
        home = client.get('/').text
        assert '2026-12-15 23:59:00 UTC+01:00' in home and '23:59:00 UTC<' not in home, home
        assert 'deadline 2026-12-15 23:59:00 UTC+01:00' in printed  # said to the instructor at start
        assert client.get(f'/api/submissions/{on_time}', headers={'Authorization': f'Bearer {token}'}
                          ).json()['late'] is False
    # a restart without --deadline keeps the course's; gradebook takes it from the course, not from a flag
    assert cli('serve', '--db', db, '--sections', 'relu', '--no-worker') == 0
    assert served[-1].state.settings.deadline == datetime(2026, 12, 15, 22, 59, tzinfo=timezone.utc)
    assert cli('gradebook', '--db', db, '--csv', tmp_path / 'gradebook.csv') == 0
    rows = {row['student_id']: row for row in csv.DictReader(open(tmp_path / 'gradebook.csv'))}
    assert (rows['alice']['late'], rows['bob']['late']) == ('', 'yes')
    assert late


def test_a_course_time_zone(tmp_path, served, capsys):
    db = sqlite(tmp_path / 'checker.sqlite3')
    assert cli('serve', '--db', db, '--timezone', 'Europe/Berlin', '--deadline', '2026-12-15T23:59',
               '--sections', 'relu', '--no-worker') == 0
    deadline = served[-1].state.settings.deadline
    assert deadline == datetime(2026, 12, 15, 22, 59, tzinfo=timezone.utc)
    from service.course import show_time
    assert show_time(deadline) == '2026-12-15 23:59:00 CET (UTC+01:00)'
    for wrong in (('--deadline', '15.12.2026 23:59'), ('--timezone', 'Mars/Olympus')):
        capsys.readouterr()
        assert cli('serve', '--db', db, *wrong, '--sections', 'relu', '--no-worker') == 2
        assert wrong[1] in one_line_error(capsys)
    assert len(served) == 1


# -- 3. commands that read a course refuse a database that does not exist -----------------------------------
def test_gradebook_and_roster_elsewhere_refuse_instead_of_creating_an_empty_course(tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for argv in (('gradebook', '--csv', 'gradebook.csv'), ('roster', 'token', 'alice'),
                 ('gradebook', '--db', sqlite(tmp_path / 'typo.sqlite3'), '--csv', 'gradebook.csv')):
        assert cli(*argv) == 2, argv
        error = one_line_error(capsys)
        assert 'no course database at' in error and str(elsewhere.resolve().parent) in error, error
    assert sorted(os.listdir(elsewhere)) == [] and not (tmp_path / 'typo.sqlite3').exists()


# -- 4. errors in settings are one line, exit status 2 --------------------------------------------------
POLICY_ERRORS = [('loop = "warn"\n', "unknown keys loop", "'loops'"),
                 ('loops = "sometimes"\n', "loops = 'sometimes'", "'fail', 'warn'"),
                 ('extra_imports = "scipy"\n', 'extra_imports', 'a list of module names'),
                 ('loops = "warn\n', 'not valid TOML', 'line 1'),
                 (None, 'no such file', 'TOML')]


@pytest.mark.parametrize('text, named, allowed', POLICY_ERRORS)
@pytest.mark.parametrize('command', ['grade', 'serve'])
def test_a_wrong_policy_is_one_line_naming_the_file(tmp_path, served, capsys, command, text, named, allowed):
    policy = tmp_path / 'course.toml'
    if text is not None:
        policy.write_text(text)
    argv = (('grade', KIT_ROOT / 'solution.py', '--sections', 'relu') if command == 'grade' else
            ('serve', '--db', sqlite(tmp_path / 'c.sqlite3'), '--sections', 'relu', '--no-worker'))
    assert cli(*argv, '--policy', policy) == 2
    error = one_line_error(capsys)
    assert str(policy) in error and named in error and allowed in error, error
    assert not served


def test_a_wrong_deadline_is_one_line(tmp_path, served, capsys):
    db = sqlite(tmp_path / 'c.sqlite3')
    assert cli('serve', '--db', db, '--deadline', '2026-12-32T23:59', '--sections', 'relu', '--no-worker') == 2
    assert "--deadline '2026-12-32T23:59'" in one_line_error(capsys) and not (tmp_path / 'c.sqlite3').exists()
    assert cli('serve', '--db', db, '--sections', 'relu', '--no-worker') == 0
    assert cli('gradebook', '--db', db, '--csv', tmp_path / 'g.csv', '--deadline', 'tomorrow') == 2
    assert '2026-12-15T23:59:00+01:00' in one_line_error(capsys)


# -- 5. a Gradescope package never bakes data its gate cannot use ---------------------------------------
def fake_cifar(root):
    folder = root / 'cifar10' / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    for name in ('data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch'):
        (folder / name).write_bytes(b'not the official batch')
    return root


def test_baking_unofficial_data_is_refused_unless_allowed(tmp_path, capsys):
    from instructor.gradescope import build_package
    data = fake_cifar(tmp_path / 'data')
    out = tmp_path / 'autograder.zip'
    assert cli('gradescope-package', out, '--data', 'bake', '--data-dir', data) == 2
    error = one_line_error(capsys)
    assert 'not the official files' in error and 'cifar10' in error and '--allow-unverified' in error
    assert not out.exists()
    with pytest.raises(ValueError, match='not the official files'):
        build_package(out, data='bake', data_dir=data, datasets=('cifar10',))
    build_package(out, data='bake', data_dir=data, datasets=('cifar10',), unverified_ok=True)
    with zipfile.ZipFile(out) as archive:
        assert 'export NN_KIT_ALLOW_UNVERIFIED=1' in archive.read('run_autograder').decode()
        assert 'data/cifar10/cifar-10-batches-py/test_batch' in archive.namelist()
    assert 'NOT the official files' in capsys.readouterr().err


# -- 6. the package installs on Python 3.10; gates that did not run are not failed tests --------------------
def test_the_package_requires_tomli_on_python_310(tmp_path):
    from instructor.gradescope import pinned_requirements
    assert 'tomli>=2.0.1; python_version < "3.11"' in pinned_requirements().splitlines()


def report_with_gates_not_run():
    from grader.grade import SectionVerdict, SubmissionReport
    return SubmissionReport('solution.py', [
        SectionVerdict('relu', 'passed', '4 hidden cases'),
        SectionVerdict('mnist', 'skipped', 'gates skipped (--skip-gates): no points'),
        SectionVerdict('cifar10', 'data missing', "/root/.cache/numpy-nn-kit/cifar10/cifar-10-batches-py/test_batch: "
                                                  "md5 0 is not the official 1")])


def test_gates_that_did_not_run_are_no_failed_gradescope_tests(tmp_path):
    from grader.report import write_gradescope
    write_gradescope(report_with_gates_not_run(), tmp_path / 'results.json')
    results = json.loads((tmp_path / 'results.json').read_text())
    assert [test['name'] for test in results['tests']] == ['2.1.1 ReLU']
    assert not any(test['status'] == 'failed' for test in results['tests'])
    assert 'Not graded (skipped): 2.3 MNIST: gates skipped' in results['output']
    assert 'Not graded (data missing): 4.2 CIFAR-10' in results['output']


# -- 7. points missing only for want of data are said to be so, in one line -------------------------------
def test_the_report_says_which_points_only_the_data_is_missing_for(capsys):
    from grader.report import print_report
    print_report(report_with_gates_not_run())
    lines = [line for line in capsys.readouterr().out.splitlines() if 'only because' in line]
    assert len(lines) == 1 and '3 point(s)' in lines[0] and 'cifar10' in lines[0], lines
    assert '--data-dir' in lines[0] and '--allow-unverified' in lines[0]


# -- 8. no gates without their data; students never see the server's paths --------------------------------
def test_serve_refuses_gates_without_their_data(tmp_path, served, capsys, monkeypatch):
    from data_loaders import DataError, cifar10, mnist, storage

    def offline(*_args, **_kwargs):
        raise DataError('offline')
    monkeypatch.delenv('NN_KIT_DATA_DIR', raising=False)
    monkeypatch.setattr(storage, 'CACHE_DIR', tmp_path / 'cache')
    monkeypatch.setattr(mnist, 'download', offline)
    monkeypatch.setattr(cifar10, 'download', offline)
    db = tmp_path / 'checker.sqlite3'
    assert cli('serve', '--db', sqlite(db), '--data-dir', tmp_path / 'empty', '--sections', 'relu', 'mnist') == 2
    error = one_line_error(capsys)
    assert 'gate mnist' in error and '--data-dir' in error and '--sections units' in error, error
    assert not served and not db.exists()
    assert cli('serve', '--db', sqlite(db), '--data-dir', tmp_path / 'empty', '--sections', 'units') == 0
    if (DATA_DIR / 'mnist').is_dir():  # with the data, the gate is served
        assert cli('serve', '--db', sqlite(db), '--data-dir', DATA_DIR, '--sections', 'relu', 'mnist') == 0


def test_students_never_see_the_servers_paths(tmp_path):
    from service.app import create_app
    from service.config import Settings
    app = create_app(Settings(db_url=sqlite(tmp_path / 'c.sqlite3'), start_worker=False, sections=['relu', 'mnist'],
                              rate_per_second=0))
    token = add_student(app, 'alice')
    where = '/root/.cache/numpy-nn-kit/mnist'
    sid = add_graded(app, 'alice', ['mnist'], verdict='data missing',
                     reason=f"mnist data not found. Expected these files:\n  - x.gz\nin one of:\n  - {where}\n"
                            f"  - ~/.cache/numpy-nn-kit")
    with TestClient(app) as client:
        shown = client.get(f'/api/submissions/{sid}', headers={'Authorization': f'Bearer {token}'}).json()
        sign_in(client, token)
        page = client.get(f'/submissions/{sid}').text
    reason = next(s['reason'] for s in shown['sections'] if s['name'] == 'mnist')
    assert '.cache' not in reason and '/root' not in reason and 'data' in reason, reason
    assert '.cache' not in page and '/root' not in page


# -- 9. students' code, names and grades are readable by their owner only ---------------------------------
def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_databases_and_gradebooks_are_private(tmp_path, served):
    db = tmp_path / 'checker.sqlite3'
    assert cli('serve', '--db', sqlite(db), '--sections', 'relu', '--no-worker') == 0
    add_student(served[-1], 'alice')  # writes through the WAL
    assert mode(db) == 0o600 and all(mode(side) == 0o600 for side in tmp_path.glob('checker.sqlite3-*'))
    roster = tmp_path / 'roster.csv'
    roster.write_text('id,name,email\nbob,Bob,bob@x.edu\n')
    other = tmp_path / 'roster-first.sqlite3'
    assert cli('roster', 'import', roster, '--db', sqlite(other), '--links', tmp_path / 'links.csv') == 0
    assert mode(other) == 0o600 and mode(tmp_path / 'links.csv') == 0o600
    assert cli('gradebook', '--db', sqlite(db), '--csv', tmp_path / 'gradebook.csv') == 0
    assert mode(tmp_path / 'gradebook.csv') == 0o600


def test_grade_reports_and_similarity_pages_are_private(tmp_path):
    assert cli('grade', KIT_ROOT / 'solution.py', '--sections', 'relu', '--json', tmp_path / 'report.json') == 0
    assert mode(tmp_path / 'report.json') == 0o600
    uploads = tmp_path / 'uploads'
    uploads.mkdir()
    reference = (KIT_ROOT / 'solution.py').read_text()
    (uploads / 'alice.py').write_text(reference)
    (uploads / 'bob.py').write_text(reference.replace('inputs', 'x'))
    assert cli('grade', uploads, '--serial', '--sections', 'relu', '--json', tmp_path / 'reports',
               '--csv', tmp_path / 'grades.csv') == 0
    assert mode(tmp_path / 'reports') == 0o700 and mode(tmp_path / 'grades.csv') == 0o600
    assert {mode(path) for path in (tmp_path / 'reports').iterdir()} == {0o600}
    assert cli('similarity', uploads, '--html', tmp_path / 'similarity.html') == 0
    assert mode(tmp_path / 'similarity.html') == 0o600
    assert os.umask(0o022) == 0o022  # the command gave the umask back


def test_the_gradebook_csv_text_is_unchanged_by_the_course(tmp_path, served):
    """The course row changes nothing in the export's format (the batch grader's columns first)."""
    assert cli('serve', '--db', sqlite(tmp_path / 'c.sqlite3'), '--sections', 'relu', '--no-worker') == 0
    add_student(served[-1], 'alice')
    add_graded(served[-1], 'alice', ['relu'])
    assert cli('gradebook', '--db', sqlite(tmp_path / 'c.sqlite3'), '--csv', tmp_path / 'g.csv') == 0
    table = list(csv.DictReader(io.StringIO((tmp_path / 'g.csv').read_text())))
    assert list(table[0])[:5] == ['student_id', 'submission', 'relu', 'total', 'max_total']


def test_a_postgresql_course_records_its_assignment_too(capsys):
    """No file to look for: an empty database is no course, and the assignment row decides."""
    from tests.support.service_support import Postgres
    server = Postgres()  # fails under CI when PostgreSQL is missing, skips elsewhere
    try:
        url = server.new_database()
        assert cli('gradebook', '--db', url, '--csv', os.devnull) == 2
        assert 'not a checker database' in one_line_error(capsys)
        from service.course import open_course
        _, course, _ = open_course(url, 'numpy-nn', create=True, deadline='2026-12-15T23:59:00+01:00')
        assert course.deadline == datetime(2026, 12, 15, 22, 59, tzinfo=timezone.utc)
        assert cli('--assignment', 'autoencoder', 'roster', 'token', 'instructor', '--db', url) == 2
        error = one_line_error(capsys)
        assert "'numpy-nn'" in error and 'PASSWORD' not in error
    finally:
        server.stop()
