"""Shrinking a failing hidden case: the ladder of smaller candidates and the printout of one.

The code lives in ``public_tests/shrinking.py`` because ``./run.py unittest`` ships it to students
too (it holds no reference code and no hidden case); the grader uses it from here:

    ladder(section, scenario) -> [(description, smaller scenario)], smallest first
    format_case(scenario, expected, actual, failure=None, compare=None) -> str
    input_size(scenario) -> int
    smallest_failing(candidates, student_runs, expected_runs) -> index or None
"""
from public_tests.shrinking import format_case, input_size, ladder  # noqa: F401


def smallest_failing(candidates, student_runs, expected_runs):
    """Index of the first (= smallest) candidate the student gets wrong, or None.

    ``candidates`` is ``ladder(section, scenario)``; ``student_runs[i]`` and ``expected_runs[i]`` are
    ({output name: ndarray}, failure text or None) of candidate i from the child and from the reference.
    """
    from grader.diagnose import same_outputs
    for index, (student, expected) in enumerate(zip(student_runs, expected_runs)):
        if not same_outputs(*student, *expected):
            return index
    return None
