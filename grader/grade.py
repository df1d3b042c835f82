"""Grade uploaded solution.py files: static policy, then every section in its own sandboxed child.

Verdicts: passed, wrong answer, runtime error, time limit, memory limit,
policy violation, crashed (and, for gates, skipped or data missing).  A
section scores only when every one of its cases passes.
"""
import ast
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import interface
from grader import scenarios
from grader.compare import compare_case
from grader.execute import run_scenario
from grader.limits import LIMITS
from grader.policy import MODULE, check_submission
from grader.sandbox import KIT_ROOT, run_child
from public_tests.gates import GATES, judge, load_gate_data
from public_tests.runner import load_solution
from public_tests.sections import BY_NAME

MAX_SOURCE_BYTES = 1 << 20
CHILD_VERDICTS = {'timeout': 'time limit', 'output': 'policy violation', 'violation': 'policy violation',
                  'crashed': 'crashed'}


@dataclass
class SectionVerdict:
    name: str
    verdict: str
    reason: str = ''
    seconds: float = 0.0
    warnings: list = field(default_factory=list)

    @property
    def section(self):
        return BY_NAME[self.name]

    @property
    def points(self):
        return self.section.points if self.verdict == 'passed' else 0.0


@dataclass
class SubmissionReport:
    submission: str
    sections: list
    isolation: list = field(default_factory=list)

    @property
    def total(self):
        return sum(verdict.points for verdict in self.sections)

    @property
    def max_total(self):
        return sum(verdict.section.points for verdict in self.sections)


def classify_failure(text):
    """Verdict for a reason reported by the child."""
    if text.startswith('memory limit') or 'MemoryError:' in text:
        return 'memory limit'
    if 'ContractError:' in text:  # the kit's own check: wrong shape, NaN or inf
        return 'wrong answer'
    return 'runtime error'


def child_failure(run, missing=None):
    """(verdict, reason) when a child did not finish, reported an error, or -- ``missing`` says
    what -- did not report what was asked of it; None when its results can be judged."""
    if run.status != 'finished':
        return CHILD_VERDICTS[run.status], run.detail
    failure = run.results.get('import_error') or run.results.get('error') or missing
    return (classify_failure(failure), failure) if failure else None


