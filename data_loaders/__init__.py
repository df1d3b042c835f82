"""Data loaders for the gates: ``load_mnist`` and ``load_cifar10`` (see ``storage`` for where data is looked up)."""
from data_loaders.cifar10 import load_cifar10
from data_loaders.mnist import load_mnist
from data_loaders.storage import DataError

__all__ = ['load_mnist', 'load_cifar10', 'DataError', 'LOADERS']

LOADERS = {'mnist': load_mnist, 'cifar10': load_cifar10}
