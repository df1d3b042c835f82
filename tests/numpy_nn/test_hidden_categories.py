"""Every hidden case has a category, and every hidden category is announced by a public case.

Also: the announcing public cases are real checks (the reference passes them, the released
template fails them), and the two-step Dense/Conv2D cases, public and hidden, catch gradients
accumulated over steps (``self.weights_grad += ...``), which single-step cases cannot see.
"""
import numpy as np
import pytest

import interface
from assignments.numpy_nn import scenarios
from assignments.numpy_nn.announced import ANNOUNCED, unannounced
from grader.compare import compare_output
from assignments.numpy_nn.execute import run_scenario
from public_tests.framework import cases_for, run_case
from public_tests.runner import KIT_ROOT, load_solution
from public_tests.sections import UNIT_SECTIONS

SECTIONS = [section.name for section in UNIT_SECTIONS]
HIDDEN_CATEGORIES = {section: scenarios.categories(section) for section in SECTIONS}  # {section: {case: category}}
ANNOUNCING = sorted({(section, name) for section, table in ANNOUNCED.items()
                     for names in table.values() for name in names})

# The categories the hidden cases must cover (issue 7 and the kit's own list).
REQUIRED = {
    'crossentropy': {'soft labels', 'y_pred with zeros', 'batch size 1'},
    'pooling2d': {'pooling ties', 'batch size 1', 'non-square images'},
    'convolve': {'1x1 kernels', '5x5 kernels', 'non-square images', 'batch size 1'},
    'conv2d': {'1x1 kernels', '5x5 kernels', 'non-square images', 'batch size 1', 'multi-step layer gradients'},
    'dense': {'batch size 1', 'multi-step layer gradients'},
    'flatten': {'batch size 1', 'non-square images'},
    'sgd': {'multi-step optimizer runs'},
    'momentum': {'multi-step optimizer runs'},
    'batchnorm': {'running statistics over several steps, then inference'},
    'dropout': {'fixed seeds, then inference'},
    'softmax': {'softmax with large inputs (+-1e4)', 'batch size 1'},
}

ACCUMULATING = {  # section -> (reference line, the same line accumulating over steps)
    'dense': ("self.weights_grad = grad_outputs.T @ self.forward_inputs",
              "self.weights_grad += grad_outputs.T @ self.forward_inputs"),
    'conv2d': ("self.kernels_grad = kernels_grad[", "self.kernels_grad += kernels_grad["),
}


def public_names(section):
    return [function.__name__ for function in cases_for(section)]


def public_case(section, name):
    return next(function for function in cases_for(section) if function.__name__ == name)


def test_hidden_sections_are_the_unit_sections():
    assert set(scenarios.GENERATORS) == set(SECTIONS)


@pytest.mark.parametrize('section', SECTIONS)
def test_every_hidden_case_has_a_category(section):
    cases = scenarios.cases(section)
    names = [name for _, name, _ in cases]
    assert len(names) == len(set(names)), f"{section}: two hidden cases share a name"
    assert [name for name, _ in scenarios.scenarios(section)] == names
    for category, name, scenario in cases:
        assert isinstance(category, str) and category.strip(), f"{section} '{name}' has no category"
        assert isinstance(scenario, dict) and 'kind' in scenario


def test_required_categories_are_covered_by_hidden_cases():
    missing = {section: wanted - set(HIDDEN_CATEGORIES[section].values()) for section, wanted in REQUIRED.items()}
    assert not any(missing.values()), missing


def test_every_hidden_category_is_announced_by_a_public_case():
    hidden = {section: categories.values() for section, categories in HIDDEN_CATEGORIES.items()}
    assert unannounced(hidden) == []


def test_the_check_fails_when_a_hidden_category_has_no_public_case():
    hidden = {section: list(categories.values()) for section, categories in HIDDEN_CATEGORIES.items()}
    hidden['dense'].append('a category nobody announced')
    assert unannounced(hidden) == [('dense', 'a category nobody announced')]
    table = {section: dict(rows) for section, rows in ANNOUNCED.items()}
    table['crossentropy']['soft labels'] = []
    assert ('crossentropy', 'soft labels') in unannounced(hidden, table)


def test_announced_table_names_only_hidden_categories():
    stale = {section: set(table) - set(HIDDEN_CATEGORIES[section].values()) for section, table in ANNOUNCED.items()}
    assert set(ANNOUNCED) <= set(SECTIONS)
    assert not any(stale.values()), stale


