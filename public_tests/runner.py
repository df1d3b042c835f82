"""``./run.py unittest``: load a solution.py, run sections, print a verdict per case and the points.

Every unit section is judged as the checker judges it (public_tests/checks.py): its public cases,
each under a time limit, then the checker's static policy and loop rule on the student's file.  The
last line of a section says the verdict the checker would give for what was found here:
``4 of 4 cases passed: 1 / 1 points``, ``4 of 4 cases passed, but: policy violation: 0 / 1 points``,
``2 of 4 cases passed: wrong answer: 0 / 2 points``.
"""
import ast
import os
import sys
import tempfile
import traceback
from pathlib import Path

import assignments
from public_tests import checks
from public_tests.framework import CaseResult, cases_for, run_case, run_section  # noqa: F401 - run_section: tests

KIT_ROOT = Path(__file__).resolve().parent.parent
SUMMARY = "{passed} of {total} cases passed{verdict}: {points:g} / {maximum:g} points"


def load_solution(path, module_name='solution', assignment=None):
    """Import ``path`` as the module ``module_name``, with ``assignment``'s interface (default: the kit's)."""
    if str(KIT_ROOT) not in sys.path:
        sys.path.insert(0, str(KIT_ROOT))
    return assignments.get(assignment).load(path, module_name)


def section_names(requested, assignment=None):
    """Expand 'all' (every section) and 'units' (the unit sections); reject unknown names."""
    return assignments.get(assignment).section_names(requested)


# ------------------------------------------------------------------------------------------ loading the file
def syntax_error_text(error):
    """The student's line, a caret and the message: nothing of the kit (a SyntaxError of ``ast.parse``)."""
    error.filename = 'solution.py' if not error.filename or error.filename == '<unknown>' else error.filename
    return ''.join(traceback.format_exception_only(type(error), error)).rstrip()


def shown_path(path):
    """``path`` as the student names it: relative to the current folder when it is inside it."""
    relative = os.path.relpath(Path(path).resolve())
    return str(path) if relative.startswith('..') else relative


def import_error_text(error, student_file):
    """An exception raised while importing solution.py: its frames in solution.py and the message."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve() == Path(student_file).resolve()]
    where = ''.join(traceback.format_list(frames[-3:]))
    if isinstance(error, SyntaxError):  # compile() of a file that ast.parse accepted: rare
        return syntax_error_text(error)
    return (f"Traceback (solution.py only):\n{where}" if where else '') + \
        ''.join(traceback.format_exception_only(type(error), error)).rstrip()


def exit_on_syntax_error(path):
    """Exit (status 1) with the student's line, a caret and the message when ``path`` does not parse."""
    try:
        ast.parse(Path(path).read_bytes().decode(), filename=shown_path(path))
    except SyntaxError as error:
        print(syntax_error_text(error), file=sys.stderr)
        raise SystemExit(1) from None
    except (OSError, UnicodeDecodeError):
        pass  # said by whoever reads the file next


class Prepared:
    """The loaded student module and what the checker's static rules found, or why it cannot run."""

    def __init__(self, student=None, findings=(), failure=None, verdict='runtime error', workdir=None):
        self.student, self.findings = student, list(findings)
        self.failure, self.verdict = failure, verdict  # failure: text; verdict: the checker's for every section
        self.workdir = workdir


def _load_limited(student, path, assignment, seconds):
    """(module, None) or (None, (verdict, text)): the import, under the time limit."""
    def load():
        try:
            return load_solution(path, 'solution', assignment.name), None
        except Exception as error:  # noqa: BLE001 - the student's module may raise anything at import
            verdict = 'memory limit' if isinstance(error, MemoryError) else 'runtime error'
            return None, (verdict, import_error_text(error, path))
        except SystemExit as error:
            return None, ('runtime error', f"solution.py called exit({error.code!r}) at import")
    value, stopped = checks.run_limited(load, seconds, student)
    if stopped:
        return None, ('time limit', f"while importing solution.py: {stopped.describe()}")
    return value


