"""Engine, sessions and migrations (Alembic, run through its API at start)."""
import secrets
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.models import Setting

MIGRATIONS = Path(__file__).resolve().parent / 'migrations'


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith('sqlite'):
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


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes['connection'] = connection
        command.upgrade(config, 'head')


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def server_secret(sessions: sessionmaker, key: str = 'session_secret') -> str:
    """A random secret made once and kept in the database (it signs the session cookies)."""
    with sessions.begin() as db:
        row = db.get(Setting, key)
        if row is None:
            row = Setting(key=key, value=secrets.token_urlsafe(48))
            db.add(row)
            db.flush()
        return row.value


def get_setting(db: Session, key: str):
    return db.scalar(select(Setting.value).where(Setting.key == key))
