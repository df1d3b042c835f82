"""Fingerprints of the catalogued mistakes on public scenarios, shipped with the student release.

For every unit section: public scenarios (the hidden generators run with PUBLIC_SEED, not the
checker's seed, small ones only; plus, for every mistake, the smallest ladder candidate that
shows it), and for every catalogued mistake its outputs on each of them.  The reference's own
outputs are not shipped: ``./run.py unittest`` judges correctness with the public oracles.

    write_fingerprints(folder, reference_source=None) -> folder/fingerprints.json + .npz
    build_fingerprints(reference_source=None)       -> (index, arrays) as written
    fingerprints_in_memory()     -> what public_tests.feedback.load_fingerprints returns
"""
import json
from functools import lru_cache

import numpy as np

from assignments.numpy_nn import scenarios
from grader.diagnose import Diagnoser, same_outputs, scenario_key
from assignments.numpy_nn import ASSIGNMENT
from grader.mistakes import mistakes_of
from grader.codec import pack, unpack
from public_tests.sections import UNIT_SECTIONS
from public_tests.ladders import input_size, ladder

PUBLIC_SEED = 7_000_001      # the hidden cases use assignments.numpy_nn.scenarios.SEED
MAX_PUBLIC_SIZE = 600        # numbers per public scenario (the 784-input Dense case stays hidden-only)


def differs(diagnoser, mistake, section, scenario):
    return not same_outputs(*diagnoser.run(mistake, section, scenario), *diagnoser.run(None, section, scenario))


def arrays_in(value):
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        return [array for item in value.values() for array in arrays_in(item)]
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in arrays_in(item)]
    return []


def shares_hidden_input(scenario, hidden):
    """Whether ``scenario`` holds an input array of a hidden case (generators may hold fixed arrays)."""
    return any(array.size > 1 and any(array.shape == other.shape and np.array_equal(array, other) for other in hidden)
               for array in arrays_in(scenario))


def public_scenarios(diagnoser, section):
    """Small public-seed cases, preceded by each mistake's smallest failing candidate (deduplicated).
    A public-seed case that holds any input array of a hidden case is left out."""
    hidden = [array for _, scenario in scenarios.scenarios(section) for array in arrays_in(scenario)]
    cases = [scenario for _, scenario in scenarios.scenarios(section, seed=PUBLIC_SEED)
             if not shares_hidden_input(scenario, hidden)]
    shown, keys = [], set()
    for mistake in mistakes_of(section, ASSIGNMENT.catalogue):
        first = next((scenario for scenario in cases if differs(diagnoser, mistake, section, scenario)), None)
        if first is None:
            continue
        smallest = next((candidate for _, candidate in ladder(section, first)
                         if differs(diagnoser, mistake, section, candidate)), None)
        if smallest is not None and scenario_key(smallest) not in keys:
            keys.add(scenario_key(smallest))
            shown.append(smallest)
    return sorted(shown, key=input_size) + [scenario for scenario in cases if input_size(scenario) <= MAX_PUBLIC_SIZE]


def build_fingerprints(reference_source=None):
    """(JSON-able index, {key: ndarray}) of every unit section's public scenarios and mistakes' runs."""
    diagnoser = Diagnoser(ASSIGNMENT, reference_source)
    index, arrays = {}, {}
    for section in (s.name for s in UNIT_SECTIONS):
        public = public_scenarios(diagnoser, section)
        mistakes = []
        for mistake in mistakes_of(section, ASSIGNMENT.catalogue):
            runs = []
            for scenario in public:
                outputs, failure = diagnoser.run(mistake, section, scenario)
                runs.append({'outputs': outputs, 'failure': failure.splitlines()[0] if failure else None})
            mistakes.append({'name': mistake.name, 'hint': mistake.hint, 'runs': runs})
        index[section] = pack({'fast_convolve': section in scenarios.FAST_CONVOLVE, 'scenarios': public,
                                 'mistakes': mistakes}, arrays, 'a', dedupe=True)
    return index, arrays


def write_fingerprints(folder, reference_source=None):
    """Write fingerprints.json (scenarios, names, hints, failures) and fingerprints.npz (the arrays)."""
    index, arrays = build_fingerprints(reference_source)
    (folder / 'fingerprints.json').write_text(json.dumps(index, indent=None, separators=(',', ':')))
    np.savez_compressed(folder / 'fingerprints.npz', **arrays)


@lru_cache(maxsize=1)
def fingerprints_in_memory():
    index, arrays = build_fingerprints()
    return unpack(json.loads(json.dumps(index)), arrays)
