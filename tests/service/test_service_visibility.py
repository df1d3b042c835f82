"""What a student sees of a failed hidden case, before and after the deadline (the course's visibility
rule), on the pages and through the API alike; a wrong setting is refused in one line.

The hidden case is the second of ReLU's, as the grader's own case table lists them (its number, count
and kind of check are read from that table here, not from the service).  The section's public cases
(the kit's, run at home) are listed with their inputs at every level, read here from the kit's registry."""
import ast
import html
import inspect
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import assignments
from grader.course_policy import SettingsError
from service import jobs
from service.app import create_app
from service.config import Settings
from public_tests.framework import cases_for
from service.models import Job, Person, Result, Submission, utcnow
from service.public_cases import public_cases
from tests.support.service_support import KIT_ROOT, REFERENCE_SOURCE
from tests.service.test_service_api import add_person, bearer, sign_in

pytestmark = pytest.mark.service  # markers: pyproject.toml

SCENARIOS = assignments.get('numpy-nn').module('scenarios')
CASE_NAME = SCENARIOS.scenarios('relu')[1][0]            # 'inputs (7, 3, 4, 5) with zeros'
CASE_KIND = SCENARIOS.categories('relu')[CASE_NAME]      # 'inputs with exact zeros'
CASE_COUNT = len(SCENARIOS.scenarios('relu'))            # 4
LABEL = f"hidden case 2 of {CASE_COUNT} failed: {CASE_KIND}"
CHECK = "step0.outputs: values differ (max abs error 0.5)"
DIAGNOSIS = "the output is scaled: compare with max(x, 0) itself"
SMALLEST = "Input:\n  ReLU() with input_shape=(2,)\n  forward(inputs) = [[SMALLEST-3., -2.]]"
FINDING = f"case '{CASE_NAME}': {CHECK}"
REASON = f"{FINDING}\nlikely mistake: {DIAGNOSIS}\nsmallest failing input:\n{SMALLEST}"
ENTRY = {'name': 'relu', 'verdict': 'wrong answer', 'points': 0.0, 'max_points': 1.0, 'reason': REASON,
         'seconds': 0.2, 'warnings': [], 'findings': [FINDING], 'diagnosis': DIAGNOSIS, 'smallest_case': SMALLEST}
PASSED = {'name': 'flatten', 'verdict': 'passed', 'points': 1.0, 'max_points': 1.0, 'reason': '5 hidden cases',
          'seconds': 0.1, 'warnings': [], 'findings': ['5 hidden cases'], 'diagnosis': '', 'smallest_case': ''}

# what each level shows (every other piece must be absent from the page and the JSON)
PIECES = {'label': LABEL, 'check': 'values differ', 'diagnosis': DIAGNOSIS, 'input': CASE_NAME,
          'smallest': 'SMALLEST-3.'}
SHOWN = {'verdict': set(), 'case': {'label', 'check'}, 'diagnosis': {'label', 'check', 'diagnosis'},
         'input': {'label', 'check', 'diagnosis', 'input', 'smallest'}}


def make_app(tmp_path, **options):
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial',
                        sections=['relu', 'flatten'], start_worker=False, rate_per_second=0, **options)
    return create_app(settings)


def graded_submission(app, student_id, stored=True):
    """A submission of ``student_id`` graded as the worker records a report (``stored``), or as a result
    recorded before the report's parts were kept (the reason text only)."""
    with app.state.sessions.begin() as db:
        person = db.scalar(select(Person).where(Person.student_id == student_id))
        submission = Submission(person=person, filename='solution.py', content=REFERENCE_SOURCE.encode(),
                                sha256='0' * 64, size=1)
        job = Job(submission=submission, kind='units', sections=['relu', 'flatten'], priority=0, state='done')
        db.add_all([submission, job])
        db.flush()
        if stored:
            jobs.add_results(db, job, {'sections': [ENTRY, PASSED]}, None)
        else:
            for entry in (ENTRY, PASSED):
                db.add(Result(submission_id=submission.id, job_id=job.id, section=entry['name'],
                              verdict=entry['verdict'], points=entry['points'], max_points=1.0,
                              reason=entry['reason'], warnings=[]))
        return submission.id


def student_sees(client, token, sid):
    """(the report's JSON as text, the relu section's JSON, the page and its live fragment)."""
    report = client.get(f'/api/submissions/{sid}', headers=bearer(token)).json()
    sign_in(client, token)
    pages = client.get(f'/submissions/{sid}').text + client.get(f'/submissions/{sid}/status').text
    relu = next(section for section in report['sections'] if section['name'] == 'relu')
    return json.dumps(report), relu, pages


def check_level(text_json, pages, level):
    for piece, text in PIECES.items():
        for where, seen in (('JSON', text_json), ('page', pages)):
            if piece in SHOWN[level]:
                assert text in seen, (level, piece, where)
            else:
                assert text not in seen, (level, piece, where)


