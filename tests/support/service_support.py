"""Helpers for the checker service's tests: a throwaway PostgreSQL server; a real server process and
a roster (``service.loadsupport``, shared with the load test). Parts that CI must have (PostgreSQL
binaries, Chromium) make the tests fail, not skip, when the environment variable CI is set and they
are missing."""
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

# A roster, a real server: in service.loadsupport (the load test uses them too); imported from here by the tests.
from service.loadsupport import PYTHON, Server, free_port, import_roster, run_cli, write_roster  # noqa: F401

KIT_ROOT = Path(__file__).resolve().parents[2]


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


REFERENCE_SOURCE = (KIT_ROOT / 'solution.py').read_text()
# ReLU doubles its output: 'relu' gets a wrong answer, every other section still passes.
BROKEN_SOLUTION = REFERENCE_SOURCE.replace("return np.maximum(inputs, 0)", "return np.maximum(inputs, 0) * 2", 1)
assert BROKEN_SOLUTION != REFERENCE_SOURCE
