"""Tokens and CSRF.

A token is ``<person id>.<secret>``: 32 random bytes, URL-safe. Only sha256(secret) is stored
(the secret is random, so a slow password hash would add nothing); the id picks the row and the
hashes are compared with ``hmac.compare_digest`` in constant time.
"""
import hashlib
import hmac
import secrets
from typing import Optional

from sqlalchemy.orm import Session

from service.models import Person


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(person: Person) -> str:
    """Give ``person`` (already flushed, so it has an id) a fresh token; return it (shown once)."""
    secret = secrets.token_urlsafe(32)
    person.token_hash = hash_secret(secret)
    return f"{person.id}.{secret}"


def person_for_token(db: Session, token: Optional[str]) -> Optional[Person]:
    """The person a token belongs to, or None (the comparison takes the same time either way)."""
    if not token or '.' not in token or len(token) > 200:
        return None
    ident, secret = token.strip().split('.', 1)
    person = db.get(Person, int(ident)) if ident.isdigit() else None
    stored = person.token_hash if person is not None else '0' * 64
    matches = hmac.compare_digest(stored.encode(), hash_secret(secret).encode())
    return person if person is not None and matches else None


def csrf_token(session: dict) -> str:
    """The CSRF token of a cookie session (made on first use)."""
    if 'csrf' not in session:
        session['csrf'] = secrets.token_urlsafe(32)
    return session['csrf']


def csrf_valid(session: dict, submitted: Optional[str]) -> bool:
    expected = session.get('csrf')
    return bool(expected and submitted) and hmac.compare_digest(expected.encode(), submitted.encode())
