"""Files that hold students' code, names or grades: created readable by their owner only.

Reports, gradebook CSVs, similarity pages and the checker's database are made 0600 (folders 0700)
whatever the umask, so a shared machine's other users cannot read them.
"""
import contextlib
import os

FILE_MODE, FOLDER_MODE = 0o600, 0o700


def open_private(path, mode='w', **options):
    """``open(path, mode)`` for writing, the file created (or truncated and narrowed) 0600."""
    if not any(flag in mode for flag in 'wax'):
        raise ValueError(f"open_private writes: mode {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if 'x' in mode else os.O_APPEND if 'a' in mode else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)  # an existing file keeps its mode through os.open: narrow it
        return os.fdopen(descriptor, mode, **options)
    except BaseException:
        os.close(descriptor)
        raise


def make_private_folder(path):
    """``mkdir -p`` with the folders it creates 0700."""
    os.makedirs(path, mode=FOLDER_MODE, exist_ok=True)


def create_private_file(path):
    """Create an empty 0600 file (a new SQLite database) unless it exists; True when it was created."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return False
    return True


@contextlib.contextmanager
def private_umask():
    """Files and folders created inside are 0600 / 0700 at most (for writers that use plain ``open``)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
