"""``./run.py unittest``'s two aids for a failing section: the likely mistake, and the smallest failing case.

The release ships, in public_tests/fingerprints.json (+ .npz for the arrays), small public
scenarios of every unit section (public inputs, not the checker's hidden cases) and, for every
catalogued mistake, the outputs that mistake produces on them, with its one-sentence hint.

* Diagnosis: the student's solution runs the section's public scenarios; when its outputs agree
  with exactly one mistake's on every scenario (and differ somewhere from the correct values),
  that mistake's hint is shown.  Several or none: nothing is said.
* Shrinking: the first public scenario the solution gets wrong (judged by the independent
  oracles of public_tests/oracles.py: torch and the assignment's formulas) is shrunk with
  public_tests/ladders.py, and the smallest candidate that still fails is printed in full.
"""
import json
from pathlib import Path

import numpy as np

import interface
from public_tests.framework import ATOL, RTOL
from public_tests.oracles import expected_outputs
from public_tests.ladders import format_case, ladder

from public_tests.checks import use_checker_modules

use_checker_modules()  # the student kit: the checker's modules are its copies (grader.kit_runner, grader.codec)
from assignments.numpy_nn.execute import run_scenario  # noqa: E402
from grader.codec import unpack  # noqa: E402

FINGERPRINTS = Path(__file__).with_name('fingerprints.json')


def load_fingerprints(path=FINGERPRINTS):
    """{section: {'fast_convolve', 'scenarios': [scenario], 'mistakes': [{'name', 'hint', 'runs'}]}}, or None."""
    if path.exists():
        with np.load(path.with_suffix('.npz'), allow_pickle=False) as arrays:
            return unpack(json.loads(path.read_text()), dict(arrays))
    try:  # the instructor's kit: computed from the catalogue (assignments/numpy_nn/fingerprints.py)
        from assignments.numpy_nn.fingerprints import fingerprints_in_memory
    except ImportError:
        return None
    return fingerprints_in_memory()


# ------------------------------------------------------------------ comparing runs
def failure_head(failure):
    return failure.splitlines()[0].strip() if failure else None


def array_agrees(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    return (actual.shape == expected.shape and np.isfinite(actual).all()
            and np.allclose(actual.astype(np.float64), expected, rtol=RTOL, atol=ATOL))


def runs_agree(actual, actual_failure, expected, expected_failure):
    """The same output names, every array close (the course's tolerances), the same exception or none."""
    return (set(actual) == set(expected) and failure_head(actual_failure) == failure_head(expected_failure)
            and all(array_agrees(actual[name], expected[name]) for name in expected))


def run_student(solution, scenario, fast_convolve):
    """({output name: ndarray}, failure text or None) of the student's solution on one scenario."""
    state = np.random.get_state()
    try:
        with interface.use_fast_convolve(fast_convolve):
            outputs, failure = run_scenario(solution, scenario)
    finally:
        np.random.set_state(state)
    return {name: output.array for name, output in outputs.items() if output.array is not None}, failure


def fails(solution, scenario, fast_convolve):
    """(student's outputs, failure, expected outputs) when the solution gets ``scenario`` wrong, else None."""
    actual, failure = run_student(solution, scenario, fast_convolve)
    expected = expected_outputs(scenario)
    return None if runs_agree(actual, failure, expected, None) else (actual, failure, expected)


# ------------------------------------------------------------------- the two aids
def diagnose(entry, student_runs, student_failed):
    """The hint of the one mistake whose runs agree with the student's on every public scenario."""
    if not student_failed:
        return None
    found = [mistake for mistake in entry['mistakes']
             if all(runs_agree(actual, failure, run['outputs'], run['failure'])
                    for (actual, failure), run in zip(student_runs, mistake['runs']))]
    return found[0]['hint'] if len(found) == 1 else None


def smallest_failure(section, solution, scenarios, fast_convolve):
    """format_case text of the smallest failing candidate of the first failing scenario, or None."""
    for scenario in scenarios:
        failed = fails(solution, scenario, fast_convolve)
        if failed is None:
            continue
        for _, candidate in ladder(section, scenario):
            smaller = fails(solution, candidate, fast_convolve)
            if smaller is not None:
                scenario, failed = candidate, smaller
                break
        actual, failure, expected = failed
        return format_case(scenario, expected, actual, failure)
    return None


def feedback_lines(section, solution):
    """Lines to print under a failing section: the likely mistake, then the smallest failing case."""
    data = load_fingerprints()
    entry = (data or {}).get(section)
    if not entry:
        return []
    fast = entry['fast_convolve']
    student_runs = [run_student(solution, scenario, fast) for scenario in entry['scenarios']]
    if any(failure and 'NotImplementedError' in failure for _, failure in student_runs):
        return []  # not written yet: the case list already says so
    student_failed = any(not runs_agree(actual, failure, expected_outputs(scenario), None)
                         for scenario, (actual, failure) in zip(entry['scenarios'], student_runs))
    lines = []
    hint = diagnose(entry, student_runs, student_failed)
    if hint:
        lines.append(f"Likely mistake: {hint}")
    case = smallest_failure(section, solution, entry['scenarios'], fast)
    if case:
        lines += ["Smallest failing case found:"] + ['  ' + line for line in case.splitlines()]
    return lines


def print_feedback(section, solution, indent='  '):
    """Print ``feedback_lines``; a problem here never hides the section's verdict."""
    try:
        lines = feedback_lines(section, solution)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        lines = [f"(no further feedback: {type(error).__name__}: {str(error)[:200]})"]
    for line in lines:
        print(indent + line)
