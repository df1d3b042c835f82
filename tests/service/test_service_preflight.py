"""Before an upload is queued: the pre-flight check of the assignment's classes and functions (a file
without them is refused and spends no attempt), and the per-hour limit shown before uploading."""
from fastapi.testclient import TestClient
from sqlalchemy import select

import pytest

import assignments
from service.models import Job, Submission
from service.parsing import check_source
from service.preflight import required_definitions
from tests.support.service_support import REFERENCE_SOURCE
from service.app import create_app
from service.config import Settings
from tests.service.test_service_api import add_person, bearer, count, finish_jobs, sign_in, upload

pytestmark = pytest.mark.service  # markers: pyproject.toml

SOLUTION = REFERENCE_SOURCE.encode()
def make_app(tmp_path, **options):
    options.setdefault('sections', ['relu', 'dense'])
    return create_app(Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial',
                               start_worker=False, rate_per_second=0, **options))


WITHOUT_DENSE = REFERENCE_SOURCE.replace('class Dense(Layer):', 'class Dense_(Layer):', 1)
assert WITHOUT_DENSE != REFERENCE_SOURCE


def test_the_requirements_come_from_the_reference():
    numpy_nn = assignments.get('numpy-nn')
    required = {item['name']: item for item in required_definitions('numpy-nn', ('relu', 'dense'))}
    assert {'ReLU', 'Dense', 'convolve'} <= set(required) and 'Conv2D' not in required  # conv2d is not graded
    assert required['Dense']['methods']['__init__']['args'][:2] == ['self', 'units']
    everything = required_definitions('numpy-nn', tuple(s.name for s in numpy_nn.sections))
    assert check_source('solution.py', REFERENCE_SOURCE, everything) is None
    from grader.regions import make_template
    assert check_source('solution.py', make_template(REFERENCE_SOURCE, assignments.get('numpy-nn').by_name), everything) is None  # the students' start
    autoencoder = assignments.get('autoencoder')
    assert check_source('solution.py', autoencoder.reference_path.read_text(),
                        required_definitions('autoencoder', tuple(s.name for s in autoencoder.sections))) is None


def test_what_a_file_lacks_is_named():
    required = required_definitions('numpy-nn', ('relu', 'dense', 'momentum'))
    assert check_source('solution.py', WITHOUT_DENSE, required) == ['class Dense is missing']
    renamed = REFERENCE_SOURCE.replace('def __init__(self, lr, momentum=0.0):',
                                       'def __init__(self, rate, momentum=0.0):')
    assert renamed != REFERENCE_SOURCE
    assert check_source('solution.py', renamed, required) == [
        "SGDMomentum.__init__(self, lr, momentum) expected; yours names parameter 'lr' 'rate'"]
    no_backward = 'from interface import *\nclass Base(Layer):\n    def backward_impl(self, grad_outputs): pass\n' \
                  'class ReLU(Base):\n    def forward_impl(self, inputs): pass\n' \
                  'Dense = ReLU\nfrom mine import SGDMomentum\ndef convolve(inputs, kernels):\n    pass\n'
    assert check_source('solution.py', no_backward, required) == [  # inherited and re-bound names count
        "convolve(inputs, kernels, padding) expected; yours takes 2 positional parameters"]
    assert 'SyntaxError' in check_source('solution.py', 'def f(:\n', required)
    # a docstring line in column 0 cuts a block short: the whole file is parsed then, and still checked
    column_zero = WITHOUT_DENSE.replace('class ReLU(Layer):\n', 'class ReLU(Layer):\n    """A\nReLU.\n    """\n', 1)
    assert column_zero != WITHOUT_DENSE
    assert check_source('solution.py', column_zero, required) == ['class Dense is missing']
    guarded = WITHOUT_DENSE + '\nif True:\n    class Dense(Layer):\n        pass\n'  # defined, not checked
    assert check_source('solution.py', guarded, required) is None


def test_a_large_file_is_checked_in_about_the_time_of_its_compile():
    import time
    from service.parsing import parse_refusal
    text = REFERENCE_SOURCE + 'x = 1\n' * 150_000
    started = time.process_time()
    assert parse_refusal('solution.py', text) is None
    compiled = time.process_time() - started
    started = time.process_time()
    assert check_source('solution.py', text, required_definitions('numpy-nn', ('relu', 'dense'))) is None
    assert time.process_time() - started < 2 * compiled + 0.5