def test_the_case_is_recorded_with_its_number_count_and_kind(tmp_path):
    app = make_app(tmp_path)
    add_person(app, 'alice')
    sid = graded_submission(app, 'alice')
    with app.state.sessions() as db:
        detail = db.scalar(select(Result.detail).where(Result.submission_id == sid, Result.section == 'relu'))
    assert detail['case'] == {'name': CASE_NAME, 'number': 2, 'count': CASE_COUNT, 'kind': CASE_KIND}
    assert (detail['findings'], detail['diagnosis'], detail['smallest_case']) == ([FINDING], DIAGNOSIS, SMALLEST)
    assert detail['cases'] == CASE_COUNT


@pytest.mark.parametrize('stored', [True, False], ids=['recorded-parts', 'reason-text-only'])
@pytest.mark.parametrize('level', ['verdict', 'case', 'diagnosis', 'input'])
def test_each_level_shows_what_it_says_on_the_page_and_in_the_api(tmp_path, level, stored):
    app = make_app(tmp_path, show_before_deadline=level, show_after_deadline='input')
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    sid = graded_submission(app, 'alice', stored)
    with TestClient(app) as client:
        text_json, relu, pages = student_sees(client, alice, sid)
        check_level(text_json, pages, level)
        assert relu['verdict'] == 'wrong answer' and relu['points'] == 0
        assert relu['hidden_cases'] == CASE_COUNT
        if level == 'verdict':
            assert relu['reason'] == 'a hidden case failed' and relu['failed_case'] is None
        else:
            assert relu['failed_case']['number'] == 2 and relu['failed_case']['count'] == CASE_COUNT
            assert relu['reason'].startswith(f"{LABEL}\n{CHECK}")
        assert ((relu['failed_case'] or {}).get('input') is not None) == (level == 'input')
        never = {'verdict': ['which hidden case failed', 'the likely mistake', "the failed case's input"],
                 'case': ['the likely mistake', "the failed case's input"], 'diagnosis': ["the failed case's input"]}
        assert relu['withheld'] == ({'after_deadline': [], 'never': never[level]} if level != 'input' else None)
        # the other pages of the student say nothing of the case either
        home = client.get('/').text + json.dumps(client.get('/api/submissions', headers=bearer(alice)).json())
        assert CASE_NAME not in home and 'SMALLEST' not in home
        # the instructor sees everything, whatever the level
        teacher_json = json.dumps(client.get(f'/api/submissions/{sid}', headers=bearer(teacher)).json())
        assert all(text in teacher_json for text in (CASE_NAME, DIAGNOSIS, 'SMALLEST-3.'))


def test_hidden_inputs_are_shown_only_once_the_deadline_has_passed(tmp_path):
    app = make_app(tmp_path, deadline=utcnow() + timedelta(days=1), show_before_deadline='case',
                   show_after_deadline='input')
    alice = add_person(app, 'alice')
    sid = graded_submission(app, 'alice')
    with TestClient(app) as client:
        text_json, relu, pages = student_sees(client, alice, sid)
        check_level(text_json, pages, 'case')
        assert relu['withheld'] == {'after_deadline': ['the likely mistake', "the failed case's input"], 'never': []}
        assert 'Shown after the deadline' in pages
        app.state.settings.deadline = utcnow() - timedelta(seconds=1)  # the deadline passes
        text_json, relu, pages = student_sees(client, alice, sid)
        check_level(text_json, pages, 'input')
        assert relu['failed_case']['input'] == CASE_NAME and relu['smallest_case'] == SMALLEST
        assert relu['reason'] == (f"{LABEL}\n{CHECK}\nlikely mistake: {DIAGNOSIS}\ninput of the failed hidden case: "
                                  f"{CASE_NAME}\nsmallest failing input:\n{SMALLEST}")


def literal_arrays(function):
    """[(shape, values)] of the arrays the case's code writes out (``np.array([[...]])``), read here."""
    import numpy as np
    found = []
    for node in ast.walk(ast.parse(inspect.getsource(function).lstrip())):
        if isinstance(node, ast.Call) and getattr(node.func, 'attr', '') == 'array' and node.args:
            try:
                value = ast.literal_eval(node.args[0])
            except ValueError:
                continue
            found.append((np.shape(value), repr(value)))
    return found


