"""The checker service's HTTP layer with FastAPI's test client: access, upload validation,
per-student limits, CSRF, rate and size limits, what students may see, roster and gradebook."""
import csv
import hashlib
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.config import Settings
from service.gradebook import csv_text, gradebook
from service.rate_limits import RateLimiter
from service.models import Job, Person, Result, Submission
from service.security import new_token
from tests.support.service_support import REFERENCE_SOURCE, import_roster, run_cli

pytestmark = pytest.mark.service  # markers: pyproject.toml

SOLUTION = REFERENCE_SOURCE.encode()


def make_app(tmp_path, **options):
    options.setdefault('rate_per_second', 0)
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial',
                        sections=['relu', 'flatten'], start_worker=False, **options)
    return create_app(settings)


def add_person(app, student_id, role='student'):
    with app.state.sessions.begin() as db:
        person = Person(student_id=student_id, name=student_id.title(), email=f'{student_id}@x.edu', role=role,
                        token_hash='')
        db.add(person)
        db.flush()
        return new_token(person)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def bearer(token):
    return {'Authorization': f'Bearer {token}'}


def upload(client, token, content=SOLUTION, name='solution.py'):
    return client.post('/api/submissions', headers=bearer(token), files={'file': (name, content, 'text/x-python')})


def count(app, model):
    with app.state.sessions() as db:
        return db.scalar(select(func.count()).select_from(model))


def finish_jobs(app):
    """Mark every job done (as if graded) so the person may upload again."""
    with app.state.sessions.begin() as db:
        for job in db.scalars(select(Job)).all():
            job.state = 'done'


