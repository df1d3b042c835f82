"""Failures of the grading machinery, as opposed to what a submission did.

A submission earns a verdict (and points, or none) only for what its own code did.  When the
grader cannot run it -- a sandbox that cannot be started, a Dask worker that cannot import the
kit or runs another version of it, a task graph the scheduler cannot read, a worker lost on every
try, a bug of ours -- the job is *not graded*: no verdict, no points (never a zero), a reason for
the instructor, and ``./run.py grade --resume`` grades it once the cause is fixed.

This module imports nothing of the kit, so the sandbox, the grader and the executor can all
import it (``grader.executor`` re-exports ``InfrastructureError``).
"""


class InfrastructureError(RuntimeError):
    """The grading machinery failed: the job was not graded, and the message says why (and, where
    we know it, how to fix it).

    Raise it wherever a failure is ours and not the submission's, e.g. in ``grader.sandbox`` when
    the sandbox cannot be started.  ``stops_batch``: True (the default) when every other job would
    fail the same way (a broken machine or cluster: the batch stops at once); False when only this
    job is affected (a worker lost on every try of this job, an internal error on this input): the
    batch goes on and reports it as not graded at the end.
    """

    def __init__(self, message, stops_batch=True):
        super().__init__(message)
        self.stops_batch = stops_batch

    def __reduce__(self):  # keep ``stops_batch`` across pickling (Dask, multiprocessing)
        return type(self), (str(self), self.stops_batch)
