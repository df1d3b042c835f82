"""A course's week in the real browser (Debian's headless Chromium through Selenium): the pre-flight check
refusing a file without ``Dense`` without spending an attempt; the attempts-left counter; a hidden case's
input hidden before the deadline and shown after it; the instructor's charts with the right numbers for a
seeded course; a drift flag after a re-grade whose time limit was changed.

The expected figures are worked out here: by hand for the seeded course, from the grader's own case table
for the hidden case, from the submission's upload time for the counter.  Without Chromium the tests skip
locally and fail under CI (tests/service_support.require)."""
import csv
import dataclasses
import io
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

import assignments
from tests.support.service_support import BROKEN_SOLUTION, REFERENCE_SOURCE, Server, free_port, import_roster
from tests.service.test_service_browser import browser, save  # noqa: F401 - browser: the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.service]  # markers: pyproject.toml

WITHOUT_DENSE = REFERENCE_SOURCE.replace('class Dense(Layer):', 'class Dense_(Layer):', 1)
# correct, but ReLU.forward sleeps half a second: within the unit time limit (30 s), not within 1.5 s
SLOW_SOLUTION = 'import time\n' + REFERENCE_SOURCE.replace(
    "return np.maximum(inputs, 0)", "time.sleep(0.5)\n        return np.maximum(inputs, 0)", 1)
assert WITHOUT_DENSE != REFERENCE_SOURCE and SLOW_SOLUTION.count('time.sleep') == 1


# -- helpers ---------------------------------------------------------------------------------------------
def by():
    from selenium.webdriver.common.by import By
    return By


