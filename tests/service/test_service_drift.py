"""A re-grade that changes a verdict or points is flagged in the gradebook (page, CSV, API) with the old
and the new result side by side, and its student keeps the old result until an instructor releases the
new one; a re-grade that changes nothing is not flagged.  The grading worker is played by the test
(claim and record under the lease), so the verdicts are the test's own."""
import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service import jobs
from service.app import create_app
from service.config import Settings
from service.models import Regrade, Worker
from tests.support.service_support import Postgres
from tests.service.test_service_api import add_person, bearer, page_csrf, sign_in, upload

pytestmark = [pytest.mark.postgres, pytest.mark.service]  # markers: pyproject.toml


@pytest.fixture(scope='module')
def postgres():
    server = Postgres()
    yield server
    server.stop()


@pytest.fixture(params=['sqlite', 'postgresql'])
def make_app(request, tmp_path):
    """make_app(): a course of relu and flatten on SQLite, or on a PostgreSQL database of its own."""
    url = f"sqlite:///{tmp_path / 'checker.sqlite3'}" if request.param == 'sqlite' else \
        request.getfixturevalue('postgres').new_database()
    apps = []

    def make():
        apps.append(create_app(Settings(db_url=url, scheduler='serial', sections=['relu', 'flatten'],
                                        start_worker=False, rate_per_second=0, state_dir=str(tmp_path))))
        return apps[-1]
    yield make
    for app in apps:
        app.state.engine.dispose()


def report(**verdicts):
    """A grader's report: {section: verdict}, 1 point for passed."""
    return {'submission': 'x', 'isolation': [], 'sections': [
        {'name': name, 'verdict': verdict, 'points': 1.0 if verdict == 'passed' else 0.0, 'max_points': 1.0,
         'reason': '4 hidden cases' if verdict == 'passed' else 'did not finish within 1.5 s', 'seconds': 0.1,
         'warnings': []} for name, verdict in verdicts.items()]}


def grade_queued(app, **verdicts):
    """Play the worker: claim every queued job and record ``verdicts`` for it."""
    with app.state.sessions() as db:
        if db.get(Worker, 'test') is None:
            db.add(Worker(id='test', host='test', pid=1, executor='test', capacity=1))
            db.commit()
        while (job := jobs.claim(db, 'test')) is not None:
            assert jobs.record(db, job.id, job.lease, report(**verdicts))


def regrade(client, teacher, sid):
    response = client.post(f'/api/submissions/{sid}/regrade', headers=bearer(teacher))
    assert response.json()['queued'] == [sid], response.text


def seen_by(client, token, sid):
    body = client.get(f'/api/submissions/{sid}', headers=bearer(token)).json()
    return body['held'], body['total'], {s['name']: s['verdict'] for s in body['sections']}


def gradebook_csv(client):
    rows = {row['student_id']: row for row in csv.DictReader(io.StringIO(client.get('/instructor/gradebook.csv').text))}
    return rows


