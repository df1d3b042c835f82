"""The checker judges students' autoencoder code right: tests/corpora/autoencoder gets its manifest's verdicts.

The corpus is the autoencoder assignment's student template filled in the way students fill
it (see tests/corpora/autoencoder/manifest.py for what each file is).  Checked here:

* the manifest describes every file of the corpus, and nothing else;
* ground truth, in this process and without the grader's verdict logic: every section the
  manifest calls right computes the reference's values on the hidden scenarios (the
  optimisers' include two runs on one model), and every bug gives a wrong value or raises (so
  the manifest itself cannot drift);
* the grader, through its real sandboxed path and its DEFAULT configuration, gives every unit
  section of every file the manifest's verdict, and the section's text names the problem.
  Each file is graded once, on all ten unit sections (about 20 s a file).

Where today's grader is known to be wrong, the (file, section) test is a strict xfail naming the
gap (GRADER_GAPS): it fails as soon as the grader gets it right, so that the mark is removed.
"""
import pytest

import assignments
from grader.compare import compare_output
from grader.grade import Grader
from tests.conftest import KIT_ROOT
from tests.support.corpus_support import graded_once, grader_cases, verdict_problem
from tests.corpora.autoencoder.manifest import ENTRIES, VERDICTS

AUTOENCODER = assignments.get('autoencoder')
EXECUTE, SCENARIOS = AUTOENCODER.module('execute'), AUTOENCODER.module('scenarios')
CORPUS = KIT_ROOT / 'tests' / 'corpora' / 'autoencoder'
UNIT_NAMES = [section.name for section in AUTOENCODER.unit_sections]

GRADER_GAPS = {}  # (file, section): what the grader gets wrong today (a strict xfail); none now


@pytest.fixture(scope='module')
def reference():
    return AUTOENCODER.load(AUTOENCODER.reference_path, 'corpus_autoencoder_reference')


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
def contract_cases(section):
    """[(case name, runner, scenario)]: the hidden scenarios (the optimisers' include two runs on one model)."""
    return [(name, EXECUTE.run_scenario, scenario) for name, scenario in SCENARIOS.scenarios(section)]


def first_difference(solution, reference, section):
    """None when ``solution`` computes the reference's values on every case of ``section``, else why not."""
    for name, runner, scenario in contract_cases(section):
        expected, failure = runner(reference, scenario)
        assert failure is None, f"the reference fails {section} '{name}': {failure}"
        actual, failure = runner(solution, scenario)
        for output, want in expected.items():
            got = actual.get(output)
            if got is None:
                return f"'{name}': {failure}"
            why = got.problem or compare_output(output, got.array, want.array)
            if why:
                return f"'{name}': {why}"
        if failure:
            return f"'{name}': {failure}"
    return None


@pytest.mark.parametrize('entry', ENTRIES, ids=[entry.file for entry in ENTRIES])
def test_ground_truth(entry, reference):
    """The manifest's claims, checked by running the file here against the reference (the graded module is
    the kit's template with the file's regions spliced in; the files are that template filled in, so loading
    them as they are is the same)."""
    solution = AUTOENCODER.load(CORPUS / entry.file, f"corpus_autoencoder_{entry.file[:-3]}")
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


def test_the_second_run_catches_a_state_kept_on_the_model(reference):
    """fedya_rms_self.py's RMSprop keeps its state on the model: only the hidden case that runs it twice on
    one model tells (the handout: ``state`` starts empty at every call of run_...)."""
    solution = AUTOENCODER.load(CORPUS / 'fedya_rms_self.py', 'corpus_autoencoder_fedya_twice')
    for name, scenario in SCENARIOS.scenarios('rmsprop'):
        expected, _ = EXECUTE.run_scenario(reference, scenario)
        actual, failure = EXECUTE.run_scenario(solution, scenario)
        assert failure is None
        differs = any(compare_output(output, actual[output].array, want.array) for output, want in expected.items())
        assert differs == (scenario.get('runs', 1) > 1), name


# ---------------------------------------------------------------------------------------- the grader
@pytest.fixture(scope='module')
def reports():
    return graded_once(Grader(assignment='autoencoder'), CORPUS, UNIT_NAMES)


@pytest.mark.parametrize('entry, name', grader_cases(ENTRIES, UNIT_NAMES, GRADER_GAPS))
def test_grader_gives_the_manifest_verdict(reports, entry, name):
    problem = verdict_problem(entry, reports(entry)[name])
    assert problem is None, f"{entry.file} ({entry.what})\n{problem}"