def test_a_file_without_dense_is_refused_and_spends_no_attempt(tmp_path):
    app = make_app(tmp_path, per_hour=1)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        before = client.get('/api/limits', headers=bearer(token)).json()
        assert before['attempts_left'] == 1 and before['per_hour'] == 1
        for _ in range(3):  # more than the hour allows
            refused = upload(client, token, WITHOUT_DENSE.encode())
            assert refused.status_code == 422, refused.text
            assert 'Dense' in refused.json()['detail'] and refused.json()['missing'] == ['class Dense is missing']
        assert count(app, Submission) == 0 and count(app, Job) == 0
        assert client.get('/api/limits', headers=bearer(token)).json() == before
        assert upload(client, token).status_code == 201  # the hour's one upload is still there


def test_the_page_lists_what_is_missing(tmp_path):
    app = make_app(tmp_path)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        csrf = sign_in(client, token)
        page = client.post('/upload', data={'csrf_token': csrf},
                           files={'file': ('solution.py', WITHOUT_DENSE.encode(), 'text/x-python')})
        assert page.status_code == 422 and 'class Dense is missing' in page.text
        assert 'does not count against your hourly limit' in page.text


def test_the_interface_check_can_be_turned_off(tmp_path):
    app = make_app(tmp_path, check_interface=False)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        assert upload(client, token, WITHOUT_DENSE.encode()).status_code == 201


def test_the_limits_are_shown_before_the_upload(tmp_path):
    from datetime import datetime, timedelta
    app = make_app(tmp_path, per_hour=2, attempts_per_hour=30)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        assert client.get('/api/limits').status_code == 401
        assert client.get('/api/limits', headers=bearer(token)).json() == {
            'per_hour': 2, 'used': 0, 'attempts_left': 2, 'next_free_at': None, 'in_queue': None}
        first = upload(client, token).json()
        limits = client.get('/api/limits', headers=bearer(token)).json()
        first_at = datetime.fromisoformat(first['created_at'].replace('Z', '+00:00'))
        assert limits['attempts_left'] == 1 and limits['used'] == 1 and limits['in_queue'] == first['id']
        assert datetime.fromisoformat(limits['next_free_at']) == first_at + timedelta(hours=1)
        finish_jobs(app)
        upload(client, token)
        finish_jobs(app)
        limits = client.get('/api/limits', headers=bearer(token)).json()
        assert limits['attempts_left'] == 0 and limits['in_queue'] is None
        assert datetime.fromisoformat(limits['next_free_at']) == first_at + timedelta(hours=1)
        sign_in(client, token)
        page = client.get('/').text
        assert 'Uploads left this hour: <strong id="attempts-left">0</strong> of 2' in page
        assert 'The next one frees up at' in page
        with app.state.sessions.begin() as db:  # an hour later both are free again
            for submission in db.scalars(select(Submission)).all():
                submission.created_at -= timedelta(hours=1, seconds=1)
        assert client.get('/api/limits', headers=bearer(token)).json()['attempts_left'] == 2


def test_the_stricter_limit_is_shown(tmp_path):
    app = make_app(tmp_path, per_hour=5, attempts_per_hour=2)
    token = add_person(app, 'alice')
    with TestClient(app) as client:
        for _ in range(2):
            assert upload(client, token, b'def f(:\n').status_code == 422  # refused files count as attempts
        limits = client.get('/api/limits', headers=bearer(token)).json()
        assert limits['attempts_left'] == 0 and limits['used'] == 0 and limits['next_free_at']
        assert upload(client, token).status_code == 429


def test_submit_prints_what_is_missing(tmp_path):
    import os
    import subprocess
    from tests.support.service_support import KIT_ROOT, PYTHON, Server, import_roster
    db_url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    token = import_roster(db_url, tmp_path, 1)['s000']
    (tmp_path / 'solution.py').write_text(WITHOUT_DENSE)
    server = Server(db_url, tmp_path, '--no-worker', '--sections', 'relu', 'dense', '--rate', '0')
    try:
        submitted = subprocess.run([PYTHON, str(KIT_ROOT / 'run.py'), 'submit', 'solution.py', '--server', server.url],
                                   cwd=tmp_path, capture_output=True, text=True, timeout=60,
                                   env={**os.environ, 'NN_KIT_TOKEN': token})
    finally:
        server.stop()
    assert submitted.returncode == 1
    assert 'Not accepted (422)' in submitted.stderr and 'class Dense is missing' in submitted.stderr, submitted.stderr