def wait(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(condition)


def present(element_id):
    from selenium.webdriver.support import expected_conditions as ready
    return ready.presence_of_element_located((by().ID, element_id))


def sign_in(driver, url, token, landing):
    """Open the personal login link (the page signs in by itself) and wait for an element of the landing page."""
    driver.delete_all_cookies()
    driver.get(f"{url}/login#token={token}")
    wait(driver, present(landing))


def upload_file(driver, folder, name, source):
    path = folder / name
    path.mkdir(exist_ok=True)
    (path / 'solution.py').write_text(source)
    driver.find_element(by().ID, 'file').send_keys(str(path / 'solution.py'))
    driver.find_element(by().ID, 'upload').click()


def upload_and_grade(driver, url, folder, name, source):
    """Upload through the home page and wait for the report: its id."""
    driver.get(f"{url}/")
    upload_file(driver, folder, name, source)
    from selenium.webdriver.support import expected_conditions as ready
    wait(driver, ready.url_matches(r'/submissions/\d+$'))
    wait(driver, present('total'), 120)
    return int(driver.current_url.rsplit('/', 1)[1])


def attempts_left(driver):
    return driver.find_element(by().ID, 'attempts-left').text


def api(url, token, path):
    response = httpx.get(f"{url}{path}", headers={'Authorization': f'Bearer {token}'}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def reason_cell(driver, section):
    return driver.find_element(by().CSS_SELECTOR, f'#points tr[data-section="{section}"] td.reason')


class InProcessServer:
    """The app served by uvicorn in a thread of this process, its grading loop too: the test can change
    what grading reads (a time limit) between two runs."""

    def __init__(self, app):
        import uvicorn
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=self.port, log_level='warning'))
        self.thread = threading.Thread(target=self.server.run, name='uvicorn', daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(60)


# -- attempts ---------------------------------------------------------------------------------------------
def test_preflight_refuses_a_file_without_dense_and_the_counter_counts_down(tmp_path, browser):
    db_url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    token = import_roster(db_url, tmp_path, 1)['s000']
    server = Server(db_url, tmp_path, '--scheduler', 'serial', '--sections', 'relu', 'dense', '--rate', '0',
                    '--per-hour', '2', '--attempts-per-hour', '10')
    try:
        sign_in(browser, server.url, token, 'upload-form')
        assert attempts_left(browser) == '2' and not browser.find_elements(by().ID, 'next-free')
        assert 'Uploads left this hour: 2 of 2.' in browser.find_element(by().ID, 'limits').text

        # a file without Dense: refused on the page, nothing queued, the counter as it was
        upload_file(browser, tmp_path, 'no-dense', WITHOUT_DENSE)
        error = wait(browser, present('upload-error')).text
        assert 'class Dense is missing' in error and 'does not count against your hourly limit' in error, error
        assert attempts_left(browser) == '2' and 'Nothing uploaded yet.' in browser.page_source
        limits = api(server.url, token, '/api/limits')
        assert (limits['attempts_left'], limits['used'], limits['next_free_at']) == (2, 0, None)
        assert api(server.url, token, '/api/submissions') == []
        save(browser, tmp_path, 'service-preflight-refused.png')

        # a good file: graded; one upload left, and the next frees up an hour after it was uploaded
        first = upload_and_grade(browser, server.url, tmp_path, 'good', REFERENCE_SOURCE)
        assert browser.find_element(by().ID, 'total').text == '3 / 3'  # ReLU 1 point, Dense 2
        browser.get(f"{server.url}/")
        assert attempts_left(browser) == '1'
        uploaded = datetime.fromisoformat(api(server.url, token, '/api/submissions')[0]['created_at'])
        frees = (uploaded + timedelta(hours=1)).astimezone(timezone.utc)
        assert browser.find_element(by().ID, 'next-free').text == frees.strftime('%Y-%m-%d %H:%M:%S UTC')
        limits = api(server.url, token, '/api/limits')
        assert (limits['attempts_left'], limits['used']) == (1, 1)
        assert datetime.fromisoformat(limits['next_free_at']) == frees

        # the second: none left, and a third upload is refused without changing that
        second = upload_and_grade(browser, server.url, tmp_path, 'bad', BROKEN_SOLUTION)
        assert second == first + 1
        browser.get(f"{server.url}/")
        assert attempts_left(browser) == '0'
        upload_file(browser, tmp_path, 'third', REFERENCE_SOURCE)
        error = wait(browser, present('upload-error')).text
        assert 'you have uploaded 2 times in the last hour (the limit is 2)' in error, error
        assert attempts_left(browser) == '0' and len(api(server.url, token, '/api/submissions')) == 2
        save(browser, tmp_path, 'service-attempts-left.png')
    finally:
        server.stop()


# -- what is shown, and when ------------------------------------------------------------------------------
def test_a_hidden_case_input_is_hidden_before_the_deadline_and_shown_after_it(tmp_path, browser):
    scenarios = assignments.get('numpy-nn').module('scenarios')
    cases = scenarios.scenarios('relu')
    name = cases[0][0]                        # ReLU doubled fails the first hidden case already
    kind = scenarios.categories('relu')[name]
    label = f"hidden case 1 of {len(cases)} failed: {kind}"
    db_url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    token = import_roster(db_url, tmp_path, 1)['s000']
    options = ['--scheduler', 'serial', '--sections', 'relu', 'flatten', '--rate', '0',
               '--show-before-deadline', 'case', '--show-after-deadline', 'input']
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    server = Server(db_url, tmp_path, *options, '--deadline', tomorrow.isoformat())
    try:
        sign_in(browser, server.url, token, 'upload-form')
        sid = upload_and_grade(browser, server.url, tmp_path, 'bad', BROKEN_SOLUTION)
        cell = reason_cell(browser, 'relu')
        assert cell.text.startswith(f"{label}\nstep0.outputs: values differ"), cell.text
        assert cell.find_element(by().CSS_SELECTOR, '.hidden-case').get_attribute('data-number') == '1'
        withheld = cell.find_element(by().CSS_SELECTOR, '.withheld[data-when="after-deadline"]').text
        assert withheld.startswith('Shown after the deadline') and "the failed case's input" in withheld
        assert name not in browser.page_source and 'smallest failing input' not in browser.page_source
        report = api(server.url, token, f'/api/submissions/{sid}')
        relu = next(section for section in report['sections'] if section['name'] == 'relu')
        assert report['shown'] == 'case' and relu['failed_case'] == {'number': 1, 'count': len(cases), 'kind': kind,
                                                                     'input': None}
        assert name not in str(report) and relu['smallest_case'] is None
        save(browser, tmp_path, 'service-hidden-before-deadline.png')
    finally:
        server.stop()

    # the deadline passes (the course's deadline is now): the same page shows the case's input
    server = Server(db_url, tmp_path, '--deadline', datetime.now(timezone.utc).isoformat(), *options)
    try:
        browser.get(f"{server.url}/submissions/{sid}")
        wait(browser, present('total'))
        cell = reason_cell(browser, 'relu')
        assert cell.text.startswith(label)
        assert cell.find_element(by().CSS_SELECTOR, '.case-input').text == f"input of the failed hidden case: {name}"
        smallest = cell.find_element(by().CSS_SELECTOR, '.smallest-case pre').text
        assert smallest.startswith('Input:') and 'ReLU()' in smallest and 'DIFFERS' in smallest
        assert not cell.find_elements(by().CSS_SELECTOR, '.withheld')
        report = api(server.url, token, f'/api/submissions/{sid}')
        relu = next(section for section in report['sections'] if section['name'] == 'relu')
        assert report['shown'] == 'input' and relu['failed_case']['input'] == name
        assert relu['smallest_case'] == smallest
        save(browser, tmp_path, 'service-hidden-after-deadline.png')
    finally:
        server.stop()


# -- pictures for the instructor --------------------------------------------------------------------------
def test_the_instructors_charts_show_the_seeded_course(tmp_path, browser):
    from tests.service.test_service_api import add_person
    from tests.service.test_service_charts import add_graded, make_app
    app = make_app(tmp_path)   # deadline 2026-12-15 12:00 UTC; sections relu and flatten, 1 point each
    teacher = add_person(app, 'prof', 'instructor')
    for student in ('alice', 'bob', 'carol', 'dave'):
        add_person(app, student)
    add_graded(app, 'alice', -115, {'relu': 'passed', 'flatten': 'passed'})            # 10:05, 2 points
    add_graded(app, 'bob', -80, {'relu': 'wrong answer', 'flatten': 'wrong answer'})  # 10:40, 0 points
    add_graded(app, 'bob', -30, {'relu': 'passed', 'flatten': 'wrong answer'})        # 11:30, 1 point: best
    add_graded(app, 'carol', 30, {'relu': 'crashed', 'flatten': 'timeout'})           # 12:30, late, 0 points
    # By hand: best totals 2 (alice), 1 (bob), 0 (carol); dave has none.  Of the three best submissions
    # relu passed twice (alice, bob: 2/3 = 66.7%), flatten once (alice: 1/3 = 33.3%).  Uploads per hour:
    # 10:00-11:00 two (alice, bob), 11:00-12:00 one, 12:00-13:00 one (carol, after the deadline).
    server = InProcessServer(app)
    try:
        sign_in(browser, server.url, teacher, 'charts')

        def bars(chart):
            return {bar.get_attribute('data-label'): float(bar.get_attribute('data-value'))
                    for bar in browser.find_elements(by().CSS_SELECTOR, f'#{chart} g.bar')}

        totals = {label: value for label, value in bars('chart-totals').items() if value}
        assert totals == {'0': 1, '1': 1, '1.8': 1}   # ten bins of 0.2 point: [0, .2), [1, 1.2), [1.8, 2]
        assert bars('chart-sections') == {'relu': 66.7, 'flatten': 33.3}
        assert bars('chart-uploads') == {'12-15 10:00': 2, '12-15 11:00': 1, '12-15 12:00': 1}
        captions = [figure.text for figure in browser.find_elements(by().CSS_SELECTOR, '#charts figcaption')]
        assert any('3 of 4 students have a graded submission (1 without)' in text for text in captions), captions
        assert any('4 uploads; 1 after the deadline; busiest hour: 2' in text for text in captions), captions
        # drawn, not only present: every bar of the pass rates has its height, the deadline its line
        heights = [rect.size['height'] for rect in browser.find_elements(by().CSS_SELECTOR, '#chart-sections g.bar rect')]
        assert len(heights) == 2 and heights[0] == pytest.approx(2 * heights[1], rel=0.05) and heights[1] > 10
        assert browser.find_elements(by().CSS_SELECTOR, '#chart-uploads line.marker')
        save(browser, tmp_path, 'service-instructor-charts.png')
    finally:
        server.stop()
        app.state.engine.dispose()


# -- drift after a re-grade -------------------------------------------------------------------------------
def grade_in_a_new_thread(job):
    """run_job in a thread of its own: its Grader is made afresh and reads the time limits of now."""
    from grader.executor import run_job
    outcome = {}

    def work():
        try:
            outcome['report'] = run_job(job)
        except BaseException as error:  # noqa: BLE001 - handed to the grading loop as the executor's failure
            outcome['error'] = error
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if 'error' in outcome:
        raise outcome['error']
    return outcome['report']


def regrade_all(driver, url, sessions):
    """Press the gradebook's 'Re-grade all' (and confirm), wait until every job is done, reload."""
    from selenium.webdriver.support import expected_conditions as ready

    from service.worker import wait_until_idle
    driver.get(f"{url}/instructor")
    driver.find_element(by().CSS_SELECTOR, 'form[action="/instructor/regrade-all"] button').click()
    wait(driver, ready.alert_is_present()).accept()
    wait(driver, ready.url_contains('message='))
    assert 'submissions queued again' in driver.find_element(by().CSS_SELECTOR, 'p.notice').text
    assert wait_until_idle(sessions, timeout=180)
    driver.get(f"{url}/instructor")
    wait(driver, present('gradebook'))


def test_a_regrade_with_a_changed_time_limit_is_flagged_as_drift(tmp_path, browser, monkeypatch):
    from grader.executor import SerialExecutor
    from grader.limits import LIMITS
    from service.app import create_app
    from service.config import Settings
    from service.worker import wait_until_idle
    from tests.service.test_service_api import add_person
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'checker.sqlite3'}", scheduler='serial',
                        sections=['relu', 'flatten'], rate_per_second=0, heartbeat_seconds=0.5)
    app = create_app(settings, executor_factory=lambda: SerialExecutor(run=grade_in_a_new_thread))
    teacher, slow, broken = add_person(app, 'prof', 'instructor'), add_person(app, 'slow'), add_person(app, 'broken')
    server = InProcessServer(app)
    try:
        ids = {}
        for token, source in ((slow, SLOW_SOLUTION), (broken, BROKEN_SOLUTION)):
            response = httpx.post(f"{server.url}/api/submissions", headers={'Authorization': f'Bearer {token}'},
                                  files={'file': ('solution.py', source.encode())}, timeout=30)
            assert response.status_code == 201, response.text
            ids[token] = response.json()['id']
        assert wait_until_idle(app.state.sessions, timeout=180)
        assert api(server.url, slow, f'/api/submissions/{ids[slow]}')['total'] == 2      # slow, but in time
        assert api(server.url, broken, f'/api/submissions/{ids[broken]}')['total'] == 1  # relu wrong

        sign_in(browser, server.url, teacher, 'gradebook')
        # the same bytes graded again, nothing changed: the same verdicts, no flag
        regrade_all(browser, server.url, app.state.sessions)
        assert not browser.find_elements(by().ID, 'drift')
        assert api(server.url, teacher, '/api/drift') == []

        # the unit time limit drops from 30 s to 1.5 s; graded again: the slow ReLU is out of time
        monkeypatch.setitem(LIMITS, 'unit', dataclasses.replace(LIMITS['unit'], seconds=1.5))
        regrade_all(browser, server.url, app.state.sessions)
        rows = browser.find_elements(by().CSS_SELECTOR, '#drift tr.drift')
        assert [(row.get_attribute('data-submission'), row.get_attribute('data-section')) for row in rows] == \
            [(str(ids[slow]), 'relu')]  # the broken file failed before and after: not drift
        cells = [cell.text for cell in rows[0].find_elements(by().TAG_NAME, 'td')]
        assert cells[0] == f'#{ids[slow]}' and cells[1] == 'slow' and cells[3:8] == \
            ['relu', 'passed 1/1', 'time limit 0/1', '2', '1'], cells
        flag = browser.find_element(by().CSS_SELECTOR, '#gradebook tr[data-student="slow"] td.drift').text
        assert flag == f'#{ids[slow]} changed: 2 \u2192 1'
        assert not browser.find_elements(by().CSS_SELECTOR, '#gradebook tr[data-student="broken"] td.drift')
        save(browser, tmp_path, 'service-drift.png')

        # the API and the CSV say the same; the student still sees the old result
        drift = api(server.url, teacher, '/api/drift')
        assert [(d['submission_id'], d['old_total'], d['new_total']) for d in drift] == [(ids[slow], 2, 1)]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get('/login').text).group(1)
            client.post('/login', data={'token': teacher, 'csrf_token': csrf})
            table = {row['student_id']: row for row in csv.DictReader(io.StringIO(
                client.get('/instructor/gradebook.csv').text))}
        assert table['slow']['drift'] == '1' and table['slow']['total'] == '1'
        assert table['slow']['drift_detail'] == f"#{ids[slow]}: 2 -> 1 (relu: passed 1 -> time limit 0)"
        assert table['broken']['drift'] == ''
        student = api(server.url, slow, f'/api/submissions/{ids[slow]}')
        assert student['held'] and student['total'] == 2 and student['sections'][0]['verdict'] == 'passed'

        # released: the flag goes, the student sees the new result
        browser.find_element(by().CSS_SELECTOR, '#drift button.release').click()
        wait(browser, present('gradebook'))
        assert not browser.find_elements(by().ID, 'drift')
        student = api(server.url, slow, f'/api/submissions/{ids[slow]}')
        assert not student['held'] and student['total'] == 1 and student['sections'][0]['verdict'] == 'time limit'
    finally:
        server.stop()
        app.state.engine.dispose()
