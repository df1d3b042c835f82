"""The second assignment's student kit: what it holds, what it must not hold, and that it runs alone."""
import re
import shutil
import subprocess
import sys

import pytest

import assignments
from instructor.release import write_release
from grader.regions import make_template, solution_regions
from tests.conftest import KIT_ROOT
from tests.kit.test_release import released_files

pytestmark = pytest.mark.kit  # markers: pyproject.toml

AUTOENCODER = assignments.get('autoencoder')


@pytest.fixture(scope='module')
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp('autoencoder-kit')
    write_release(KIT_ROOT, out, 'autoencoder')
    return out


def run(kit, *arguments):
    return subprocess.run([sys.executable, 'run.py', *arguments], cwd=kit, capture_output=True, text=True,
                          timeout=300)


def test_layout(kit):
    names = {path.name for path in kit.iterdir()}
    assert {'interface.py', 'solution.py', 'run.py', 'handout.md', 'README.md', 'ASSIGNMENT', 'public_tests',
            'data_loaders', 'assignments', 'requirements.txt'} <= names
    assert not names & {'grader', 'tests', 'instructor', 'service', '.git'}
    assert (kit / 'interface.py').read_text() == AUTOENCODER.interface_path.read_text()
    assert (kit / 'ASSIGNMENT').read_text().strip() == 'autoencoder'
    shipped = {path.name for path in (kit / 'assignments' / 'autoencoder').iterdir() if path.suffix == '.py'}
    assert shipped == {'__init__.py', 'sections.py', 'public_cases.py', 'gates.py', 'training.py', 'probes.py',
                       'builders.py', 'probe_runner.py'}  # scenarios.py and execute.py (the oracle loss) stay out
    assert not (kit / 'public_tests' / 'cases').exists()  # the first assignment's cases stay out


def test_no_line_of_reference_code(kit):
    source = AUTOENCODER.reference_path.read_text().splitlines()
    regions = solution_regions('\n'.join(source), AUTOENCODER.by_name)
    reference_lines = {source[number].strip() for first, last, _, _ in regions for number in range(first + 1, last)}
    kit_code = make_template('\n'.join(source), AUTOENCODER.by_name) + AUTOENCODER.interface_path.read_text()
    kit_lines = {line.strip() for line in kit_code.splitlines()}  # `return self.outputs`, `self.inputs = inputs`, ...
    reference_lines = {line for line in reference_lines - kit_lines
                       if not line.startswith('#') and len(line) > 24}  # not `return np.zeros(X.shape)`: 1 - 1 = 0
    assert len(reference_lines) > 30
    for path in released_files(kit):
        text = path.read_text(errors='replace')
        leaked = sorted(reference_lines & {line.strip() for line in text.splitlines()})
        assert not leaked, f"{path} holds reference code: {leaked[:3]}"
        assert not re.search(r'^\s*# BEGIN SOLUTION \w+\s*$', text, re.M), path


def test_the_template_scores_nothing_and_says_where(kit):
    result = run(kit, 'unittest', 'fclayer')
    assert result.returncode == 1
    assert 'NotImplementedError: FCLayer forward and backward (fclayer): FCLayer.forward is not implemented yet' \
        in result.stdout, result.stdout[-2000:]
    assert '0 / 2 points' in result.stdout
    assert 'grade' not in run(kit, '--help').stdout


def test_a_finished_solution_scores_every_unit_section(kit, tmp_path):
    finished = tmp_path / 'kit'
    shutil.copytree(kit, finished)
    shutil.copy2(AUTOENCODER.reference_path, finished / 'solution.py')
    result = run(finished, 'unittest', 'units')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"Total: {sum(s.points for s in AUTOENCODER.unit_sections):g} / 17 points" in result.stdout


def test_the_repository_runs_the_second_assignment_by_name():
    result = subprocess.run([sys.executable, 'run.py', '--assignment', 'autoencoder', 'unittest', 'sgd'],
                            cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and '0.5 / 0.5 points' in result.stdout, result.stdout + result.stderr
