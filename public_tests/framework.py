"""A tiny test harness for ``./run.py unittest``: cases, checks and reports.

A case is a function ``case(solution_module)`` registered for a section; it
raises ``CheckFailure`` (with the shapes and the largest errors) when a check
does not hold.  ``run_section`` runs every case of a section and reports each
one, so that a student sees all failures at once.
"""
import traceback
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

RTOL, ATOL = 1e-5, 1e-10  # the course's tolerances for float64

_CASES = defaultdict(list)


def case(section):
    """Register ``function(solution)`` as a public case of ``section``."""
    def register(function):
        _CASES[section].append(function)
        return function
    return register


def cases_for(section, module='public_tests.cases'):
    """The public cases of ``section`` registered by ``module`` (a package counts its submodules), in order."""
    import importlib
    importlib.import_module(module)  # registers the cases
    return [function for function in _CASES[section]
            if function.__module__ == module or function.__module__.startswith(module + '.')]


class CheckFailure(AssertionError):
    """A failed check: what was checked, why, shapes and error figures."""

    def __init__(self, what, why, shapes=None, max_abs=None, max_rel=None):
        self.what, self.why, self.shapes = what, why, shapes
        self.max_abs, self.max_rel = max_abs, max_rel
        super().__init__(self.describe())

    def describe(self):
        text = f"{self.what}: {self.why}"
        if self.shapes:
            text += f" [shapes: {self.shapes}]"
        if self.max_abs is not None:
            text += f" [max abs error {self.max_abs:.3g}, max rel error {self.max_rel:.3g}]"
        return text


def rel_error(x, y):
    """CS231n's relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    return errors(x, y)[1]


def errors(actual, expected):
    """(largest absolute error, largest relative error) of two arrays of one shape.

    The relative error is CS231n's |a - e| / max(1e-8, |a| + |e|): at most 1, and
    meaningful where the expected value is 0.
    """
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    absolute = np.abs(actual - expected)
    relative = absolute / np.maximum(1e-8, np.abs(actual) + np.abs(expected))
    return float(absolute.max(initial=0.0)), float(relative.max(initial=0.0))


def assert_close(actual, expected, what, rtol=RTOL, atol=ATOL):
    """``actual`` must be an ndarray of ``expected``'s shape, finite where it is, and allclose."""
    expected = np.asarray(expected)
    if not isinstance(actual, np.ndarray):
        raise CheckFailure(what, f"expected a numpy array, got {type(actual).__name__}")
    if actual.shape != expected.shape:
        raise CheckFailure(what, "wrong shape", shapes=f"got {actual.shape}, expected {expected.shape}")
    if actual.dtype.kind not in 'fiub':
        raise CheckFailure(what, f"expected numbers, got dtype {actual.dtype}")
    if not np.array_equal(np.isfinite(actual), np.isfinite(expected)):
        raise CheckFailure(what, "NaN or infinite values where finite ones are expected",
                           shapes=str(actual.shape))
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        max_abs, max_rel = errors(actual, expected)
        raise CheckFailure(what, f"values differ (rtol {rtol:g}, atol {atol:g})",
                           shapes=str(actual.shape), max_abs=max_abs, max_rel=max_rel)


def assert_true(condition, what, why):
    if not condition:
        raise CheckFailure(what, why)


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str = ''
    verdict: str = 'passed'  # as the checker would call it: 'wrong answer', 'runtime error', 'time limit'


@dataclass
class SectionReport:
    section: str
    results: list = field(default_factory=list)

    @property
    def passed(self):
        return bool(self.results) and all(result.passed for result in self.results)


def _student_traceback(error):
    """The traceback lines that point into solution.py (the student's code), if any."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.endswith('solution.py')]
    return ''.join(traceback.format_list(frames[-3:]))


def run_case(function, solution):
    """The case's result; a BaseException that is not an Exception (the kit's time limit, Ctrl-C) passes."""
    np.random.seed(sum(map(ord, function.__name__)))
    try:
        function(solution)
    except CheckFailure as failure:
        return CaseResult(function.__name__, False, failure.describe(), 'wrong answer')
    except NotImplementedError as error:
        return CaseResult(function.__name__, False, f"NotImplementedError: {error}", 'runtime error')
    except Exception as error:  # the student's code raised: report it, go on
        where = _student_traceback(error)
        # the kit's own checks (a wrong shape, NaN) are a wrong answer for the checker too
        verdict = 'wrong answer' if type(error).__name__ == 'ContractError' else \
            'memory limit' if isinstance(error, MemoryError) else 'runtime error'
        return CaseResult(function.__name__, False,
                          f"{type(error).__name__}: {error}" + (f"\n{where}" if where else ''), verdict)
    return CaseResult(function.__name__, True)


def run_section(section, solution, module='public_tests.cases'):
    return SectionReport(section, [run_case(function, solution) for function in cases_for(section, module)])
