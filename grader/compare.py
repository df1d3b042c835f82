"""Trusted comparison of a submission's outputs with the reference's (in the grader's process)."""
import numpy as np

from public_tests.framework import ATOL, RTOL, errors


def compare_output(name, actual, expected):
    """None when ``actual`` matches ``expected``; else why not (type, dtype kind, shape, values)."""
    if type(actual) is not np.ndarray:
        return f"{name}: no array came back"
    if actual.dtype.kind not in 'fiu' or (expected.dtype.kind == 'f' and actual.dtype.kind != 'f'):
        wanted = 'floating point' if expected.dtype.kind == 'f' else str(expected.dtype)
        return f"{name}: dtype {actual.dtype}, expected {wanted}"
    if actual.shape != expected.shape:
        return f"{name}: shape {actual.shape}, expected {expected.shape}"
    actual, expected = actual.astype(np.float64), expected.astype(np.float64)
    finite = np.isfinite(actual)
    if not finite.all():
        return f"{name}: {np.size(actual) - np.count_nonzero(finite)} NaN or infinite values (shape {actual.shape})"
    if np.allclose(actual, expected, rtol=RTOL, atol=ATOL):
        return None
    max_abs, max_rel = errors(actual, expected)
    return (f"{name}: values differ (shape {actual.shape}; max abs error {max_abs:.3g}, "
            f"max rel error {max_rel:.3g}; rtol {RTOL:g}, atol {ATOL:g})")


def compare_case(case_result, actual_arrays, expected_outputs, index):
    """None when case ``index`` passed, else the first reason it did not.

    ``case_result`` is the child's report ({'failure', 'problems'}); ``actual_arrays``
    holds its arrays as '<index>/<output>'; ``expected_outputs`` are the reference's.
    """
    problems = case_result.get('problems') or {}
    for name, expected in expected_outputs.items():
        if name in problems:
            return str(problems[name])[:500]
        key = f"{index}/{name}"
        if key not in actual_arrays:
            return case_result.get('failure') or f"{name}: missing"
        mismatch = compare_output(name, actual_arrays[key], expected.array)
        if mismatch:
            return mismatch
    return case_result.get('failure')
