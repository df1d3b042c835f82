"""The checker's database queue, run against SQLite and a throwaway PostgreSQL server: migrations,
claims under concurrency (each job claimed once), leases, re-queueing after a dead worker,
units before gates, per-student limits under concurrent uploads, and grading end to end."""
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from grader.executor import SerialExecutor, run_job
from service import jobs
from service.config import Settings
from service.db import make_engine, migrate, session_factory
from service.models import Job, Person, Result, Submission, Worker, utcnow
from service.uploads import UploadRefused, check_upload
from service.worker import GradingLoop, wait_until_idle
from tests.support.service_support import BROKEN_SOLUTION, REFERENCE_SOURCE, Postgres

pytestmark = [pytest.mark.postgres, pytest.mark.service]  # markers: pyproject.toml


@pytest.fixture(scope='module')
def postgres():
    server = Postgres()
    yield server
    server.stop()


@pytest.fixture(params=['sqlite', 'postgresql'])
def db_url(request, tmp_path):
    if request.param == 'sqlite':
        return f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    return request.getfixturevalue('postgres').new_database()


@pytest.fixture
def sessions(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # idempotent
    yield session_factory(engine)
    engine.dispose()


def add_student(sessions, ident):
    with sessions.begin() as db:
        person = Person(student_id=ident, name=ident, email='', token_hash='0' * 64)
        db.add(person)
        db.flush()
        return person.id


def submit(sessions, person_id, sections, source=REFERENCE_SOURCE, per_hour=0):
    with sessions.begin() as db:
        person = db.get(Person, person_id)
        return jobs.accept_upload(db, person, check_upload('solution.py', source.encode()), sections, per_hour).id


def add_worker(sessions, last_seen=None):
    worker_id = str(uuid.uuid4())
    with sessions.begin() as db:
        db.add(Worker(id=worker_id, host='test', pid=1, executor='test', capacity=1,
                      last_seen=last_seen or utcnow()))
    return worker_id


def test_migration_builds_every_table(sessions):
    tables = set(inspect(sessions.kw['bind']).get_table_names())
    assert {'people', 'submissions', 'jobs', 'results', 'workers', 'settings', 'alembic_version'} <= tables


def test_each_job_is_claimed_once_under_concurrency(sessions):
    people = [add_student(sessions, f's{index}') for index in range(24)]
    for person in people:
        submit(sessions, person, ['relu', 'mnist'])      # a units job and a gate job each
    worker = add_worker(sessions)
    barrier = threading.Barrier(6)

    def claim_all(_):
        barrier.wait()
        claimed = []
        with sessions() as db:
            while (job := jobs.claim(db, worker)) is not None:
                claimed.append(job.id)
        return claimed

    with ThreadPoolExecutor(6) as pool:
        claimed = [job_id for part in pool.map(claim_all, range(6)) for job_id in part]
    assert len(claimed) == len(set(claimed)) == 48
    with sessions() as db:
        assert db.scalar(select(func.count()).where(Job.state == 'running', Job.attempts == 1)) == 48


def test_units_are_claimed_before_gates(sessions):
    first, second = add_student(sessions, 'a'), add_student(sessions, 'b')
    submit(sessions, first, ['relu', 'mnist', 'cifar10'])
    submit(sessions, second, ['relu'])
    worker = add_worker(sessions)
    with sessions() as db:
        order = [(job.submission_id, job.kind) for job in iter(lambda: jobs.claim(db, worker), None)]
    assert order == [(1, 'units'), (2, 'units'), (1, 'gate'), (1, 'gate')]
    with sessions() as db:
        assert jobs.claim(db, worker, ('units',)) is None


def test_queue_position(sessions):
    people = [add_student(sessions, f's{index}') for index in range(3)]
    ids = [submit(sessions, person, ['relu', 'mnist']) for person in people]
    with sessions() as db:
        units = {job.submission_id: job for job in db.scalars(select(Job).where(Job.kind == 'units')).all()}
        assert [jobs.queue_position(db, units[sid]) for sid in ids] == [1, 2, 3]
        jobs.claim(db, add_worker(sessions))
        units = {job.submission_id: job for job in db.scalars(select(Job).where(Job.kind == 'units')).all()}
        assert [jobs.queue_position(db, units[sid]) for sid in ids] == [None, 1, 2]


def test_a_dead_workers_job_is_queued_again_and_recorded_once(sessions):
    sid = submit(sessions, add_student(sessions, 'a'), ['relu', 'flatten'])
    dead = add_worker(sessions, last_seen=utcnow() - timedelta(minutes=5))
    alive = add_worker(sessions)
    with sessions() as db:
        old = jobs.claim(db, dead)
        old_id, old_lease = old.id, old.lease
        assert jobs.requeue_stale(db, stale_after=10) == 1
        assert jobs.requeue_stale(db, stale_after=10) == 0
        new = jobs.claim(db, alive)
        assert (new.id, new.attempts) == (old_id, 2) and new.lease != old_lease
        report = run_job_report(['relu', 'flatten'])
        assert not jobs.record(db, old_id, old_lease, report)     # the dead worker's late answer is dropped
        assert jobs.record(db, new.id, new.lease, report)
        assert not jobs.record(db, new.id, new.lease, report)      # and nothing is recorded twice
        assert jobs.requeue_stale(db, stale_after=10) == 0          # a done job stays done
        results = db.scalars(select(Result).where(Result.submission_id == sid)).all()
        assert sorted(r.section for r in results) == ['flatten', 'relu']


def run_job_report(sections):
    return {'submission': 'x', 'isolation': ['test'], 'sections': [
        {'name': name, 'verdict': 'passed', 'points': 1.0, 'max_points': 1.0, 'reason': 'ok', 'seconds': 0.1,
         'warnings': []} for name in sections]}


def test_a_job_that_keeps_killing_its_worker_ends_crashed(sessions):
    sid = submit(sessions, add_student(sessions, 'a'), ['relu'])
    with sessions() as db:
        for _ in range(jobs.MAX_ATTEMPTS):
            jobs.claim(db, add_worker(sessions, last_seen=utcnow() - timedelta(minutes=5)))
            jobs.requeue_stale(db, stale_after=10)
        assert jobs.give_up_on_repeat_crashes(db) == 1
        result = db.scalar(select(Result).where(Result.submission_id == sid))
        assert result.verdict == 'crashed' and 'died 3 times' in result.reason
        assert jobs.claim(db, add_worker(sessions)) is None


def test_a_missing_section_or_an_executor_error_is_recorded_as_crashed(sessions):
    sid = submit(sessions, add_student(sessions, 'a'), ['relu', 'flatten'])
    with sessions() as db:
        job = jobs.claim(db, add_worker(sessions))
        assert jobs.record(db, job.id, job.lease, run_job_report(['relu']))
        verdicts = dict(db.execute(select(Result.section, Result.verdict).where(Result.submission_id == sid)).all())
        assert verdicts == {'relu': 'passed', 'flatten': 'crashed'}


def test_concurrent_uploads_of_one_student_queue_one(sessions):
    person = add_student(sessions, 'a')
    barrier = threading.Barrier(8)

    def attempt(_):
        barrier.wait()
        try:
            return submit(sessions, person, ['relu'])
        except UploadRefused as refused:
            assert refused.status == 429
            return None

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert sum(outcome is not None for outcome in outcomes) == 1
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 1


def test_regrade_replaces_the_results(sessions):
    sid = submit(sessions, add_student(sessions, 'a'), ['relu'])
    with sessions() as db:
        job = jobs.claim(db, add_worker(sessions))
        outcome = jobs.regrade(db, [sid], ['relu'])
        assert (outcome.queued, outcome.busy) == ([], [sid])       # still running: left alone
        db.rollback()
        jobs.record(db, job.id, job.lease, run_job_report(['relu']))
        outcome = jobs.regrade(db, [sid], ['relu'])
        db.commit()
        assert outcome.queued == [sid]
        assert db.scalar(select(func.count()).select_from(Result)) == 0
        assert db.scalar(select(func.count()).where(Job.state == 'queued')) == 1


def test_the_grading_loop_grades_with_the_real_checker(sessions):
    """Reference and a ReLU-breaking file through the loop (serial executor, sandboxed children):
    the recorded verdicts and reasons are those of the grader run directly."""
    settings = Settings(scheduler='serial', sections=['relu', 'flatten'], heartbeat_seconds=0.5)
    good = submit(sessions, add_student(sessions, 'good'), settings.grade_sections)
    bad = submit(sessions, add_student(sessions, 'bad'), settings.grade_sections, BROKEN_SOLUTION)
    loop = GradingLoop(sessions, settings, lambda: SerialExecutor())
    loop.start()
    try:
        assert wait_until_idle(sessions, timeout=120)
    finally:
        loop.stop()
    from grader.executor import Job as GradingJob
    expected = run_job(GradingJob('direct', BROKEN_SOLUTION.encode(), ('relu', 'flatten')))
    with sessions() as db:
        verdicts = {(r.submission_id, r.section): (r.verdict, r.reason) for r in db.scalars(select(Result)).all()}
        worker = db.get(Worker, loop.worker_id)
        assert worker.stopped
    assert verdicts[(good, 'relu')][0] == verdicts[(good, 'flatten')][0] == 'passed'
    assert verdicts[(bad, 'flatten')][0] == 'passed'
    assert verdicts[(bad, 'relu')] == ('wrong answer', expected['sections'][0]['reason'])
    assert len(verdicts) == 4


def test_the_whole_service_on_this_database(db_url, tmp_path):
    """Upload through the API, grade in the server's loop, read the report: on SQLite and PostgreSQL."""
    from fastapi.testclient import TestClient

    from service.app import create_app
    app = create_app(Settings(db_url=db_url, scheduler='serial', sections=['relu'], rate_per_second=0,
                              heartbeat_seconds=0.5, state_dir=str(tmp_path)))  # the server's secret files
    token = app.state.instructor_token
    with TestClient(app) as client:
        headers = {'Authorization': f'Bearer {token}'}
        created = client.post('/api/submissions', headers=headers,
                              files={'file': ('solution.py', BROKEN_SOLUTION.encode())})
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            report = client.get(created.json()['status_url'], headers=headers).json()
            if report['state'] == 'done':
                break
            time.sleep(0.2)
    assert report['state'] == 'done' and report['total'] == 0
    assert [(s['name'], s['verdict']) for s in report['sections']] == [('relu', 'wrong answer')]
