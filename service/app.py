"""The checker's web application: ``create_app(settings)``.

At start it migrates the database (Alembic), makes the instructor's token the first time (printed
once), re-queues what a killed server left running (the grading loop does that as it starts) and
starts the grading loop unless ``settings.start_worker`` is off.
"""
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from service.config import MAX_REQUEST_BYTES, Settings
from service.db import make_engine, migrate, server_secret, session_factory
from service.dependencies import LoginRequired
from service.limits import LimitsMiddleware
from service.models import Person
from service.routers import api, auth, instructor, pages
from service.security import new_token
from service.templating import render

log = logging.getLogger('service')
HERE = Path(__file__).resolve().parent


def ensure_instructor(sessions) -> Optional[str]:
    """Create the instructor account on first start; return its token then (None afterwards)."""
    with sessions.begin() as db:
        if db.scalar(select(Person.id).where(Person.role == 'instructor').limit(1)) is not None:
            return None
        person = Person(student_id='instructor', name='Instructor', role='instructor', token_hash='')
        db.add(person)
        db.flush()
        return new_token(person)


def create_app(settings: Settings, executor_factory=None) -> FastAPI:
    engine = make_engine(settings.db_url)
    migrate(engine)
    sessions = session_factory(engine)
    token = ensure_instructor(sessions)
    if token:
        print(f"Instructor token (shown once; keep it): {token}\n"
              f"Sign in at {settings.base_url}/login#token={token}", flush=True)

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
            engine.dispose()

    app = FastAPI(title="numpy-nn upload checker", lifespan=lifespan, docs_url='/api/docs', redoc_url=None,
                  openapi_url='/api/openapi.json')
    app.state.settings, app.state.sessions, app.state.engine = settings, sessions, engine
    app.state.grading = None
    app.state.instructor_token = token
    app.add_middleware(SessionMiddleware, secret_key=server_secret(sessions), session_cookie='checker_session',
                       max_age=14 * 24 * 3600, same_site='lax', https_only=settings.secure_cookies)
    app.add_middleware(LimitsMiddleware, max_body=MAX_REQUEST_BYTES, rate=settings.rate_per_second,
                       burst=settings.rate_burst)
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

    @app.get('/healthz', include_in_schema=False)
    def healthz():
        return {'ok': True}

    return app
