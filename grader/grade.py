"""Grade uploaded solution.py files: static policy, then every section in its own sandboxed child.

Verdicts: passed, wrong answer, runtime error, time limit, memory limit,
policy violation, crashed (and, for gates, skipped or data missing).  A
section scores only when every one of its cases passes.
"""
import ast
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

import assignments
from grader.compare import compare_case, compare_output
from grader.course_policy import CoursePolicy
from grader.diagnose import Diagnoser, student_cases
from grader.limits import limits_for
from grader.loops import loop_findings
from grader.static_rules import (MODULE, POLICY, WARNING, WRONG, EditChecker, Finding, check_submission,
                                 section_of_names)
from grader.sandbox import run_child
from grader.shrink import smallest_failing
from grader.splice import as_is, splice
from grader.regions import make_template

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
    findings: list = field(default_factory=list)  # [text] every problem found: policy and wrong answer together
    diagnosis: str = ''      # the likely mistake, in one sentence for the student (or nothing: never a guess)
    smallest_case: str = ''  # the smallest failing input, with the expected and the student's outputs
    assignment: str = assignments.DEFAULT

    @property
    def section(self):
        return assignments.get(self.assignment).by_name[self.name]

    @property
    def points(self):
        return self.section.points if self.verdict == 'passed' else 0.0


