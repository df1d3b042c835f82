"""Grading gives way to the web server: every grading job runs at a lower CPU priority (nice 10).

The server's grading loop hands its executor ``run_job_gently`` instead of ``grader.executor.run_job``
(a Dask worker resolves it by name, so the workers of an existing cluster need the kit's ``service``
folder too: they run from a copy of the kit). It lowers the thread that runs the job (on Linux a
priority is a thread's; the threads and processes it starts inherit it: the grader's sandboxed
children), so a local cluster's worker, an existing cluster's worker or a serial executor in the
server's own grading thread all grade at nice ``GRADING_NICE``, while the server's request threads stay
at their own priority. A priority is only ever lowered here (no privilege needed), never raised.
"""
import os

GRADING_NICE = 10  # CPU weight 110 against the server's 1024 (nice 0): about 9% of a contended core


def lower_priority(nice: int = GRADING_NICE) -> int:
    """Put the calling thread (and what it starts from now on) at nice ``nice`` or lower priority; its nice."""
    current = os.getpriority(os.PRIO_PROCESS, 0)  # Linux: the calling thread's
    if current < nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError:
            return current
        return nice
    return current


def run_job_gently(job):
    """``grader.executor.run_job`` at a lower CPU priority (the executor's job function in the server)."""
    lower_priority()
    from grader.executor import run_job
    return run_job(job)
