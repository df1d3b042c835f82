"""The checker judges students' autodiff code right: tests/corpora/autodiff gets its manifest's verdicts.

The corpus is the autodiff assignment's student template filled in the way students fill it (see
tests/corpora/autodiff/manifest.py for what each file is).  Checked here:

* the manifest describes every file of the corpus, and nothing else;
* ground truth, in this process and without the grader's verdict logic: every section the manifest
  calls right computes the reference's values on the hidden scenarios, and every bug gives a wrong
  value or raises (so the manifest itself cannot drift); the bugs that only a corner of the hidden
  cases shows (ReLU'(0), an upstream gradient that is not cross-entropy's, more than one layer) are
  caught by that corner;
* the grader, through its real sandboxed path and its DEFAULT configuration, gives every unit
  section of every file the manifest's verdict, and the section's text names the problem.
  Each file is graded once, on all six unit sections (about 2 s a file, 20 s in all).

Where today's grader is known to be wrong, the (file, section) test is a strict xfail naming the
gap (GRADER_GAPS): it fails as soon as the grader gets it right, so that the mark is removed.
"""
import pytest

import assignments
from grader.compare import compare_output
from grader.grade import Grader
from tests.conftest import KIT_ROOT
from tests.support.corpus_support import graded_once, grader_cases, verdict_problem
from tests.corpora.autodiff.manifest import BY_FILE, ENTRIES, VERDICTS

AUTODIFF = assignments.get('autodiff')
EXECUTE, SCENARIOS = AUTODIFF.module('execute'), AUTODIFF.module('scenarios')
CORPUS = KIT_ROOT / 'tests' / 'corpora' / 'autodiff'
UNIT_NAMES = [section.name for section in AUTODIFF.unit_sections]

GRADER_GAPS = {}  # (file, section): what the grader gets wrong today (a strict xfail); none now


@pytest.fixture(scope='module')
def reference():
    return AUTODIFF.load(AUTODIFF.reference_path, 'corpus_autodiff_reference')


def load(entry, suffix=''):
    return AUTODIFF.load(CORPUS / entry.file, f"corpus_autodiff_{entry.file[:-3]}{suffix}")


# ---------------------------------------------------------------------------------------- the manifest
def test_manifest_describes_every_corpus_file():
    files = {path.name for path in CORPUS.glob('*.py')} - {'manifest.py', '__init__.py'}
    assert files == {entry.file for entry in ENTRIES}
    assert len(ENTRIES) >= 8
    assert [entry for entry in ENTRIES if not entry.expected], "no file is correct in every section"
    for entry in ENTRIES:
        assert set(entry.expected) <= set(UNIT_NAMES) and set(entry.expected.values()) <= set(VERDICTS), entry.file
        assert 'passed' not in entry.expected.values(), f"{entry.file}: 'passed' is the default, leave it out"
        assert set(entry.phrases) == {name for name in UNIT_NAMES if entry.verdict(name) != 'passed'}, entry.file
        assert all(entry.phrases.values()), entry.file
        assert set(entry.wrong_values) <= {name for name in entry.expected if entry.verdict(name) == 'policy violation'}
    verdicts = {verdict for entry in ENTRIES for verdict in entry.expected.values()}
    assert verdicts == {'wrong answer', 'runtime error', 'policy violation'}
    assert {file for file, _ in GRADER_GAPS} <= {entry.file for entry in ENTRIES}


# ---------------------------------------------------------------------------------------- ground truth
def case_differences(solution, reference, section):
    """{case name: why ``solution`` differs from the reference there} over the hidden scenarios of ``section``."""
    differences = {}
    for name, scenario in SCENARIOS.scenarios(section):
        expected, failure = EXECUTE.run_scenario(reference, scenario)
        assert failure is None, f"the reference fails {section} '{name}': {failure}"
        actual, failure = EXECUTE.run_scenario(solution, scenario)
        for output, want in expected.items():
            got = actual.get(output)
            why = failure if got is None else got.problem or compare_output(output, got.array, want.array)
            if why:
                differences[name] = why
                break
        else:
            if failure:
                differences[name] = failure
    return differences


def first_difference(solution, reference, section):
    """None when ``solution`` computes the reference's values on every case of ``section``, else why not."""
    differences = case_differences(solution, reference, section)
    return next((f"'{name}': {why}" for name, why in differences.items()), None)


@pytest.mark.parametrize('entry', ENTRIES, ids=[entry.file for entry in ENTRIES])
def test_ground_truth(entry, reference):
    """The manifest's claims, checked by running the file here against the reference (the graded module is
    the kit's template with the file's regions spliced in; the files are that template filled in, so loading
    them as they are is the same).  The network section runs on the kit's layers here as in the checker."""
    solution = load(entry)
    wrong = {}
    for name in UNIT_NAMES:
        difference = first_difference(solution, reference, name)
        if entry.values_wrong(name) != (difference is not None):
            wrong[name] = difference or 'all values right, though the manifest says they are not'
        elif entry.verdict(name) == 'runtime error':
            assert 'Error' in difference, f"{name}: expected an exception, got {difference}"
        elif entry.verdict(name) == 'wrong answer':
            assert 'Error:' not in difference, f"{name}: expected a wrong value, got an exception: {difference}"
    assert not wrong, wrong


@pytest.mark.parametrize('file, section, category, only_there', [
    ('galya_scipy.py', 'relu', "exact zeros (ReLU'(0) = 0)", True),              # T >= 0: wrong where T is 0 only
    ('fedya_transpose.py', 'logsoftmax', "cross-entropy's upstream gradient", False),  # the shortcut: right there
    ('lena_logreg.py', 'network', 'one layer (softmax regression)', False),      # ReLU skipped: no ReLU there
], ids=['relu-zeros', 'logsoftmax-upstream', 'network-one-layer'])
def test_the_hidden_corners_tell(reference, file, section, category, only_there):
    """Three of the bugs are invisible on most hidden cases: the corner the handout announces tells them apart.
    ``only_there``: the bug shows on the category's cases only; else it shows everywhere but there."""
    solution = load(BY_FILE[file], '_corners')
    categories = SCENARIOS.categories(section)
    assert category in categories.values()
    differing = set(case_differences(solution, reference, section))
    for name, case_category in categories.items():
        assert (name in differing) == ((case_category == category) == only_there), (name, case_category)


# ---------------------------------------------------------------------------------------- the grader
@pytest.fixture(scope='module')
def reports():
    return graded_once(Grader(assignment='autodiff'), CORPUS, UNIT_NAMES)


@pytest.mark.parametrize('entry, name', grader_cases(ENTRIES, UNIT_NAMES, GRADER_GAPS))
def test_grader_gives_the_manifest_verdict(reports, entry, name):
    problem = verdict_problem(entry, reports(entry)[name])
    assert problem is None, f"{entry.file} ({entry.what})\n{problem}"
