"""The checker's web application: ``create_app(settings)``.

At start it migrates the database (Alembic), makes the instructor's token the first time (written
to a 0600 file of the server's state folder, whose path is printed: never the token itself, which
would land in the server's logs), re-queues what a killed server left running (the grading loop does
that as it starts) and starts the grading loop unless ``settings.start_worker`` is off. Several
servers may start together on one empty database: one of them makes the instructor.

The session cookies are signed with a key of the server's own (``service.state``), not one kept
in the database. The API's documentation pages are off (they would load scripts from a CDN); its
OpenAPI schema is served to instructors only.
"""
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Optional

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from service.config import MAX_REQUEST_BYTES, Settings
from service.db import insert_if_absent, make_engine, migrate, session_factory
from service.dependencies import LoginRequired, api_instructor
from service.headers import SecurityHeadersMiddleware
from service.rate_limits import LimitsMiddleware
from service.models import Person, utcnow
from service.parsing import ParserPool
from service.routers import api, auth, instructor, pages
from service.security import SESSION_DAYS, new_token
from service.state import session_secret, write_instructor_token
from service.templating import render

log = logging.getLogger('service')
HERE = Path(__file__).resolve().parent


def ensure_instructor(sessions) -> Optional[str]:
    """Create the instructor account on first start; return its token then (None afterwards, and for
    every server but one when several start together: the unique student id decides)."""
    with sessions.begin() as db:
        created = insert_if_absent(db, Person, {'student_id': 'instructor', 'name': 'Instructor', 'email': '',
                                                'role': 'instructor', 'token_hash': '', 'created_at': utcnow()},
                                   ['student_id'])
        if not created:
            return None
        return new_token(db.scalar(select(Person).where(Person.student_id == 'instructor')))


def announce_instructor_token(settings: Settings, token: str) -> None:
    """Keep the first token in a private file and say where it is (the token itself stays out of the logs)."""
    link = f"{settings.base_url.rstrip('/')}/login#token={token}"
    path = write_instructor_token(settings, token, link)
    print(f"Instructor token written to {path} (readable by this user only: it holds the token and the "
          f"sign-in link; ./run.py roster token instructor makes a new one)", flush=True)


def create_app(settings: Settings, executor_factory=None) -> FastAPI:
    from service.course import check_visibility
    check_visibility(settings.show_before_deadline, settings.show_after_deadline)  # a wrong one: one line, no app
    engine = make_engine(settings.db_url)
    migrate(engine)
    sessions = session_factory(engine)
    secret = session_secret(settings)
    token = ensure_instructor(sessions)
    if token:
        announce_instructor_token(settings, token)
    parser = ParserPool(settings.parse_workers, settings.parse_waiting, settings.parse_timeout)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.start_worker:
            from service.worker import GradingLoop
            app.state.grading = GradingLoop(sessions, settings, executor_factory)
            app.state.grading.start()
        try:
            yield
        finally:
            if app.state.grading is not None:
                app.state.grading.stop()
            parser.close()
            engine.dispose()

    app = FastAPI(title="upload checker", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings, app.state.sessions, app.state.engine = settings, sessions, engine
    app.state.grading = None
    app.state.parser = parser
    app.state.instructor_token = token
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie='checker_session',
                       max_age=SESSION_DAYS * 24 * 3600, same_site='lax', https_only=settings.secure_cookies)
    app.add_middleware(LimitsMiddleware, max_body=MAX_REQUEST_BYTES, rate=settings.rate_per_second,
                       burst=settings.rate_burst)
    app.add_middleware(SecurityHeadersMiddleware)  # added last: the outermost, so every response has them
    app.mount('/static', StaticFiles(directory=str(HERE / 'static')), name='static')
    for router in (auth.router, pages.router, api.router, instructor.router):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc):
        return RedirectResponse('/login', status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith('/api/') or 'text/html' not in request.headers.get('accept', ''):
            return await http_exception_handler(request, exc)
        return render(request, 'error.html', exc.status_code, status=exc.status_code, message=exc.detail)

    @app.get('/api/openapi.json', include_in_schema=False)
    def openapi(_: Person = Depends(api_instructor)):
        """The API's schema, for instructors (the documentation pages are off)."""
        return JSONResponse(app.openapi())

    @app.get('/healthz', include_in_schema=False)
    def healthz():
        return {'ok': True}

    return app
