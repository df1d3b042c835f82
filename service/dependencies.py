"""Per-request dependencies: the database session, the signed-in person, CSRF checks.

A person is signed in by ``Authorization: Bearer <token>`` (scripts) or by the cookie session
made at /login (browsers). Cookie-authenticated requests that change something must carry the
session's CSRF token (a form field, or the X-CSRF-Token header for the API).
"""
from typing import Iterator, Optional

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from service.config import Settings
from service.models import Person
from service.security import csrf_valid, person_for_token, session_owner


class LoginRequired(Exception):
    """A page needs a signed-in person: the handler redirects to /login."""


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


def bearer_token(request: Request) -> Optional[str]:
    header = request.headers.get('authorization', '')
    scheme, _, token = header.partition(' ')
    return token.strip() if scheme.lower() == 'bearer' and token else None


def session_person(request: Request, db: Session) -> Optional[Person]:
    """The person of the cookie's login session, while the session lives on the server."""
    person = session_owner(db, request.session.get('session_key'))
    # a new token (reissued by the instructor) ends the sessions made with the old one
    if person is None or request.session.get('token_fp') != person.token_hash[:16]:
        return None
    return person


def optional_person(request: Request, db: Session = Depends(get_db)) -> Optional[Person]:
    token = bearer_token(request)
    if token is not None:
        return person_for_token(db, token)
    return session_person(request, db)


def api_person(request: Request, db: Session = Depends(get_db)) -> Person:
    """The API's caller; 401 without valid credentials."""
    token = bearer_token(request)
    person = person_for_token(db, token) if token is not None else session_person(request, db)
    if person is None:
        detail = "invalid token" if token is not None else "sign in: send 'Authorization: Bearer <your token>'"
        raise HTTPException(401, detail, headers={'WWW-Authenticate': 'Bearer'})
    if token is None and request.method not in ('GET', 'HEAD') and \
            not csrf_valid(request.session, request.headers.get('x-csrf-token')):
        raise HTTPException(403, "missing or wrong X-CSRF-Token header (cookie sessions need it)")
    return person


def page_person(request: Request, db: Session = Depends(get_db)) -> Person:
    person = session_person(request, db)
    if person is None:
        raise LoginRequired()
    return person


def instructor_page(person: Person = Depends(page_person)) -> Person:
    if not person.is_instructor:
        raise HTTPException(403, "instructors only")
    return person


def api_instructor(person: Person = Depends(api_person)) -> Person:
    if not person.is_instructor:
        raise HTTPException(403, "instructors only")
    return person


async def check_csrf(request: Request) -> None:
    """Forms: the ``csrf_token`` field must match the session's."""
    form = await request.form()
    if not csrf_valid(request.session, form.get('csrf_token')):
        raise HTTPException(403, "the form has expired or did not come from this site (CSRF check failed); "
                                 "reload the page and try again")
