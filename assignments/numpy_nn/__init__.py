"""The first assignment: training multilayer neural networks on numpy (layers, losses, optimizers,
convolutions, and two gates that train on MNIST and CIFAR-10).

Its student side is the repository's top level, where the course's kit has it: interface.py,
solution.py, public_tests/ (sections, public cases, gates, training report, shrinking ladders) and
data_loaders/.  This package holds what only the checker uses, and the kit's README.
"""
from assignments import KIT_ROOT, Assignment

ASSIGNMENT = Assignment(
    'numpy-nn', 'Training multilayer neural networks on numpy', __name__, root=KIT_ROOT,
    datasets=('mnist', 'cifar10'),
    elsewhere={'sections': 'public_tests.sections', 'public_cases': 'public_tests.cases',
               'gates': 'public_tests.gates', 'training': 'public_tests.training_report',
               'ladders': 'public_tests.ladders', 'feedback': 'public_tests.feedback'})
