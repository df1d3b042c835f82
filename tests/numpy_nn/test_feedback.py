"""Feedback that teaches: every catalogued mistake is named by the diagnosis and shrinks to a case
small enough to check by hand; the reference is never diagnosed; two mistakes get no wrong claim.

Runs in-process (our own code only: the reference and its mistaken variants), on the hidden
scenarios of assignments/numpy_nn/scenarios.py.
"""
import itertools
import re

import numpy as np

import assignments
import pytest

from assignments.numpy_nn import scenarios
from grader.diagnose import Diagnoser, same_outputs
from tests.conftest import NUMPY_NN_CATALOGUE as CATALOGUE
from grader.mistakes import Mistake, apply, by_name, load_mistakes, mistakes_of
from public_tests.ladders import format_case, input_size, ladder
from public_tests.sections import UNIT_SECTIONS
from tests.conftest import KIT_ROOT
from tests.support.mutants import MUTANTS

REFERENCE = (KIT_ROOT / 'solution.py').read_text()
MISTAKES = load_mistakes(CATALOGUE)
UNIT_NAMES = [section.name for section in UNIT_SECTIONS]
MAX_SHRUNK_NUMBERS = 36  # "a few dozen"

# On their first failing hidden case (softmax on a batch of ONE row) these two compute the same
# numbers: summing y * g over the batch axis of a single row is y_j * g_j, the diagonal term.
# The section-level diagnosis tells them apart (the next cases have several rows).
COINCIDE_ON_FIRST_FAILING_CASE = {'softmax/diagonal-jacobian', 'softmax/backward-sum-over-batch'}

# Two mistakes that together are a third catalogued one: naming the third is right.
COMPOSITES = {frozenset({'dropout/training-rescaled', 'dropout/inference-identity'}): 'dropout/inverted'}


@pytest.fixture(scope='module')
def diagnoser():
    return Diagnoser(assignments.get("numpy-nn"), REFERENCE)


def hidden_cases(section):
    return [scenario for _, scenario in scenarios.scenarios(section)]


def runs(diagnoser, mistake, section):
    """[(scenario, outputs, failure)] of ``mistake`` (None: the reference) on the section's hidden cases."""
    return [(scenario, *diagnoser.run(mistake, section, scenario)) for scenario in hidden_cases(section)]


def first_failing(diagnoser, mistake):
    """(index, scenario, outputs, failure) of the first hidden case where ``mistake`` differs from the reference."""
    for index, scenario in enumerate(hidden_cases(mistake.section)):
        outputs, failure = diagnoser.run(mistake, mistake.section, scenario)
        if not same_outputs(outputs, failure, *diagnoser.run(None, mistake.section, scenario)):
            return index, scenario, outputs, failure
    return None


# -------------------------------------------------------------------- the catalogue
def test_catalogue_covers_every_unit_section():
    assert len(MISTAKES) >= 60
    counts = {name: len(mistakes_of(name, CATALOGUE)) for name in UNIT_NAMES}
    assert min(counts.values()) >= 4, counts
    assert {mistake.section for mistake in MISTAKES} == set(UNIT_NAMES)
    assert len({mistake.name for mistake in MISTAKES}) == len(MISTAKES)


@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_entry_is_well_formed(mistake):
    assert mistake.name.startswith(f"{mistake.section}/")
    assert re.fullmatch(r"Looks like [^\n]+[.)]", mistake.hint), mistake.hint
    for old, _ in mistake.edits:
        assert REFERENCE.count(old) == 1, f"{old!r} occurs {REFERENCE.count(old)} times in solution.py"
    compile(apply(REFERENCE, mistake), 'solution.py', 'exec')


def test_every_mutant_of_the_grader_tests_is_catalogued():
    catalogued = {(mistake.section, mistake.edits) for mistake in MISTAKES}
    assert [m.mistake for m in MUTANTS if (m.section, m.edits) not in catalogued] == []


def test_apply_refuses_an_edit_that_does_not_match_once():
    with pytest.raises(ValueError, match='occurs 0 times'):
        apply(REFERENCE, Mistake('x/y', 'sgd', 'Looks like x.', (('no such text in solution.py', ''),)))


# ------------------------------------------------------------- every mistake, named and shrunk
@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_is_named_and_shrinks(diagnoser, mistake):
    section = mistake.section
    found = first_failing(diagnoser, mistake)
    assert found is not None, "the mistake passes every hidden case of its section"
    index, scenario, outputs, failure = found

    # the section-level diagnosis (all cases, as the grader has them) names exactly this mistake
    diagnosis = diagnoser.diagnose_section(section, runs(diagnoser, mistake, section))
    assert diagnosis is not None and diagnosis.mistake == mistake.name, diagnosis
    assert diagnosis.hint == mistake.hint

    # the first failing case alone names it too, or (documented coincidences) says nothing
    single = diagnoser.diagnose(section, scenario, outputs, failure)
    if mistake.name in COINCIDE_ON_FIRST_FAILING_CASE:
        assert single is None
    else:
        assert single is not None and single.mistake == mistake.name, (index, single)

    # the smallest failing ladder candidate is a few dozen numbers at most
    for description, candidate in ladder(section, scenario):
        if not same_outputs(*diagnoser.run(mistake, section, candidate), *diagnoser.run(None, section, candidate)):
            assert input_size(candidate) <= MAX_SHRUNK_NUMBERS, description
            assert input_size(candidate) <= input_size(scenario)
            break
    else:
        pytest.fail("no ladder candidate fails")


