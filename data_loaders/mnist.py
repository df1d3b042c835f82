"""MNIST from the official IDX gz files, preprocessed as KIT-SPEC fixes it.

Images are flattened to 784 values and standardised with the mean and std of
all 70,000 images; labels are one-hot; the first 20% of the official training
set is the validation split.
"""
import gzip
from pathlib import Path

import numpy as np

from data_loaders.storage import (DataError, allow_unverified, candidate_dirs, download,
                                  missing_data_message, verify_all)

MEAN, STD = 33.385964741253645, 78.6543736268941
VALID_SHARE = 0.2
CLASSES = 10

# official file name -> official md5
FILES = {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}
MIRRORS = ('https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/')
HOW_TO_GET = "The four files are the official MNIST gz files (as published by Yann LeCun et al.)."


def read_idx(path):
    """Parse one gz IDX file (magic 0x0000080N, N dimensions, big-endian sizes, uint8 data)."""
    try:
        with gzip.open(path, 'rb') as file:
            content = file.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: not a readable gz file ({error}); delete it and get it again") from None
    if len(content) < 4 or content[:2] != b'\0\0' or content[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    dimensions = content[3]
    header = 4 + 4 * dimensions
    shape = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], 'big') for i in range(dimensions))
    if len(content) != header + int(np.prod(shape)):
        raise DataError(f"{path}: header says shape {shape} but the file holds {len(content) - header} values "
                        f"(truncated or corrupt)")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def find_files(data_dir=None, unverified_ok=None, download_missing=True):
    """Paths of the four files, verified; downloads what is missing into the cache if allowed."""
    unverified_ok = allow_unverified(unverified_ok)
    found = {}
    for name, md5 in FILES.items():
        path = next((folder / name for folder in candidate_dirs('mnist', data_dir) if (folder / name).is_file()), None)
        if path is None and download_missing:
            target = candidate_dirs('mnist')[-2] / name
            try:
                path = download([mirror + name for mirror in MIRRORS], target, md5)
            except DataError:
                path = None
        if path is None:
            raise DataError(missing_data_message('mnist', FILES, data_dir, HOW_TO_GET))
        found[name] = Path(path)
    verify_all({found[name]: md5 for name, md5 in FILES.items()}, unverified_ok)
    return found


def one_hot(labels, classes=CLASSES):
    return np.eye(classes)[labels]


def standardise(images):
    """uint8 (n, 28, 28) -> float64 (n, 784), mean 0 / std 1 over the whole data set."""
    return (images.reshape(len(images), -1).astype(np.float64) - MEAN) / STD


def load_mnist(data_dir=None, unverified_ok=None, download_missing=True):
    """Returns ``(x_train, y_train), (x_valid, y_valid), (x_test, y_test)``: x (n, 784), y one-hot (n, 10)."""
    files = find_files(data_dir, unverified_ok, download_missing)
    images = {name: read_idx(files[f'{name}-images-idx3-ubyte.gz']) for name in ('train', 't10k')}
    labels = {name: read_idx(files[f'{name}-labels-idx1-ubyte.gz']) for name in ('train', 't10k')}
    for name in images:
        if images[name].ndim != 3 or labels[name].ndim != 1 or len(images[name]) != len(labels[name]):
            raise DataError(f"mnist {name}: {images[name].shape} images do not match {labels[name].shape} labels")
        if labels[name].max(initial=0) >= CLASSES:
            raise DataError(f"mnist {name}: labels outside 0..9")
    x, y = standardise(images['train']), one_hot(labels['train'])
    n_valid = int(len(x) * VALID_SHARE)
    return (x[n_valid:], y[n_valid:]), (x[:n_valid], y[:n_valid]), \
        (standardise(images['t10k']), one_hot(labels['t10k']))
