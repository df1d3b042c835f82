"""Shrinking a failing hidden case: which of an assignment's smaller candidates the student gets wrong first.

An assignment that shrinks brings a ``ladders`` module (``assignments.ROLES``):

    ladder(section, scenario) -> [(description, smaller scenario)], smallest first
    format_case(scenario, expected, actual, failure=None, compare=None) -> str
"""
from grader.diagnose import same_outputs


def smallest_failing(candidates, student_runs, expected_runs):
    """Index of the first (= smallest) candidate the student gets wrong, or None.

    ``candidates`` is ``ladder(section, scenario)``; ``student_runs[i]`` and ``expected_runs[i]`` are
    ({output name: ndarray}, failure text or None) of candidate i from the child and from the reference.
    """
    for index, (student, expected) in enumerate(zip(student_runs, expected_runs)):
        if not same_outputs(*student, *expected):
            return index
    return None
