"""Loaders: tiny files in the official formats (parsing, checksums, errors) and the real data in ../shared."""
import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from data_loaders import DataError, cifar10, mnist
from data_loaders.storage import DATA_DIR_VARIABLE
from tests.conftest import DATA_DIR


def idx_bytes(array):
    """An IDX file of unsigned bytes: magic 0x0000080N, N big-endian sizes, then the data."""
    header = bytes([0, 0, 8, array.ndim]) + b''.join(size.to_bytes(4, 'big') for size in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path, content):
    path.write_bytes(gzip.compress(content))
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """10 training and 5 test images of 28x28 in tmp_path/mnist, with md5s the loader accepts."""
    rng = np.random.default_rng(0)
    folder = tmp_path / 'mnist'
    folder.mkdir()
    arrays = {'train-images-idx3-ubyte.gz': rng.integers(0, 256, size=(10, 28, 28)),
              'train-labels-idx1-ubyte.gz': np.arange(10) % 10,
              't10k-images-idx3-ubyte.gz': rng.integers(0, 256, size=(5, 28, 28)),
              't10k-labels-idx1-ubyte.gz': np.array([3, 1, 4, 1, 5])}
    md5s = {name: write_gz(folder / name, idx_bytes(array)) for name, array in arrays.items()}
    monkeypatch.setattr(mnist, 'FILES', md5s)
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    return tmp_path, arrays


def test_mnist_parses_and_preprocesses(tiny_mnist):
    root, arrays = tiny_mnist
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = mnist.load_mnist(root, download_missing=False)
    assert x_valid.shape == (2, 784) and x_train.shape == (8, 784) and x_test.shape == (5, 784)
    images = arrays['train-images-idx3-ubyte.gz'].reshape(10, 784)
    np.testing.assert_allclose(x_valid, (images[:2] - 33.385964741253645) / 78.6543736268941)
    np.testing.assert_array_equal(y_test.argmax(axis=1), [3, 1, 4, 1, 5])
    np.testing.assert_array_equal(y_train.sum(axis=1), np.ones(8))


def test_mnist_offline_directory_from_environment(tiny_mnist, monkeypatch):
    root, _ = tiny_mnist
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(root))
    (x_train, _), _, _ = mnist.load_mnist(download_missing=False)
    assert x_train.shape == (8, 784)


def test_mnist_wrong_checksum_names_the_file(tiny_mnist, monkeypatch):
    root, _ = tiny_mnist
    monkeypatch.setitem(mnist.FILES, 't10k-labels-idx1-ubyte.gz', '0' * 32)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: md5 \w+ is not the official 0{32}"):
        mnist.load_mnist(root, download_missing=False)


def test_mnist_truncated_file(tiny_mnist, monkeypatch):
    root, _ = tiny_mnist
    path = root / 'mnist' / 'train-images-idx3-ubyte.gz'
    content = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(content[:-100]))
    with pytest.raises(DataError, match='md5'):  # caught by the checksum first
        mnist.load_mnist(root, download_missing=False)
    with pytest.raises(DataError, match=r'train-images-idx3-ubyte.gz: header says shape \(10, 28, 28\)'):
        mnist.load_mnist(root, unverified_ok=True, download_missing=False)
    path.write_bytes(path.read_bytes()[:50])  # a cut gz stream
    with pytest.raises(DataError, match='not a readable gz file'):
        mnist.load_mnist(root, unverified_ok=True, download_missing=False)


