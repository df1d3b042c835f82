"""The security review of ``./run.py serve``: one test (or more) per finding, each failing on the code
the review was made on. The secret and the instructor's token in files of the server's own (0600),
private database and links files, sessions that end at sign-out, malformed credentials (401, never
500), cheap checks before the costly parse and the parse in processes of its own, files with a
byte-order mark, safe download headers, security headers and no inline script, the API's
documentation, the token of ``./run.py submit``, formulas in the gradebook CSV, and two servers on
one database (SQLite and PostgreSQL) sharing limits and starting together."""
import csv
import email.message
import hashlib
import http.server
import io
import json
import os
import re
import stat
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from service.app import create_app
from service.config import Settings
from service.models import Job, Person, Result, Submission
from service.security import new_token
from tests.support.service_support import KIT_ROOT, PYTHON, REFERENCE_SOURCE, Postgres, write_roster
from tests.service.test_service_api import add_person, bearer, finish_jobs, make_app, sign_in, upload

pytestmark = [pytest.mark.postgres, pytest.mark.service]  # markers: pyproject.toml

SOLUTION = REFERENCE_SOURCE.encode()
# 1 MiB that compiles: about 2 s of CPU in compile() on the 2-core test machine
SLOW_SOURCE = SOLUTION + b'x = 1\n' * (((1 << 20) - len(SOLUTION)) // 6 - 10)  # defines what the pre-flight asks for


@pytest.fixture(autouse=True)
def usual_umask():
    """The permission tests must not pass because of a strict umask of the machine."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope='module')
def postgres():
    server = Postgres()
    yield server
    server.stop()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def cookie_of(client):
    return client.cookies.get('checker_session')


def get_with_cookie(app, path, cookie, **options):
    """GET ``path`` from a fresh client that holds only ``cookie`` (a copied session cookie)."""
    with TestClient(app, raise_server_exceptions=False) as other:
        other.cookies.set('checker_session', cookie)
        return other.get(path, follow_redirects=False, **options)


# -- the session secret, the database files, the links, the instructor's token -----------------------
def test_the_session_secret_is_a_private_file_not_a_database_row(tmp_path):
    first = make_app(tmp_path)
    secret_file = tmp_path / 'checker.session-secret'
    assert secret_file.is_file() and mode(secret_file) == 0o600
    secret = secret_file.read_text()
    assert len(secret.strip()) >= 32
    with first.state.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM settings")).scalar() == 0
    token = add_person(first, 'alice')
    with TestClient(first) as client:
        sign_in(client, token)
        cookie = cookie_of(client)
    # a second server beside the same database signs with the same key: the session holds there too
    second = make_app(tmp_path)
    assert get_with_cookie(second, '/', cookie).status_code == 200
    assert secret_file.read_text() == secret  # kept, not made again


def test_the_session_secret_may_come_from_the_environment(tmp_path, monkeypatch):
    from grader.course_policy import SettingsError
    monkeypatch.setenv('NN_KIT_SESSION_SECRET', 'k' * 48)
    first = make_app(tmp_path, state_dir=str(tmp_path / 'one'))
    token = add_person(first, 'alice')
    with TestClient(first) as client:
        sign_in(client, token)
        cookie = cookie_of(client)
    second = make_app(tmp_path, state_dir=str(tmp_path / 'two'))
    assert get_with_cookie(second, '/', cookie).status_code == 200
    assert not list(tmp_path.glob('*/*.session-secret')) and not list(tmp_path.glob('*.session-secret'))
    monkeypatch.setenv('NN_KIT_SESSION_SECRET', 'short')
    with pytest.raises(SettingsError, match='at least 32'):
        make_app(tmp_path)


def test_the_sqlite_files_are_created_private(tmp_path):
    app = make_app(tmp_path)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        assert upload(client, token).status_code == 201
        database = tmp_path / 'checker.sqlite3'
        parts = [database, Path(f'{database}-wal'), Path(f'{database}-shm')]
        assert all(part.exists() for part in parts)
        assert {part.name: mode(part) for part in parts} == {part.name: 0o600 for part in parts}


def test_an_older_database_loses_its_secret_row_and_keeps_working(tmp_path):
    from alembic import command

    from service.db import alembic_config, make_engine
    url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    engine = make_engine(url)
    command.upgrade(alembic_config(url), '0002')
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO settings (key, value) VALUES ('session_secret', 'old-key-in-the-db')"))
        connection.execute(text("INSERT INTO people (student_id, name, email, role, token_hash, created_at) VALUES "
                                "('alice', 'Alice', '', 'student', :hash, '2026-01-01 00:00:00')"),
                           {'hash': hashlib.sha256(b'alicesecret').hexdigest()})
    engine.dispose()
    app = make_app(tmp_path)
    with app.state.sessions() as db:
        assert db.execute(text("SELECT count(*) FROM settings WHERE key = 'session_secret'")).scalar() == 0
        alice = db.scalar(select(Person.id).where(Person.student_id == 'alice'))
    with TestClient(app) as client:
        assert client.get('/api/me', headers=bearer(f'{alice}.alicesecret')).json()['student_id'] == 'alice'
        sign_in(client, f'{alice}.alicesecret')
        assert client.get('/', follow_redirects=False).status_code == 200


def test_login_links_are_private_from_the_moment_they_are_written(tmp_path, monkeypatch):
    """The links file is created 0600, not narrowed after the tokens are in it."""
    seen = []
    original = csv.DictWriter.writeheader

    def spy(writer):
        seen.append(mode(links))
        return original(writer)

    links = tmp_path / 'login-links.csv'
    monkeypatch.setattr(csv.DictWriter, 'writeheader', spy)
    from run import main
    main(['roster', 'import', str(write_roster(tmp_path / 'roster.csv', 2)), '--db',
          f"sqlite:///{tmp_path / 'checker.sqlite3'}", '--links', str(links)])
    assert seen == [0o600] and mode(links) == 0o600


def test_the_instructor_token_goes_to_a_private_file_not_to_the_log(tmp_path, capsys):
    app = make_app(tmp_path)
    token = app.state.instructor_token
    printed = capsys.readouterr()
    assert token and token not in printed.out and token not in printed.err
    path = tmp_path / 'checker.instructor-token'
    assert str(path) in printed.out and mode(path) == 0o600
    assert path.read_text().splitlines()[0] == token
    with TestClient(app) as client:
        assert client.get('/api/me', headers=bearer(token)).json()['role'] == 'instructor'
    make_app(tmp_path)  # the next start makes no new token and says nothing of it
    assert 'token' not in capsys.readouterr().out.lower()


# -- sessions ------------------------------------------------------------------------------------------------
def test_signing_out_ends_the_session_even_for_a_copied_cookie(app, client):
    token = add_person(app, 'alice')
    csrf = sign_in(client, token)
    copied = cookie_of(client)
    assert get_with_cookie(app, '/', copied).status_code == 200
    assert client.post('/logout', data={'csrf_token': csrf}, follow_redirects=False).status_code == 303
    assert client.get('/', follow_redirects=False).status_code == 303
    stolen = get_with_cookie(app, '/', copied)
    assert stolen.status_code == 303 and stolen.headers['location'] == '/login'
    assert get_with_cookie(app, '/api/me', copied).status_code == 401
    # signing in again works, and a reissued token ends that session too
    sign_in(client, token)
    with app.state.sessions.begin() as db:
        new_token(db.scalar(select(Person).where(Person.student_id == 'alice')))
    assert client.get('/', follow_redirects=False).status_code == 303


# -- malformed credentials -------------------------------------------------------------------------------------
MALFORMED = ['999999999999999999999999999999.x', '\u00b2.abc', '9223372036854775808.x', '-1.x', '1.', '.x',
             '1.x.y', '1.\u00e9', '0x1.abc', '1 .abc', '1.' + 'a' * 500, '\u00b9\u00b2.x']


def raw_request(app, method, path, headers, **options):
    """A request whose header bytes reach the app as they are (the test client re-encodes them as UTF-8;
    a real server hands the application the bytes it received)."""
    import asyncio

    import httpx

    async def send():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url='http://testserver') as raw:
            return await raw.request(method, path, headers=headers, **options)
    return asyncio.run(send())


@pytest.mark.parametrize('token', MALFORMED)
def test_a_malformed_bearer_token_is_401(app, token):
    add_person(app, 'alice')
    headers = {'Authorization': f'Bearer {token}'.encode('latin-1')}
    response = raw_request(app, 'GET', '/api/me', headers)
    assert response.status_code == 401, response.text
    posted = raw_request(app, 'POST', '/api/submissions', headers, files={'file': ('solution.py', SOLUTION)})
    assert posted.status_code == 401, posted.text


@pytest.mark.parametrize('token', MALFORMED + ['\u0662.abc', '1.\ufffd', '\u0661\u0662' * 20 + '.x'])
def test_a_malformed_login_token_is_401(app, client, token):
    add_person(app, 'alice')
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get('/login').text).group(1)
    response = client.post('/login', data={'token': token, 'csrf_token': csrf})
    assert response.status_code == 401 and 'not valid' in response.text


# -- uploads: cheap checks first, the parse bounded and away from the event loop, a BOM ------------------------
def test_the_limits_are_checked_before_the_file_is_parsed(tmp_path):
    app = make_app(tmp_path, per_hour=1)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        assert upload(client, token).status_code == 201
        queued = upload(client, token, b'def f(:\n')           # a file that does not parse: not parsed at all
        assert queued.status_code == 429 and 'still being graded' in queued.json()['detail']
        finish_jobs(app)
        over = upload(client, token, b'def f(:\n')
        assert over.status_code == 429 and 'limit is 1' in over.json()['detail']


def test_a_slow_parse_does_not_hold_up_other_requests(app, client):
    token = add_person(app, 'alice')
    outcome = {}

    def slow_upload():
        started = time.monotonic()
        outcome['status'] = upload(client, token, SLOW_SOURCE).status_code
        outcome['seconds'] = time.monotonic() - started

    uploader = threading.Thread(target=slow_upload)
    uploader.start()
    gaps, last = [], time.monotonic()   # from one answered request to the next, the pause included
    while uploader.is_alive():
        assert client.get('/healthz').status_code == 200
        gaps.append(time.monotonic() - last)
        last = time.monotonic()
        time.sleep(0.05)
    uploader.join()
    assert outcome['status'] == 201
    assert outcome['seconds'] > 0.5, "the upload was too fast to tell anything"
    assert len(gaps) > 5 and max(gaps) < outcome['seconds'] / 4, (sorted(gaps)[-3:], outcome['seconds'])


def test_the_parsers_are_bounded_in_number_and_time():
    from service.parsing import ParserBusy, ParserPool
    pool = ParserPool(workers=1, waiting=0, timeout=2.0)
    try:
        assert pool.refusal('ok.py', 'x = 1\n') is None
        assert 'SyntaxError' in pool.refusal('bad.py', 'def f(:\n')
        outcome = {}
        slow = threading.Thread(target=lambda: outcome.update(refusal=pool.refusal('slow.py', '1\n' * 4_000_000)))
        slow.start()
        deadline = time.monotonic() + 5
        while pool.busy == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(ParserBusy):
            pool.refusal('other.py', 'x = 1\n')
        slow.join()
        assert 'takes too long to parse' in outcome['refusal']
        assert pool.refusal('ok.py', 'x = 2\n') is None       # a new child took the killed one's place
    finally:
        pool.close()


def test_a_busy_parser_is_a_503_and_nothing_is_stored(app, client):
    from service.models import UploadAttempt
    from service.parsing import ParserBusy
    token = add_person(app, 'alice')

    def busy(name, text, required=None):
        raise ParserBusy()

    app.state.parser.refusal = busy
    response = upload(client, token)
    assert response.status_code == 503 and 'busy' in response.json()['detail']
    with app.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0
        assert db.scalar(select(func.count()).select_from(UploadAttempt)) == 0   # the attempt does not count


def test_a_file_with_a_byte_order_mark_is_accepted_and_graded(tmp_path):
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial', sections=['relu'],
                        rate_per_second=0, heartbeat_seconds=0.5)
    app = create_app(settings)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        created = upload(client, token, b'\xef\xbb\xbf' + SOLUTION)
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 120
        while (report := client.get(created.json()['status_url'], headers=bearer(token)).json())['state'] != 'done':
            assert time.monotonic() < deadline, report
            time.sleep(0.3)
    assert [(s['name'], s['verdict']) for s in report['sections']] == [('relu', 'passed')]
    with app.state.sessions() as db:
        stored = db.get(Submission, created.json()['id'])
        assert stored.content == SOLUTION and stored.sha256 == hashlib.sha256(SOLUTION).hexdigest()


# -- downloads of a student's file ---------------------------------------------------------------------
HOSTILE_NAMES = ["solution.py\"; filename*=UTF-8''evil.html; x=\".py", 'решение.py', 'sol\nution.py',
                 'a\r\nSet-Cookie: x=1;.py', 'über "quoted".py']


def disposition_filename(header):
    """The name a browser saves the download as: filename*, preferred as RFC 6266 says, else filename."""
    extended = re.search(r"(?:^|;)\s*filename\*\s*=\s*UTF-8''([^;\s]*)", header, re.I)
    if extended:
        return unquote(extended.group(1), errors='strict')
    message = email.message.Message()
    message['content-disposition'] = header
    return message.get_filename()


def check_download(response):
    assert response.status_code == 200
    assert response.headers['content-type'] == 'text/plain; charset=utf-8'
    assert response.headers['x-content-type-options'] == 'nosniff'
    header = response.headers['content-disposition']
    assert '\r' not in header and '\n' not in header and header.isascii()
    assert header.count('filename=') == 1 and header.count('filename*=') == 1
    name = disposition_filename(header)
    assert name.endswith('.py') and '"' not in name and ';' not in name and 'evil.html' != name
    return name


@pytest.mark.parametrize('filename', HOSTILE_NAMES)
def test_a_stored_file_name_cannot_shape_the_download(app, client, filename):
    """Rows stored before names were made safe: the header is built safely all the same."""
    teacher = add_person(app, 'prof', 'instructor')
    add_person(app, 'alice')
    with app.state.sessions.begin() as db:
        alice = db.scalar(select(Person).where(Person.student_id == 'alice'))
        db.add(Submission(person=alice, filename=filename, content=SOLUTION, sha256='0' * 64, size=len(SOLUTION)))
    sign_in(client, teacher)
    response = client.get('/instructor/submissions/1/file')
    name = check_download(response)
    assert response.content == SOLUTION and name.startswith('alice-1-')
    if filename == 'решение.py':
        assert name == 'alice-1-решение.py'


def multipart_upload(client, token, filename):
    """An upload whose multipart header carries ``filename`` as a hand-made client would (raw bytes)."""
    boundary = 'b0undary'
    quoted = filename.replace('\\', '\\\\').replace('"', '\\"')
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            f'Content-Type: text/x-python\r\n\r\n').encode() + SOLUTION + f'\r\n--{boundary}--\r\n'.encode()
    return client.post('/api/submissions', content=body, headers={
        **bearer(token), 'Content-Type': f'multipart/form-data; boundary={boundary}'})


@pytest.mark.parametrize('filename', ["solution.py\"; filename*=UTF-8''evil.html; x=\".py", 'решение.py',
                                      'über "quoted".py'])
def test_an_uploaded_file_name_is_stored_safe(app, client, filename):
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    created = multipart_upload(client, alice, filename)
    assert created.status_code == 201, created.text
    stored = created.json()['filename']
    assert stored.endswith('.py') and not set(stored) & set('"\';\\%*=\r\n')
    sign_in(client, teacher)
    check_download(client.get(f"/instructor/submissions/{created.json()['id']}/file"))


# -- headers, inline scripts, the API's documentation --------------------------------------------------------
def check_security_headers(response, path):
    policy = response.headers.get('content-security-policy', '')
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, (path, policy)
    assert 'unsafe-inline' not in policy and 'unsafe-eval' not in policy, (path, policy)
    assert response.headers.get('x-content-type-options') == 'nosniff', path
    assert response.headers.get('referrer-policy'), path


INLINE = [re.compile(r'<script(?![^>]*\ssrc=)[^>]*>', re.I), re.compile(r'<style', re.I),
          re.compile(r'\son[a-z]+\s*=', re.I), re.compile(r'\sstyle\s*=', re.I), re.compile(r'javascript:', re.I)]


def check_no_inline_code(html, path):
    """No inline script, style or event handler: the Content-Security-Policy would block them."""
    for pattern in INLINE:
        assert not pattern.search(html), (path, pattern.pattern, pattern.search(html))


def test_every_page_has_the_security_headers_and_no_inline_code(app, client):
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    sid = upload(client, alice).json()['id']
    anonymous = ['/login', '/', '/healthz', '/static/style.css', '/static/login.js', '/api/me', '/nowhere']
    for path in anonymous:
        response = client.get(path, follow_redirects=False, headers={'Accept': 'text/html'})
        check_security_headers(response, path)
        if response.headers.get('content-type', '').startswith('text/html'):
            check_no_inline_code(response.text, path)
    too_large = client.post('/api/submissions', content=b'x' * (3 << 20), headers=bearer(alice))
    assert too_large.status_code == 413
    check_security_headers(too_large, 'a refused body')
    sign_in(client, alice)
    for path in ('/', f'/submissions/{sid}', f'/submissions/{sid}/status', '/submissions/999', '/api/submissions'):
        response = client.get(path, headers={'Accept': 'text/html'})
        check_security_headers(response, path)
        check_no_inline_code(response.text, path)
    sign_in(client, teacher)
    for path in ('/instructor', '/instructor/submissions', f'/instructor/submissions/{sid}', '/instructor/queue',
                 '/instructor/students/alice', f'/instructor/submissions/{sid}/file', '/instructor/gradebook.csv'):
        response = client.get(path)
        assert response.status_code == 200, path
        check_security_headers(response, path)
        if response.headers['content-type'].startswith('text/html'):
            check_no_inline_code(response.text, path)
    assert 'data-confirm=' in client.get('/instructor').text   # the re-grade question, without onsubmit


def test_the_templates_and_scripts_need_no_inline_code():
    templates = KIT_ROOT / 'service' / 'templates'
    for template in templates.glob('*.html'):
        check_no_inline_code(template.read_text(), template.name)
    for script in ('login.js', 'report.js', 'confirm.js'):
        assert (KIT_ROOT / 'service' / 'static' / script).is_file()


def test_the_api_documentation_is_off_and_its_schema_is_for_instructors(app, client):
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    for path in ('/api/docs', '/api/redoc', '/docs', '/redoc'):
        assert client.get(path).status_code == 404, path
    assert client.get('/api/openapi.json').status_code == 401
    assert client.get('/api/openapi.json', headers=bearer(alice)).status_code == 403
    schema = client.get('/api/openapi.json', headers=bearer(teacher))
    assert schema.status_code == 200 and '/api/submissions' in schema.json()['paths']


# -- ./run.py submit: the token out of ps and shell history -----------------------------------------------------
class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """A stand-in checker: records the Authorization header, answers like the real API."""
    seen = []

    def do_POST(self):
        self.rfile.read(int(self.headers['Content-Length']))
        RecordingHandler.seen.append(self.headers.get('Authorization'))
        body = json.dumps({'id': 7, 'sha256': 'ab' * 32, 'queue_position': 1, 'url': '/submissions/7'}).encode()
        self.send_response(201)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_submit_takes_the_token_from_a_file_or_the_environment(tmp_path):
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}'
    (tmp_path / 'solution.py').write_text(REFERENCE_SOURCE)
    (tmp_path / 'token.txt').write_text('# my checker token\n5.filetoken\n')
    env = {key: value for key, value in os.environ.items() if key != 'NN_KIT_TOKEN'}

    def submit(*options, **extra_env):
        return subprocess.run([PYTHON, str(KIT_ROOT / 'run.py'), 'submit', 'solution.py', '--server', url, *options],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**env, **extra_env})

    try:
        RecordingHandler.seen.clear()
        by_file = submit('--token-file', 'token.txt')
        by_env = submit(NN_KIT_TOKEN='6.envtoken')
        by_flag = submit('--token', '7.flagtoken')
        nothing = submit()
    finally:
        server.shutdown()
    assert by_file.returncode == by_env.returncode == by_flag.returncode == 0, by_file.stderr + by_env.stderr
    assert 'Submission 7 stored' in by_file.stdout and 'warning' not in by_file.stderr + by_env.stderr
    assert 'warning' in by_flag.stderr and 'NN_KIT_TOKEN' in by_flag.stderr
    assert RecordingHandler.seen == ['Bearer 5.filetoken', 'Bearer 6.envtoken', 'Bearer 7.flagtoken']
    assert nothing.returncode != 0 and '--token-file' in nothing.stderr


# -- the gradebook CSV -----------------------------------------------------------------------------------------
def test_gradebook_cells_cannot_be_formulas(app, tmp_path):
    from grader import gradebook_csv as batch_format
    from service.gradebook import csv_text, gradebook
    hostile = {'student_id': '+s1', 'name': '=HYPERLINK("http://evil.example","grades")', 'email': '@cmd|x'}
    with app.state.sessions.begin() as db:
        person = Person(role='student', token_hash='', **hostile)
        db.add(person)
        db.flush()
        submission = Submission(person=person, filename='solution.py', content=SOLUTION, sha256='0' * 64, size=1)
        db.add(submission)
        db.flush()
        job = Job(submission=submission, kind='units', sections=['relu'], state='done')
        db.add(job)
        db.flush()
        db.add(Result(submission_id=submission.id, job_id=job.id, section='relu', verdict='passed', points=1,
                      max_points=1, reason='', warnings=[]))
        db.add(Person(student_id='\tt2', name='-2+3', email='\rx', role='student', token_hash=''))
    with app.state.sessions() as db:
        table = list(csv.DictReader(io.StringIO(csv_text(gradebook(db, None)))))
    first, second = sorted(table, key=lambda row: row['relu'], reverse=True)   # the graded one first
    assert (first['student_id'], first['name'], first['email']) == \
        ("'+s1", "'=HYPERLINK(\"http://evil.example\",\"grades\")", "'@cmd|x")
    assert (first['relu'], first['total'], first['submissions']) == ('1', '1', '1')
    assert (second['student_id'], second['name'], second['email']) == ("'\tt2", "'-2+3", "'\rx")
    # the batch grader's CSV, the same rule
    out = tmp_path / 'grades.csv'
    batch_format.write_csv([{'student_id': '=1+1', 'submission': '@x.py', 'relu': '1', 'total': '1',
                             'max_total': '1', 'verdicts': 'ok'}], out)
    row = next(csv.DictReader(open(out, newline='')))
    assert (row['student_id'], row['submission'], row['relu']) == ("'=1+1", "'@x.py", '1')
    assert batch_format.safe_cell('-1.5', numeric=True) == '-1.5'
    assert batch_format.safe_cell('-1.5') == "'-1.5"
    assert batch_format.safe_cell('-x', numeric=True) == "'-x"


# -- two servers on one database --------------------------------------------------------------------------------
@pytest.fixture(params=['sqlite', 'postgresql'])
def shared_db(request, tmp_path):
    if request.param == 'sqlite':
        return f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    return request.getfixturevalue('postgres').new_database()


def two_servers(db_url, tmp_path, **options):
    settings = dict(db_url=db_url, scheduler='serial', sections=['relu'], start_worker=False, rate_per_second=0,
                    state_dir=str(tmp_path / 'state'), **options)
    return create_app(Settings(**settings)), create_app(Settings(**settings))


def test_two_servers_enforce_one_set_of_limits(shared_db, tmp_path):
    first, second = two_servers(shared_db, tmp_path, per_hour=2, attempts_per_hour=4)
    alice, bob = add_person(first, 'alice'), add_person(first, 'bob')
    with TestClient(first) as one, TestClient(second) as two:
        assert upload(one, alice).status_code == 201
        finish_jobs(first)
        assert upload(two, alice).status_code == 201
        finish_jobs(first)
        for client in (one, two):
            refused = upload(client, alice)
            assert refused.status_code == 429 and 'limit is 2' in refused.json()['detail']
        # refused files count as attempts, whichever server they reach
        for client in (one, two, one):
            assert upload(client, bob, b'def f(:\n').status_code == 422
        assert upload(two, bob).status_code == 201
        finish_jobs(first)
        for client in (one, two):
            refused = upload(client, bob, b'x = 1\n')
            assert refused.status_code == 429 and 'refused files included' in refused.json()['detail']
    with first.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 3


START_TOGETHER = """
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from service.app import create_app
from service.config import Settings
url, state, sync = sys.argv[1], sys.argv[2], Path(sys.argv[3])
(sync / f'ready-{os.getpid()}').touch()
while not (sync / 'go').exists():
    time.sleep(0.001)
app = create_app(Settings(db_url=url, state_dir=state, start_worker=False, rate_per_second=0, sections=['relu']))
print(json.dumps({'token': app.state.instructor_token}))
"""


def start_together(count, db_url, state, sync):
    """``count`` processes that build the app at the same moment (once all have imported the service)."""
    sync.mkdir()
    processes = [subprocess.Popen([PYTHON, '-c', START_TOGETHER, db_url, str(state), str(sync), str(KIT_ROOT)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    deadline = time.monotonic() + 120
    while len(list(sync.glob('ready-*'))) < count and time.monotonic() < deadline:
        assert all(process.poll() is None for process in processes), [p.communicate() for p in processes]
        time.sleep(0.01)
    (sync / 'go').touch()
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * count, [err[-2000:] for _, err in outputs]
    return [json.loads(out.strip().splitlines()[-1])['token'] for out, _ in outputs]


def test_servers_starting_together_on_an_empty_database(shared_db, tmp_path):
    state = tmp_path / 'state'
    tokens = start_together(3, shared_db, state, tmp_path / 'sync')
    made = [token for token in tokens if token]
    assert len(made) == 1, tokens
    assert len(list(state.glob('*.session-secret'))) == 1
    app = create_app(Settings(db_url=shared_db, state_dir=str(state), start_worker=False, rate_per_second=0))
    with app.state.sessions() as db:
        assert db.scalar(select(func.count()).where(Person.role == 'instructor')) == 1
    with TestClient(app) as client:
        assert client.get('/api/me', headers=bearer(made[0])).json()['role'] == 'instructor'
