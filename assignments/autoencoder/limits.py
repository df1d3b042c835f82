"""The limits of the second assignment's gate (grader/limits.py): the bottleneck autoencoder."""
from assignments.autoencoder.gates import GATES
from grader.limits import GiB, gate_limits

GATE_LIMITS = {'bottleneck': gate_limits(GATES['bottleneck'].max_seconds, 8 * GiB)}
