"""Every public case of the first assignment has teeth: it fails at least one catalogued mistake of its
section, and each catalogued mistake fails at least one public case of its section.

The catalogue is assignments/numpy_nn/mistakes.toml (applied by grader/mistakes.py) and tests/support/mutants.py: the reference
with one realistic mistake.  A public case that no mistake fails tells the student nothing the other
cases do not (``softmax_hand_computed`` checked only the forward pass, so a diagonal-only backward passed
it; ``flatten_one_channel`` never called backward); a mistake that passes every public case of its
section is one the student cannot see before uploading.
"""
import functools
import re

import pytest

from tests.conftest import NUMPY_NN_CATALOGUE as CATALOGUE
from grader.mistakes import apply as apply_mistake
from grader.mistakes import load_mistakes
from public_tests.framework import cases_for, run_case
from public_tests.runner import load_solution
from public_tests.sections import UNIT_SECTIONS
from tests.conftest import KIT_ROOT
from tests.support.mutants import MUTANTS
from tests.support.mutants import apply as apply_mutant

REFERENCE = (KIT_ROOT / 'solution.py').read_text()
SECTIONS = [section.name for section in UNIT_SECTIONS]


def catalogue(section):
    """[(name, mistaken source)] of the section's catalogued mistakes and mutants."""
    found = [(mistake.name, apply_mistake(REFERENCE, mistake)) for mistake in load_mistakes(CATALOGUE)
             if mistake.section == section]
    found += [(f"mutant: {mutant.mistake}", apply_mutant(REFERENCE, mutant)) for mutant in MUTANTS
              if mutant.section == section]
    return found


@functools.lru_cache(maxsize=None)
def failures(section, tmp_root):
    """{mistake name: {public case names it fails}} for the section's catalogue."""
    from pathlib import Path
    cases, found = cases_for(section), {}
    for index, (name, source) in enumerate(catalogue(section)):
        path = Path(tmp_root) / f"{section}_{index}" / 'solution.py'
        path.parent.mkdir(parents=True)
        path.write_text(source)
        module = load_solution(path, f"teeth_{section}_{index}_{re.sub(r'[^a-z0-9]', '_', name.lower())}")
        found[name] = {case.__name__ for case in cases if not run_case(case, module).passed}
    return found


@pytest.fixture(scope='module')
def tmp_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('mistaken'))


@pytest.mark.parametrize('section', SECTIONS)
def test_every_public_case_fails_some_catalogued_mistake(section, tmp_root):
    caught = set().union(*failures(section, tmp_root).values())
    toothless = [case.__name__ for case in cases_for(section) if case.__name__ not in caught]
    assert not toothless, f"{section}: no catalogued mistake fails {toothless}"


@pytest.mark.parametrize('section', SECTIONS)
def test_every_catalogued_mistake_fails_some_public_case(section, tmp_root):
    unseen = [name for name, failed in failures(section, tmp_root).items() if not failed]
    assert not unseen, f"{section}: the public cases all pass {unseen}"


def test_the_two_cases_of_the_report_now_have_teeth(tmp_root):
    softmax = failures('softmax', tmp_root)
    assert 'softmax_hand_computed' in softmax['softmax/diagonal-jacobian']
    flatten = failures('flatten', tmp_root)
    assert 'flatten_one_channel' in flatten['flatten/backward-not-reshaped']
