"""The second assignment through the shared checker: the reference scores, the template does not,
every mutant loses its own section and no other, and each section is judged on its own."""
import pytest

import assignments
from grader.compare import compare_case
from grader.grade import Grader
from grader.regions import make_template
from tests.support.mutants import apply as apply_mutant
from tests.support.mutants_autoencoder import MUTANTS

AUTOENCODER = assignments.get('autoencoder')
REFERENCE = AUTOENCODER.reference_path.read_text()
UNIT_NAMES = [section.name for section in AUTOENCODER.unit_sections]


@pytest.fixture(scope='module')
def grader():
    return Grader(assignment='autoencoder')


def lost_sections(grader, module):
    """{section: reason} of the unit sections whose hidden cases ``module`` fails, judged in this
    process with the grader's own scenarios, reference outputs and comparison (no sandbox)."""
    lost = {}
    for section in UNIT_NAMES:
        with grader.execute.running(grader._task(section)):
            for index, (case, scenario, expected) in enumerate(grader.expected(section)):
                outputs, failure = grader.execute.run_scenario(module, scenario)
                result = {'failure': failure, 'problems': {k: o.problem for k, o in outputs.items() if o.problem}}
                arrays = {f"{index}/{k}": o.array for k, o in outputs.items() if o.problem is None}
                reason = compare_case(result, arrays, expected, index)
                if reason:
                    lost[section] = f"case '{case}': {reason}"
                    break
    return lost


def test_the_catalogue_covers_every_unit_section():
    assert len(MUTANTS) >= 15 and {mutant.section for mutant in MUTANTS} == set(UNIT_NAMES)


def test_reference_scores_every_unit_section_in_the_sandbox(grader):
    report = grader.grade(AUTOENCODER.reference_path, UNIT_NAMES)
    assert report.assignment == 'autoencoder'
    assert {v.name: v.verdict for v in report.sections} == {name: 'passed' for name in UNIT_NAMES}, \
        [v.reason for v in report.sections if v.verdict != 'passed']
    assert report.total == sum(section.points for section in AUTOENCODER.unit_sections) == 17


def test_template_scores_nothing(tmp_path):
    from tests.conftest import DATA_DIR
    path = tmp_path / 'solution.py'
    path.write_text(make_template(REFERENCE, AUTOENCODER.by_name))
    report = Grader(assignment='autoencoder', data_dir=DATA_DIR).grade(path, UNIT_NAMES + ['bottleneck'])
    assert report.total == 0
    assert all(v.verdict == 'runtime error' and 'NotImplementedError' in v.reason for v in report.sections), \
        {v.name: v.reason for v in report.sections}


@pytest.mark.parametrize('mutant', MUTANTS, ids=[f"{m.section}: {m.mistake}" for m in MUTANTS])
def test_mutant_loses_its_own_section_only(grader, mutant, tmp_path):
    path = tmp_path / 'solution.py'
    path.write_text(apply_mutant(REFERENCE, mutant))
    module = AUTOENCODER.load(path, f"autoencoder_mutant_{abs(hash(mutant.mistake))}")
    lost = lost_sections(grader, module)
    assert list(lost) == [mutant.section], lost


@pytest.mark.parametrize('mistake', ["R_p forward without the P z_bar term", "Adam without bias correction",
                                     "np.abs in the loss (the complex step sees nothing)"])
def test_mutants_in_the_sandbox(grader, tmp_path, mistake):
    """The sandboxed path agrees with the in-process judgement (its own section and a cheap neighbour)."""
    mutant = next(m for m in MUTANTS if m.mistake == mistake)
    path = tmp_path / 'solution.py'
    path.write_text(apply_mutant(REFERENCE, mutant))
    report = grader.grade(path, [mutant.section, 'activations'])
    verdicts = {v.name: v.verdict for v in report.sections}
    assert verdicts == {mutant.section: 'wrong answer', 'activations': 'passed'}, [v.reason for v in report.sections]


