"""Engine, sessions and migrations (Alembic, run through its API at start).

A SQLite database is created 0600 before SQLite opens it (its -wal and -shm files take the
database's mode), so other users of the machine cannot read students' code; an existing one that
others could read is narrowed. Migrations hold a lock (SQLite's write lock, a PostgreSQL advisory
lock), so servers started together on an empty database do not create the tables twice.
"""
import logging
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from grader.private_files import FILE_MODE, create_private_file
from service.models import Setting

MIGRATIONS = Path(__file__).resolve().parent / 'migrations'
MIGRATION_LOCK = 0x6e6e6b6974  # the PostgreSQL advisory lock key of migrations ("nnkit")

log = logging.getLogger('service')


def private_sqlite_file(url: str) -> None:
    """Create the SQLite file of ``url`` 0600 (before SQLite would make it 0644), or narrow an existing
    one (and its -wal, -shm) that other users could read."""
    from service.course import sqlite_file
    path = sqlite_file(url)
    if path is None or not path.parent.is_dir() or create_private_file(path):
        return
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if part.stat().st_mode & 0o077 and part.stat().st_uid == os.geteuid():
                os.chmod(part, FILE_MODE)
                log.warning("%s was readable by other users: narrowed to 0600", part)
        except FileNotFoundError:
            pass


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith('sqlite'):
        private_sqlite_file(url)
        engine = create_engine(url, connect_args={'check_same_thread': False, 'timeout': 30}, pool_size=20,
                               max_overflow=60)

        @event.listens_for(engine, 'connect')
        def _sqlite_pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute('PRAGMA journal_mode=WAL')
            cursor.execute('PRAGMA busy_timeout=30000')
            cursor.execute('PRAGMA foreign_keys=ON')
            cursor.close()
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    config.set_main_option('sqlalchemy.url', url.replace('%', '%%'))
    return config


def lock_for_migration(connection: Connection) -> None:
    """Hold the database's migration lock until the transaction ends (one migrating server at a time)."""
    if connection.dialect.name == 'sqlite':
        connection.exec_driver_sql('BEGIN IMMEDIATE')  # the write lock now; pysqlite would not BEGIN before DDL
    elif connection.dialect.name == 'postgresql':
        connection.execute(text('SELECT pg_advisory_xact_lock(:key)'), {'key': MIGRATION_LOCK})


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent, and safe for servers starting together)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        lock_for_migration(connection)
        config.attributes['connection'] = connection
        command.upgrade(config, 'head')


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def insert_if_absent(db: Session, model, values: dict, keys: list) -> bool:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; True when this call inserted the row.

    Safe when several servers do it at once: the losers wait for the winner's transaction and
    insert nothing (a unique constraint on ``keys`` decides)."""
    dialect = {'sqlite': sqlite, 'postgresql': postgresql}.get(db.get_bind().dialect.name)
    if dialect is None:
        raise NotImplementedError(f"insert_if_absent on {db.get_bind().dialect.name}")
    statement = (dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
                 .returning(*model.__table__.primary_key.columns))
    return db.execute(statement).first() is not None  # (rowcount is -1 here with psycopg)


def get_setting(db: Session, key: str):
    return db.scalar(select(Setting.value).where(Setting.key == key))
