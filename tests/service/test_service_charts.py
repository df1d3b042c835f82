"""The instructor's charts on the gradebook page: server-side SVG (no script, no inline style) holding
the right numbers for a seeded course."""
import re
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import select

import pytest

from service.app import create_app
from service.config import Settings
from service.models import Job, Person, Result, Submission
from tests.support.service_support import REFERENCE_SOURCE
from tests.service.test_service_api import add_person, sign_in

pytestmark = pytest.mark.service  # markers: pyproject.toml

DEADLINE = datetime(2026, 12, 15, 12, 0, tzinfo=timezone.utc)


def make_app(tmp_path):
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial',
                        sections=['relu', 'flatten'], start_worker=False, rate_per_second=0, deadline=DEADLINE)
    return create_app(settings)


def add_graded(app, student_id, minutes_from_deadline, verdicts):
    """A graded submission of ``student_id`` uploaded that many minutes from the deadline."""
    with app.state.sessions.begin() as db:
        person = db.scalar(select(Person).where(Person.student_id == student_id))
        submission = Submission(person=person, filename='solution.py', content=REFERENCE_SOURCE.encode(),
                                sha256='0' * 64, size=1, created_at=DEADLINE + timedelta(minutes=minutes_from_deadline))
        job = Job(submission=submission, kind='units', sections=list(verdicts), priority=0, state='done')
        db.add_all([submission, job])
        db.flush()
        for name, verdict in verdicts.items():
            db.add(Result(submission_id=submission.id, job_id=job.id, section=name, verdict=verdict,
                          points=1.0 if verdict == 'passed' else 0.0, max_points=1.0))


def bars(page, chart):
    svg = re.search(rf'<svg [^>]*id="{chart}".*?</svg>', page, re.S).group(0)
    return svg, {label: float(value) for label, value in
                 re.findall(r'<g class="bar" data-label="([^"]*)" data-value="([^"]*)"', svg)}


def test_the_gradebook_page_draws_the_course(tmp_path):
    app = make_app(tmp_path)
    teacher = add_person(app, 'prof', 'instructor')
    for student in ('alice', 'bob', 'carol', 'dave'):
        add_person(app, student)
    add_graded(app, 'alice', -115, {'relu': 'passed', 'flatten': 'passed'})       # 10:05: best 2
    add_graded(app, 'bob', -80, {'relu': 'wrong answer', 'flatten': 'wrong answer'})  # 10:40
    add_graded(app, 'bob', -30, {'relu': 'passed', 'flatten': 'wrong answer'})     # 11:30: best 1
    add_graded(app, 'carol', 30, {'relu': 'crashed', 'flatten': 'timeout'})          # 12:30, late: best 0
    with TestClient(app) as client:                                                  # dave: nothing
        sign_in(client, teacher)
        response = client.get('/instructor')
    assert response.status_code == 200
    page = response.text
    assert '<script>' not in page and 'style="' not in page  # the page's CSP allows neither

    svg, totals = bars(page, 'chart-totals')
    assert len(totals) == 10 and totals['0'] == 1 and totals['1'] == 1 and totals['1.8'] == 1  # 0, 1 and 2 of 2
    assert sum(totals.values()) == 3
    assert '[1.8, 2]: 1 student' in svg
    assert '3 of 4 students have a graded submission (1 without)' in page

    svg, rates = bars(page, 'chart-sections')
    assert rates == {'relu': 66.7, 'flatten': 33.3}
    assert '>67%</text>' in svg and '>33%</text>' in svg and '2 of 3 passed (67%)' in svg

    svg, uploads = bars(page, 'chart-uploads')
    assert uploads == {'12-15 10:00': 2, '12-15 11:00': 1, '12-15 12:00': 1}
    assert re.search(r'<line class="marker" x1="([\d.]+)"', svg)
    marker_x = float(re.search(r'<line class="marker" x1="([\d.]+)"', svg).group(1))
    assert abs(marker_x - (44 + 2 * (640 - 44 - 12) / 3)) < 0.2   # at the start of the 12:00 bar
    assert '4 uploads; 1 after the deadline; busiest hour: 2' in page


def test_an_empty_course_draws_empty_charts(tmp_path):
    app = make_app(tmp_path)
    teacher = add_person(app, 'prof', 'instructor')
    with TestClient(app) as client:
        sign_in(client, teacher)
        page = client.get('/instructor').text
    assert 'id="chart-totals"' in page and 'id="chart-sections"' in page and 'no uploads yet' in page
    assert bars(page, 'chart-sections')[1] == {'relu': 0.0, 'flatten': 0.0}


def test_the_gradebook_command_writes_the_charts(tmp_path):
    from tests.support.service_support import run_cli
    app = make_app(tmp_path)
    for student in ('alice', 'bob'):
        add_person(app, student)
    add_graded(app, 'alice', -115, {'relu': 'passed', 'flatten': 'passed'})
    add_graded(app, 'bob', -30, {'relu': 'passed', 'flatten': 'wrong answer'})
    app.state.engine.dispose()
    out, page = tmp_path / 'gradebook.csv', tmp_path / 'report.html'
    run_cli('gradebook', '--db', f"sqlite:///{tmp_path / 'checker.sqlite3'}", '--csv', str(out), '--html', str(page),
            '--deadline', DEADLINE.isoformat())
    html = page.read_text()
    assert '<script' not in html and (page.stat().st_mode & 0o077) == 0
    assert bars(html, 'chart-sections')[1] == {'relu': 100.0, 'flatten': 50.0}
    assert bars(html, 'chart-uploads')[1] == {'12-15 10:00': 1, '12-15 11:00': 1, '12-15 12:00': 0}
    assert '<td>alice</td>' in html and 'deadline' in html
