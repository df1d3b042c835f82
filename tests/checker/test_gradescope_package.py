"""The Gradescope autograder zip: well-formed scripts, and run_autograder really grading a submission
in an /autograder-like tree (pip skipped: this venv's python stands in for the image's)."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from instructor.gradescope import build_package, unpack
from tests.conftest import DATA_DIR, KIT_ROOT
from tests.support.mutants import MUTANTS, apply as apply_mutant

pytestmark = pytest.mark.kit  # markers: pyproject.toml

REFERENCE = (KIT_ROOT / 'solution.py').read_text()


@pytest.fixture(scope='module')
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp('package') / 'autograder.zip'
    build_package(out)
    return out


def test_package_holds_the_entry_points_the_grader_and_pinned_requirements(package):
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        requirements = archive.read('requirements-autograder.txt').decode().splitlines()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert {'setup.sh', 'run_autograder', 'gradescope_grade.py', 'interface.py', 'solution.py', 'grader/grade.py',
            'grader/sandbox.py', 'public_tests/sections.py', 'data_loaders/mnist.py'} <= names
    assert not any(name.startswith(('tests/', '.git', '.venv')) or '__pycache__' in name for name in names)
    assert modes['setup.sh'] & 0o111 and modes['run_autograder'] & 0o111
    assert 'torch==2.13.0' in requirements and all('==' in line for line in requirements
                                                   if not line.endswith('python_version < "3.11"'))


def test_scripts_are_well_formed_bash(package, tmp_path):
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path)
    for script in ('setup.sh', 'run_autograder'):
        check = subprocess.run(['bash', '-n', str(tmp_path / script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def run_script(root, script, sections='relu sgd'):
    environment = dict(os.environ, AUTOGRADER_ROOT=str(root), NN_AUTOGRADER_PYTHON=sys.executable,
                       NN_AUTOGRADER_SECTIONS=sections, NN_AUTOGRADER_SKIP_PIP='1', NN_AUTOGRADER_SKIP_DOWNLOAD='1')
    environment.pop('NN_KIT_DATA_DIR', None)
    return subprocess.run(['bash', str(root / script)], env=environment, capture_output=True, text=True, timeout=180)


def test_run_autograder_grades_the_submission(package, tmp_path):
    root = unpack(package, tmp_path / 'autograder')
    setup = run_script(root, 'source/setup.sh')
    assert setup.returncode == 0, setup.stderr
    mutant = next(m for m in MUTANTS if m.section == 'sgd')
    (root / 'submission' / 'solution.py').write_text(apply_mutant(REFERENCE, mutant))
    run = run_script(root, 'run_autograder')
    assert run.returncode == 0, run.stderr
    assert 'autograder failed' not in (root / 'results' / 'results.json').read_text(), run.stderr[-3000:]
    results = json.loads((root / 'results' / 'results.json').read_text())
    assert results['score'] == 1.0  # relu passes (1 point), sgd loses its 0.5
    assert [(t['name'], t['score'], t['max_score'], t['status']) for t in results['tests']] == [
        ('2.1.1 ReLU', 1.0, 1.0, 'passed'), ('1.4.1 SGD', 0, 0.5, 'failed')]
    assert results['tests'][1]['output'].startswith('wrong answer')


def test_run_autograder_finds_a_nested_solution_and_reports_a_missing_one(package, tmp_path):
    root = unpack(package, tmp_path / 'autograder')
    (root / 'submission' / 'hw').mkdir()
    (root / 'submission' / 'hw' / 'solution.py').write_text(REFERENCE)
    assert run_script(root, 'run_autograder', 'relu').returncode == 0
    assert json.loads((root / 'results' / 'results.json').read_text())['score'] == 1.0
    (root / 'submission' / 'hw' / 'solution.py').unlink()
    assert run_script(root, 'run_autograder', 'relu').returncode == 0
    results = json.loads((root / 'results' / 'results.json').read_text())
    assert results['score'] == 0 and 'no such file' in results['tests'][0]['output']


@pytest.mark.skipif(not (DATA_DIR / 'mnist').is_dir(), reason='no ../shared/data/mnist')
def test_baked_package_carries_the_data_where_the_loaders_look(tmp_path):
    out = tmp_path / 'baked.zip'
    build_package(out, data='bake', data_dir=DATA_DIR, datasets=('mnist',))
    root = unpack(out, tmp_path / 'autograder')
    baked = root / 'source' / 'data' / 'mnist'
    assert sorted(path.name for path in baked.iterdir()) == sorted(path.name for path in (DATA_DIR / 'mnist').iterdir())
    assert run_script(root, 'source/setup.sh').returncode == 0
    from data_loaders.mnist import find_files
    files = find_files(root / 'source' / 'data', download_missing=False)
    assert all(str(path).startswith(str(baked)) for path in (files.values() if isinstance(files, dict) else files))


def test_the_second_assignment_packages_and_grades(tmp_path):
    out = tmp_path / 'autoencoder.zip'
    build_package(out, assignment='autoencoder')
    root = unpack(out, tmp_path / 'autograder')
    assert "[LOADERS[name]() for name in ['mnist']]" in (root / 'source' / 'setup.sh').read_text()
    assert run_script(root, 'source/setup.sh').returncode == 0
    (root / 'submission' / 'solution.py').write_text((KIT_ROOT / 'assignments' / 'autoencoder' / 'solution.py').read_text())
    run = run_script(root, 'run_autograder', 'activations sgd')
    assert run.returncode == 0, run.stderr
    results = json.loads((root / 'results' / 'results.json').read_text())
    assert [(test['name'], test['score']) for test in results['tests']] == \
        [('2 Activation functions', 2.0), ('6 SGD', 0.5)], results
