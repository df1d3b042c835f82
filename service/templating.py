"""The Jinja2 environment of the pages (autoescaped HTML)."""
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

import assignments
from service.course import show_time
from service.security import csrf_token

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / 'templates'))
templates.env.filters['pts'] = lambda value: '' if value is None else f"{value:g}"
templates.env.filters['when'] = show_time  # in the time's own zone: a deadline as the instructor gave it


def render(request: Request, name: str, status_code: int = 200, **context):
    context.setdefault('person', None)
    context['csrf_token'] = csrf_token(request.session)
    context['assignment'] = assignments.get(request.app.state.settings.assignment)  # in every page's header
    return templates.TemplateResponse(request, name, context, status_code=status_code)
