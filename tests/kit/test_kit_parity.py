"""A released kit gives the checker's verdict, section by section, for student-style files.

Each assignment's kit is released and used as its README says; a set of student-style files is graded
both ways: by the kit (``./run.py unittest``'s own functions, run from the released kit's folder, one
process for all the files) and by the checker (``grader.grade.Grader``, sandboxed).  Every unit
section of every file must get the same verdict: passed, wrong answer, runtime error, time limit or
policy violation.  The files: a correct one; Python loops over data (written here and from the
corpora); banned imports; an endless loop; and every catalogued mistake (assignments/numpy_nn/mistakes.toml and
tests/support/mutants.py for the first assignment, tests/support/mutants_autoencoder.py for the second), one mistake
per section in a file.
"""
import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest

import assignments
from grader.grade import Grader
from grader.limits import LIMITS
from tests.conftest import NUMPY_NN_CATALOGUE as CATALOGUE
from grader.mistakes import load_mistakes
from instructor.release import write_release
from tests.support import mutants, mutants_autoencoder
from tests.conftest import DATA_DIR, KIT_ROOT

pytestmark = pytest.mark.kit  # markers: pyproject.toml

DRIVER = textwrap.dedent('''
    """Grade files with the released kit's ./run.py unittest functions; print {file: {section: verdict}}."""
    import contextlib, io, json, os, sys
    sys.path.insert(0, os.getcwd())
    import assignments
    from public_tests import runner
    try:
        import public_tests.feedback
        public_tests.feedback.print_feedback = lambda *args, **kwargs: None  # teaching aids: not part of a verdict
    except ImportError:  # the second assignment's kit has none
        pass
    assignment, results = assignments.get(), {}
    for path, names in json.load(open(sys.argv[1])):
        with contextlib.redirect_stdout(io.StringIO()):
            prepared = runner.prepare(path, assignment)
            results[path] = {name: runner.run_unit_section(name, prepared, assignment.name)[1] for name in names}
            if prepared.workdir is not None:
                prepared.workdir.cleanup()
    print(json.dumps(results))
''')
KIT_SECONDS = 5       # each case's limit in the kit for the endless loop (the others: the kit's own limit)
CHECKER_SECONDS = 10  # the checker's limit for the endless loop's one section


def mistake_files(folder, reference, catalogue):
    """Files of the reference with one catalogued mistake per section each: [(path, label)]."""
    pending, files = list(catalogue), []
    while pending:
        source, used, left = reference, set(), []
        for name, section, edits in pending:
            try:
                changed = source
                for old, new in edits:
                    if old not in changed:  # (each edit replaces the first occurrence, as tests/support/mutants.py does)
                        raise ValueError(old)
                    changed = changed.replace(old, new, 1)
            except ValueError:
                left.append((name, section, edits))
                continue
            if section in used:
                left.append((name, section, edits))
                continue
            source, used = changed, used | {section}
            files.append((name, section))
        if not used:
            raise AssertionError(f"no catalogued mistake applies: {left[:3]}")
        path = folder / f"mistakes_{len(list(folder.glob('mistakes_*')))}.py"
        path.write_text(source)
        files[-len(used):] = [(path, name) for name, _ in files[-len(used):]]
        pending = left
    return files


def edited(source, old, new):
    assert source.count(old) == 1, old
    return source.replace(old, new)


