"""The autoencoder's feedback: every catalogued mistake (assignments/autoencoder/mistakes.toml) fails its own
section, the diagnosis names it, its failing case shrinks (assignments/autoencoder/ladders.py) to a few numbers,
and the hints say what is wrong without the expression that fixes it; the reference is never diagnosed.

In-process (our own code only: the reference and its mistaken variants) on the hidden scenarios, and once
through ``./run.py --assignment autoencoder grade`` in the sandbox, a file holding a mistake in each of three
sections.  What the tests expect comes from the catalogue itself and from formulas written here (the
activation, the layer's passes and the loss by hand), never from the code under test.
"""
import json
import re
import subprocess
import sys
from functools import lru_cache

import numpy as np
import pytest

import assignments
from grader.diagnose import Diagnoser, same_outputs
from grader.mistakes import Mistake, apply, by_name, load_mistakes, mistakes_of
from tests.conftest import DATA_DIR, KIT_ROOT
from tests.support.mutants import apply as apply_mutant
from tests.support.mutants_autoencoder import MUTANTS

AUTOENCODER = assignments.get('autoencoder')
CATALOGUE = AUTOENCODER.catalogue
REFERENCE = AUTOENCODER.reference_path.read_text()
MISTAKES = load_mistakes(CATALOGUE)
UNIT_NAMES = [section.name for section in AUTOENCODER.unit_sections]
scenarios = AUTOENCODER.module('scenarios')
ladders = AUTOENCODER.module('ladders')
MAX_SHRUNK_NUMBERS = 12  # a smallest failing input a student checks by hand

# Mistakes the hidden cases cannot tell apart ({mistake: its twin, why}); the diagnosis names neither.  None at
# present: test_no_two_mistakes_of_a_section_coincide_on_every_hidden_case checks that each pair differs.
INDISTINGUISHABLE = {}

# Hidden cases too small to shrink: their input is one number already (the ladder offers simpler values only).
ONE_NUMBER_CASES = {'activations/sigmoid-second-deriv-is-first', 'activations/tanh-deriv-not-squared',
                    'activations/tanh-second-deriv-sign', 'activations/leaky-relu-fixed-alpha'}


@pytest.fixture(scope='module')
def diagnoser():
    return Diagnoser(AUTOENCODER)


@lru_cache(maxsize=None)
def hidden_cases(section):
    return [scenario for _, scenario in scenarios.scenarios(section)]


def runs(diagnoser, mistake, section):
    """[(scenario, outputs, failure)] of ``mistake`` (None: the reference) on the section's hidden cases."""
    return [(scenario, *diagnoser.run(mistake, section, scenario)) for scenario in hidden_cases(section)]


def differs(diagnoser, mistake, section, scenario):
    return not same_outputs(*diagnoser.run(mistake, section, scenario), *diagnoser.run(None, section, scenario))


def first_failing(diagnoser, mistake):
    """(index, scenario) of the first hidden case where ``mistake`` differs from the reference, or None."""
    for index, scenario in enumerate(hidden_cases(mistake.section)):
        if differs(diagnoser, mistake, mistake.section, scenario):
            return index, scenario
    return None


def smallest_failing(diagnoser, mistake, scenario):
    """(description, candidate) of the first ladder candidate of ``scenario`` where ``mistake`` fails, or None."""
    for description, candidate in ladders.ladder(mistake.section, scenario):
        if differs(diagnoser, mistake, mistake.section, candidate):
            return description, candidate
    return None


# -------------------------------------------------------------------- the catalogue
def test_the_catalogue_is_the_mutants_and_covers_every_unit_section():
    assert len(MISTAKES) == len(MUTANTS) == 27
    assert {mistake.section for mistake in MISTAKES} == set(UNIT_NAMES)
    assert len({mistake.name for mistake in MISTAKES}) == len(MISTAKES)
    for mistake, mutant in zip(MISTAKES, MUTANTS):  # the grader tests' mutants are the catalogue's entries
        assert (mutant.section, mutant.edits) == (mistake.section, mistake.edits)
        assert apply_mutant(REFERENCE, mutant) == apply(REFERENCE, mistake)
    labels = [mutant.mistake for mutant in MUTANTS]  # what tests/autoencoder/test_autoencoder_grader.py looks them up by
    assert len(set(labels)) == len(labels)
    assert {"R_p forward without the P z_bar term", "Adam without bias correction",
            "np.abs in the loss (the complex step sees nothing)"} <= set(labels)


