"""The points table of the autoencoder assignment: one row per ``./run.py --assignment autoencoder unittest`` name.

Numbers are the sections of the students' handout (handout.md), the one numbering the kit uses.
"""
from public_tests.sections import Section

SECTIONS = (
    Section('activations', '2', 'Activation functions', 2.0),
    Section('fclayer', '2', 'FCLayer forward and backward', 2.0),
    Section('rp', '3', 'FCLayer R_p passes', 3.0),
    Section('loss', '2', 'Autoencoder loss and gradient', 2.0),
    Section('hessvec', '3', 'Hessian-vector product', 2.0),
    Section('gaussnewton', '4', 'Gauss-Newton-vector product', 2.0),
    Section('sgd', '6', 'SGD', 0.5),
    Section('momentum', '6', 'SGD with momentum', 1.0),
    Section('rmsprop', '6', 'RMSprop', 1.0),
    Section('adam', '6', 'Adam', 1.5),
    Section('bottleneck', '7', 'MNIST with a 2-unit bottleneck', 3.0, is_gate=True),
)
