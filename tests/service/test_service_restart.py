"""Kill the real server (SIGKILL) while submissions are queued and one is being graded; start it
again: every submission is graded, no section recorded twice, none lost."""
import re
import time

import httpx
from sqlalchemy import func, select

import pytest

from service.db import make_engine, session_factory
from service.models import Job, Result, Submission
from tests.support.service_support import KIT_ROOT, REFERENCE_SOURCE, Server, import_roster, run_cli

pytestmark = pytest.mark.service  # markers: pyproject.toml

SECTIONS = ['relu', 'flatten', 'sgd']


def test_a_killed_server_regrades_what_was_running(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    tokens = import_roster(db_url, tmp_path, 4)
    options = ['--scheduler', 'serial', '--sections', *SECTIONS, '--rate', '0', '--stale-after', '3']
    server = Server(db_url, tmp_path, *options)
    sessions = session_factory(make_engine(db_url))
    try:
        first, *others = tokens.values()
        submitted = run_cli('submit', str(KIT_ROOT / 'solution.py'), '--server', server.url, '--token', first)
        assert re.match(r'Submission 1 stored \(sha256 [0-9a-f]{12}\.\.\.\), position 1 in the queue', submitted.stdout)
        for token in others:
            response = httpx.post(f"{server.url}/api/submissions", headers={'Authorization': f'Bearer {token}'},
                                  files={'file': ('solution.py', REFERENCE_SOURCE.encode())}, timeout=30)
            assert response.status_code == 201, response.text
        deadline = time.monotonic() + 60
        running = None
        while running is None and time.monotonic() < deadline:
            with sessions() as db:
                running = db.scalar(select(Job.id).where(Job.state == 'running'))
            time.sleep(0.05)
        assert running is not None, "no job was ever running"
        server.kill()
        with sessions() as db:
            states = dict(db.execute(select(Job.id, Job.state)).all())
        assert states[running] == 'running' and list(states.values()).count('queued') >= 1
        server = Server(db_url, tmp_path, *options)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            with sessions() as db:
                if not db.scalar(select(func.count()).where(Job.state != 'done')):
                    break
            time.sleep(0.5)
    finally:
        server.stop()
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 4
        jobs = db.scalars(select(Job)).all()
        assert [job.state for job in jobs] == ['done'] * 4
        attempts = {job.id: job.attempts for job in jobs}
        assert attempts.pop(running) == 2 and set(attempts.values()) == {1}
        results = db.execute(select(Result.submission_id, Result.section, Result.verdict)).all()
    assert len(results) == 4 * len(SECTIONS)
    assert len({(sid, section) for sid, section, _ in results}) == len(results)
    assert {verdict for _, _, verdict in results} == {'passed'}
    log = (tmp_path / f'server-{server.port}.log').read_text()
    assert 'queued again 1 job(s)' in log