@dataclass
class SubmissionReport:
    submission: str
    sections: list
    isolation: list = field(default_factory=list)
    assignment: str = assignments.DEFAULT

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
    what -- did not report what was asked of it; None when its results can be judged.  (A sandbox
    that cannot start raises InfrastructureError in run_child: no verdict for the submission.)"""
    if run.status != 'finished':
        return CHILD_VERDICTS[run.status], run.detail
    failure = run.results.get('import_error') or run.results.get('error') or missing
    return (classify_failure(failure), failure) if failure else None


class Grader:
    """Grades submissions of one assignment one after another; reference outputs and gate data are
    computed once.  ``assignment``: a name (default numpy-nn) or an ``assignments.Assignment``."""

    def __init__(self, data_dir=None, unverified_ok=None, policy=None, limits=None, assignment=None):
        self.assignment = assignment = assignments.get(assignment)
        self.limits = limits_for(assignment, limits)
        self.policy = CoursePolicy(**policy) if isinstance(policy, dict) else policy or CoursePolicy()
        self.reference_source = assignment.reference_path.read_text()
        self.kit_template = make_template(self.reference_source, assignment.by_name)
        self.edit_checker = EditChecker(self.kit_template, section_of_names(self.reference_source, assignment.by_name),
                                        assignment.course_variants)
        self.reference = assignment.load(assignment.reference_path, f"grader_reference_{assignment.module_suffix}")
        self.execute, self.scenarios = assignment.module('execute'), assignment.module('scenarios')
        self.probes = assignment.module('probes') if assignment.has('probes') else None  # the loop rule's probes
        self.data_dir, self.unverified_ok = data_dir, unverified_ok
        # the mistake catalogue (diagnosis) and the shrinking ladders, where the assignment has them
        self.diagnoser = Diagnoser(assignment, self.reference_source) if assignment.catalogue else None
        self.ladders = assignment.module('ladders') if assignment.has('ladders') else None
        self._expected, self._gate_data = {}, {}
        self.workdir = tempfile.TemporaryDirectory(prefix='nn-grader-')

    @cached_property
    def gates_module(self):
        """The assignment's gates module (GATES, TRAINING_NAMES, load_gate_data, judge)."""
        return self.assignment.module('gates')

    # -- reference values ------------------------------------------------------------------
    def expected(self, section):
        """[(case name, scenario, {output: Output})] with the reference's outputs."""
        if section not in self._expected:
            cases = []
            with self.execute.running(self._task(section)):
                for name, scenario in self.scenarios.scenarios(section):
                    outputs, failure = self.execute.run_scenario(self.reference, scenario)
                    if failure:
                        raise RuntimeError(f"the reference fails hidden case {section} '{name}': {failure}")
                    cases.append((name, scenario, outputs))
            self._expected[section] = cases
        return self._expected[section]

    def gate_data(self, name):
        """(files to link into the sandbox, test labels); test images only go to the child."""
        if name not in self._gate_data:
            training, x_test, y_test = self.gates_module.load_gate_data(name, self.data_dir, self.unverified_ok)
            folder = Path(self.workdir.name) / name
            folder.mkdir()
            files = {}
            for key, array in zip((*self.gates_module.TRAINING_NAMES, 'x_test'), (*training, x_test)):
                files[f'{key}.npy'] = folder / f'{key}.npy'
                np.save(files[f'{key}.npy'], array)
                os.chmod(files[f'{key}.npy'], 0o444)
            self._gate_data[name] = (files, y_test)
        return self._gate_data[name]

    # -- one submission ----------------------------------------------------------------------
    def grade(self, path, section_names, skip_gates=False):
        path = Path(path)
        names = list(section_names)
        report = SubmissionReport(str(path), [], assignment=self.assignment.name)
        problem = self._unreadable(path)
        if problem:
            report.sections = [SectionVerdict(name, 'runtime error', problem, assignment=self.assignment.name)
                               for name in names]
            return report
        text = path.read_bytes().decode()  # parsed and known to be UTF-8 by _unreadable
        graded, probe, findings = self._graded_module(text)
        report.isolation = probe.isolation
        import_failure = self._import_failure(probe)
        source = graded.source.encode()
        for name in names:
            found = [finding for finding in findings if finding.section in (name, MODULE)]
            verdict = self._grade_section(name, source, graded, import_failure, skip_gates, found)
            verdict.reason, verdict.assignment = graded.translate(verdict.reason), self.assignment.name
            report.sections.append(judge_section(verdict, found))
        return report

    def _graded_module(self, text):
        """(the module to grade, its import probe, the static findings).  The file as the student wrote
        it, whatever the template; only a file that does not import as written, but does once its regions
        are spliced into the kit's template, is graded that way (a template broken around the regions),
        and the report says so."""
        spliced = splice(text, self.kit_template)
        markerless = spliced.markerless if spliced else ()
        probe = self._import_probe(text.encode())
        graded, kit_used = as_is(text), False
        if spliced is not None and self._import_failure(probe):
            spliced_probe = self._import_probe(spliced.source.encode())
            if not self._import_failure(spliced_probe):
                why = self._import_failure(probe)[1].splitlines()[0][:200]
                graded, probe, kit_used = spliced, spliced_probe, True
        findings = check_submission(text, self.reference_source, self.kit_template, markerless, self.policy,
                                    self.edit_checker, kit_used=kit_used)
        if kit_used:
            findings.append(Finding(MODULE, f"solution.py as written does not import ({why}): it was graded as the "
                                            f"kit's template with your regions filled in", WARNING))
            findings += [Finding(self.edit_checker.section(owner), f"line {line}: a '# your code here' region in "
                                                                     f"{owner}, where the kit has none: ignored", WARNING)
                         for owner, line in spliced.unplaced]
        return graded, probe, findings

    def _import_probe(self, source):
        return run_child(source, {'scenarios': [], 'fast_convolve': False}, self.limits['import'],
                         kit_files=self.assignment.sandbox_files())

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

    def _grade_section(self, name, source, graded, import_failure, skip_gates, findings):
        """The run's verdict; what the run found besides (loops over data) is added to ``findings``."""
        if import_failure:
            return SectionVerdict(name, *import_failure)
        if self.assignment.by_name[name].is_gate:
            return self._grade_gate(name, source, skip_gates)
        cases = self.expected(name)
        probing = {'probes': self.probes.probes(name), 'traced_lines': graded.student_lines} if self.probes else {}
        run, results, failure = self._run_cases(name, source, [scenario for _, scenario, _ in cases], 'unit',
                                                **probing)
        if failure:
            return SectionVerdict(name, *failure, run.seconds)
        findings += self._loop_findings(name, run.results, graded)
        verdict, failing = self._compare(name, cases, results, run)
        if failing is not None and self.diagnoser:
            self._teach(verdict, cases, results, run.arrays, failing, source, graded)
        return verdict

    def _task(self, name):
        """What the child needs to know to run section ``name``'s scenarios: Conv2D on the kit's torch
        convolution, torch loaded before the guard (for it, or for the assignment's oracles)."""
        fast = name in self.scenarios.FAST_CONVOLVE
        return {'fast_convolve': fast, 'torch': fast or name in getattr(self.scenarios, 'TORCH_SECTIONS', ())}

    def _run_cases(self, name, source, scenario_list, limits, **task):
        """(run, per-case results, failure or None) of a child running ``scenario_list`` of unit section
        ``name`` under ``self.limits[limits]``; ``task``: more for it."""
        run = run_child(source, {'scenarios': scenario_list, **self._task(name),
                                 'threads': self.limits[limits].threads, **task}, self.limits[limits],
                        kit_files=self.assignment.sandbox_files())
        results = run.results.get('cases')
        return run, results, child_failure(run, None if isinstance(results, list) else 'malformed results')

    def _teach(self, verdict, cases, results, arrays, failing, source, graded):
        """What a teaching assistant adds to a failing section: the catalogued mistake that alone explains
        every case (grader/diagnose.py), and the failing case shrunk in a sandboxed child of its own."""
        name = verdict.name
        diagnosis = self.diagnoser.diagnose_section(
            name, student_cases([scenario for _, scenario, _ in cases], results, arrays))
        verdict.diagnosis = diagnosis.hint if diagnosis else ''
        candidates = self.ladders.ladder(name, cases[failing][1]) if self.ladders else []
        if not candidates:
            return
        expected = [self.diagnoser.run(None, name, candidate) for _, candidate in candidates]
        run, results, failure = self._run_cases(name, source, [candidate for _, candidate in candidates], 'shrink')
        if failure:
            return  # not shrunk in time: the original case stands
        student = [(actual, failure) for _, actual, failure in
                   student_cases([candidate for _, candidate in candidates], results, run.arrays)]
        index = smallest_failing(candidates, student, expected)
        if index is not None:
            actual, failure = student[index]
            verdict.smallest_case = self.ladders.format_case(candidates[index][1], expected[index][0], actual,
                                                             graded.translate(failure) if failure else None,
                                                             compare_output)

    def _loop_findings(self, name, results, graded):
        """Findings for the student's lines that loop over data (counted by the child's tracer)."""
        severity = POLICY if self.policy.loops == 'fail' else WARNING
        return loop_findings(name, results, graded.source, self.edit_checker.sections, graded.student_line,
                             self.probes, severity)

    @staticmethod
    def _compare(name, cases, results, run):
        """(verdict, index of the first case that differs from the reference, or None) from the child's outputs."""
        for index, (case_name, _, expected) in enumerate(cases):
            case_result = results[index] if index < len(results) and isinstance(results[index], dict) else {}
            reason = compare_case(case_result, run.arrays, expected, index) if case_result else 'not run'
            if reason:
                failure = case_result.get('failure')
                verdict = classify_failure(reason) if failure and reason == failure else 'wrong answer'
                failing = index if case_result and verdict != 'memory limit' else None
                return SectionVerdict(name, verdict, f"case '{case_name}': {reason}", run.seconds), failing
        return SectionVerdict(name, 'passed', f"{len(cases)} hidden cases", run.seconds), None

    def _grade_gate(self, name, source, skip_gates):
        if skip_gates:
            return SectionVerdict(name, 'skipped', 'gates skipped (--skip-gates): no points')
        from data_loaders import DataError
        try:
            files, y_test = self.gate_data(name)
        except DataError as error:
            return SectionVerdict(name, 'data missing', str(error))
        gate = self.gates_module.GATES[name]
        task = {'gate': name, 'torch': gate.fast_convolve, 'threads': self.limits[name].threads,
                'files': [file_name[:-len('.npy')] for file_name in files],
                'training': list(self.gates_module.TRAINING_NAMES)}
        verdict = self._gate_verdict(name, source, task, files, y_test)
        if verdict.verdict in ('time limit', 'too slow'):  # a busy machine must not fail a correct student
            verdict = self._gate_verdict(name, source, task, files, y_test)
            if verdict.verdict in ('time limit', 'too slow'):
                verdict.reason += ' (confirmed by a re-run)'
        if verdict.verdict == 'too slow':
            verdict.verdict = 'wrong answer'
        return verdict

    def _gate_verdict(self, name, source, task, files, y_test):
        """One run of gate ``name``: its verdict ('too slow' where only the time limit failed).  Time is the
        CPU time the child got, where that is less than the wall time: on a loaded machine the wall time
        grows and the CPU time does not (the limits are several times the quiet reference's time)."""
        gate = self.gates_module.GATES[name]
        run = run_child(source, task, self.limits[name], linked_files=files, kit_files=self.assignment.sandbox_files())
        failure = child_failure(run, None if 'predicted' in run.arrays else 'no predictions came back')
        seconds = min(run.seconds, run.cpu_seconds) if run.cpu_seconds else run.seconds
        if failure:
            return SectionVerdict(name, *failure, seconds)
        try:
            result = self.gates_module.judge(gate, run.arrays['predicted'], y_test, seconds)
        except ValueError as error:
            return SectionVerdict(name, 'wrong answer', str(error), seconds)
        in_time = self.gates_module.judge(gate, run.arrays['predicted'], y_test, 0.0).passed
        verdict = 'passed' if result.passed else 'too slow' if in_time else 'wrong answer'
        return SectionVerdict(name, verdict, result.describe(), seconds)


