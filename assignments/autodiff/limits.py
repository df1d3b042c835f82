"""The limits of the autodiff assignment's gate (grader/limits.py): the MNIST softmax classifier.

One BLAS thread: the gate's matrix products are small (64 x 784 by 784 x 128), two threads gain
nothing on them, and on a busy machine two threads cost twice the CPU time (measured: 3.0 s of CPU
single-threaded, 4.0-6.2 s with two threads, for the same 2.0-3.8 s of wall clock).
"""
from assignments.autodiff.gates import GATES
from grader.limits import GiB, gate_limits

GATE_LIMITS = {'classifier': gate_limits(GATES['classifier'].max_seconds, 4 * GiB, threads=1)}