@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_entry_is_well_formed(mistake):
    assert mistake.name.startswith(f"{mistake.section}/") and mistake.section in UNIT_NAMES
    assert re.fullmatch(r"Looks like [^\n]+[.)]", mistake.hint), mistake.hint
    for old, _ in mistake.edits:
        assert REFERENCE.count(old) == 1, f"{old!r} occurs {REFERENCE.count(old)} times in solution.py"
    compile(apply(REFERENCE, mistake), 'solution.py', 'exec')


def fix_fragments(mistake, length=12):
    """What only the fix has: every run of ``length`` characters of an edit's old text that its new text lacks
    (spaces collapsed), and the names (np.sqrt, self.alpha, compute_loss_Rp_grad, ...) only the old text calls."""
    for old, new in mistake.edits:
        old, new = ' '.join(old.split()), ' '.join(new.split())
        if len(old) < length and old not in new:
            yield old
        for start in range(len(old) - length + 1):
            if old[start:start + length] not in new:
                yield old[start:start + length]
        names = r"(?:np|self)\.[\w.]+|\w+\(|\w*_\w*"
        yield from set(re.findall(names, old)) - set(re.findall(names, new))


@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_the_hint_does_not_give_the_fix(mistake):
    hint = ' '.join(mistake.hint.split())
    fragments = sorted(fragment for fragment in set(fix_fragments(mistake)) if fragment in hint)
    assert fragments == [], f"the hint quotes the fixed code: {fragments}"


def test_the_fix_check_catches_a_hint_that_quotes_the_fix():
    mistake = by_name('rmsprop/no-square-root', CATALOGUE)
    told = Mistake(mistake.name, mistake.section, "Looks like you forgot np.sqrt in the denominator.", mistake.edits)
    assert 'np.sqrt' in set(fix_fragments(told))
    quoting = Mistake(mistake.name, mistake.section, "Looks like the step should be grad / (np.sqrt(state['mean_"
                      "square']) + eps).", mistake.edits)
    assert any(fragment in quoting.hint for fragment in fix_fragments(quoting))