def test_announcing_cases_are_registered_in_their_section():
    missing = [(section, name) for section, name in ANNOUNCING if name not in public_names(section)]
    assert not missing, missing


def test_flatten_cases_are_four_dimensional():
    """KIT-SPEC: Flatten is documented for (n, d, h, w) inputs; a non-square image and a batch of one are in."""
    shapes = [step['inputs'].shape for _, scenario in scenarios.scenarios('flatten') for step in scenario['steps']]
    assert all(len(shape) == 4 for shape in shapes), shapes
    assert any(shape[0] == 1 for shape in shapes) and any(shape[2] != shape[3] for shape in shapes)


@pytest.mark.parametrize('section, name', ANNOUNCING, ids=[f"{s}-{n}" for s, n in ANNOUNCING])
def test_announcing_case_passes_on_reference_and_fails_on_template(reference, template, section, name):
    function = public_case(section, name)
    result = run_case(function, reference)
    assert result.passed, result.message
    result = run_case(function, template)
    assert not result.passed and result.message.startswith('NotImplementedError'), result.message


@pytest.fixture(scope='module')
def accumulating(tmp_path_factory):
    """{section: the reference with that section's parameter gradient accumulated (+=) over steps}."""
    source, folder, mutants = (KIT_ROOT / 'solution.py').read_text(), tmp_path_factory.mktemp('accumulating'), {}
    for section, (old, new) in ACCUMULATING.items():
        assert source.count(old) == 1, old
        path = folder / f'{section}_solution.py'
        path.write_text(source.replace(old, new))
        mutants[section] = load_solution(path, f'accumulating_{section}_solution')
    return mutants


@pytest.mark.parametrize('section', ACCUMULATING)
def test_public_two_step_case_catches_accumulated_gradients(accumulating, section):
    mutant = accumulating[section]
    two_step = ANNOUNCED[section]['multi-step layer gradients']
    for name in public_names(section):
        result = run_case(public_case(section, name), mutant)
        assert result.passed == (name not in two_step), (name, result.message)


def hidden_mismatches(reference, submission, section):
    """{case name: first differing output (or failure)} of ``section``'s hidden cases, run in-process."""
    mismatches = {}
    with interface.use_fast_convolve(section in scenarios.FAST_CONVOLVE):
        for name, scenario in scenarios.scenarios(section):
            expected, failure = run_scenario(reference, scenario)
            assert failure is None, failure
            actual, failure = run_scenario(submission, scenario)
            problems = [failure] if failure else []
            problems += [compare_output(output, actual[output].array if output in actual else None, value.array)
                         for output, value in expected.items()]
            problems = [problem for problem in problems if problem]
            if problems:
                mismatches[name] = problems[0]
    return mismatches


@pytest.mark.parametrize('section', ACCUMULATING)
def test_hidden_cases_catch_accumulated_gradients(reference, accumulating, section):
    """Every hidden case of the section repeats each backward (the contract: gradients of the last backward
    alone), so accumulation fails all of them, with that reason; the two-step case shows it by values too."""
    mismatches = hidden_mismatches(reference, accumulating[section], section)
    assert set(mismatches) == set(HIDDEN_CATEGORIES[section]), mismatches
    assert all('not accumulated' in problem for problem in mismatches.values()), mismatches


def test_hidden_cases_run_on_the_reference(reference):
    for section in SECTIONS:
        with interface.use_fast_convolve(section in scenarios.FAST_CONVOLVE):
            for name, scenario in scenarios.scenarios(section):
                outputs, failure = run_scenario(reference, scenario)
                assert failure is None, (section, name, failure)
                assert all(np.all(np.isfinite(output.array)) for output in outputs.values()), (section, name)


def test_every_catalogue_mutant_still_fails_a_hidden_case_of_its_section(reference, tmp_path):
    """A quick in-process guard for edits of the hidden cases (test_grader runs the same through the sandbox)."""
    from tests.support.mutants import MUTANTS, apply
    source, missed = (KIT_ROOT / 'solution.py').read_text(), []
    for index, mutant in enumerate(MUTANTS):
        path = tmp_path / f'mutant_{index}.py'
        path.write_text(apply(source, mutant))
        if not hidden_mismatches(reference, load_solution(path, f'catalogue_mutant_{index}'), mutant.section):
            missed.append(f"{mutant.section}: {mutant.mistake}")
    assert not missed, missed
