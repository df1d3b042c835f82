"""The server's own secret files: the key that signs session cookies and the instructor's first token.

Neither is kept in the database (a copy of it, a backup or a read-only database account must not be
enough to forge a session) nor in the server's output (it lands in journald and ``docker logs``).
They live in the *state folder*: ``--state-dir``, else the folder of the SQLite database, else (a
PostgreSQL database) ``$XDG_STATE_HOME/nn-kit-checker`` (``~/.local/state/nn-kit-checker``), named
after the database (``checker.session-secret`` and ``checker.instructor-token`` beside
``checker.sqlite3``) and readable by their owner only (0600; the folder, when made, 0700).

``NN_KIT_SESSION_SECRET`` in the environment replaces the secret file. Servers on one PostgreSQL
database on several machines must sign with one key: give them the same value, or the same state folder.
The first of several servers started together creates the file (written whole, then hard-linked
into place, which fails for all but one); the others read it back.
"""
import logging
import os
import secrets
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from grader.course_policy import SettingsError
from grader.private_files import FILE_MODE, open_private
from service.course import sqlite_file

SECRET_VARIABLE = 'NN_KIT_SESSION_SECRET'
MIN_SECRET_LENGTH = 32

log = logging.getLogger('service')


def user_state_dir() -> Path:
    """This user's folder for the state of servers whose database is not a file."""
    return Path(os.environ.get('XDG_STATE_HOME') or Path.home() / '.local' / 'state') / 'nn-kit-checker'


def state_dir(settings) -> Path:
    """Where the server keeps its secret files (created 0700 when missing)."""
    database = sqlite_file(settings.db_url)
    folder = Path(settings.state_dir or (database.parent if database else user_state_dir())).resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def state_name(db_url: str) -> str:
    """The stem the state files are named with: the SQLite file's stem, or the database's name."""
    path = sqlite_file(db_url)
    if path is not None:
        return path.stem
    database = make_url(db_url).database or 'checker'
    return ''.join(c if c.isalnum() or c in '-_' else '_' for c in database) or 'checker'


def state_file(settings, kind: str) -> Path:
    return state_dir(settings) / f"{state_name(settings.db_url)}.{kind}"


def session_secret(settings) -> str:
    """The key that signs the session cookies: $NN_KIT_SESSION_SECRET, else the state folder's file
    (made at first start)."""
    value = os.environ.get(SECRET_VARIABLE, '').strip()
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            raise SettingsError(f"${SECRET_VARIABLE} must hold at least {MIN_SECRET_LENGTH} characters "
                                f"(e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
        return value
    return read_or_create_secret(state_file(settings, 'session-secret'))


def read_or_create_secret(path: Path) -> str:
    """The secret in ``path``; a new random one is written there first when the file is missing."""
    if not path.exists():
        create_secret_file(path, secrets.token_urlsafe(48))
    return read_secret(path)


def create_secret_file(path: Path, value: str) -> bool:
    """Write ``value`` to ``path`` unless it exists (0600 from the start); True when this call made it.

    The value is written to a private temporary file and hard-linked to ``path``: the link either
    appears complete or fails because another process was first, so nobody reads a half-written key."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with open_private(temporary, 'x') as file:
        file.write(value + '\n')
        file.flush()
        os.fsync(file.fileno())
    try:
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: exclusive creation, readers wait for the content
        try:
            with open_private(path, 'x') as file:
                file.write(value + '\n')
            return True
        except FileExistsError:
            return False
    finally:
        temporary.unlink()


def read_secret(path: Path, wait: float = 5.0) -> str:
    """The secret held in ``path`` (narrowed to 0600 if it was readable by others)."""
    deadline = time.monotonic() + wait
    while True:
        value = path.read_text().strip()
        if len(value) >= MIN_SECRET_LENGTH or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # another server is still writing it
    if len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(f"{path}: the session secret is shorter than {MIN_SECRET_LENGTH} characters; delete "
                            f"the file and start again (everybody will have to sign in again)")
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by other users: narrowed to 0600", path)
        os.chmod(path, FILE_MODE)
    return value


def write_instructor_token(settings, token: str, link: str) -> Path:
    """Keep the instructor's first token in a 0600 file of the state folder; return its path."""
    path = state_file(settings, 'instructor-token')
    with open_private(path, 'w') as file:
        file.write(f"{token}\n# Sign in at {link}\n# ./run.py roster token instructor makes a new one.\n")
    return path
