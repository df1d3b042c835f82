"""Resource limits of a sandboxed run, in one place.

``unit`` applies to each unit section (one child each); each gate gets the limits its assignment
declares (its ``limits`` module: ``GATE_LIMITS``, keyed by the gate's section name).  Seconds are
wall-clock seconds of the whole child, which is killed with its PID namespace when they run out.  A gate's own
time limit (its ``max_seconds``) is judged on the CPU time the child got where that is less (a loaded machine),
so its wall-clock kill only stops a child that hangs: ``gate_limits`` gives three times the gate's limit
plus a minute.
"""
from dataclasses import dataclass

GiB, MiB = 1 << 30, 1 << 20


@dataclass(frozen=True)
class Limits:
    seconds: float         # wall clock, then the process group is killed
    memory_bytes: int      # address space (RLIMIT_AS): allocations beyond it raise MemoryError
    processes: int         # RLIMIT_NPROC for the sandbox user (threads count)
    file_bytes: int        # largest file the child may write (RLIMIT_FSIZE)
    output_bytes: int      # stdout + stderr kept; printing more is a policy violation
    threads: int           # BLAS / OpenMP / torch threads (numpy's BLAS gets one where torch runs: sandbox)


LIMITS = {
    'import': Limits(seconds=20, memory_bytes=4 * GiB, processes=64, file_bytes=64 * MiB, output_bytes=1 * MiB,
                     threads=1),
    'unit': Limits(seconds=30, memory_bytes=4 * GiB, processes=64, file_bytes=64 * MiB, output_bytes=1 * MiB,
                   threads=1),
    # Shrinking a failing case: the ladder's candidates are smaller than the case, so a short limit;
    # a submission that cannot be shrunk in time keeps the original case.
    'shrink': Limits(seconds=10, memory_bytes=4 * GiB, processes=64, file_bytes=64 * MiB, output_bytes=1 * MiB,
                     threads=1),
}


def gate_limits(max_seconds, memory_bytes, processes=64, threads=2, seconds=None):
    """A gate's limits: the wall-clock kill at three times its own time limit plus a minute (or ``seconds``)."""
    return Limits(seconds=seconds or 3 * max_seconds + 60, memory_bytes=memory_bytes, processes=processes,
                  file_bytes=64 * MiB, output_bytes=8 * MiB, threads=threads)


def limits_for(assignment, limits=None):
    """{run: Limits} for ``assignment``: the checker's ``LIMITS`` (or ``limits``) and its gates' own."""
    gates = assignment.module('limits').GATE_LIMITS if assignment.has('limits') else {}
    return {**gates, **(LIMITS if limits is None else limits)}
