"""Where the data sets live, and how a file is fetched and verified.

The data directory is, in this order: the ``data_dir`` argument (``--data-dir``
on the command line), the ``NN_KIT_DATA_DIR`` environment variable, or the
download cache ``~/.cache/numpy-nn-kit``.  Each data set lives in its own
sub-folder (``mnist/``, ``cifar10/``); pointing at that sub-folder directly
works too.  A file found nowhere is downloaded into the cache (official address
first, then a mirror) when the machine is online.
"""
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

DATA_DIR_VARIABLE = 'NN_KIT_DATA_DIR'
ALLOW_UNVERIFIED_VARIABLE = 'NN_KIT_ALLOW_UNVERIFIED'
CACHE_DIR = Path.home() / '.cache' / 'numpy-nn-kit'


class DataError(Exception):
    """A data file is missing, corrupt or not the official one; the message says which and what to do."""


def md5sum(path):
    digest = hashlib.md5()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def allow_unverified(flag=None):
    """The explicit flag, else the environment variable NN_KIT_ALLOW_UNVERIFIED=1."""
    if flag is not None:
        return bool(flag)
    return os.environ.get(ALLOW_UNVERIFIED_VARIABLE, '') not in ('', '0', 'false', 'no')


def candidate_dirs(dataset, data_dir=None):
    """Folders searched for ``dataset``'s files, most specific first."""
    roots = [Path(data_dir)] if data_dir else []
    if os.environ.get(DATA_DIR_VARIABLE):
        roots.append(Path(os.environ[DATA_DIR_VARIABLE]))
    roots.append(CACHE_DIR)
    return [folder for root in roots for folder in (root / dataset, root)]


def warn(message):
    print(f"\n{'!' * 78}\nWARNING: {message}\n{'!' * 78}\n", file=sys.stderr)


def verify_all(expected_md5s, unverified_ok):
    """Check every ``{path: official md5}``; a mismatch is an error unless ``unverified_ok``,
    in which case one loud warning lists the files that are not the official ones."""
    unofficial = []
    for path, expected in expected_md5s.items():
        actual = md5sum(path)
        if actual == expected:
            continue
        if not unverified_ok:
            raise DataError(
                f"{path}: md5 {actual} is not the official {expected} (corrupt, truncated or not the "
                f"official file). Delete it to download it again, or pass --allow-unverified "
                f"(or set {ALLOW_UNVERIFIED_VARIABLE}=1) to use a local copy that is not byte-identical.")
        unofficial.append(str(path))
    if unofficial:
        warn("these files are NOT the official ones (md5 differs); using them anyway because unverified "
             "data was allowed. Results on them are not official figures:\n  " + "\n  ".join(unofficial))


def download(urls, target, expected_md5):
    """Fetch the first URL that answers into ``target`` (with a progress bar) and verify it."""
    from tqdm.auto import tqdm
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        partial = Path(tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")[1])
        try:
            with urllib.request.urlopen(url, timeout=30) as response, open(partial, 'wb') as file:
                total = int(response.headers.get('Content-Length') or 0) or None
                with tqdm(total=total, unit='B', unit_scale=True, desc=f"Downloading {target.name}") as bar:
                    for block in iter(lambda: response.read(1 << 16), b''):
                        file.write(block)
                        bar.update(len(block))
            if md5sum(partial) == expected_md5:
                shutil.move(partial, target)
                return target
            failures.append(f"{url}: md5 mismatch")
        except OSError as error:
            failures.append(f"{url}: {error}")
        finally:
            partial.unlink(missing_ok=True)
    raise DataError(f"could not download {target.name}: " + '; '.join(failures))


def missing_data_message(dataset, files, data_dir, how_to_get):
    searched = '\n'.join(f"  - {folder}" for folder in candidate_dirs(dataset, data_dir))
    listed = '\n'.join(f"  - {name}" for name in files)
    return (f"{dataset} data not found. Expected these files:\n{listed}\nin one of:\n{searched}\n"
            f"Point the kit at them with --data-dir DIR or {DATA_DIR_VARIABLE}=DIR "
            f"(DIR/{dataset}/ or DIR itself), or go online to download them. {how_to_get}")
