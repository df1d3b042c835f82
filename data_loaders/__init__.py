"""Data loaders for the gates: ``load_mnist`` and ``load_cifar10`` (see ``storage`` for where data is looked up)."""
from data_loaders.cifar10 import load_cifar10
from data_loaders.mnist import load_mnist
from data_loaders.storage import DataError

__all__ = ['load_mnist', 'load_cifar10', 'DataError', 'LOADERS', 'check_dataset']

LOADERS = {'mnist': load_mnist, 'cifar10': load_cifar10}


def check_dataset(name, data_dir=None, unverified_ok=None):
    """Find (downloading it when online) and md5-check ``name``'s files without loading them: raises
    DataError as the loader would (``serve`` checks its gates' data at start this way)."""
    from data_loaders import cifar10, mnist
    {'mnist': mnist.find_files, 'cifar10': cifar10.read_batches}[name](data_dir, unverified_ok)