def submissions_in(paths):
    """Expand folders into the .py files they hold (sorted)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.rglob('*.py')) if path.is_dir() else [path]
    return found



def judge_section(verdict, findings):
    """The section's verdict from its run and its ``findings``: a broken rule fails it as a policy
    violation, a wrong parameter shape as a wrong answer.  The reason lists every fatal finding and
    the run's own failure, so one upload shows the student everything that is wrong."""
    fatal = [finding for finding in findings if finding.fatal]
    verdict.warnings = [finding.message for finding in findings if not finding.fatal]
    messages = [finding.message for finding in fatal]
    overruled = verdict.verdict in ('passed', 'wrong answer', 'runtime error')
    severity = POLICY if any(f.severity == POLICY for f in fatal) else WRONG if fatal else None
    if severity and overruled and not (severity == WRONG and verdict.verdict == 'wrong answer'):
        if verdict.verdict != 'passed':
            messages.append(f"{verdict.verdict}: {verdict.reason}")
        verdict.verdict = severity
    else:
        messages.append(verdict.reason)
    verdict.findings = list(dict.fromkeys(message for message in messages if message))
    teaching = ([f"likely mistake: {verdict.diagnosis}"] if verdict.diagnosis else []) + \
        ([f"smallest failing input:\n{verdict.smallest_case}"] if verdict.smallest_case else [])
    verdict.reason = '\n'.join(verdict.findings + teaching)
    return verdict