# -------------------------------------------------------------------- no false claims
@pytest.mark.parametrize('section', UNIT_NAMES)
def test_reference_gets_no_diagnosis(diagnoser, section):
    cases = runs(diagnoser, None, section)
    assert all(failure is None for _, _, failure in cases)
    assert diagnoser.diagnose_section(section, cases) is None
    for scenario, outputs, failure in cases:
        assert diagnoser.diagnose(section, scenario, outputs, failure) is None


def combined_edit(section, first, second, old, new):
    """Two mistakes on one line, written by hand (their catalogue edits replace the same text)."""
    first, second = by_name(first, CATALOGUE), by_name(second, CATALOGUE)
    return first, second, Mistake(f"{first.name} + {second.name}", section, '', ((old, new),))


SGD_LINE = "return parameter - self.lr * parameter_grad"
MOMENTUM_LINE = "updater.inertia = self.momentum * updater.inertia + self.lr * parameter_grad"
SAME_LINE_PAIRS = {
    'sgd': [combined_edit('sgd', 'sgd/ascent', 'sgd/no-learning-rate', SGD_LINE, "return parameter + parameter_grad"),
            combined_edit('sgd', 'sgd/ascent', 'sgd/divided-by-lr', SGD_LINE, "return parameter + parameter_grad / self.lr"),
            combined_edit('sgd', 'sgd/step-only', 'sgd/no-learning-rate', SGD_LINE, "return -parameter_grad")],
    'momentum': [combined_edit('momentum', 'momentum/dampened', 'momentum/lr-and-momentum-swapped', MOMENTUM_LINE,
                               "updater.inertia = self.lr * updater.inertia + (1 - self.lr) * self.momentum * parameter_grad")],
}


def compatible_pairs(section):
    """Pairs of mistakes of ``section`` whose edits touch different text (both can be applied), and a
    few written by hand for sections whose mistakes all edit one line."""
    pairs = list(SAME_LINE_PAIRS.get(section, []))
    for first, second in itertools.combinations(mistakes_of(section, CATALOGUE), 2):
        combined = Mistake(f"{first.name} + {second.name}", section, '', first.edits + second.edits)
        try:
            apply(REFERENCE, combined)
        except ValueError:
            continue
        pairs.append((first, second, combined))
    return pairs


@pytest.mark.parametrize('section', UNIT_NAMES)
def test_two_mistakes_get_no_wrong_single_claim(diagnoser, section):
    pairs = compatible_pairs(section)
    assert len(pairs) >= 3
    for first, second, combined in pairs:
        cases = runs(diagnoser, combined, section)
        claim = diagnoser.diagnose_section(section, cases)
        composite = COMPOSITES.get(frozenset({first.name, second.name}))
        if composite:
            assert claim is not None and claim.mistake == composite, combined.name
            continue
        # A claim may only name one of the two: the other one is then dead code or hidden by the
        # first (e.g. Dropout that masks at inference never reaches its wrong inference scaling).
        if claim is not None:
            assert claim.mistake in (first.name, second.name), (combined.name, claim)
        # the one-case diagnosis on the first failing case (what a grader that stops there would ask)
        failing = first_failing(diagnoser, combined)
        if failing:
            single = diagnoser.diagnose(section, *failing[1:])
            assert single is None or single.mistake in (first.name, second.name), (combined.name, single)


# -------------------------------------------------------------------- the ladder itself
@pytest.mark.parametrize('section', UNIT_NAMES)
def test_ladder_candidates_are_valid_smaller_scenarios(diagnoser, section):
    for scenario in hidden_cases(section):
        candidates = ladder(section, scenario)
        assert candidates, "no candidate"
        sizes = [input_size(candidate) for _, candidate in candidates]
        assert sizes == sorted(sizes) and sizes[-1] <= input_size(scenario)
        for description, candidate in candidates:
            assert candidate['kind'] == scenario['kind'] and candidate.get('class') == scenario.get('class')
            if scenario['kind'] == 'layer':
                assert [(s['training'], s.get('seed')) for s in candidate['steps']] == \
                       [(s['training'], s.get('seed')) for s in scenario['steps']]
            _, failure = diagnoser.run(None, section, candidate)
            assert failure is None, f"the reference fails '{description}': {failure}"


def test_format_case_prints_inputs_expected_and_actual():
    scenario = {'kind': 'loss', 'class': 'CategoricalCrossentropy', 'y_gt': np.array([[0.0, 1.0]]),
                'y_pred': np.array([[0.75, 0.25]])}
    expected = {'value': np.array([np.log(4.0)]), 'gradient': np.array([[0.0, -4.0]])}
    actual = {'value': np.array([np.log(4.0)]), 'gradient': np.array([[0.0, 4.0]])}
    text = format_case(scenario, expected, actual)
    assert 'y_pred (1, 2) = [[0.75, 0.25]]' in text
    assert 'value: ok' in text and 'gradient: DIFFERS' in text
    assert 'yours    (1, 2) = [[0., 4.]]' in text and 'expected (1, 2) = [[ 0., -4.]]' in text