def test_missing_directory_says_what_is_expected_where(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    with pytest.raises(DataError) as error:
        mnist.load_mnist(tmp_path / 'nowhere', download_missing=False)
    message = str(error.value)
    assert 't10k-labels-idx1-ubyte.gz' in message and str(tmp_path / 'nowhere' / 'mnist') in message
    assert '--data-dir' in message and DATA_DIR_VARIABLE in message


def cifar_batch(rng, n):
    return {b'batch_label': b'tiny', b'labels': [int(label) for label in rng.integers(0, 10, size=n)],
            b'data': rng.integers(0, 256, size=(n, 3072)).astype(np.uint8), b'filenames': [b'x.png'] * n}


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    contents = {name: pickle.dumps(cifar_batch(rng, 4 if name == 'test_batch' else 10), protocol=2)
                for name in cifar10.BATCHES}
    monkeypatch.setattr(cifar10, 'BATCHES', {name: hashlib.md5(c).hexdigest() for name, c in contents.items()})
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    return tmp_path, contents


def test_cifar_from_folder(tiny_cifar):
    root, contents = tiny_cifar
    folder = root / 'cifar10' / cifar10.FOLDER
    folder.mkdir(parents=True)
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    (x_train, y_train), (x_valid, _), (x_test, y_test) = cifar10.load_cifar10(root, download_missing=False)
    assert x_train.shape == (45, 3, 32, 32) and x_valid.shape == (5, 3, 32, 32) and x_test.shape == (4, 3, 32, 32)
    first = pickle.loads(contents['data_batch_1'])
    np.testing.assert_allclose(x_valid[0, 1], (first[b'data'][0, 1024:2048].reshape(32, 32) - cifar10.MEAN[1])
                               / cifar10.STD[1])
    np.testing.assert_array_equal(y_test.argmax(1), pickle.loads(contents['test_batch'])[b'labels'])


def test_cifar_from_official_archive(tiny_cifar, monkeypatch):
    root, contents = tiny_cifar
    archive = root / cifar10.ARCHIVE
    with tarfile.open(archive, 'w:gz') as tar:
        for name, content in contents.items():
            info = tarfile.TarInfo(f"{cifar10.FOLDER}/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    monkeypatch.setattr(cifar10, 'ARCHIVE_MD5', hashlib.md5(archive.read_bytes()).hexdigest())
    (x_train, _), _, _ = cifar10.load_cifar10(root, download_missing=False)
    assert x_train.shape == (45, 3, 32, 32)


def test_cifar_refuses_pickles_that_run_code(tiny_cifar):
    class Evil:
        def __reduce__(self):
            return (print, ('pwned',))
    with pytest.raises(DataError, match='refusing to load builtins.print'):
        cifar10.parse_batch(pickle.dumps({b'data': Evil()}), 'evil_batch')


@pytest.mark.skipif(not (DATA_DIR / 'mnist').is_dir(), reason='no ../shared/data/mnist')
def test_real_mnist():
    (x_train, y_train), (x_valid, _), (x_test, y_test) = mnist.load_mnist(DATA_DIR, download_missing=False)
    assert x_train.shape == (48000, 784) and x_valid.shape == (12000, 784) and x_test.shape == (10000, 784)
    everything = np.concatenate([x_train, x_valid, x_test])
    assert abs(everything.mean()) < 1e-9 and abs(everything.std() - 1) < 1e-9  # the fixed mean / std
    assert y_test.sum() == 10000


@pytest.mark.skipif(not (DATA_DIR / 'cifar10').is_dir(), reason='no ../shared/data/cifar10')
def test_real_partial_cifar_needs_permission_and_warns(capsys):
    with pytest.raises(DataError, match='is not the official'):
        cifar10.load_cifar10(DATA_DIR, download_missing=False)
    (x_train, _), _, (x_test, _) = cifar10.load_cifar10(DATA_DIR, unverified_ok=True, download_missing=False)
    assert x_train.shape == (45000, 3, 32, 32) and x_test.shape == (1017, 3, 32, 32)
    assert abs(x_train.mean()) < 0.01
    assert 'measured on 1017 images only' in capsys.readouterr().err


def test_download_falls_back_to_the_mirror_and_verifies(tmp_path):
    from data_loaders.storage import download
    source = tmp_path / 'official.gz'
    md5 = write_gz(source, b'payload')
    target = tmp_path / 'cache' / 'file.gz'
    assert download([f"file://{tmp_path}/missing.gz", f"file://{source}"], target, md5) == target
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(DataError, match='md5 mismatch'):
        download([f"file://{source}"], tmp_path / 'cache' / 'other.gz', '0' * 32)
    assert [path.name for path in (tmp_path / 'cache').iterdir()] == ['file.gz']  # no partial files left
