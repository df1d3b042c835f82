"""A course's own grading rules: a TOML file or flags, checked, and honoured by `run.py grade`."""
import json
import subprocess
import sys

import pytest

from grader.course_policy import CoursePolicy
from tests.conftest import KIT_ROOT

CORPUS = KIT_ROOT / 'tests' / 'corpora' / 'numpy_nn'


def test_defaults_are_the_assignments_rules():
    assert CoursePolicy() == CoursePolicy(loops='fail', outside_regions='warn', extra_imports=())


def test_file_and_flags(tmp_path):
    path = tmp_path / 'course.toml'
    path.write_text('loops = "warn"\noutside_regions = "fail"\nextra_imports = ["scipy"]\n')
    assert CoursePolicy.load(path) == CoursePolicy('warn', 'fail', ('scipy',))
    combined = CoursePolicy.from_options(path, loops='fail', extra_imports=['sklearn'])
    assert combined == CoursePolicy('fail', 'fail', ('scipy', 'sklearn'))
    assert CoursePolicy(**combined.as_dict()) == combined


@pytest.mark.parametrize('text, message', [('loop = "warn"\n', 'unknown keys loop'),
                                           ('loops = "sometimes"\n', "loops = 'sometimes'"),
                                           ('outside_regions = "allow"\n', 'outside_regions'),
                                           ('extra_imports = "scipy"\n', 'a list of module names')])
def test_a_wrong_policy_file_is_refused_with_its_reason(tmp_path, text, message):
    path = tmp_path / 'course.toml'
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        CoursePolicy.load(path)


def test_run_py_grade_honours_the_policy_file(tmp_path):
    """Under `loops = "warn"` a per-sample loop in Softmax costs nothing but is named in a warning."""
    policy = tmp_path / 'course.toml'
    policy.write_text('loops = "warn"\n')
    results = tmp_path / 'report.json'
    run = subprocess.run([sys.executable, str(KIT_ROOT / 'run.py'), 'grade', str(CORPUS / 'kostya_softmax_loop.py'),
                          '--sections', 'softmax', '--policy', str(policy), '--json', str(results)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    section = json.loads(results.read_text())['sections'][0]
    assert section['verdict'] == 'passed', section
    assert any('loop over the data' in warning for warning in section['warnings'])
