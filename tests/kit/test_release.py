"""The student release: what it holds, what it must not hold, and that it runs."""
import re
import subprocess
import sys

import pytest

from grader.regions import solution_regions, strip_blocks
from tests.conftest import KIT_ROOT

pytestmark = pytest.mark.kit  # markers: pyproject.toml


def released_files(release_dir):
    return [path for path in release_dir.rglob('*') if path.is_file() and '__pycache__' not in path.parts]


def test_release_layout(release_dir):
    names = {path.name for path in release_dir.iterdir()}
    assert {'interface.py', 'solution.py', 'run.py', 'public_tests', 'data_loaders', 'README.md',
            'requirements.txt'} <= names
    assert not names & {'grader', 'tests', 'instructor', '.ci', '.git'}
    assert (release_dir / 'interface.py').read_text() == (KIT_ROOT / 'interface.py').read_text()


def test_release_holds_no_line_of_reference_code(release_dir):
    source = (KIT_ROOT / 'solution.py').read_text().splitlines()
    reference_lines = {source[number].strip() for first, last, _, _ in solution_regions('\n'.join(source))
                       for number in range(first + 1, last)}
    reference_lines = {line for line in reference_lines if line and not line.startswith('#') and len(line) > 12}
    assert len(reference_lines) > 50
    for path in released_files(release_dir):
        text = path.read_text(errors='replace')
        leaked = [line for line in reference_lines if line in text]
        assert not leaked, f"{path.name} holds reference code: {leaked[:3]}"
        # no marker line (the checker's modules under public_tests/checker/ name the markers in their code)
        assert not re.search(r'^\s*# (BEGIN SOLUTION \w+|BEGIN INSTRUCTOR)\s*$', text, re.M), path


def test_released_run_py_has_no_instructor_commands(release_dir):
    run_py = (release_dir / 'run.py').read_text()
    assert not re.search(r'\b(grade|release|benchmark)\b\(', run_py)
    help_text = subprocess.run([sys.executable, 'run.py', '--help'], cwd=release_dir, capture_output=True,
                               text=True).stdout
    assert 'unittest' in help_text and 'grade' not in help_text


def test_released_unittest_reports_not_implemented(release_dir):
    run = subprocess.run([sys.executable, 'run.py', 'unittest', 'dense'], cwd=release_dir, capture_output=True,
                         text=True)
    assert run.returncode == 1
    assert 'NotImplementedError: Dense (dense): Dense.forward_impl is not implemented yet' in run.stdout
    assert '0 / 2 points' in run.stdout


def test_strip_blocks():
    assert strip_blocks("a\n# X\nb\n# Y\nc", '# X', '# Y') == "a\nc\n"
