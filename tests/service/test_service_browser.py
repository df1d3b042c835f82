"""A real browser (Debian's headless Chromium, driven by Selenium and chromedriver) signs in with a
personal login link, uploads solution.py through the page, waits for the live report and checks
the points table; then the instructor's gradebook. Screenshots go to the test's tmp dir (and,
when NN_KIT_SCREENSHOTS names a folder, there too)."""
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.support.service_support import BROKEN_SOLUTION, REFERENCE_SOURCE, Server, import_roster, require, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.service]  # markers: pyproject.toml

CHROMIUM, CHROMEDRIVER = shutil.which('chromium'), shutil.which('chromedriver')


@pytest.fixture
def browser():
    require(CHROMIUM and CHROMEDRIVER, "Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1200,1000',
                     '--disable-gpu'):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def save(driver, tmp_path, name):
    path = tmp_path / name
    driver.save_screenshot(str(path))
    if os.environ.get('NN_KIT_SCREENSHOTS'):
        Path(os.environ['NN_KIT_SCREENSHOTS']).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ['NN_KIT_SCREENSHOTS']) / name)
    return path


def upload_and_wait(driver, file_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait
    driver.find_element(By.ID, 'file').send_keys(str(file_path))
    driver.find_element(By.ID, 'upload').click()
    WebDriverWait(driver, 20).until(ready.url_matches(r'/submissions/\d+$'))
    WebDriverWait(driver, 120).until(ready.presence_of_element_located((By.ID, 'total')))
    rows = {row.get_attribute('data-section'): [cell.text for cell in row.find_elements(By.TAG_NAME, 'td')]
            for row in driver.find_elements(By.CSS_SELECTOR, '#points tbody tr')}
    return driver.find_element(By.ID, 'total').text, rows


def test_student_uploads_through_the_page_and_sees_the_points(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait
    db_url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    token = import_roster(db_url, tmp_path, 1)['s000']
    server = Server(db_url, tmp_path, '--scheduler', 'serial', '--sections', 'relu', 'flatten', '--rate', '0',
                    '--deadline', '2030-01-01T00:00:00Z')
    try:
        browser.get(f"{server.url}/login#token={token}")  # the personal link: the page signs in by itself
        WebDriverWait(browser, 20).until(ready.presence_of_element_located((By.ID, 'upload-form')))
        assert 'Student 0 (s000)' in browser.find_element(By.TAG_NAME, 'header').text

        (tmp_path / 'good').mkdir()
        (tmp_path / 'good' / 'solution.py').write_text(REFERENCE_SOURCE)
        total, rows = upload_and_wait(browser, tmp_path / 'good' / 'solution.py')
        assert total == '2 / 2'
        assert rows['relu'][:3] == ['2.1.1 ReLU', 'passed', '1/1'] and rows['flatten'][1:3] == ['passed', '1/1']

        browser.get(f"{server.url}/")
        (tmp_path / 'bad').mkdir()
        (tmp_path / 'bad' / 'solution.py').write_text(BROKEN_SOLUTION)
        total, rows = upload_and_wait(browser, tmp_path / 'bad' / 'solution.py')
        assert total == '1 / 2'
        assert rows['relu'][1:3] == ['wrong answer', '0/1']
        assert rows['relu'][3].startswith('hidden case 1 of 4 failed: batch size 1\nstep0.outputs: values differ')
        assert rows['flatten'][1:3] == ['passed', '1/1']
        save(browser, tmp_path, 'service-student-report.png')

        # a refused upload says why, on the page
        browser.get(f"{server.url}/")
        (tmp_path / 'notes.txt').write_text('hello')
        browser.find_element(By.ID, 'file').send_keys(str(tmp_path / 'notes.txt'))
        browser.find_element(By.ID, 'upload').click()
        error = WebDriverWait(browser, 20).until(ready.presence_of_element_located((By.ID, 'upload-error')))
        assert "'notes.txt' is not a Python file" in error.text

        # the instructor's gradebook
        printed = run_cli('roster', 'token', 'instructor', '--db', db_url, '--base-url', server.url).stdout
        link = re.search(r'(http\S+/login#token=\S+)', printed).group(1)
        browser.delete_all_cookies()
        browser.get(link)
        WebDriverWait(browser, 20).until(ready.presence_of_element_located((By.ID, 'gradebook')))
        cells = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, '#gradebook tr[data-student="s000"] td')]
        assert cells[:5] == ['s000', 'Student 0', '2', '2', '1'] and cells[5:7] == ['1', '1']
        save(browser, tmp_path, 'service-gradebook.png')
    finally:
        server.stop()