# -------------------------------------------------------------------- the public side
@pytest.mark.parametrize('section', UNIT_NAMES)
def test_public_oracles_agree_with_the_reference(diagnoser, section):
    """The oracles that judge shrunk candidates on the students' side (torch, scipy, formulas) give the
    reference's outputs on every hidden case and every ladder candidate."""
    from public_tests.oracles import expected_outputs
    for scenario in hidden_cases(section):
        for description, candidate in [('the hidden case', scenario)] + ladder(section, scenario):
            assert same_outputs(expected_outputs(candidate), None, *diagnoser.run(None, section, candidate)), description


@pytest.fixture(scope='module')
def public_feedback(tmp_path_factory, monkeypatch_module):
    """public_tests.feedback reading fingerprints written as the release writes them."""
    from assignments.numpy_nn.fingerprints import write_fingerprints
    from public_tests import feedback
    folder = tmp_path_factory.mktemp('fingerprints')
    write_fingerprints(folder, REFERENCE)
    data = feedback.load_fingerprints(folder / 'fingerprints.json')
    monkeypatch_module.setattr(feedback, 'load_fingerprints', lambda path=None: data)
    return feedback, data


@pytest.fixture(scope='module')
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def load_variant(tmp_path_factory, source, name):
    from public_tests.runner import load_solution
    path = tmp_path_factory.mktemp(name.replace('/', '-')) / 'solution.py'
    path.write_text(source)
    return load_solution(path, 'student_' + re.sub(r'\W', '_', name))


def test_public_fingerprints_hold_no_hidden_input(public_feedback):
    from assignments.numpy_nn.fingerprints import arrays_in
    _, data = public_feedback
    public = [array for entry in data.values() for scenario in entry['scenarios']
              for array in arrays_in(scenario) if array.size >= 4]
    for section in UNIT_NAMES:
        for scenario in hidden_cases(section):
            for hidden in arrays_in(scenario):
                if hidden.size >= 4:
                    assert not any(array.shape == hidden.shape and np.array_equal(array, hidden) for array in public)


def test_public_feedback_names_every_mistake_and_shows_a_small_case(public_feedback, tmp_path_factory):
    feedback, _ = public_feedback
    missed = []
    for mistake in MISTAKES:
        student = load_variant(tmp_path_factory, apply(REFERENCE, mistake), mistake.name)
        lines = feedback.feedback_lines(mistake.section, student)
        if lines[:1] != [f"Likely mistake: {mistake.hint}"] or "Smallest failing case found:" not in lines:
            missed.append((mistake.name, lines[:2]))
    assert missed == []


def test_public_feedback_is_silent_for_the_reference_and_a_template(public_feedback, reference, template):
    feedback, _ = public_feedback
    for section in UNIT_NAMES:
        assert feedback.feedback_lines(section, reference) == [], section
        assert feedback.feedback_lines(section, template) == [], section


def test_public_feedback_never_claims_one_of_two_mistakes_wrongly(public_feedback, tmp_path_factory):
    feedback, _ = public_feedback
    claims = 0
    for section in ('softmax', 'dense', 'batchnorm', 'dropout', 'convolve'):
        for first, second, combined in compatible_pairs(section)[:8]:
            student = load_variant(tmp_path_factory, apply(REFERENCE, combined), combined.name)
            lines = feedback.feedback_lines(section, student)
            hints = [line for line in lines if line.startswith('Likely mistake: ')]
            allowed = {f"Likely mistake: {m.hint}" for m in (first, second)}
            composite = COMPOSITES.get(frozenset({first.name, second.name}))
            if composite:
                allowed.add(f"Likely mistake: {by_name(composite, CATALOGUE).hint}")
            assert set(hints) <= allowed, (combined.name, hints)
            claims += bool(hints)
            assert "Smallest failing case found:" in lines, combined.name


def test_released_unittest_shows_the_likely_mistake_and_a_small_case(release_dir, tmp_path):
    """The student release alone (no grader, no reference) names the mistake and prints a small case."""
    import subprocess
    import sys
    assert (release_dir / 'public_tests' / 'fingerprints.json').is_file()
    assert (release_dir / 'assignments' / 'numpy_nn' / 'execute.py').is_file()  # the feedback's runner
    mistake = by_name('dropout/inference-identity', CATALOGUE)
    (tmp_path / 'solution.py').write_text(apply(REFERENCE, mistake))
    run = subprocess.run([sys.executable, 'run.py', 'unittest', 'dropout', '--solution', str(tmp_path / 'solution.py')],
                         cwd=release_dir, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr[-2000:]
    assert f"Likely mistake: {mistake.hint}" in run.stdout, run.stdout[-3000:]
    assert 'Smallest failing case found:' in run.stdout and 'DIFFERS' in run.stdout
    assert '0 / 1 points' in run.stdout