def sign_in(client, token):
    page = client.get('/login')
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post('/login', data={'token': token, 'csrf_token': csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    fresh = page_csrf(client)  # signing in starts a new session, with a new CSRF token
    assert fresh != csrf
    return fresh


def page_csrf(client, path='/'):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


# -- access --------------------------------------------------------------------------------------
def test_api_needs_a_valid_token(app, client):
    token = add_person(app, 'alice')
    assert client.get('/api/me').status_code == 401
    assert client.get('/api/me', headers=bearer('1.wrong')).status_code == 401
    assert client.get('/api/me', headers=bearer(token[:-1] + ('A' if token[-1] != 'A' else 'B'))).status_code == 401
    assert client.get('/api/me', headers=bearer('no-dot-at-all')).status_code == 401
    assert client.get('/api/me', headers={'Authorization': f'Basic {token}'}).status_code == 401
    assert upload(client, 'x.y').status_code == 401
    assert client.get('/api/me', headers=bearer(token)).json() == {'student_id': 'alice', 'name': 'Alice',
                                                                   'role': 'student'}
    assert count(app, Submission) == 0


def test_tokens_are_stored_hashed(app):
    token = add_person(app, 'alice')
    with app.state.sessions() as db:
        person = db.scalar(select(Person).where(Person.student_id == 'alice'))
    secret = token.split('.', 1)[1]
    assert secret not in person.token_hash and len(secret) >= 40
    assert person.token_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_students_see_only_their_own_submissions(app, client):
    alice, bob, teacher = add_person(app, 'alice'), add_person(app, 'bob'), add_person(app, 'prof', 'instructor')
    created = upload(client, alice)
    assert created.status_code == 201, created.text
    sid = created.json()['id']
    assert client.get(f'/api/submissions/{sid}', headers=bearer(alice)).status_code == 200
    assert client.get(f'/api/submissions/{sid}', headers=bearer(bob)).status_code == 404
    assert client.get(f'/api/submissions/{sid + 1}', headers=bearer(alice)).status_code == 404
    assert client.get('/api/submissions', headers=bearer(bob)).json() == []
    assert client.get(f'/api/submissions/{sid}', headers=bearer(teacher)).status_code == 200
    assert client.get('/api/queue', headers=bearer(alice)).status_code == 403
    assert client.get('/api/queue', headers=bearer(teacher)).status_code == 200
    assert client.post(f'/api/submissions/{sid}/regrade', headers=bearer(alice)).status_code == 403
    # pages: bob signed in gets 404 for alice's page; instructor pages are closed to him
    sign_in(client, bob)
    assert client.get(f'/submissions/{sid}').status_code == 404
    assert client.get('/instructor').status_code == 403
    assert client.get('/instructor/gradebook.csv').status_code == 403
    assert client.get(f'/instructor/submissions/{sid}/file').status_code == 403


def test_pages_redirect_to_login_without_a_session(client):
    for path in ('/', '/submissions/1', '/instructor'):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers['location'] == '/login'


def test_login_with_wrong_token_is_refused(app, client):
    add_person(app, 'alice')
    csrf = page_csrf(client, '/login')
    response = client.post('/login', data={'token': '1.nope', 'csrf_token': csrf})
    assert response.status_code == 401 and 'not valid' in response.text
    assert client.get('/', follow_redirects=False).status_code == 303


def test_a_reissued_token_ends_old_sessions(app, client):
    token = add_person(app, 'alice')
    sign_in(client, token)
    assert client.get('/', follow_redirects=False).status_code == 200
    with app.state.sessions.begin() as db:
        new_token(db.scalar(select(Person).where(Person.student_id == 'alice')))
    assert client.get('/', follow_redirects=False).status_code == 303
    assert client.get('/api/me', headers=bearer(token)).status_code == 401


# -- uploads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize('name, content, status, message', [
    ('solution.py', b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' + bytes(range(256)), 422, 'binary'),
    ('solution.py', b'# big\n' + b'x = 1\n' * (2 * 1024 * 1024 // 6), 413, '1 MiB'),
    ('solution.py', b'def f(:\n    pass\n', 422, 'SyntaxError'),
    ('solution.txt', SOLUTION, 422, 'not a Python file'),
    ('solution.py', b'', 422, 'empty'),
    ('solution.py', b'   \n\n', 422, 'empty'),
    ('solution.py', 'x = "caf\u00e9"\n'.encode('latin-1'), 422, 'UTF-8'),
])
def test_bad_uploads_are_refused_and_not_stored(app, client, name, content, status, message):
    token = add_person(app, 'alice')
    response = upload(client, token, content, name)
    assert response.status_code == status, response.text
    assert message in response.json()['detail']
    assert count(app, Submission) == 0 and count(app, Job) == 0


def test_an_upload_is_stored_before_it_is_acknowledged(app, client):
    token = add_person(app, 'alice')
    response = upload(client, token)
    assert response.status_code == 201
    body = response.json()
    assert body['sha256'] == hashlib.sha256(SOLUTION).hexdigest() and body['queue_position'] == 1
    with app.state.sessions() as db:
        submission = db.get(Submission, body['id'])
        assert submission.content == SOLUTION and submission.person.student_id == 'alice'
        assert [(job.kind, job.sections, job.state) for job in submission.jobs] == [('units', ['relu', 'flatten'],
                                                                                     'queued')]


def test_an_upload_without_a_file_is_refused(app, client):
    token = add_person(app, 'alice')
    response = client.post('/api/submissions', headers=bearer(token), data={'x': '1'})
    assert response.status_code == 422 and 'no file' in response.json()['detail']


def test_one_submission_in_the_queue_at_a_time(app, client):
    token = add_person(app, 'alice')
    assert upload(client, token).status_code == 201
    second = upload(client, token)
    assert second.status_code == 429 and 'still being graded' in second.json()['detail']
    assert count(app, Submission) == 1
    finish_jobs(app)
    assert upload(client, token).status_code == 201


def test_uploads_per_hour(tmp_path):
    app = make_app(tmp_path, per_hour=2)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        for _ in range(2):
            assert upload(client, token).status_code == 201
            finish_jobs(app)
        third = upload(client, token)
        assert third.status_code == 429 and 'last hour' in third.json()['detail'] and 'limit is 2' in third.json()[
            'detail']
        # an hour later it is accepted again
        with app.state.sessions.begin() as db:
            for submission in db.scalars(select(Submission)).all():
                submission.created_at -= timedelta(hours=1, seconds=1)
        assert upload(client, token).status_code == 201


def test_the_page_says_why_an_upload_was_refused(app, client):
    token = add_person(app, 'alice')
    csrf = sign_in(client, token)
    page = client.post('/upload', data={'csrf_token': csrf},
                       files={'file': ('solution.py', b'def f(:\n', 'text/x-python')})
    assert page.status_code == 422 and 'Not accepted' in page.text and 'SyntaxError' in page.text
    accepted = client.post('/upload', data={'csrf_token': csrf}, files={'file': ('solution.py', SOLUTION)},
                           follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers['location'].startswith('/submissions/')
    again = client.post('/upload', data={'csrf_token': csrf}, files={'file': ('solution.py', SOLUTION)})
    assert again.status_code == 429 and 'still being graded' in again.text
    assert count(app, Submission) == 1


# -- CSRF -------------------------------------------------------------------------------------------
def test_forms_need_the_csrf_token(app, client):
    token = add_person(app, 'alice')
    login_without = client.post('/login', data={'token': token})
    assert login_without.status_code == 403
    csrf = sign_in(client, token)
    files = {'file': ('solution.py', SOLUTION)}
    assert client.post('/upload', files=files).status_code == 403
    assert client.post('/upload', data={'csrf_token': 'forged'}, files=files).status_code == 403
    assert client.post('/logout', data={}).status_code == 403
    # the API with a cookie session needs the header; with a bearer token it does not
    assert client.post('/api/submissions', files=files).status_code == 403
    assert client.post('/api/submissions', files=files, headers={'X-CSRF-Token': 'forged'}).status_code == 403
    assert count(app, Submission) == 0
    assert client.post('/api/submissions', files=files, headers={'X-CSRF-Token': csrf}).status_code == 201


def test_instructor_forms_need_the_csrf_token(app, client):
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    sid = upload(client, alice).json()['id']
    finish_jobs(app)
    csrf = sign_in(client, teacher)
    assert client.post(f'/instructor/submissions/{sid}/regrade').status_code == 403
    assert client.post('/instructor/regrade-all', data={'csrf_token': 'x'}).status_code == 403
    assert count(app, Job) == 1
    response = client.post(f'/instructor/submissions/{sid}/regrade', data={'csrf_token': csrf},
                           follow_redirects=False)
    assert response.status_code == 303 and count(app, Job) == 2


# -- HTTP limits -------------------------------------------------------------------------------------
def test_rate_limiter_token_bucket():
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.allow('a') for _ in range(4)] == [True, True, True, False]
    assert limiter.allow('b')  # per client
    now[0] += 0.5  # one token back
    assert limiter.allow('a') and not limiter.allow('a')


def test_requests_beyond_the_rate_get_429(tmp_path):
    app = make_app(tmp_path, rate_per_second=1, rate_burst=3)
    with TestClient(app) as client:
        statuses = [client.get('/login').status_code for _ in range(5)]
    assert statuses[:3] == [200] * 3 and statuses[3:] == [429, 429]


def test_oversized_bodies_are_refused_before_reading(app, client):
    token = add_person(app, 'alice')
    response = client.post('/api/submissions', headers={**bearer(token), 'Content-Type': 'application/octet-stream'},
                           content=b'x' * (3 << 20))
    assert response.status_code == 413 and '1 MiB' in response.json()['detail']


# -- what a student sees -------------------------------------------------------------------------------
def record_results(app, sid, reason):
    with app.state.sessions.begin() as db:
        job = db.scalars(select(Job).where(Job.submission_id == sid)).first()
        job.state = 'done'
        db.add(Result(submission_id=sid, job_id=job.id, section='relu', verdict='wrong answer', points=0,
                      max_points=1, reason=reason, warnings=[]))
        db.add(Result(submission_id=sid, job_id=job.id, section='flatten', verdict='passed', points=1,
                      max_points=1, reason='5 hidden cases', warnings=[]))


def test_hidden_case_names_never_reach_a_student(app, client):
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    sid = upload(client, alice).json()['id']
    secret = "case 'batch 7 of shape (3, 9), seed 12345': values differ (max abs error 2)"
    record_results(app, sid, secret)
    student_json = client.get(f'/api/submissions/{sid}', headers=bearer(alice)).json()
    relu = next(s for s in student_json['sections'] if s['name'] == 'relu')
    assert relu['reason'] == 'a hidden case: values differ (max abs error 2)'
    assert student_json['state'] == 'done' and student_json['total'] == 1
    sign_in(client, alice)
    for path in (f'/submissions/{sid}', f'/submissions/{sid}/status', '/'):
        assert 'seed 12345' not in client.get(path).text
    assert 'a hidden case: values differ' in client.get(f'/submissions/{sid}').text
    teacher_json = client.get(f'/api/submissions/{sid}', headers=bearer(teacher)).json()
    assert any('seed 12345' in s['reason'] for s in teacher_json['sections'])


# -- roster and gradebook --------------------------------------------------------------------------------
def test_roster_import_writes_working_login_links(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'roster.sqlite3'}"
    tokens = import_roster(db_url, tmp_path, 3)
    assert sorted(tokens) == ['s000', 's001', 's002'] and len(set(tokens.values())) == 3
    links = list(csv.DictReader(open(tmp_path / 's-links.csv')))
    assert links[0]['link'] == f"http://127.0.0.1:8000/login#token={links[0]['token']}"
    # importing again keeps the tokens unless --reissue
    again = tmp_path / 'again.csv'
    run_cli('roster', 'import', str(tmp_path / 's-roster.csv'), '--db', db_url, '--links', str(again))
    assert list(csv.DictReader(open(again))) == []
    app = create_app(Settings(db_url=db_url, start_worker=False, rate_per_second=0))
    with TestClient(app) as client:
        assert client.get('/api/me', headers=bearer(tokens['s001'])).json()['student_id'] == 's001'
        assert app.state.instructor_token and client.get(
            '/api/queue', headers=bearer(app.state.instructor_token)).status_code == 200


def test_gradebook_best_last_and_late(tmp_path):
    app = make_app(tmp_path)
    alice, _ = add_person(app, 'alice'), add_person(app, 'bob')
    deadline = datetime(2026, 1, 10, tzinfo=timezone.utc)
    with TestClient(app) as client:
        first = upload(client, alice).json()['id']
        record_results(app, first, "case 'x': wrong")                # 1 point, before the deadline
        second = upload(client, alice).json()['id']
        with app.state.sessions.begin() as db:
            db.get(Submission, first).created_at = deadline - timedelta(days=1)
            db.get(Submission, second).created_at = deadline + timedelta(hours=2)
            job = db.scalars(select(Job).where(Job.submission_id == second)).first()
            job.state = 'done'
            for name in ('relu', 'flatten'):
                db.add(Result(submission_id=second, job_id=job.id, section=name, verdict='passed', points=1,
                              max_points=1, reason='ok', warnings=[]))
    with app.state.sessions() as db:
        rows = {row.student_id: row for row in gradebook(db, deadline)}
        text = csv_text(list(rows.values()))
    alice_row = rows['alice']
    assert (alice_row.submissions, alice_row.late_submissions, alice_row.best.id, alice_row.best.total,
            alice_row.last.id, alice_row.late) == (2, 1, second, 2.0, second, True)
    assert rows['bob'].best is None and rows['bob'].submissions == 0
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0])[:6] == ['student_id', 'submission', 'relu', 'flatten', 'total', 'max_total']
    assert table[0]['student_id'] == 'alice' and table[0]['total'] == '2' and table[0]['late'] == 'yes'
    assert table[0]['verdicts'] == 'ok' and table[1]['student_id'] == 'bob' and table[1]['total'] == ''
    # the command line writes the same file
    out = tmp_path / 'gradebook.csv'
    run_cli('gradebook', '--db', f"sqlite:///{tmp_path / 'checker.sqlite3'}", '--csv', str(out),
            '--deadline', deadline.isoformat())
    assert out.read_bytes().decode() == text


def test_instructor_pages(app, client):
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    sid = upload(client, alice).json()['id']
    record_results(app, sid, "case 'seed 777': values differ")
    sign_in(client, teacher)
    gradebook_page = client.get('/instructor')
    assert gradebook_page.status_code == 200 and 'data-student="alice"' in gradebook_page.text
    detail = client.get(f'/instructor/submissions/{sid}').text
    assert "case &#39;seed 777&#39;" in detail and 'class Dense' in detail  # full reason and the file
    assert client.get(f'/instructor/submissions/{sid}/file').content == SOLUTION
    for path in ('/instructor/queue', '/instructor/submissions', '/instructor/students/alice'):
        assert client.get(path).status_code == 200, path
    assert client.get('/instructor/students/nobody').status_code == 404
    exported = client.get('/instructor/gradebook.csv')
    assert exported.headers['content-type'].startswith('text/csv')
    assert next(csv.DictReader(io.StringIO(exported.text)))['total'] == '1'


def test_upload_checks_are_safe_in_many_threads():
    """Uploads are checked in the server's thread pool: no shared-parser failure under concurrency
    (CPython 3.11's ast.parse fails that way, which is why the check compiles instead)."""
    from concurrent.futures import ThreadPoolExecutor

    from service.uploads import check_upload
    with ThreadPoolExecutor(8) as pool:
        checked = list(pool.map(lambda _: check_upload('solution.py', SOLUTION).sha256, range(64)))
    assert set(checked) == {hashlib.sha256(SOLUTION).hexdigest()}


def test_missing_parts_fail_under_ci(monkeypatch):
    """Browser and PostgreSQL tests must not pass by skipping on CI."""
    from tests.support.service_support import require
    monkeypatch.setenv('CI', 'true')
    with pytest.raises(pytest.fail.Exception, match='CI must run this test'):
        require(None, 'chromium')
    monkeypatch.delenv('CI')
    with pytest.raises(pytest.skip.Exception):
        require(None, 'chromium')
    require('/usr/bin/chromium', 'chromium')  # present: nothing happens


# -- a course of the second assignment ---------------------------------------------------------
def test_a_course_grades_its_own_assignment(tmp_path):
    """`./run.py --assignment autoencoder serve`: uploads are graded against the autoencoder's sections."""
    import time

    import assignments
    autoencoder = assignments.get('autoencoder')
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial', rate_per_second=0,
                        assignment='autoencoder', sections=['activations', 'sgd'])
    app = create_app(settings)
    alice = add_person(app, 'alice')
    with TestClient(app) as client:
        sid = upload(client, alice, autoencoder.reference_path.read_bytes()).json()['id']
        deadline = time.monotonic() + 120
        while (report := client.get(f'/api/submissions/{sid}', headers=bearer(alice)).json())['state'] != 'done':
            assert time.monotonic() < deadline, report
            time.sleep(0.5)
        assert [(s['name'], s['verdict'], s['points']) for s in report['sections']] == \
            [('activations', 'passed', 2.0), ('sgd', 'passed', 0.5)]
        sign_in(client, alice)
        assert 'autoencoder checker' in client.get('/').text