def kit_verdicts(kit, jobs, seconds=None):
    (kit / 'jobs.json').write_text(json.dumps([[str(path), names] for path, names in jobs]))
    (kit / 'parity_driver.py').write_text(DRIVER)
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(kit), **({'NN_KIT_CASE_SECONDS': str(seconds)} if seconds else {})}
    result = subprocess.run([sys.executable, 'parity_driver.py', 'jobs.json'], cwd=kit, capture_output=True,
                            text=True, timeout=1800, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def checker_verdicts(assignment, jobs, limits=LIMITS):
    grader = Grader(data_dir=DATA_DIR, assignment=assignment, limits=limits)
    grader.diagnoser = None  # the likely mistake and the smallest case: teaching, not the verdict
    return {str(path): {section.name: section.verdict for section in grader.grade(path, names).sections}
            for path, names in jobs}


def compare(kit, checker, labels):
    differences = [f"{labels.get(path, path)} / {name}: kit {kit[path][name]!r}, checker {verdict!r}"
                   for path, verdicts in checker.items() for name, verdict in verdicts.items()
                   if kit[path][name] != verdict]
    assert not differences, '\n'.join(differences)


def numpy_nn_files(folder):
    """[(path, sections, label)] of the first assignment's student-style files."""
    reference = (KIT_ROOT / 'solution.py').read_text()
    units = [section.name for section in assignments.get('numpy-nn').unit_sections]
    files = [(KIT_ROOT / 'solution.py', units, 'the reference (correct)')]
    banned = folder / 'torch_relu.py'
    banned.write_text(edited(reference, "        return np.maximum(inputs, 0)\n",
                             "        import torch\n        return torch.relu(torch.from_numpy(np.array(inputs))).numpy()\n"))
    files.append((banned, ['relu', 'softmax'], 'import torch in ReLU.forward_impl'))
    loop = folder / 'dense_loop.py'
    loop.write_text(edited(reference, "        return inputs @ self.weights.T + self.biases\n",
                           "        return np.stack([row @ self.weights.T + self.biases for row in inputs])\n"))
    files.append((loop, ['dense', 'relu'], 'a loop over the batch in Dense.forward_impl'))
    for name in ('lena_four_loops.py', 'kostya_softmax_loop.py', 'misha_row_helper.py'):  # loops, scipy
        files.append((KIT_ROOT / 'tests' / 'corpora' / 'numpy_nn' / name, units, f"corpus {name}"))
    catalogue = [(m.name, m.section, m.edits) for m in load_mistakes(CATALOGUE)]
    catalogue += [(f"mutant: {m.mistake}", m.section, m.edits) for m in mutants.MUTANTS]
    by_file = {}
    for path, label in mistake_files(folder, reference, catalogue):
        by_file.setdefault(path, []).append(label)
    files += [(path, units, 'mistakes: ' + '; '.join(labels)) for path, labels in by_file.items()]
    return files


def autoencoder_files(folder):
    assignment = assignments.get('autoencoder')
    reference = assignment.reference_path.read_text()
    units = [section.name for section in assignment.unit_sections]
    files = [(assignment.reference_path, units, 'the reference (correct)')]
    loop = folder / 'fclayer_loop.py'
    loop.write_text(edited(reference, "        self.u = self.weights @ self.extend(inputs)\n",
                           "        extended = self.extend(inputs)\n        self.u = np.stack([self.weights @ "
                           "extended[:, j] for j in range(extended.shape[1])], axis=1)\n"))
    files.append((loop, ['fclayer', 'rp'], 'a loop over the objects in FCLayer.forward'))
    for name in ('kolya_loops.py', 'galya_scipy.py'):  # loops; import scipy
        files.append((KIT_ROOT / 'tests' / 'corpora' / 'autoencoder' / name, units, f"corpus {name}"))
    catalogue = [(f"mutant: {m.mistake}", m.section, m.edits) for m in mutants_autoencoder.MUTANTS]
    by_file = {}
    for path, label in mistake_files(folder, reference, catalogue):
        by_file.setdefault(path, []).append(label)
    files += [(path, units, 'mistakes: ' + '; '.join(labels)) for path, labels in by_file.items()]
    return files


@pytest.mark.parametrize('assignment', ['numpy-nn', 'autoencoder'])
def test_the_kit_and_the_checker_give_the_same_verdicts(assignment, tmp_path):
    kit = tmp_path / 'kit'
    write_release(KIT_ROOT, kit, assignment)
    folder = tmp_path / 'files'
    folder.mkdir()
    files = (numpy_nn_files if assignment == 'numpy-nn' else autoencoder_files)(folder)
    jobs, labels = [(path, names) for path, names, _ in files], {str(path): label for path, _, label in files}
    compare(kit_verdicts(kit, jobs), checker_verdicts(assignment, jobs), labels)


def test_an_endless_loop_is_a_time_limit_both_ways(tmp_path):
    kit = tmp_path / 'kit'
    write_release(KIT_ROOT, kit, 'numpy-nn')
    endless = tmp_path / 'endless.py'
    endless.write_text(edited((KIT_ROOT / 'solution.py').read_text(), "        return np.maximum(inputs, 0)\n",
                              "        while True:\n            pass\n"))
    jobs = [(endless, ['relu', 'sgd'])]
    limits = {**LIMITS, 'unit': dataclasses.replace(LIMITS['unit'], seconds=CHECKER_SECONDS)}
    kit_side, checker_side = kit_verdicts(kit, jobs, KIT_SECONDS), checker_verdicts('numpy-nn', jobs, limits)
    assert kit_side[str(endless)] == checker_side[str(endless)] == {'relu': 'time limit', 'sgd': 'passed'}
