"""Data loaders for the gates: ``load_mnist`` and ``load_cifar10`` (see ``storage`` for where data is looked up)."""
from pathlib import Path

from data_loaders.cifar10 import load_cifar10
from data_loaders.mnist import load_mnist
from data_loaders.storage import DataError

__all__ = ['load_mnist', 'load_cifar10', 'DataError', 'LOADERS', 'check_dataset', 'official_files']

LOADERS = {'mnist': load_mnist, 'cifar10': load_cifar10}


def check_dataset(name, data_dir=None, unverified_ok=None):
    """Find (downloading it when online) and md5-check ``name``'s files without loading them: raises
    DataError as the loader would (``serve`` checks its gates' data at start this way)."""
    from data_loaders import cifar10, mnist
    {'mnist': mnist.find_files, 'cifar10': cifar10.read_batches}[name](data_dir, unverified_ok)


def official_files(name, folder):
    """{path: official md5} of dataset ``name``'s files in its ``folder`` (CIFAR-10: the extracted batches
    where they are there, else the archive)."""
    from data_loaders import cifar10, mnist
    folder = Path(folder)
    if name == 'mnist':
        return {folder / file: md5 for file, md5 in mnist.FILES.items()}
    if all((folder / cifar10.FOLDER / file).is_file() for file in cifar10.BATCHES):
        return {folder / cifar10.FOLDER / file: md5 for file, md5 in cifar10.BATCHES.items()}
    return {folder / cifar10.ARCHIVE: cifar10.ARCHIVE_MD5}
