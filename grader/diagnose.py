"""Name the likely mistake behind a failing section (runs in the TRUSTED grader process).

For a failing case of a section, every catalogued mistake of that section (the reference
with the mistake applied, the assignment's mistakes.toml) runs on the same scenario.  When the
student's outputs match exactly one mistake's outputs -- every output name, within the
grading tolerance, and the same exception if one was raised -- and that mistake's outputs
differ from the reference's, the diagnosis is that mistake's hint.  Several matches or none:
no diagnosis (never guess).

``diagnose`` judges one case; ``diagnose_section`` judges all the cases the child ran (a
mistake must agree with the student on every one, passed cases included), which separates
mistakes that coincide on one case -- e.g. on a batch of one, summing the softmax backward
over the batch axis gives the same numbers as the diagonal-only Jacobian.

Only our own code runs here: the reference and its mistaken variants.  The student's
outputs come from the sandboxed child as plain arrays.
"""
import hashlib
import linecache
import sys
import types
from dataclasses import dataclass

import numpy as np

from grader.compare import compare_output
from grader.mistakes import apply, mistakes_of


@dataclass(frozen=True)
class Diagnosis:
    mistake: str   # catalogue name, e.g. 'dropout/inference-identity'
    hint: str      # the sentence for the student

    def __str__(self):
        return self.hint


