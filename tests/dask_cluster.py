"""A real Dask cluster on 127.0.0.1 for tests: ``dask scheduler`` and ``dask worker`` processes.

The processes are started as the README says (no PYTHONPATH: the environment has none): the
scheduler from a scratch folder (it needs no kit), each worker from a kit's folder with
``--preload dask_preload.py``.  Every process is started in its own session so a test can kill
one worker (nanny and worker together) with its process group; ``stop()`` kills whatever is left.
``run_or_die`` is a job function the workers import by name: it ends its worker process for
submissions labelled '...die...' and grades every other job normally.
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DASK = VENV_BIN / 'dask'
PRELOAD = ['--preload', 'dask_preload.py']


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def environment(**extra):
    """This process's environment without PYTHONPATH, the venv's commands first on PATH."""
    env = {name: value for name, value in os.environ.items() if name != 'PYTHONPATH'}
    env['PATH'] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def copy_kit(target):
    """A fresh copy of the kit (what a grading machine holds): everything but the venv, git and caches."""
    shutil.copytree(KIT_ROOT, target, ignore=shutil.ignore_patterns(
        '.venv', '.git', '__pycache__', '.pytest_cache', '*.pyc', 'checker.sqlite3*'))
    return Path(target)


def readme_one_machine_commands():
    """The README's one-machine recipe ('Grading a course'): [scheduler, worker, grade] command lines."""
    text = (KIT_ROOT / 'README.md').read_text()
    section = text.split('\n## Grading a course', 1)[1].split('\n## ', 1)[0]
    block = re.search(r'On one machine[^\n]*\n\n((?:    [^\n]*\n)+)', section).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def run_or_die(job):
    """Grade ``job``, or kill this worker process at once when its label asks for it."""
    if 'die' in Path(job.label).name:
        os._exit(13)
    from grader.executor import run_job
    return run_job(job)


def worker_name(job):
    """The name of the worker that ran ``job`` (to see where the scheduler sent it)."""
    from distributed import get_worker
    time.sleep(0.2)
    return get_worker().name


class Cluster:
    """``with Cluster(workers=2, log_dir=tmp) as cluster:`` ... ``cluster.address``.  ``kit``: the
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


def start_command(line, cwd, log, env=None, port=None):
    """Start a README command line (``dask ...``) in ``cwd``, its own session, output to ``log``;
    ``port``: put in place of the README's 8786."""
    if port is not None:
        line = line.replace(':8786', f':{port}').replace('--port 8786', f'--port {port}')
    with open(log, 'wb') as output:
        return subprocess.Popen(shlex.split(line), cwd=cwd, env=env or environment(), stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop_process(process):
    """SIGKILL a process started in its own session, and its group."""
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


def wait_until(condition, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
