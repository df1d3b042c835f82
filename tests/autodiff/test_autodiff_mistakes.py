"""The autodiff assignment's mistake catalogue (assignments/autodiff/mistakes.toml) against its checker.

Every catalogued mistake, applied to the reference:

* loses its own unit section and no other on the hidden cases (judged in this process with the
  grader's own scenarios, reference outputs and comparison);
* is named by the diagnosis from the hidden cases of its section, and by no other mistake's hint;
* fails at least one public case of its own section and none of another section's;

and a few go through the sandboxed grader, whose report names the likely mistake.  Hints say
what is wrong, never the code that fixes it.
"""
import re

import numpy as np
import pytest

import assignments
from grader.compare import compare_case
from grader.diagnose import Diagnoser
from grader.grade import Grader
from grader.mistakes import apply, load_mistakes
from public_tests.framework import cases_for, run_case

AUTODIFF = assignments.get('autodiff')
REFERENCE = AUTODIFF.reference_path.read_text()
UNIT_NAMES = [section.name for section in AUTODIFF.unit_sections]
MISTAKES = load_mistakes(AUTODIFF.catalogue)


@pytest.fixture(scope='module')
def grader():
    return Grader(assignment='autodiff')


@pytest.fixture(scope='module')
def diagnoser():
    return Diagnoser(AUTODIFF)


def load_mistake(mistake, tmp_path):
    path = tmp_path / 'solution.py'
    path.write_text(apply(REFERENCE, mistake))
    return AUTODIFF.load(path, f"autodiff_mistake_{re.sub(r'[^a-z]', '_', mistake.name)}")


def hidden_runs(grader, module, section):
    """[(case name, scenario, expected outputs, ({output: array}, failure))] of ``module`` on ``section``."""
    runs = []
    with grader.execute.running(grader._task(section)):
        for case_name, scenario, expected in grader.expected(section):
            outputs, failure = grader.execute.run_scenario(module, scenario)
            runs.append((case_name, scenario, expected, outputs, failure))
    return runs


def lost_sections(grader, module):
    """{section: reason} of the unit sections whose hidden cases ``module`` fails."""
    lost = {}
    for section in UNIT_NAMES:
        for index, (case_name, _, expected, outputs, failure) in enumerate(hidden_runs(grader, module, section)):
            result = {'failure': failure, 'problems': {k: o.problem for k, o in outputs.items() if o.problem}}
            arrays = {f"{index}/{k}": o.array for k, o in outputs.items() if o.problem is None}
            reason = compare_case(result, arrays, expected, index)
            if reason:
                lost[section] = f"case '{case_name}': {reason}"
                break
    return lost


# ---------------------------------------------------------------------------------------- the catalogue
def test_the_catalogue_covers_every_unit_section_with_the_classic_mistakes():
    assert AUTODIFF.catalogue == AUTODIFF.folder / 'mistakes.toml'
    assert {mistake.section for mistake in MISTAKES} == set(UNIT_NAMES)
    assert len(MISTAKES) >= 20
    names = {mistake.name for mistake in MISTAKES}
    assert {'dense/dW-transposed', 'dense/dX-without-transpose', 'dense/db-wrong-axis', 'relu/derivative-one-at-zero',
            'crossentropy/gradient-sign', 'logsoftmax/no-max-shift', 'crossentropy/sum-not-mean'} <= names
    for mistake in MISTAKES:
        assert mistake.name.split('/')[0] == mistake.section, mistake.name


@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_hints_say_what_is_wrong_not_the_code_that_fixes_it(mistake):
    assert mistake.hint.startswith('Looks like') and mistake.hint.endswith('.'), mistake.hint
    code = {line.strip() for old, _ in mistake.edits for line in old.splitlines() if line.strip()}
    assert not [line for line in code if line in mistake.hint], mistake.hint
    assert not re.search(r'np\.|@|\.T\b|axis=|keepdims|`', mistake.hint), mistake.hint


# ---------------------------------------------------------------------------------------- the hidden cases
@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_mistake_loses_its_own_section_only(grader, diagnoser, mistake, tmp_path):
    module = load_mistake(mistake, tmp_path)
    lost = lost_sections(grader, module)
    assert list(lost) == [mistake.section], lost
    cases = [(scenario, {k: o.array for k, o in outputs.items() if o.problem is None}, failure)
             for _, scenario, _, outputs, failure in hidden_runs(grader, module, mistake.section)]
    diagnosis = diagnoser.diagnose_section(mistake.section, cases)
    assert diagnosis is not None and diagnosis.mistake == mistake.name, (mistake.name, diagnosis)


# ---------------------------------------------------------------------------------------- the public cases
def public_failures(module):
    """{section: [failing public case]} of ``module``."""
    failing = {}
    for section in UNIT_NAMES:
        names = [function.__name__ for function in cases_for(section, AUTODIFF.module_name('public_cases'))
                 if not run_case(function, module).passed]
        if names:
            failing[section] = names
    return failing


@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_the_public_cases_catch_a_mistake_in_its_own_section_only(mistake, tmp_path):
    assert set(public_failures(load_mistake(mistake, tmp_path))) == {mistake.section}


# ---------------------------------------------------------------------------------------- the sandbox
@pytest.mark.parametrize('name', ['relu/derivative-one-at-zero', 'logsoftmax/no-max-shift', 'dense/db-wrong-axis',
                                  'relu/writes-into-its-input'])
def test_the_graded_report_names_the_mistake(grader, tmp_path, name):
    mistake = next(m for m in MISTAKES if m.name == name)
    path = tmp_path / 'solution.py'
    path.write_text(apply(REFERENCE, mistake))
    report = grader.grade(path, [mistake.section, 'crossentropy' if mistake.section != 'crossentropy' else 'relu'])
    own, other = report.sections
    assert own.verdict in ('wrong answer', 'runtime error') and other.verdict == 'passed', own.reason
    assert own.diagnosis == mistake.hint and f"likely mistake: {mistake.hint}" in own.reason, own.reason


def test_the_reference_outputs_are_finite_on_every_hidden_case(grader):
    for section in UNIT_NAMES:
        for case_name, _, expected in grader.expected(section):
            assert all(np.all(np.isfinite(output.array)) for output in expected.values()), (section, case_name)