def test_a_regrade_that_changes_a_verdict_is_flagged_and_held_until_released(make_app):
    app = make_app()
    alice, bob, teacher = add_person(app, 'alice'), add_person(app, 'bob'), add_person(app, 'prof', 'instructor')
    with TestClient(app) as client:
        sid = upload(client, alice).json()['id']
        other = upload(client, bob).json()['id']
        grade_queued(app, relu='passed', flatten='passed')
        assert seen_by(client, alice, sid) == (False, 2, {'relu': 'passed', 'flatten': 'passed'})

        # 1. the same verdicts again: nothing flagged, nothing held
        regrade(client, teacher, sid)
        assert seen_by(client, alice, sid) == (True, 2, {'relu': 'passed', 'flatten': 'passed'})  # while re-grading
        grade_queued(app, relu='passed', flatten='passed')
        assert seen_by(client, alice, sid) == (False, 2, {'relu': 'passed', 'flatten': 'passed'})
        assert client.get('/api/drift', headers=bearer(teacher)).json() == []

        # 2. a changed time limit: relu passed before, not now
        regrade(client, teacher, sid)
        grade_queued(app, relu='time limit', flatten='passed')
        drift = client.get('/api/drift', headers=bearer(teacher)).json()
        assert len(drift) == 1 and drift[0]['submission_id'] == sid and drift[0]['student_id'] == 'alice'
        assert (drift[0]['state'], drift[0]['old_total'], drift[0]['new_total']) == ('changed', 2, 1)
        sections = {s['name']: s for s in drift[0]['sections']}
        assert sections['relu'] == {'name': 'relu', 'changed': True, 'max_points': 1.0,
                                    'old': {'verdict': 'passed', 'points': 1.0},
                                    'new': {'verdict': 'time limit', 'points': 0.0}}
        assert not sections['flatten']['changed']
        # the student still sees the old result; the instructor sees the new one with the old beside it
        assert seen_by(client, alice, sid) == (True, 2, {'relu': 'passed', 'flatten': 'passed'})
        teacher_view = client.get(f'/api/submissions/{sid}', headers=bearer(teacher)).json()
        assert teacher_view['total'] == 1 and teacher_view['drift']['state'] == 'changed'
        sign_in(client, teacher)
        rows = gradebook_csv(client)
        assert rows['alice']['drift'] == '1' and rows['alice']['total'] == '1'
        assert rows['alice']['drift_detail'] == f"#{sid}: 2 -> 1 (relu: passed 1 -> time limit 0)"
        assert rows['bob']['drift'] == '' and rows['bob']['drift_detail'] == ''
        page = client.get('/instructor').text
        assert 'id="drift"' in page and f'data-submission="{sid}" data-section="relu"' in page
        assert f'data-submission="{other}"' not in page
        assert f'#{sid} changed: 2 &rarr; 1' in page
        detail = client.get(f'/instructor/submissions/{sid}').text  # the submission's page: before and after
        assert 'changed the result' in detail and 'id="release"' in detail
        assert '<td class="old">passed 1/1</td>' in detail and '<td class="new">time limit 0/1</td>' in detail

        # 3. graded again while held: compared with what the student saw, not with the held result
        regrade(client, teacher, sid)
        grade_queued(app, relu='crashed', flatten='passed')
        drift = client.get('/api/drift', headers=bearer(teacher)).json()
        relu = next(s for s in drift[0]['sections'] if s['name'] == 'relu')
        assert (relu['old']['verdict'], relu['new']['verdict']) == ('passed', 'crashed')
        with app.state.sessions() as db:
            assert len(db.scalars(select(Regrade).where(Regrade.submission_id == sid)).all()) == 2

        # 4. released: the student sees the new result, the flag is gone
        response = client.post(f'/instructor/submissions/{sid}/release', data={'csrf_token': page_csrf(client, '/instructor')},
                               follow_redirects=False)
        assert response.status_code == 303
        assert seen_by(client, alice, sid) == (False, 1, {'relu': 'crashed', 'flatten': 'passed'})
        assert client.get('/api/drift', headers=bearer(teacher)).json() == []
        assert 'id="drift"' not in client.get('/instructor').text
        assert gradebook_csv(client)['alice']['drift'] == ''


def test_release_all_and_the_api_release(make_app):
    app = make_app()
    alice, bob, teacher = add_person(app, 'alice'), add_person(app, 'bob'), add_person(app, 'prof', 'instructor')
    with TestClient(app) as client:
        ids = [upload(client, alice).json()['id'], upload(client, bob).json()['id']]
        grade_queued(app, relu='passed', flatten='wrong answer')
        for sid in ids:
            regrade(client, teacher, sid)
        grade_queued(app, relu='passed', flatten='passed')
        assert sorted(d['submission_id'] for d in client.get('/api/drift', headers=bearer(teacher)).json()) == ids
        assert client.post(f'/api/submissions/{ids[0]}/release', headers=bearer(alice)).status_code == 403
        assert client.post(f'/api/submissions/{ids[0]}/release', headers=bearer(teacher)).json() == \
            {'released': [ids[0]]}
        sign_in(client, teacher)
        client.post('/instructor/release-all', data={'csrf_token': page_csrf(client, '/instructor')})
        assert client.get('/api/drift', headers=bearer(teacher)).json() == []
        assert seen_by(client, bob, ids[1]) == (False, 2, {'relu': 'passed', 'flatten': 'passed'})
