"""Shared fixtures: the reference solution, the generated template, the data folder."""
import os
import sys
from pathlib import Path

import pytest

KIT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT_ROOT))

from public_tests.runner import load_solution  # noqa: E402

DATA_DIR = Path(os.environ.get('NN_KIT_DATA_DIR', KIT_ROOT.parent / 'shared' / 'data'))


@pytest.fixture(scope='session')
def reference():
    return load_solution(KIT_ROOT / 'solution.py', 'reference_solution')


@pytest.fixture(scope='session')
def release_dir(tmp_path_factory):
    from instructor.release import write_release
    out = tmp_path_factory.mktemp('release')
    write_release(KIT_ROOT, out)
    return out


@pytest.fixture(scope='session')
def template(release_dir):
    return load_solution(release_dir / 'solution.py', 'template_solution')

NUMPY_NN_CATALOGUE = KIT_ROOT / 'assignments' / 'numpy_nn' / 'mistakes.toml'  # the first assignment's mistakes