def test_public_cases_are_shown_with_their_inputs_before_the_deadline_and_hidden_inputs_follow_the_level(tmp_path):
    assignment = assignments.get('numpy-nn')
    kit_cases = cases_for('relu', assignment.module_name('public_cases'))  # what ./run.py unittest relu runs
    app = make_app(tmp_path, deadline=utcnow() + timedelta(days=1), show_before_deadline='verdict',
                   show_after_deadline='input')
    alice, teacher = add_person(app, 'alice'), add_person(app, 'prof', 'instructor')
    sid = graded_submission(app, 'alice')
    with TestClient(app) as client:
        text_json, relu, pages = student_sees(client, alice, sid)
        check_level(text_json, pages, 'verdict')  # the hidden case: its verdict only, before the deadline
        public = relu['public_cases']
        assert public['command'] == './run.py unittest relu' and public['run_by_checker'] is False
        assert [case['name'] for case in public['cases']] == [function.__name__ for function in kit_cases]
        for case, function in zip(public['cases'], kit_cases):
            path, line = case['source'].rsplit(':', 1)
            assert (KIT_ROOT / path).read_text().splitlines()[int(line) - 1].startswith(f"def {function.__name__}(")
            assert case['inputs'], case['name']
            for shape, values in literal_arrays(function):  # the arrays it writes out, with their shape
                assert any(text.endswith(f"{shape} np.array({values})") for text in case['inputs']), (shape, values)
        # the page: each case marked as run at home, by name, with its inputs
        assert "public cases, with their inputs" in pages
        assert "run at home: <code>./run.py unittest relu</code>" in pages
        assert 'not run by the checker' in pages
        for case in public['cases']:
            assert f'data-case="{case["name"]}"' in pages
            assert all(html.escape(text) in pages for text in case['inputs'])
        flatten = next(section for section in json.loads(text_json)['sections'] if section['name'] == 'flatten')
        assert flatten['public_cases']['command'] == './run.py unittest flatten'
        # the instructor sees the same list
        teacher_relu = next(section for section in client.get(f'/api/submissions/{sid}', headers=bearer(teacher))
                            .json()['sections'] if section['name'] == 'relu')
        assert teacher_relu['public_cases'] == public
        app.state.settings.deadline = utcnow() - timedelta(seconds=1)  # the deadline passes: the hidden input too
        text_json, relu, pages = student_sees(client, alice, sid)
        check_level(text_json, pages, 'input')
        assert relu['public_cases'] == public


def test_the_listed_public_cases_are_those_the_kit_runs_for_every_assignment():
    """Read from the files (service.public_cases), never imported there: the same cases, in the same order,
    as the kit's registry of every assignment; gates have none."""
    for name, assignment in assignments.ASSIGNMENTS.items():
        for section in assignment.sections:
            listed = public_cases(name, section.name)
            if section.is_gate:
                assert listed is None, (name, section.name)
                continue
            kit = [function.__name__ for function in cases_for(section.name, assignment.module_name('public_cases'))]
            assert [case.name for case in listed.cases] == kit, (name, section.name)


def test_a_wrong_level_is_refused_by_the_app(tmp_path):
    with pytest.raises(SettingsError, match="--show-before-deadline 'everything': expected one of 'verdict'"):
        make_app(tmp_path, show_before_deadline='everything')
    with pytest.raises(SettingsError, match="shows more than --show-after-deadline 'case'"):
        make_app(tmp_path, show_before_deadline='input', show_after_deadline='case')


def test_serve_refuses_a_wrong_level_in_one_line_and_keeps_the_levels(tmp_path, served, capsys):
    from tests.service.test_course_settings import cli, one_line_error
    path = tmp_path / 'course.sqlite3'
    db = f"sqlite:///{path}"
    assert cli('serve', '--db', db, '--no-worker', '--show-before-deadline', 'everything') == 2
    assert "--show-before-deadline 'everything': expected one of 'verdict', 'case', 'diagnosis', 'input'" \
        in one_line_error(capsys)
    assert cli('serve', '--db', db, '--no-worker', '--show-before-deadline', 'input',
               '--show-after-deadline', 'case') == 2
    assert 'students would see less of a hidden case after the deadline than before it' in one_line_error(capsys)
    assert not path.exists() and not served  # refused before anything was written
    assert cli('serve', '--db', db, '--no-worker', '--sections', 'relu', '--show-before-deadline', 'case') == 0
    settings = served[-1].state.settings
    assert (settings.show_before_deadline, settings.show_after_deadline) == ('case', 'input')
    assert cli('serve', '--db', db, '--no-worker', '--sections', 'relu') == 0  # kept in the database
    assert (served[-1].state.settings.show_before_deadline, served[-1].state.settings.show_after_deadline) == \
        ('case', 'input')
    capsys.readouterr()
    assert cli('serve', '--db', db, '--no-worker', '--show-after-deadline', 'verdict') == 2  # below the kept 'case'
    assert "--show-before-deadline 'case' shows more than --show-after-deadline 'verdict'" in one_line_error(capsys)
    for app in served:
        app.state.engine.dispose()


@pytest.fixture
def served(monkeypatch):
    """``serve`` builds its app and hands it to uvicorn: keep it instead of serving."""
    import uvicorn
    apps = []
    monkeypatch.setattr(uvicorn, 'run', lambda app, **options: apps.append(app))
    return apps
