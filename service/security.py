"""Tokens, login sessions and CSRF.

A token is ``<person id>.<secret>``: 32 random bytes, URL-safe. Only sha256(secret) is stored
(the secret is random, so a slow password hash would add nothing); the id picks the row and the
hashes are compared with ``hmac.compare_digest`` in constant time. Anything else offered as a token
(a huge or non-ASCII id, odd characters, an empty secret) matches nobody: the caller answers 401.

A browser's session is a row of ``login_sessions``: the signed cookie holds a random key and the
row its sha256, so signing out (the row is deleted) ends the session even for a copy of the cookie.
"""
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete
from sqlalchemy.orm import Session, object_session

from service.models import LoginSession, Person, utcnow

SESSION_DAYS = 14
MAX_ID = 2 ** 63 - 1                       # the largest key a BIGINT column holds (SQLite's and PostgreSQL's)
TOKEN = re.compile(r'([0-9]{1,19})\.([A-Za-z0-9_-]{1,128})')   # what new_token makes


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode('utf-8', 'surrogatepass')).hexdigest()


def new_token(person: Person) -> str:
    """Give ``person`` (already flushed, so it has an id) a fresh token; return it (shown once). The
    person's browser sessions end (the old token's fingerprint no longer matches, and their rows go)."""
    secret = secrets.token_urlsafe(32)
    person.token_hash = hash_secret(secret)
    db = object_session(person)
    if db is not None and person.id is not None:
        db.execute(delete(LoginSession).where(LoginSession.person_id == person.id))
    return f"{person.id}.{secret}"


def parse_token(token) -> Optional[tuple]:
    """(person id, secret) of a well-formed token, None for anything else."""
    if not isinstance(token, str):
        return None
    match = TOKEN.fullmatch(token.strip())
    if match is None or int(match.group(1)) > MAX_ID:
        return None
    return int(match.group(1)), match.group(2)


def person_for_token(db: Session, token: Optional[str]) -> Optional[Person]:
    """The person a token belongs to, or None (the comparison takes the same time either way)."""
    parsed = parse_token(token)
    ident, secret = parsed if parsed else (None, '')
    person = db.get(Person, ident) if ident is not None else None
    stored = person.token_hash if person is not None and person.token_hash else '0' * 64
    matches = hmac.compare_digest(stored.encode(), hash_secret(secret).encode())
    return person if person is not None and matches else None


# -- login sessions ---------------------------------------------------------------------------------
def start_session(db: Session, person: Person, now: Optional[datetime] = None) -> str:
    """A new login session of ``person`` (committed by the caller); returns the cookie's key.
    Sessions past their end are deleted on the way."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    db.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    db.add(LoginSession(key_hash=hash_secret(key), person_id=person.id, created_at=now,
                        expires_at=now + timedelta(days=SESSION_DAYS)))
    return key


def session_owner(db: Session, key) -> Optional[Person]:
    """The person of a live session key, or None (unknown, ended or expired)."""
    if not isinstance(key, str) or not key or len(key) > 128:
        return None
    row = db.get(LoginSession, hash_secret(key))
    if row is None or row.expires_at < utcnow():
        return None
    return db.get(Person, row.person_id)


def end_session(db: Session, key) -> None:
    """Forget a session key (committed by the caller)."""
    if isinstance(key, str) and key:
        db.execute(delete(LoginSession).where(LoginSession.key_hash == hash_secret(key)))


# -- CSRF -------------------------------------------------------------------------------------------
def csrf_token(session: dict) -> str:
    """The CSRF token of a cookie session (made on first use)."""
    if 'csrf' not in session:
        session['csrf'] = secrets.token_urlsafe(32)
    return session['csrf']


def csrf_valid(session: dict, submitted: Optional[str]) -> bool:
    expected = session.get('csrf')
    if not isinstance(expected, str) or not isinstance(submitted, str) or not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode('utf-8', 'surrogatepass'))
