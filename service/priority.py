"""Grading gives way to the web server: every grading job runs at a lower CPU priority (nice 10).

The server's grading loop hands its executor ``run_job_gently`` instead of ``grader.executor.run_job``
(a Dask worker resolves it by name, so the workers of an existing cluster need the kit's ``service``
folder too: they run from a copy of the kit). It lowers the thread that runs the job (on Linux a
priority is a thread's; the threads and processes it starts inherit it: the grader's sandboxed
children), so a local cluster's worker, an existing cluster's worker or a serial executor in the
server's own grading thread all grade ``GRADING_NICE`` steps below the server (nice 10 under a server at
nice 0), while the server's request threads keep their priority. A priority is only ever lowered here
(no privilege needed), never raised.
"""
import os
import threading

GRADING_NICE = 10  # nice steps below the server: CPU weight 110 against 1024 at nice 0, about 9% of a contended core

_lowered = threading.local()


def lower_priority(steps: int = GRADING_NICE) -> int:
    """Put the calling thread (and what it starts from now on) ``steps`` nice levels below where it was, once per
    thread (at most nice 19); returns its nice.  Relative, so that a server started under ``nice`` keeps the
    difference: the grading always gives way to the requests."""
    current = os.getpriority(os.PRIO_PROCESS, 0)  # Linux: the calling thread's
    if getattr(_lowered, 'done', False):
        return current
    _lowered.done = True
    wanted = min(19, current + steps)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, wanted)
    except OSError:
        return current
    return wanted


def run_job_gently(job):
    """``grader.executor.run_job`` at a lower CPU priority (the executor's job function in the server)."""
    lower_priority()
    from grader.executor import run_job
    return run_job(job)