# ------------------------------------------------------------- every mistake: fails, named, shrunk
@pytest.mark.parametrize('mistake', MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_fails_its_section_is_named_and_shrinks(diagnoser, mistake):
    section = mistake.section
    found = first_failing(diagnoser, mistake)
    assert found is not None, "the mistake passes every hidden case of its section"
    index, scenario = found

    # the section-level diagnosis (all cases, as the checker has them) names exactly this mistake
    diagnosis = diagnoser.diagnose_section(section, runs(diagnoser, mistake, section))
    if mistake.name in INDISTINGUISHABLE:
        assert diagnosis is None
    else:
        assert diagnosis is not None and diagnosis.mistake == mistake.name, diagnosis
        assert diagnosis.hint == mistake.hint

    # the first failing case alone names it too
    single = diagnoser.diagnose(section, scenario, *diagnoser.run(mistake, section, scenario))
    assert single is not None and single.mistake == mistake.name, (index, single)

    # a ladder candidate fails: a few numbers at most, no more than the hidden case has
    shrunk = smallest_failing(diagnoser, mistake, scenario)
    assert shrunk is not None, "no ladder candidate fails"
    description, candidate = shrunk
    assert ladders.input_size(candidate) <= min(MAX_SHRUNK_NUMBERS, ladders.input_size(scenario)), description
    if mistake.name not in ONE_NUMBER_CASES:
        assert ladders.input_size(candidate) < ladders.input_size(scenario), description
    else:
        assert ladders.input_size(scenario) == 1


def test_no_two_mistakes_of_a_section_coincide_on_every_hidden_case(diagnoser):
    coinciding = []
    for section in UNIT_NAMES:
        mistakes = mistakes_of(section, CATALOGUE)
        for number, first in enumerate(mistakes):
            for second in mistakes[number + 1:]:
                if all(same_outputs(*diagnoser.run(first, section, scenario), *diagnoser.run(second, section, scenario))
                       for scenario in hidden_cases(section)):
                    coinciding.append({first.name, second.name})
    assert coinciding == [{name, twin} for name, (twin, _) in INDISTINGUISHABLE.items() if name < twin]


# -------------------------------------------------------------------- no false claims
@pytest.mark.parametrize('section', UNIT_NAMES)
def test_reference_gets_no_diagnosis(diagnoser, section):
    cases = runs(diagnoser, None, section)
    assert all(failure is None for _, _, failure in cases)
    assert diagnoser.diagnose_section(section, cases) is None


def compatible_pairs(section):
    """Pairs of mistakes of ``section`` whose edits touch different text (both can be applied at once)."""
    pairs = []
    for number, first in enumerate(mistakes_of(section, CATALOGUE)):
        for second in mistakes_of(section, CATALOGUE)[number + 1:]:
            combined = Mistake(f"{first.name} + {second.name}", section, '', first.edits + second.edits)
            try:
                apply(REFERENCE, combined)
            except ValueError:
                continue
            pairs.append((first, second, combined))
    return pairs


def test_two_mistakes_get_no_claim_of_a_third(diagnoser):
    checked = 0
    for section in UNIT_NAMES:
        for first, second, combined in compatible_pairs(section):
            claim = diagnoser.diagnose_section(section, runs(diagnoser, combined, section))
            assert claim is None or claim.mistake in (first.name, second.name), (combined.name, claim)
            checked += 1
    assert checked >= 15


# -------------------------------------------------------------------- the ladders
def valid_network(candidate):
    layers = candidate['layers']
    assert layers[-1][1] == layers[0][0], layers  # an autoencoder: as many outputs as inputs
    assert all(before[1] == after[0] for before, after in zip(layers, layers[1:])), layers
    count = sum(n_out * (n_in + bias) for n_in, n_out, bias in layers)
    assert np.shape(candidate['weights']) == (count,)
    assert np.shape(candidate['inputs'])[0] == layers[0][0]
    if candidate.get('p') is not None:
        assert np.shape(candidate['p']) == (count,)


def check_candidate(scenario, candidate):
    """The candidate keeps the scenario's kind and flags, and its arrays fit together."""
    kind = scenario['kind']
    assert candidate['kind'] == kind
    if kind == 'activation':
        assert (candidate['class'], candidate['kwargs']) == (scenario['class'], scenario['kwargs'])
        assert ('X_imag' in candidate) == ('X_imag' in scenario)
        assert np.all(np.asarray(candidate['X']) != 0)  # the handout: ReLU-like functions never see an exact 0
        if 'X_imag' in candidate:
            assert np.shape(candidate['X_imag']) == np.shape(candidate['X'])
    elif kind == 'layer':
        (n_in, n_out), bias, batch = candidate['shape'], int(candidate['use_bias']), np.shape(candidate['inputs'])[1]
        assert (candidate['pass'], candidate['use_bias']) == (scenario['pass'], scenario['use_bias'])
        for name, shape in (('weights', (n_out * (n_in + bias),)), ('direction', (n_out * (n_in + bias),)),
                            ('inputs', (n_in, batch)), ('derivs', (n_out, batch)), ('Rp_inputs', (n_in, batch)),
                            ('Rp_derivs', (n_out, batch)), ('weights_imag', (n_out * (n_in + bias),)),
                            ('inputs_imag', (n_in, batch))):
            assert (name in candidate) == (name in scenario), name
            if name in candidate:
                assert np.shape(candidate[name]) == shape, name
    elif kind == 'autoencoder':
        assert candidate['method'] == scenario['method']
        valid_network(candidate)
        assert ('weights_imag' in candidate) == ('weights_imag' in scenario)
        if 'weights_imag' in candidate:
            assert candidate['step'] == scenario['step']
            np.testing.assert_array_equal(candidate['weights_imag'], candidate['step'] * candidate['p'])
    elif kind == 'optimizer':
        for key in ('method', 'seed', 'runs'):
            assert candidate.get(key) == scenario.get(key), key
        valid_network(candidate)
        kwargs = {k: v for k, v in candidate['kwargs'].items() if k not in ('num_epoch', 'minibatch_size')}
        assert kwargs == {k: v for k, v in scenario['kwargs'].items() if k not in ('num_epoch', 'minibatch_size')}
        assert 1 <= candidate['kwargs']['minibatch_size'] <= np.shape(candidate['inputs'])[1]
        assert 1 <= candidate['kwargs']['num_epoch'] <= scenario['kwargs']['num_epoch']
        assert (candidate['test_inputs'] is None) == (scenario['test_inputs'] is None)
        if candidate['test_inputs'] is not None:
            assert np.shape(candidate['test_inputs'])[0] == candidate['layers'][0][0]
    else:
        assert kind == 'hfn' and candidate['seed'] == scenario['seed']
        valid_network(candidate)
        assert set(candidate['kwargs']) == set(scenario['kwargs'])
        assert 1 <= candidate['kwargs']['curvature_size'] <= np.shape(candidate['inputs'])[1]


def numbers(scenario):
    """The input numbers of a scenario, counted here (not by the ladders' own input_size)."""
    kind = scenario['kind']
    names = {'activation': ('X', 'X_imag'),
             'layer': ('weights', 'weights_imag', 'inputs', 'inputs_imag', 'derivs', 'direction', 'Rp_inputs',
                       'Rp_derivs') if scenario.get('pass') == 'rp' else ('weights', 'weights_imag', 'inputs',
                                                                             'inputs_imag', 'derivs'),
             'autoencoder': ('weights', 'inputs', 'p'), 'optimizer': ('weights', 'inputs', 'test_inputs'),
             'hfn': ('weights', 'inputs', 'p')}[kind]
    if kind == 'autoencoder' and scenario['method'] == 'loss' and scenario.get('step') is None:
        names = ('weights', 'inputs')
    return sum(np.size(scenario[name]) for name in names if scenario.get(name) is not None)


@pytest.mark.parametrize('section', UNIT_NAMES)
def test_ladder_candidates_are_valid_smaller_scenarios(diagnoser, section):
    """Every hidden case's ladder: smallest first, no larger than the case, its kind and flags kept; the
    reference runs every candidate of one case per category (what the checker shows as expected)."""
    run_one_per_category = {}
    for (name, scenario), category in zip(scenarios.scenarios(section), scenarios.categories(section).values()):
        candidates = ladders.ladder(section, scenario)
        assert candidates, f"'{name}': no candidate"
        sizes = [numbers(candidate) for _, candidate in candidates]
        assert sizes == sorted(sizes) and sizes[-1] <= numbers(scenario), name
        assert sizes[0] < numbers(scenario) or numbers(scenario) == 1, name
        assert len({description for description, _ in candidates}) == len(candidates)
        for description, candidate in candidates:
            check_candidate(scenario, candidate)
        run_one_per_category.setdefault(category, candidates)
    for category, candidates in run_one_per_category.items():
        for description, candidate in candidates:
            outputs, failure = diagnoser.run(None, section, candidate)
            assert failure is None and outputs, f"the reference fails '{description}' ({category}): {failure}"


# ------------------------------------------------------------- shrunk cases, checked by hand
def wave(u):
    return np.sin(u) + u / 2, np.cos(u) + 0.5  # the kit's activation in the layer and network cases: g, g'


def test_shrunk_layer_case_is_checkable_by_hand(diagnoser):
    """fclayer/weights-grad-averaged shrinks to a 1 -> 1 layer on a batch of 2: the gradient summed over the
    batch (by hand) is what the reference gives, the mistake gives it halved."""
    mistake = by_name('fclayer/weights-grad-averaged', CATALOGUE)
    _, candidate = smallest_failing(diagnoser, mistake, first_failing(diagnoser, mistake)[1])
    assert candidate['shape'] == [1, 1] and np.shape(candidate['inputs']) == (1, 2)
    W_bar = np.reshape(candidate['weights'], (1, -1))
    extended = np.vstack([candidate['inputs'], np.ones((1, 2))]) if candidate['use_bias'] else candidate['inputs']
    g, g_prime = wave(W_bar @ extended)
    u_derivs = np.asarray(candidate['derivs']) * g_prime
    expected, _ = diagnoser.run(None, 'fclayer', candidate)
    np.testing.assert_allclose(expected['outputs'], g)
    np.testing.assert_allclose(expected['weights_grad'], (u_derivs @ extended.T).ravel())
    np.testing.assert_allclose(expected['inputs_derivs'], W_bar[:, :1].T @ u_derivs)
    mistaken, _ = diagnoser.run(mistake, 'fclayer', candidate)
    np.testing.assert_allclose(mistaken['weights_grad'], (u_derivs @ extended.T).ravel() / 2)


def test_shrunk_loss_case_is_checkable_by_hand(diagnoser):
    """loss/summed-over-batch shrinks to one layer d -> d on two objects: F and its gradient by hand."""
    mistake = by_name('loss/summed-over-batch', CATALOGUE)
    _, candidate = smallest_failing(diagnoser, mistake, first_failing(diagnoser, mistake)[1])
    [[d, d_out, bias]] = candidate['layers']
    x = np.asarray(candidate['inputs'])
    n = x.shape[1]
    assert d == d_out and n == 2
    W_bar = np.reshape(candidate['weights'], (d, d + bias))
    extended = np.vstack([x, np.ones((1, n))]) if bias else x
    z, g_prime = wave(W_bar @ extended)
    loss = 0.5 * np.sum((z - x) ** 2) / n
    grad = (((z - x) * g_prime) @ extended.T).ravel() / n
    expected, _ = diagnoser.run(None, 'loss', candidate)
    np.testing.assert_allclose(expected['loss'], loss)
    np.testing.assert_allclose(expected['grad'], grad)
    mistaken, _ = diagnoser.run(mistake, 'loss', candidate)
    np.testing.assert_allclose([mistaken['loss'], *mistaken['grad']], [loss * n, *grad * n])


def test_shrunk_activation_case_is_checkable_by_hand(diagnoser):
    """activations/leaky-relu-fixed-alpha on one negative number: alpha * x against 0.01 * x."""
    mistake = by_name('activations/leaky-relu-fixed-alpha', CATALOGUE)
    _, candidate = smallest_failing(diagnoser, mistake, first_failing(diagnoser, mistake)[1])
    x, alpha = np.asarray(candidate['X']), candidate['kwargs']['alpha']
    assert x.size == 1 and x.ravel()[0] < 0 and alpha != 0.01
    expected, _ = diagnoser.run(None, 'activations', candidate)
    mistaken, _ = diagnoser.run(mistake, 'activations', candidate)
    np.testing.assert_allclose(expected['val'], alpha * x)
    np.testing.assert_allclose(mistaken['val'], 0.01 * x)


def test_format_case_prints_inputs_expected_and_actual(diagnoser):
    """A 1 -> 1 layer with a bias, W_bar = [2, 0], x = -1, dL/dz = 2, by hand: u = -2, z = sin(-2) - 1,
    dL/du = 2 (cos 2 + 1/2), dL/dx = 2 dL/du, dL/dW_bar = dL/du [x, 1]; the student's input gradient has the
    bias row too."""
    scenario = {'kind': 'layer', 'pass': 'fclayer', 'shape': [1, 1], 'use_bias': True, 'weights': np.array([2.0, 0.0]),
                'inputs': np.array([[-1.0]]), 'derivs': np.array([[2.0]]), 'direction': np.zeros(2),
                'Rp_inputs': np.zeros((1, 1)), 'Rp_derivs': np.zeros((1, 1))}
    u_derivs = 2 * (np.cos(2.0) + 0.5)
    expected = {'outputs': np.array([[np.sin(-2.0) - 1]]), 'inputs_derivs': np.array([[2 * u_derivs]]),
                'weights_grad': np.array([-u_derivs, u_derivs])}
    reference, failure = diagnoser.run(None, 'fclayer', scenario)
    assert failure is None and same_outputs(reference, None, expected, None)
    actual = {**expected, 'inputs_derivs': np.array([[2 * u_derivs], [0.0]])}
    text = ladders.format_case(scenario, expected, actual)
    assert 'FCLayer(shape=(1, 1)' in text and 'use_bias=True' in text
    assert 'W_bar = [W, b] (1, 2) = [[2., 0.]]' in text and 'inputs (1, 1) = [[-1.]]' in text
    assert 'derivs (1, 1) = [[2.]]' in text and 'set_direction' not in text  # the R_p inputs: rp's only
    assert 'outputs: ok, (1, 1) = [[-1.909297]]' in text
    assert 'inputs_derivs: DIFFERS' in text and 'expected (1, 1) = [[0.335413]]' in text
    assert 'yours    (2, 1) =' in text and 'weights_grad: ok, (2,) = [-0.167706,  0.167706]' in text
    raised = ladders.format_case(scenario, expected, {}, "backward: ValueError: shapes (2,1) and (1,1)")
    assert raised.count(': missing') == 3 and raised.endswith("Your code raised: backward: ValueError: shapes "
                                                              "(2,1) and (1,1)")


# ------------------------------------------------------------- the checker, in the sandbox
SANDBOXED = ('activations/softplus-not-complex', 'rp/forward-without-direction-term', 'adam/moments-restart')


def test_run_py_grade_prints_the_likely_mistake_and_a_smaller_case(tmp_path):
    mistakes = [by_name(name, CATALOGUE) for name in SANDBOXED]
    source = REFERENCE
    for mistake in mistakes:
        source = apply(source, mistake)
    path = tmp_path / 'solution.py'
    path.write_text(source)
    run = subprocess.run([sys.executable, str(KIT_ROOT / 'run.py'), '--assignment', 'autoencoder', 'grade', str(path),
                          '--sections', *(m.section for m in mistakes), '--json', str(tmp_path / 'report.json'),
                          '--data-dir', str(DATA_DIR)],
                         cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    for mistake in mistakes:
        assert f"likely mistake: {mistake.hint}" in run.stdout, (mistake.name, run.stdout[-3000:])
    report = json.loads((tmp_path / 'report.json').read_text())
    report = report[0] if isinstance(report, list) else report
    verdicts = {section['name']: section for section in report['sections']}
    assert {name: verdict['verdict'] for name, verdict in verdicts.items()} == {
        'activations': 'runtime error', 'rp': 'wrong answer', 'adam': 'wrong answer'}  # np.logaddexp raises
    shown = {name: verdict['reason'].partition('smallest failing input:\n')[2] for name, verdict in verdicts.items()}
    assert all(shown.values()), {name: verdict['reason'][-800:] for name, verdict in verdicts.items()}
    # each smallest input is smaller than the hidden case it comes from (12 complex numbers, a 3 -> 2 layer on
    # 5 objects, 10 objects of 5 features)
    assert re.search(r"X \((\d+),\) = ", shown['activations']) and \
        int(re.search(r"X \((\d+),\) = ", shown['activations'])[1]) < 12
    assert 'Your code raised: val (complex inputs): TypeError' in shown['activations']
    shape = tuple(map(int, re.search(r"FCLayer\(shape=\((\d+), (\d+)\)", shown['rp']).groups()))
    assert shape[0] * shape[1] < 6 and 'Rp_outputs: DIFFERS' in shown['rp']
    features, objects = map(int, re.search(r"inputs \(features, objects\) \((\d+), (\d+)\)", shown['adam']).groups())
    assert features < 5 and objects < 10 and 'weights: DIFFERS' in shown['adam']
