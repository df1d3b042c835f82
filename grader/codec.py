"""Values as JSON plus named arrays (an .npz): nothing crosses the sandbox, or ships in a kit, as a pickle.

Used for the child's task and results (grader/sandbox.py, harness.py) and for the fingerprints a
kit ships (public_tests/feedback.py).
"""
import numpy as np


def pack(value, arrays, prefix, dedupe=False):
    """JSON-able ``value`` with every ndarray moved into ``arrays`` under a new key ({'$array': key});
    ``dedupe``: an array equal to one already in ``arrays`` is stored once."""
    if isinstance(value, np.ndarray):
        if dedupe:
            for existing, array in arrays.items():
                if array.dtype == value.dtype and array.shape == value.shape and np.array_equal(array, value):
                    return {'$array': existing}
        key = f"{prefix}/{len(arrays)}"
        arrays[key] = np.array(value) if dedupe else value
        return {'$array': key}
    if isinstance(value, dict):
        return {key: pack(item, arrays, prefix, dedupe) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [pack(item, arrays, prefix, dedupe) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def unpack(value, arrays):
    if isinstance(value, dict):
        if set(value) == {'$array'}:
            return np.array(arrays[value['$array']])
        return {key: unpack(item, arrays) for key, item in value.items()}
    if isinstance(value, list):
        return [unpack(item, arrays) for item in value]
    return value
