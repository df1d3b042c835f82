"""The limits of the first assignment's gates (grader/limits.py): MNIST's MLP and CIFAR-10's CNN."""
from grader.limits import GiB, gate_limits
from public_tests.gates import GATES

GATE_LIMITS = {
    'mnist': gate_limits(GATES['mnist'].max_seconds, 12 * GiB),
    # CIFAR-10's own limit is 15 minutes already: a hang is stopped two minutes after it
    'cifar10': gate_limits(GATES['cifar10'].max_seconds, 16 * GiB, processes=128,
                           seconds=GATES['cifar10'].max_seconds + 120),
}
