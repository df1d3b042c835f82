"""The points table of the autodiff assignment: one row per ``./run.py --assignment autodiff unittest`` name.

Numbers are the sections of the students' handout (handout.md): sections 1-5 are the seminar's
five problems, section 6 puts them together, section 7 trains the result on MNIST.
"""
from public_tests.sections import Section

SECTIONS = (
    Section('logreg', '1', 'Logistic regression: loss and gradient', 1.5),
    Section('dense', '2', 'Dense layer forward and backward', 2.0),
    Section('relu', '3', 'ReLU forward and backward', 1.0),
    Section('crossentropy', '4', 'Cross-entropy on log-probabilities', 1.0),
    Section('logsoftmax', '5', 'Log-softmax forward and backward', 2.0),
    Section('network', '6', 'The network: forward, loss and gradients', 2.0),
    Section('classifier', '7', 'MNIST softmax classifier', 2.5, is_gate=True),
)
