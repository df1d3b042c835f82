"""A failure of the checker never costs the student: the job goes back to the queue (tried again
later), no section is recorded as crashed, the upload does not count against the hour, and the
student's page says the failure was ours."""
import time

from fastapi.testclient import TestClient
from sqlalchemy import select

import pytest

from grader.executor import SerialExecutor, run_job
from grader.infrastructure import InfrastructureError
from service import jobs
from service.app import create_app
from service.config import Settings
from service.models import Job, Result, utcnow
from tests.service.test_service_api import add_person, bearer, sign_in, upload

pytestmark = pytest.mark.service  # markers: pyproject.toml


def wait_for(client, token, url, condition, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition(report := client.get(url, headers=bearer(token)).json()):
        assert time.monotonic() < deadline, report
        time.sleep(0.2)
    return report


def test_an_infrastructure_failure_is_tried_again_and_costs_nothing(tmp_path):
    calls = []

    def grade_failing_once(job):
        calls.append(job.label)
        if len(calls) == 1:
            raise InfrastructureError("the sandbox could not be started (injected by the test)")
        return run_job(job)

    settings = Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial', sections=['relu'],
                        rate_per_second=0, heartbeat_seconds=0.5, per_hour=1, checker_retry_seconds=3600)
    app = create_app(settings, executor_factory=lambda: SerialExecutor(run=grade_failing_once))
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        created = upload(client, token).json()
        url = created['status_url']
        report = wait_for(client, token, url, lambda report: report['waiting_for_checker'])
        assert report['state'] == 'queued' and report['checker_failed'] and report['retry_at']
        assert [section['state'] for section in report['sections']] == ['queued']
        with app.state.sessions() as db:
            job = db.scalar(select(Job))
            assert (job.state, job.checker_failures, job.attempts) == ('queued', 1, 0)
            assert 'injected by the test' in job.error
            assert db.scalar(select(Result)) is None  # nothing crashed, no zero
        limits = client.get('/api/limits', headers=bearer(token)).json()
        assert limits['attempts_left'] == 1 and limits['used'] == 0 and limits['in_queue'] == created['id']
        sign_in(client, token)
        page = client.get(f"/submissions/{created['id']}").text
        assert 'id="checker-failed"' in page and 'the failure was ours' in page

        with app.state.sessions.begin() as db:  # its time to be tried again has come
            db.scalar(select(Job)).retry_at = utcnow()
        app.state.grading.notify()
        report = wait_for(client, token, url, lambda report: report['state'] == 'done')
        assert [(s['name'], s['verdict']) for s in report['sections']] == [('relu', 'passed')]
        assert report['checker_failed'] and not report['waiting_for_checker'] and len(calls) == 2
        assert upload(client, token).status_code == 201  # the hour's one upload was still free


def test_retry_later_backs_off_and_keeps_the_lease_rule(tmp_path):
    from service.db import make_engine, migrate, session_factory
    from service.models import Person, Worker
    from service.uploads import check_upload
    from tests.support.service_support import REFERENCE_SOURCE
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions.begin() as db:
        person = Person(student_id='a', name='a', email='', token_hash='0' * 64)
        db.add(person)
        db.add(Worker(id='w', host='test', pid=1, executor='test', capacity=1))
        db.flush()
        jobs.accept_upload(db, person, check_upload('solution.py', REFERENCE_SOURCE.encode()), ['relu'], 0)
    waits = []
    with sessions() as db:
        for _ in range(3):
            job = jobs.claim(db, 'w')
            assert job is not None
            assert not jobs.retry_later(db, job.id, 'an old lease', 'lost', 10)
            assert jobs.retry_later(db, job.id, job.lease, 'the cluster is gone', 10)
            job = db.get(Job, job.id, populate_existing=True)
            assert jobs.claim(db, 'w') is None  # not before its time
            waits.append(round((job.retry_at - utcnow()).total_seconds()))
            job.retry_at = utcnow()
            db.commit()
        assert jobs.give_up_on_repeat_crashes(db) == 0  # checker failures are not worker deaths
    assert waits == [10, 20, 40]
    engine.dispose()


def test_a_server_killed_mid_job_costs_the_student_nothing(tmp_path):
    """The real server (SIGKILL) while it grades a student's only upload of the hour: restarted, it grades
    the upload again; the upload is still free, nothing crashed, and the page says the failure was ours."""
    import httpx

    from service.db import make_engine, session_factory
    from tests.support.service_support import REFERENCE_SOURCE, Server, import_roster
    db_url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    token = import_roster(db_url, tmp_path, 1)['s000']
    options = ['--scheduler', 'serial', '--sections', 'relu', 'flatten', 'sgd', '--rate', '0', '--stale-after', '3',
               '--per-hour', '1']
    server = Server(db_url, tmp_path, *options)
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    try:
        created = httpx.post(f"{server.url}/api/submissions", headers=bearer(token), timeout=30,
                             files={'file': ('solution.py', REFERENCE_SOURCE.encode())})
        assert created.status_code == 201, created.text
        limits = httpx.get(f"{server.url}/api/limits", headers=bearer(token), timeout=30).json()
        assert (limits['attempts_left'], limits['used']) == (0, 1)  # one upload this hour, and it is in use
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sessions() as db:
                if db.scalar(select(Job.state)) == 'running':
                    break
            time.sleep(0.05)
        server.kill()  # mid-job
        with sessions() as db:
            assert db.scalar(select(Job.state)) == 'running' and db.scalar(select(Result)) is None
        server = Server(db_url, tmp_path, *options)
        url = f"{server.url}{created.json()['status_url']}"
        deadline = time.monotonic() + 120
        while (report := httpx.get(url, headers=bearer(token), timeout=30).json())['state'] != 'done':
            assert time.monotonic() < deadline, report
            time.sleep(0.3)
        assert {section['verdict'] for section in report['sections']} == {'passed'}
        assert report['total'] == report['max_total'] > 0
        assert report['checker_failed'] and not report['waiting_for_checker']
        with sessions() as db:
            job = db.scalar(select(Job))
            assert (job.state, job.checker_failures, job.attempts, job.error) == ('done', 1, 2, None)
        limits = httpx.get(f"{server.url}/api/limits", headers=bearer(token), timeout=30).json()
        assert (limits['attempts_left'], limits['used']) == (1, 0)  # the killed job cost nothing
        again = httpx.post(f"{server.url}/api/submissions", headers=bearer(token), timeout=30,
                           files={'file': ('solution.py', REFERENCE_SOURCE.encode())})
        assert again.status_code == 201, again.text
    finally:
        server.stop()
        engine.dispose()
