"""What every assignment's scenario runner (``execute``) shares: outputs, and calls into student code.

Copied into the sandbox as ``kit_runner.py`` beside the assignment's runner (``kit_execute.py``),
so it imports nothing but the standard library.
"""
import traceback


class Output:
    """What one call produced: ``array`` (a plain ndarray), or ``problem`` (text)."""

    def __init__(self, array=None, problem=None):
        self.array, self.problem = array, problem


class StepFailed(Exception):
    """The student's code raised; ``message`` is the exception and its place in solution.py."""


def describe_exception(error):
    """The exception and its last three places in solution.py."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.endswith('solution.py')]
    where = ''.join(f"\n  solution.py, line {frame.lineno}, in {frame.name}: {frame.line}" for frame in frames[-3:])
    return f"{type(error).__name__}: {str(error)[:500]}{where}"


def call(function, what, *args):
    """``function(*args)``; an exception becomes StepFailed naming ``what`` and the place."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        raise StepFailed(f"{what}: {describe_exception(error)}") from None