class Grader:
    """Grades submissions one after another; reference outputs and gate data are computed once."""

    def __init__(self, data_dir=None, unverified_ok=None, outside_regions_fatal=True, limits=LIMITS):
        self.limits = limits
        self.reference_source = (KIT_ROOT / 'solution.py').read_text()
        self.reference = load_solution(KIT_ROOT / 'solution.py', 'grader_reference')
        self.data_dir, self.unverified_ok = data_dir, unverified_ok
        self.outside_regions_fatal = outside_regions_fatal
        self._expected, self._gate_data = {}, {}
        self.workdir = tempfile.TemporaryDirectory(prefix='nn-grader-')

    # -- reference values ------------------------------------------------------------------
    def expected(self, section):
        """[(case name, scenario, {output: Output})] with the reference's outputs."""
        if section not in self._expected:
            cases = []
            with interface.use_fast_convolve(section in scenarios.FAST_CONVOLVE):
                for name, scenario in scenarios.scenarios(section):
                    outputs, failure = run_scenario(self.reference, scenario)
                    if failure:
                        raise RuntimeError(f"the reference fails hidden case {section} '{name}': {failure}")
                    cases.append((name, scenario, outputs))
            self._expected[section] = cases
        return self._expected[section]

    def gate_data(self, name):
        """(files to link into the sandbox, test labels); test images only go to the child."""
        if name not in self._gate_data:
            training, x_test, y_test = load_gate_data(name, self.data_dir, self.unverified_ok)
            folder = Path(self.workdir.name) / name
            folder.mkdir()
            files = {}
            for key, array in zip(('x_train', 'y_train', 'x_valid', 'y_valid', 'x_test'), (*training, x_test)):
                files[f'{key}.npy'] = folder / f'{key}.npy'
                np.save(files[f'{key}.npy'], array)
                os.chmod(files[f'{key}.npy'], 0o444)
            self._gate_data[name] = (files, y_test)
        return self._gate_data[name]

    # -- one submission ----------------------------------------------------------------------
    def grade(self, path, section_names, skip_gates=False):
        path = Path(path)
        names = list(section_names)
        report = SubmissionReport(str(path), [])
        problem = self._unreadable(path)
        if problem:
            report.sections = [SectionVerdict(name, 'runtime error', problem) for name in names]
            return report
        source = path.read_bytes()  # parsed and known to be UTF-8 by _unreadable
        findings = check_submission(source.decode(), self.reference_source, self.outside_regions_fatal)
        probe = run_child(source, {'scenarios': [], 'fast_convolve': False}, self.limits['import'])
        report.isolation = probe.isolation
        import_failure = self._import_failure(probe)
        for name in names:
            own = [f for f in findings if f.section in (name, MODULE)]
            verdict = self._grade_section(name, source, import_failure, skip_gates)
            fatal = [f.message for f in own if f.fatal]
            if fatal and verdict.verdict in ('passed', 'wrong answer'):
                verdict.verdict, verdict.reason = 'policy violation', fatal[0]
            verdict.warnings = [f.message for f in own if not f.fatal]
            report.sections.append(verdict)
        return report

    @staticmethod
    def _unreadable(path):
        if not path.is_file():
            return f"{path}: no such file"
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return f"solution.py is larger than {MAX_SOURCE_BYTES:,} bytes"
        try:
            ast.parse(path.read_bytes().decode())
        except UnicodeDecodeError:
            return "solution.py is not UTF-8 text"
        except SyntaxError as error:
            return f"SyntaxError: {error.msg} (line {error.lineno})"
        except (RecursionError, MemoryError, ValueError) as error:
            return f"solution.py cannot be parsed ({type(error).__name__})"
        return None

    @staticmethod
    def _import_failure(run):
        """(verdict, reason) when the submission cannot even be imported, else None."""
        failure = child_failure(run)
        if failure and run.status != 'finished':
            return failure[0], f"while importing solution.py: {failure[1]}"
        return failure

    def _grade_section(self, name, source, import_failure, skip_gates):
        if import_failure:
            return SectionVerdict(name, *import_failure)
        if BY_NAME[name].is_gate:
            return self._grade_gate(name, source, skip_gates)
        cases = self.expected(name)
        task = {'scenarios': [scenario for _, scenario, _ in cases], 'fast_convolve': name in scenarios.FAST_CONVOLVE,
                'torch': name in scenarios.FAST_CONVOLVE, 'threads': self.limits['unit'].threads}
        run = run_child(source, task, self.limits['unit'])
        results = run.results.get('cases')
        failure = child_failure(run, None if isinstance(results, list) else 'malformed results')
        if failure:
            return SectionVerdict(name, *failure, run.seconds)
        for index, (case_name, _, expected) in enumerate(cases):
            case_result = results[index] if index < len(results) and isinstance(results[index], dict) else {}
            reason = compare_case(case_result, run.arrays, expected, index) if case_result else 'not run'
            if reason:
                failure = case_result.get('failure')
                verdict = classify_failure(reason) if failure and reason == failure else 'wrong answer'
                return SectionVerdict(name, verdict, f"case '{case_name}': {reason}", run.seconds)
        return SectionVerdict(name, 'passed', f"{len(cases)} hidden cases", run.seconds)

    def _grade_gate(self, name, source, skip_gates):
        if skip_gates:
            return SectionVerdict(name, 'skipped', 'gates skipped (--skip-gates): no points')
        from data_loaders import DataError
        try:
            files, y_test = self.gate_data(name)
        except DataError as error:
            return SectionVerdict(name, 'data missing', str(error))
        gate = GATES[name]
        task = {'gate': name, 'torch': gate.fast_convolve, 'threads': self.limits[name].threads,
                'files': [file_name[:-len('.npy')] for file_name in files]}
        run = run_child(source, task, self.limits[name], linked_files=files)
        failure = child_failure(run, None if 'predicted' in run.arrays else 'no predictions came back')
        if failure:
            return SectionVerdict(name, *failure, run.seconds)
        try:
            result = judge(gate, run.arrays['predicted'], y_test, run.seconds)
        except ValueError as error:
            return SectionVerdict(name, 'wrong answer', str(error), run.seconds)
        return SectionVerdict(name, 'passed' if result.passed else 'wrong answer', result.describe(), run.seconds)


def submissions_in(paths):
    """Expand folders into the .py files they hold (sorted)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.rglob('*.py')) if path.is_dir() else [path]
    return found

