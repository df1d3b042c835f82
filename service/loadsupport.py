"""Processes the load test (``service.loadtest``) starts on 127.0.0.1, and the tests with it: a roster
imported with ``./run.py roster import``, a real ``./run.py serve`` in a subprocess, and a Dask
cluster of ``dask scheduler`` and ``dask worker`` processes started as the README says.

Every process is started in its own session, so that it can be stopped with its process group (a
server and its grading children, a worker and its nanny). Nothing here imports the tests.
"""
import contextlib
import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent
DASK = VENV_BIN / 'dask'
PRELOAD = ['--preload', 'dask_preload.py']


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# -- roster ------------------------------------------------------------------------------------
def write_roster(path, count, prefix='s'):
    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(['id', 'name', 'email'])
        for index in range(count):
            writer.writerow([f'{prefix}{index:03d}', f'Student {index}', f'{prefix}{index}@example.edu'])
    return path


class CommandFailed(AssertionError):
    """A ``./run.py`` command exited with an error (its output is the message)."""


def run_cli(*args, cwd=KIT_ROOT, timeout=120):
    """``./run.py ARGS`` with this Python; raises CommandFailed unless it exits with status 0."""
    result = subprocess.run([PYTHON, str(KIT_ROOT / 'run.py'), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise CommandFailed(f"./run.py {' '.join(args)} exited with {result.returncode}:\n"
                            f"{result.stdout}{result.stderr}")
    return result


def import_roster(db_url, folder, count, prefix='s'):
    """{student id: token} for a new roster of ``count`` students (its CSV files are written to ``folder``)."""
    folder = Path(folder)
    roster = write_roster(folder / f'{prefix}-roster.csv', count, prefix)
    links = folder / f'{prefix}-links.csv'
    run_cli('roster', 'import', str(roster), '--db', db_url, '--links', str(links))
    with open(links, newline='') as file:
        return {row['id']: row['token'] for row in csv.DictReader(file)}


# -- the server --------------------------------------------------------------------------------
class Server:
    """``./run.py serve`` in a subprocess on 127.0.0.1 (its output goes to ``log``)."""

    def __init__(self, db_url, folder, *options, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(folder) / f'server-{self.port}.log'
        env = dict(env or os.environ, PYTHONUNBUFFERED='1')
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
        self.kill()
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


# -- a Dask cluster ----------------------------------------------------------------------------
def environment(**extra):
    """This process's environment without PYTHONPATH, the venv's commands first on PATH."""
    env = {name: value for name, value in os.environ.items() if name != 'PYTHONPATH'}
    env['PATH'] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def stop_process(process):
    """SIGKILL a process started in its own session, and its group."""
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


class Cluster:
    """A Dask cluster on 127.0.0.1 (``dask scheduler`` and ``dask worker`` processes, as the README
    starts them: no PYTHONPATH, the workers from a kit's folder with ``--preload dask_preload.py``).

    ``with Cluster(workers=2, log_dir=tmp) as cluster:`` ... ``cluster.address``.  ``kit``: the
    folder the workers start from (a copy of the kit, say); ``workers=0``: start them with ``add_worker``."""

    def __init__(self, workers=2, log_dir='.', allowed_failures=2, gate_workers=1, kit=KIT_ROOT):
        self.port, self.log_dir, self.kit = free_port(), Path(log_dir), Path(kit)
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.environment = environment(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(allowed_failures),
                                       DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION='1.0')
        self.count, self.gate_workers = workers, gate_workers
        self.scheduler, self.workers = None, []

    def _start(self, name, arguments, cwd):
        log = open(self.log_dir / f"{name}.log", 'wb')
        process = subprocess.Popen([str(DASK), *arguments], cwd=cwd, env=self.environment,
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        log.close()
        return process

    def start(self, timeout=60):
        scratch = self.log_dir / 'scheduler-folder'  # not a kit: the scheduler needs none
        scratch.mkdir(exist_ok=True)
        self.scheduler = self._start('scheduler', ['scheduler', '--host', '127.0.0.1', '--port', str(self.port),
                                                    '--dashboard-address', '127.0.0.1:0', '--no-show'], scratch)
        for index in range(self.count):
            self.add_worker(gate=index < self.gate_workers)
        if self.count:
            self.wait_for_workers(self.count, timeout)
        return self

    def add_worker(self, gate=False, kit=None, preload=True, name=None):
        """Start one more worker process (its nanny too) from ``kit`` (default: the cluster's kit folder)."""
        index = len(self.workers)
        self.workers.append(self._start(f'worker-{index}', [
            'worker', self.address, '--nthreads', '1', '--name', name or f'w{index}', '--host', '127.0.0.1',
            '--dashboard-address', '127.0.0.1:0', '--memory-limit', '0', '--death-timeout', '60',
            *(['--resources', 'gate=1'] if gate else []), *(PRELOAD if preload else [])], kit or self.kit))
        return index

    def wait_for_workers(self, count, timeout=60):
        from distributed import Client
        with Client(self.address, timeout=f'{timeout}s') as client:
            client.wait_for_workers(count, timeout=timeout)

    def kill_worker(self, index):
        """SIGKILL worker ``index`` and its nanny: it does not come back."""
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait(timeout=10)

    def kill_scheduler(self):
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(timeout=10)

    def logs(self):
        return '\n'.join(f"== {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.log_dir.glob('*.log')))

    def stop(self):
        for process in [*self.workers, self.scheduler]:
            stop_process(process)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
