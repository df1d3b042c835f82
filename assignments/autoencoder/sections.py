"""The points table of the autoencoder assignment: one row per ``./run.py --assignment autoencoder unittest`` name."""
from public_tests.sections import Section

SECTIONS = (
    Section('activations', '3.1', 'Activation functions', 2.0),
    Section('fclayer', '3.2', 'FCLayer forward and backward', 2.0),
    Section('rp', '3.2', 'FCLayer R_p passes', 3.0),
    Section('loss', '3.4', 'Autoencoder loss and gradient', 2.0),
    Section('hessvec', '3.4', 'Hessian-vector product', 2.0),
    Section('gaussnewton', '3.4', 'Gauss-Newton-vector product', 2.0),
    Section('sgd', '3.4', 'SGD', 0.5),
    Section('momentum', '3.4', 'SGD with momentum', 1.0),
    Section('rmsprop', '3.4', 'RMSprop', 1.0),
    Section('adam', '3.4', 'Adam', 1.5),
    Section('bottleneck', '2', 'MNIST with a 2-unit bottleneck', 3.0, is_gate=True),
)
