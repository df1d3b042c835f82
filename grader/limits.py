"""Resource limits of a sandboxed run, in one place.

``unit`` applies to each unit section (one child each); the gates, named
after their sections (numpy-nn's mnist and cifar10, the autoencoder's bottleneck), get their own.  Seconds are
wall-clock seconds of the whole child, which is killed with its PID namespace when they run out.  A gate's own
time limit (its ``max_seconds``) is judged on the CPU time the child got where that is less (a loaded machine),
so its wall-clock kill here only stops a child that hangs: three times the gate's limit.
"""
from dataclasses import dataclass

from assignments.autoencoder.gates import GATES as AUTOENCODER_GATES
from public_tests.gates import GATES

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
    'mnist': Limits(seconds=3 * GATES['mnist'].max_seconds + 60, memory_bytes=12 * GiB, processes=64,
                    file_bytes=64 * MiB, output_bytes=8 * MiB, threads=2),
    'cifar10': Limits(seconds=GATES['cifar10'].max_seconds + 120, memory_bytes=16 * GiB, processes=128,
                      file_bytes=64 * MiB, output_bytes=8 * MiB, threads=2),
    'bottleneck': Limits(seconds=3 * AUTOENCODER_GATES['bottleneck'].max_seconds + 60, memory_bytes=8 * GiB,
                         processes=64, file_bytes=64 * MiB, output_bytes=8 * MiB, threads=2),
}