def prepare(path, assignment):
    """Read, check and import the student's file as the checker does (``Grader._graded_module``): as
    written; only a file that does not import as written, but does once its regions are put into the
    kit's template, runs that way (and a warning says so)."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"{path}: no such file")
    try:
        text = path.read_bytes().decode()
    except UnicodeDecodeError:
        return Prepared(failure="solution.py is not UTF-8 text")
    try:
        ast.parse(text, filename=shown_path(path))
    except SyntaxError as error:
        return Prepared(failure=syntax_error_text(error))
    rules = checks.kit_rules(assignment)
    spliced = checks.splice_into_template(text, rules)
    seconds = checks.case_seconds()
    student = checks.StudentCode(path, text)
    student.module, failure = _load_limited(student, path, assignment, seconds)
    if failure is None:
        return Prepared(student, checks.static_findings(text, rules, spliced))
    if spliced is not None and failure[0] != 'time limit':  # as the checker does: the regions in the kit's template
        workdir = tempfile.TemporaryDirectory(prefix='nn-kit-')
        graded_path = Path(workdir.name) / 'solution.py'
        graded_path.write_text(spliced.source)
        kit_student = checks.StudentCode(graded_path, text, spliced)
        kit_student.module, kit_failure = _load_limited(kit_student, graded_path, assignment, seconds)
        if kit_failure is None:
            why = failure[1].strip().splitlines()[-1][:200]
            return Prepared(kit_student, checks.static_findings(text, rules, spliced, kit_used=True, why=why),
                            workdir=workdir)
        workdir.cleanup()
    return Prepared(findings=checks.static_findings(text, rules, spliced), failure=failure[1], verdict=failure[0])


# ------------------------------------------------------------------------------------------ sections
def _print_findings(judged):
    for severity, message in judged.fatal:
        print(f"  {severity.upper()}  " + message.replace('\n', '\n        '))
    for message in judged.warnings:
        print("  WARNING  " + message.replace('\n', '\n        '))


def _summary(passed, total, verdict, section):
    points = section.points if verdict == 'passed' else 0.0
    said = '' if verdict == 'passed' else f"{', but' if total and passed == total else ''}: {verdict}"
    line = SUMMARY.format(passed=passed, total=total, verdict=said, points=points, maximum=section.points)
    print(f"  {line if total else line.split(': ', 1)[1]}\n")
    return points


def run_unit_section(name, prepared, assignment=None):
    """Run one unit section's public cases and the checker's rules; print them; (points, verdict)."""
    assignment = assignments.get(assignment)
    section = assignment.by_name[name]
    print(f"== {section.number} {section.title} ({name}) ==")
    findings = [finding for finding in prepared.findings if finding.section in (name, '*')]
    if prepared.failure is not None:
        print("  not run: solution.py cannot be imported (see above)")
        judged = checks.judge(prepared.verdict, findings)
        _print_findings(judged)
        return _summary(0, 0, judged.verdict, section), judged.verdict
    student, seconds = prepared.student, checks.case_seconds()
    results, stopped = [], None
    for function in cases_for(name, assignment.module_name('public_cases')):
        if stopped:
            result = CaseResult(function.__name__, False, "not run: an earlier case ran out of time", 'time limit')
        else:
            def run():  # in the checker's context for the section (Conv2D: the kit's torch convolution)
                with checks.section_context(assignment, name):
                    return run_case(function, student.module)
            result, stop = checks.run_limited(run, seconds, student)
            if stop:
                stopped = stop
                result = CaseResult(function.__name__, False, f"time limit: {stop.describe()}", 'time limit')
        results.append(result)
        print(f"  {'PASS' if result.passed else 'FAIL'}  {result.name}")
        if not result.passed:
            print('        ' + result.message.replace('\n', '\n        '))
    failing = [result for result in results if not result.passed]
    run_verdict = 'time limit' if stopped else failing[0].verdict if failing else 'passed'
    if failing and not stopped and assignment.has('feedback'):  # the likely mistake and the smallest failing case
        print_feedback = assignment.module('feedback').print_feedback
        checks.run_limited(lambda: print_feedback(name, student.module), seconds, student)
    if assignment.has('probes') and not stopped:  # the loop rule, run as the checker runs it
        probed, stop = checks.run_limited(lambda: checks.probe_results(assignment, student, name), seconds, student)
        if stop:
            print(f"  FAIL  the checker's loop probes: time limit: {stop.describe()}")
            run_verdict = 'time limit'
        else:
            findings += checks.loop_findings(assignment, name, probed, student, checks.kit_rules(assignment))
    judged = checks.judge(run_verdict, findings)
    _print_findings(judged)
    return _summary(len(results) - len(failing), len(results), judged.verdict, section), judged.verdict


def run_gate_section(name, solution, data_dir, unverified_ok, assignment=None, student=None):
    from data_loaders import DataError
    assignment = assignments.get(assignment)
    section = assignment.by_name[name]
    print(f"== {section.number} {section.title} ({name}) ==")
    gates = assignment.module('gates')
    try:
        seconds = gates.GATES[name].max_seconds + 60 if student is not None else None  # the checker's limit
        result, stop = checks.run_limited(lambda: gates.run_gate(name, solution, data_dir, unverified_ok), seconds,
                                          student)
    except DataError as error:
        print(f"  DATA MISSING  {error}\n  0 / {section.points:g} points\n")
        return 0.0
    if stop:
        print(f"  FAIL  time limit: {stop.describe()}\n  0 / {section.points:g} points\n")
        return 0.0
    print(f"  {'PASS' if result.passed else 'FAIL'}  {result.describe()}")
    points = section.points if result.passed else 0.0
    print(f"  {points:g} / {section.points:g} points\n")
    return points


def unittest_command(names, solution_path, data_dir=None, unverified_ok=None, assignment=None):
    """Returns the exit status: 0 when every requested section scored."""
    assignment = assignments.get(assignment)
    names = section_names(names, assignment.name)
    prepared = prepare(solution_path, assignment)
    if prepared.failure is not None:
        print(f"{prepared.failure}\n")
    scored = 0.0
    for name in names:
        if assignment.by_name[name].is_gate:
            if prepared.failure is not None:
                print(f"== {assignment.by_name[name].number} {assignment.by_name[name].title} ({name}) ==\n"
                      f"  not run: solution.py cannot be imported (see above)\n"
                      f"  0 / {assignment.by_name[name].points:g} points\n")
                continue
            points = run_gate_section(name, prepared.student.module, data_dir, unverified_ok, assignment.name,
                                      prepared.student)
        else:
            points, _ = run_unit_section(name, prepared, assignment.name)
        scored += points
    total = sum(assignment.by_name[name].points for name in names)
    if len(names) > 1:
        print(f"Total: {scored:g} / {total:g} points")
    if prepared.workdir is not None:
        prepared.workdir.cleanup()
    return 0 if scored == total else 1
