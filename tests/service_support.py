"""Helpers for the checker service's tests: a throwaway PostgreSQL server, a real server process,
a roster. Parts that CI must have (PostgreSQL binaries, Chromium) make the tests fail, not skip,
when the environment variable CI is set and they are missing."""
import contextlib
import csv
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

KIT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def require(found, what):
    """Skip locally, fail under CI, when a required part of the machine is missing."""
    if found:
        return
    if os.environ.get('CI'):
        pytest.fail(f"{what} is missing, and CI must run this test (.ci/run installs it)")
    pytest.skip(f"{what} is missing")


# -- PostgreSQL ---------------------------------------------------------------------------------
def postgres_bin():
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'))
    return Path(found[-1]).parent if found else None


class Postgres:
    """A PostgreSQL server in a temporary folder, listening on a unix socket only, run as a non-root
    user (``nobody`` when the tests run as root)."""

    def __init__(self):
        bin_dir = postgres_bin()
        require(bin_dir, "PostgreSQL (initdb, pg_ctl under /usr/lib/postgresql/*/bin)")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix='nn-pg-'))
        self.user = 'nobody' if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.data, self.socket_dir = self.root / 'data', self.root
        self.port = 40000 + os.getpid() % 20000
        if os.geteuid() == 0:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, self.user)
        self._as_user([str(self.bin / 'initdb'), '-D', str(self.data), '-U', self.user, '-A', 'trust',
                       '-E', 'UTF8', '--no-sync'])
        self._as_user([str(self.bin / 'pg_ctl'), '-D', str(self.data), '-l', str(self.root / 'log'), '-w', '-t', '60',
                       '-o', f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' -c fsync=off "
                             f"-c max_connections=200", 'start'])

    def _as_user(self, command):
        if os.geteuid() == 0:
            command = ['runuser', '-u', self.user, '--'] + command
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.root)

    def url(self, database='postgres'):
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self):
        import psycopg
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=self.user, dbname='postgres',
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self):
        with contextlib.suppress(Exception):
            self._as_user([str(self.bin / 'pg_ctl'), '-D', str(self.data), '-m', 'immediate', '-w', 'stop'])
        shutil.rmtree(self.root, ignore_errors=True)


# -- roster and server -------------------------------------------------------------------------
def write_roster(path, count, prefix='s'):
    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(['id', 'name', 'email'])
        for index in range(count):
            writer.writerow([f'{prefix}{index:03d}', f'Student {index}', f'{prefix}{index}@example.edu'])
    return path


def run_cli(*args, cwd=KIT_ROOT, timeout=120):
    result = subprocess.run([PYTHON, str(KIT_ROOT / 'run.py'), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def import_roster(db_url, tmp_path, count, prefix='s'):
    """{student id: token} for a new roster of ``count`` students."""
    roster = write_roster(tmp_path / f'{prefix}-roster.csv', count, prefix)
    links = tmp_path / f'{prefix}-links.csv'
    run_cli('roster', 'import', str(roster), '--db', db_url, '--links', str(links))
    with open(links, newline='') as file:
        return {row['id']: row['token'] for row in csv.DictReader(file)}


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Server:
    """``./run.py serve`` in a subprocess on 127.0.0.1 (its output goes to ``log``)."""

    def __init__(self, db_url, folder, *options):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(folder) / f'server-{self.port}.log'
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        with open(self.log, 'w') as log:
            self.process = subprocess.Popen(
                [PYTHON, str(KIT_ROOT / 'run.py'), 'serve', '--db', db_url, '--port', str(self.port),
                 '--base-url', self.url, *options], cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout=60):
        import httpx
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the server did not start: {self.log.read_text()[-3000:]}")

    def kill(self):
        """SIGKILL the server's whole process group (uvicorn and any grading child)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self):
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.kill()


REFERENCE_SOURCE = (KIT_ROOT / 'solution.py').read_text()
# ReLU doubles its output: 'relu' gets a wrong answer, every other section still passes.
BROKEN_SOLUTION = REFERENCE_SOURCE.replace("return np.maximum(inputs, 0)", "return np.maximum(inputs, 0) * 2", 1)
assert BROKEN_SOLUTION != REFERENCE_SOURCE
