"""Scenarios as JSON plus named arrays (an .npz): nothing crosses the sandbox as a pickle."""
import numpy as np


def pack(value, arrays, prefix):
    """JSON-able ``value`` with every ndarray moved into ``arrays`` under a new key."""
    if isinstance(value, np.ndarray):
        key = f"{prefix}/{len(arrays)}"
        arrays[key] = value
        return {'$array': key}
    if isinstance(value, dict):
        return {key: pack(item, arrays, prefix) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [pack(item, arrays, prefix) for item in value]
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
