"""A real Dask cluster on 127.0.0.1 for tests: ``dask scheduler`` and ``dask worker`` processes.

Every process is started in its own session so a test can kill one worker (nanny and worker
together) with its process group; ``stop()`` kills whatever is left.  ``run_or_die`` is a job
function the workers import by name: it ends its worker process for submissions labelled
'...die...' and grades every other job normally.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).with_name('dask')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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
    """``with Cluster(workers=2, log_dir=tmp) as cluster:`` ... ``cluster.address``."""

    def __init__(self, workers=2, log_dir='.', allowed_failures=2, gate_workers=1):
        self.port, self.log_dir = free_port(), Path(log_dir)
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.environment = dict(os.environ, PYTHONPATH=str(KIT_ROOT),
                                DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(allowed_failures),
                                DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION='1.0')
        self.count, self.gate_workers = workers, gate_workers
        self.scheduler, self.workers = None, []

    def _start(self, name, arguments):
        log = open(self.log_dir / f"{name}.log", 'wb')
        process = subprocess.Popen([str(DASK), *arguments], cwd=KIT_ROOT, env=self.environment,
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        log.close()
        return process

    def start(self, timeout=60):
        self.scheduler = self._start('scheduler', ['scheduler', '--host', '127.0.0.1', '--port', str(self.port),
                                                    '--dashboard-address', ':0', '--no-show'])
        for index in range(self.count):
            resources = ['--resources', 'gate=1'] if index < self.gate_workers else []
            self.workers.append(self._start(f'worker-{index}', [
                'worker', self.address, '--nthreads', '1', '--name', f'w{index}', '--host', '127.0.0.1',
                '--dashboard-address', ':0', '--memory-limit', '0', '--death-timeout', '60', *resources]))
        self.wait_for_workers(self.count, timeout)
        return self

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
            if process is not None and process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def wait_until(condition, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
