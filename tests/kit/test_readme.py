"""The README opens with the two fresh-machine commands, and CI runs the second one verbatim."""
from tests.conftest import KIT_ROOT


def readme_commands():
    return [line.strip() for line in (KIT_ROOT / 'README.md').read_text().splitlines() if line.startswith('    python3 ')]


def test_readme_opens_with_grade_and_test_commands():
    grade, test = readme_commands()[:2]
    assert 'run.py grade solution.py' in grade and 'pip install' in grade
    assert 'pytest' in test and 'pip install' in test


def test_ci_runs_the_readme_test_command():
    ci_lines = (KIT_ROOT / '.ci' / 'run').read_text().strip().splitlines()
    assert ci_lines[-1] == readme_commands()[1]