def scenario_key(scenario):
    """A content hash of a scenario dict (arrays by dtype, shape and bytes)."""
    digest = hashlib.sha256()

    def feed(value):
        if isinstance(value, dict):
            digest.update(b'{')
            for key in sorted(value):
                feed(key)
                feed(value[key])
            digest.update(b'}')
        elif isinstance(value, (list, tuple)):
            digest.update(b'[')
            for item in value:
                feed(item)
            digest.update(b']')
        elif isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            digest.update(f"a{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        else:
            digest.update(f"{type(value).__name__}:{value!r};".encode())
    feed(scenario)
    return digest.hexdigest()


def failure_head(failure):
    """The first line of a failure text ('step 2: ValueError: ...'), without the solution.py lines."""
    return failure.splitlines()[0].strip() if failure else None


def same_outputs(actual, actual_failure, expected, expected_failure):
    """Whether two runs agree: the same output names, every array within the grading tolerance,
    the same exception (first line) or none.  ``actual``/``expected``: {name: ndarray}."""
    if set(actual) != set(expected) or failure_head(actual_failure) != failure_head(expected_failure):
        return False
    return all(compare_output(name, actual[name], expected[name]) is None for name in expected)


class Diagnoser:
    """Runs the catalogued mistakes of a section on hidden scenarios; modules and outputs are cached.

    ``assignment``: an ``assignments.Assignment`` with a catalogue; its ``execute`` runs the scenarios in
    the context a child runs the section in (its scenarios' FAST_CONVOLVE: the kit's torch convolution)."""

    def __init__(self, assignment, reference_source=None):
        self.assignment = assignment
        self.reference_source = reference_source or assignment.reference_path.read_text()
        self.execute = assignment.module('execute')
        self.fast_convolve = assignment.module('scenarios').FAST_CONVOLVE
        self._modules = {}
        self._runs = {}

    def mistakes_for(self, section):
        return mistakes_of(section, self.assignment.catalogue)

    def _module(self, mistake):
        """The reference (``mistake`` None) or the reference with ``mistake`` applied, as a module.

        Built in memory (no file to lose to a temp-dir cleaner), with its source in ``linecache``
        so that tracebacks show the lines; the file name ends in solution.py as the child's does."""
        name = mistake.name if mistake else 'reference'
        if name not in self._modules:
            source = apply(self.reference_source, mistake) if mistake else self.reference_source
            module = types.ModuleType('nn_mistake_' + hashlib.sha1(name.encode()).hexdigest()[:12])
            module.__file__ = f"<mistake {name}>/solution.py"
            linecache.cache[module.__file__] = (len(source), None, source.splitlines(True), module.__file__)
            sys.modules[module.__name__] = module  # dataclasses and pickling look modules up here
            with self.assignment.interface_bound():  # our own code: the reference, edited
                exec(compile(source, module.__file__, 'exec'), module.__dict__)
            self._modules[name] = module
        return self._modules[name]

    def run(self, mistake, section, scenario, key=None):
        """({output name: ndarray}, failure text or None) of the reference (``mistake`` None) or a mistake."""
        key = (mistake.name if mistake else None, key or scenario_key(scenario))
        if key not in self._runs:
            module = self._module(mistake)
            state = np.random.get_state()
            try:
                with self.execute.running({'fast_convolve': section in self.fast_convolve}), \
                        np.errstate(all='raise', under='ignore'):
                    outputs, failure = self.execute.run_scenario(module, scenario)
            finally:
                np.random.set_state(state)
            arrays = {name: output.array for name, output in outputs.items() if output.array is not None}
            self._runs[key] = (arrays, failure)
        return self._runs[key]

    def matching(self, section, scenario, actual, failure=None):
        """The mistakes of ``section`` whose outputs on ``scenario`` match ``actual`` and differ from the
        reference's (an empty list when the student's outputs match the reference's)."""
        key = scenario_key(scenario)
        if same_outputs(actual, failure, *self.run(None, section, scenario, key)):
            return []  # the student passed this case
        reference = self.run(None, section, scenario, key)
        return [mistake for mistake in self.mistakes_for(section)
                if same_outputs(actual, failure, *self.run(mistake, section, scenario, key))
                and not same_outputs(*self.run(mistake, section, scenario, key), *reference)]

    def diagnose(self, section, scenario, actual, failure=None):
        """Diagnosis | None for the student's outputs ``actual`` ({output name: ndarray}, as
        the assignment's run_scenario names them) on the hidden ``scenario`` of ``section``;
        ``failure`` is the child's failure text for the case (an exception), if any."""
        found = self.matching(section, scenario, actual, failure)
        return Diagnosis(found[0].name, found[0].hint) if len(found) == 1 else None

    def diagnose_section(self, section, cases):
        """Diagnosis | None from every case the child ran: ``cases`` is [(scenario, actual, failure)]
        in order (``actual`` {output name: ndarray}, ``failure`` the case's exception text or None).
        A mistake is named when it alone agrees with the student on every case and differs from
        the reference on at least one; a student who passed every case gets None."""
        candidates, differs, student_failed = list(self.mistakes_for(section)), set(), False
        for scenario, actual, failure in cases:
            key = scenario_key(scenario)
            reference = self.run(None, section, scenario, key)
            student_failed |= not same_outputs(actual, failure, *reference)
            candidates = [mistake for mistake in candidates
                          if same_outputs(actual, failure, *self.run(mistake, section, scenario, key))]
            differs |= {mistake.name for mistake in candidates
                        if not same_outputs(*self.run(mistake, section, scenario, key), *reference)}
            if not candidates:
                return None
        found = [mistake for mistake in candidates if mistake.name in differs]
        return Diagnosis(found[0].name, found[0].hint) if student_failed and len(found) == 1 else None


def student_cases(scenarios, results, arrays):
    """[(scenario, {output name: ndarray}, failure)] from a sandboxed child's report, for ``diagnose_section``.

    ``scenarios`` are the hidden scenarios in the order the child ran them; ``results[i]`` is the
    child's {'failure', 'problems'} for case i and ``arrays`` holds its outputs as '<i>/<output name>'
    (grader/harness.py's format).  Cases the child never reached are left out.
    """
    cases = []
    for index, scenario in enumerate(scenarios):
        result = results[index] if index < len(results) and isinstance(results[index], dict) else None
        if result is None:
            break
        prefix = f"{index}/"
        actual = {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
        cases.append((scenario, actual, result.get('failure')))
    return cases
