"""The third assignment: the practical part of seminar 1 (matrix calculus by the chain rule).

Forward and backward passes of logistic regression, a dense layer, ReLU, cross-entropy and
log-softmax in numpy, in the seminar's orientation (one object per row), put together into a
small softmax classifier trained on MNIST.  The package holds every role of assignments.ROLES
but the optional feedback, ladders, kit_variants and benchmarks; its mistake catalogue is
mistakes.toml (the checker's diagnosis names a student's mistake from it).
"""
from assignments import Assignment

ASSIGNMENT = Assignment('autodiff', 'Backpropagation by hand: the practical part of seminar 1', __name__)
