"""CIFAR-10 from the official python version (``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``).

Images come as (n, 3, 32, 32), standardised per channel with the mean and std
of the 50,000 training images; labels are one-hot; the first 10% of the
training set is the validation split.  The batches are pickles: they are read
by an unpickler that builds nothing but plain containers and numpy arrays.
"""
import io
import pickle
import tarfile

import numpy as np

from data_loaders.mnist import one_hot
from data_loaders.storage import (DataError, allow_unverified, candidate_dirs, download, missing_data_message,
                                  verify_all, warn)

MEAN = np.array([125.306918046875, 122.950394140625, 113.86538318359375])
STD = np.array([62.99321927813685, 62.088707640014405, 66.70489964063101])
VALID_SHARE = 0.1
FOLDER = 'cifar-10-batches-py'
ARCHIVE, ARCHIVE_MD5 = 'cifar-10-python.tar.gz', 'c58f30108f718f92721af3b95e74349a'
URLS = ('https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz',)
TEST_SIZE = 10000
BATCHES = {  # official file name -> official md5
    'data_batch_1': 'c99cafc152244af753f735de768cd75f',
    'data_batch_2': 'd4bba439e000b95fd0a9bffe97cbabec',
    'data_batch_3': '54ebc095f3ab1f0389bbae665268c751',
    'data_batch_4': '634d18415352ddfa80567beed471001a',
    'data_batch_5': '482c414d41f54cd18b22e5b47cb7c3cb',
    'test_batch': '40351d587109b95175f43aff81a1287e',
}
HOW_TO_GET = f"Get {ARCHIVE} (the official python version) and unpack it, or keep the archive itself there."


class _ArrayUnpickler(pickle.Unpickler):
    """Builds only what a CIFAR batch holds: dicts, lists, bytes, str, numbers and numpy arrays."""
    ALLOWED = {('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
               ('numpy', 'ndarray'), ('numpy', 'dtype'),
               ('_codecs', 'encode')}  # bytes in a protocol-2 pickle written by Python 3

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def parse_batch(content, name):
    """(uint8 images (n, 3, 32, 32), int labels (n,)) from the bytes of one batch file."""
    try:
        batch = _ArrayUnpickler(io.BytesIO(content), encoding='bytes').load()
        data = np.asarray(batch[b'data'], dtype=np.uint8)
        labels = np.asarray(batch[b'labels'], dtype=np.int64)
    except Exception as error:
        raise DataError(f"{name}: not a CIFAR-10 python batch ({type(error).__name__}: {error})") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels) or not np.all((0 <= labels) & (labels < 10)):
        raise DataError(f"{name}: unexpected contents (data {data.shape}, {len(labels)} labels)")
    return data.reshape(-1, 3, 32, 32), labels


def read_batches(data_dir=None, unverified_ok=None, download_missing=True):
    """{batch name: bytes}, verified, from an unpacked folder or the official archive."""
    unverified_ok = allow_unverified(unverified_ok)
    for folder in candidate_dirs('cifar10', data_dir):
        if all((folder / FOLDER / name).is_file() for name in BATCHES):
            verify_all({folder / FOLDER / name: md5 for name, md5 in BATCHES.items()}, unverified_ok)
            return {name: (folder / FOLDER / name).read_bytes() for name in BATCHES}
        if (folder / ARCHIVE).is_file():
            return _read_archive(folder / ARCHIVE, unverified_ok)
    if download_missing:
        try:
            return _read_archive(download(URLS, candidate_dirs('cifar10')[-2] / ARCHIVE, ARCHIVE_MD5), False)
        except DataError:
            pass
    raise DataError(missing_data_message('cifar10', [f"{FOLDER}/{name}" for name in BATCHES] + [f"or {ARCHIVE}"],
                                         data_dir, HOW_TO_GET))


def _read_archive(path, unverified_ok):
    verify_all({path: ARCHIVE_MD5}, unverified_ok)
    try:
        with tarfile.open(path, 'r:gz') as archive:
            return {name: archive.extractfile(f"{FOLDER}/{name}").read() for name in BATCHES}
    except (tarfile.TarError, KeyError, OSError, EOFError) as error:
        raise DataError(f"{path}: not a complete CIFAR-10 archive ({error})") from None


def standardise(images):
    """uint8 (n, 3, 32, 32) -> float64, mean 0 / std 1 per channel (training-set statistics)."""
    return (images.astype(np.float64) - MEAN[None, :, None, None]) / STD[None, :, None, None]


def load_cifar10(data_dir=None, unverified_ok=None, download_missing=True):
    """Returns ``(x_train, y_train), (x_valid, y_valid), (x_test, y_test)``: x (n, 3, 32, 32), y one-hot (n, 10).

    A test set smaller than the official 10,000 images (a partial local copy)
    is returned as it is, with a warning: accuracy on it must say how many images it used.
    """
    batches = {name: parse_batch(content, name)
               for name, content in read_batches(data_dir, unverified_ok, download_missing).items()}
    images = np.concatenate([batches[f'data_batch_{i}'][0] for i in range(1, 6)])
    labels = np.concatenate([batches[f'data_batch_{i}'][1] for i in range(1, 6)])
    test_images, test_labels = batches['test_batch']
    if len(test_images) != TEST_SIZE:
        warn(f"the CIFAR-10 test set holds {len(test_images)} images, not the official {TEST_SIZE}: "
             f"test accuracy is measured on {len(test_images)} images only.")
    x, y = standardise(images), one_hot(labels)
    n_valid = int(len(x) * VALID_SHARE)
    return (x[n_valid:], y[n_valid:]), (x[:n_valid], y[:n_valid]), (standardise(test_images), one_hot(test_labels))
