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
import subprocess
import time
from pathlib import Path

# The cluster itself (processes, environment) is service.loadsupport's: the deadline load test starts one too.
from service.loadsupport import (DASK, KIT_ROOT, PRELOAD, VENV_BIN, Cluster, environment,  # noqa: F401
                                 free_port, stop_process)


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


def start_command(line, cwd, log, env=None, port=None):
    """Start a README command line (``dask ...``) in ``cwd``, its own session, output to ``log``;
    ``port``: put in place of the README's 8786."""
    if port is not None:
        line = line.replace(':8786', f':{port}').replace('--port 8786', f'--port {port}')
    with open(log, 'wb') as output:
        return subprocess.Popen(shlex.split(line), cwd=cwd, env=env or environment(), stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def wait_until(condition, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
