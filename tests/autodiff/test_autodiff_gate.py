"""The autodiff assignment's gate through the checker's real path: the MNIST softmax classifier
trained in the sandbox with the student's functions, judged in the grader's process on the test
labels it keeps. A few seconds each (gates.py: the reference trains in about 3 s), so the suite
keeps one gate run end to end while the long ones are the benchmark's (`-m gate`).
"""
import assignments
from grader.grade import Grader
from grader.mistakes import apply, by_name
from tests.conftest import DATA_DIR

AUTODIFF = assignments.get('autodiff')
GATE = AUTODIFF.gates['classifier']


def grade_gate(source, tmp_path):
    path = tmp_path / 'solution.py'
    path.write_text(source)
    grader = Grader(data_dir=DATA_DIR, assignment=AUTODIFF)
    return grader.grade(path, ['classifier']).sections[0]


def test_the_reference_passes_the_classifier_gate_in_the_sandbox(tmp_path):
    verdict = grade_gate(AUTODIFF.reference_path.read_text(), tmp_path)
    assert verdict.verdict == 'passed', verdict.reason
    assert f"{GATE.test_size:,} test images" in verdict.reason, verdict.reason


def test_a_dense_backward_that_averages_twice_fails_the_gate_on_accuracy(tmp_path):
    """dW and db divided by N a second time: steps 64x too short, 0.873 measured (gates.py), under 0.95."""
    mistake = by_name('dense/dW-averaged-again', AUTODIFF.catalogue)
    verdict = grade_gate(apply(AUTODIFF.reference_path.read_text(), mistake), tmp_path)
    assert verdict.verdict == 'wrong answer', verdict.reason
    accuracy = float(verdict.reason.split('test accuracy ', 1)[1].split()[0])
    assert 0.8 < accuracy < GATE.min_accuracy, verdict.reason  # it learns, too slowly