def test_a_wrong_layer_costs_the_layer_sections_only(grader, tmp_path):
    """The Autoencoder sections run on the kit's oracle layers: a broken FCLayer does not cost them."""
    broken = REFERENCE.replace("self.u = self.weights @ self.extend(inputs)", "self.u = 0 * self.weights @ self.extend(inputs)")
    broken = broken.replace("self.Rp_u = self.weights @ Rp_extended + self.direction @ self.extend(self.inputs)",
                            "self.Rp_u = 0")
    path = tmp_path / 'solution.py'
    path.write_text(broken)
    lost = lost_sections(grader, AUTOENCODER.load(path, 'autoencoder_broken_layer'))
    assert set(lost) == {'fclayer', 'rp'}, lost


def test_complex_inputs_are_graded():
    """Hidden cases feed complex arrays to the activations, the layer's forward and the loss (the complex step)."""
    categories = {section: set(AUTOENCODER.module('scenarios').categories(section).values())
                  for section in ('activations', 'fclayer', 'loss')}
    assert 'complex inputs' in categories['activations'] and 'complex inputs' in categories['fclayer']
    assert 'the complex step' in categories['loss']


@pytest.mark.gate  # minutes of training: pytest -m gate, or ./run.py benchmark
def test_reference_passes_the_bottleneck_gate_in_the_sandbox():
    from tests.conftest import DATA_DIR
    report = Grader(assignment='autoencoder', data_dir=DATA_DIR).grade(AUTOENCODER.reference_path, ['bottleneck'])
    verdict = report.sections[0]
    assert verdict.verdict == 'passed' and verdict.points == 3.0, verdict.reason
    assert 'validation loss' in verdict.reason and 'on 2,000 test images' in verdict.reason


LOOPS = {  # section: (the reference's lines, the same with a Python loop over data)
    'loss': ("loss = 0.5 * np.sum(residual * residual) / n",
             "loss = sum(0.5 * np.sum(residual[:, i] * residual[:, i]) for i in range(n)) / n"),
    'activations': ("return 1 / (1 + np.exp(-X))",
                    "return np.array([1 / (1 + np.exp(-x)) for x in X.ravel()]).reshape(X.shape)"),
    'adam': ("return weights - step_size * m_hat / (np.sqrt(v_hat) + eps)",
             "return np.array([w - step_size * m / (np.sqrt(v) + eps) for w, m, v in zip(weights, m_hat, v_hat)])"),
    'fclayer': ("self.outputs = self.afun.val(self.u)",
                "self.outputs = np.stack([self.afun.val(column) for column in self.u.T], axis=1)"),
}


@pytest.mark.parametrize('section', sorted(LOOPS))
def test_loops_over_objects_units_or_parameters_are_refused(grader, tmp_path, section):
    old, new = LOOPS[section]
    assert old in REFERENCE
    path = tmp_path / 'solution.py'
    path.write_text(REFERENCE.replace(old, new, 1))
    verdict = grader.grade(path, [section]).sections[0]
    assert verdict.verdict == 'policy violation' and 'loop over the data' in verdict.reason, verdict.reason
    assert 'more objects, units, parameters' in verdict.reason


def test_a_loop_over_the_layers_is_fine(grader, tmp_path):
    source = REFERENCE.replace(
        "        self.net.set_direction(p)\n        Rp_outputs = self.net.compute_Rp_outputs()\n"
        "        return self.net.compute_loss_Rp_grad(",
        "        start = 0\n        for layer in self.net.layers:\n"
        "            layer.set_direction(p[start:start + layer.get_params_number()])\n"
        "            start += layer.get_params_number()\n        Rp_outputs = self.net.compute_Rp_outputs()\n"
        "        return self.net.compute_loss_Rp_grad(", 1)
    assert source != REFERENCE
    path = tmp_path / 'solution.py'
    path.write_text(source)
    verdict = grader.grade(path, ['hessvec']).sections[0]
    assert verdict.verdict == 'passed' and not verdict.warnings, verdict.reason
