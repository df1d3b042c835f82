"""The checker's rules at home: ``./run.py unittest`` applies them to the student's own solution.py.

The checker fails a section that breaks the assignment's rules even when its values are right.
So that a student learns it before uploading, ``./run.py unittest`` runs the same rules, with the
checker's own code, and reports them as the checker does, with the line:

* the static policy (``grader.static_rules.check_submission``: imports such as ``torch`` or ``os``, the
  forbidden calls, edits of kit code outside the regions);
* the loop rule: the checker's loop probes (``grader.loops`` or the assignment's ``probes``) run
  under a line tracer, and a line of solution.py that runs more often on the bigger probe is a
  Python loop over the data (``grader.loops.loop_lines``);
* a time limit on every case (``time_limit``): an endless loop is stopped and named, with the
  case, the method and the line it was running.

The file is the student's own, so nothing runs in a sandbox here.  In the student kit the
checker's static modules are copies under ``public_tests/checker/`` (instructor/release.py), with
the kit's template and the map of its regions to sections; in the instructor's repository they
are the originals, and the template is made from the reference.
"""
import contextlib
import faulthandler
import functools
import importlib.util
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import assignments

CHECKER = Path(__file__).resolve().parent / 'checker'  # in a student kit: the checker's static modules
TEMPLATE_FILE = CHECKER / 'kit_template.txt'           # the kit's solution.py template, as released
SECTIONS_FILE = CHECKER / 'kit_sections.json'          # {definition: section} of the template's regions
# Each case gets the checker's limit for a whole unit section (grader/limits.py, 'unit'): a case
# that needs more would make the checker's run of the section run out of time as well.
CASE_SECONDS = 30.0
TIME_VARIABLE = 'NN_KIT_CASE_SECONDS'  # another limit, in seconds (0: none)

POLICY_VERDICT, WRONG_VERDICT, WARNING = 'policy violation', 'wrong answer', 'warning'


def use_checker_modules():
    """Make ``grader`` importable: the kit's copies under public_tests/checker/."""
    if importlib.util.find_spec('grader') is None and CHECKER.is_dir():
        sys.path.insert(0, str(CHECKER))


def case_seconds():
    """The time limit of one case (``$NN_KIT_CASE_SECONDS`` or CASE_SECONDS); None: no limit."""
    value = os.environ.get(TIME_VARIABLE)
    try:
        seconds = float(value) if value else CASE_SECONDS
    except ValueError:
        raise SystemExit(f"{TIME_VARIABLE}={value!r}: expected a number of seconds (0: no limit)") from None
    return seconds if seconds > 0 else None


# ------------------------------------------------------------------------------------------ time limits
class TimeLimitExceeded(BaseException):
    """A case ran out of time (a BaseException, so that ``except Exception`` in student code lets it through)."""


@dataclass
class Stopped:
    """Where the student's code was when the time ran out."""
    seconds: float
    method: str = ''   # 'ReLU.forward_impl'
    line: int = None   # in the student's solution.py
    text: str = ''     # that line

    def describe(self):
        text = f"no result after {self.seconds:g} s"
        if self.method:
            text += f": it was running {self.method}"
        if self.line:
            text += f", solution.py line {self.line}: `{self.text.strip()[:80]}`"
        elif not self.method:
            text += " (not in solution.py's code: in a call it made, or in the kit's)"
        return text + " (an endless or very slow loop?)"


def _qualified_name(frame):
    code = frame.f_code
    name = getattr(code, 'co_qualname', None)  # Python 3.11+
    if name is None:
        owner = frame.f_locals.get('self')
        name = f"{type(owner).__name__}.{code.co_name}" if owner is not None else code.co_name
    return name.replace('.<locals>', '')


class StudentCode:
    """The student's module (``module``, once loaded from ``file``), and how its line numbers map to
    the upload's (``graded``: a grader.splice.Spliced when the kit's template was used, else None)."""

    def __init__(self, file, text, graded=None, module=None):
        self.file, self.graded, self.module = os.path.realpath(file), graded, module
        self.lines = text.splitlines()  # the upload's lines

    def upload_line(self, line):
        return self.graded.student_line(line) if self.graded is not None else line

    def where(self, frame):
        """Stopped details of the innermost frame of solution.py in ``frame``'s stack."""
        while frame is not None and os.path.realpath(frame.f_code.co_filename) != self.file:
            frame = frame.f_back
        if frame is None:
            return {}
        line = self.upload_line(frame.f_lineno)
        text = self.lines[line - 1] if line and 0 < line <= len(self.lines) else ''
        return {'method': _qualified_name(frame), 'line': line, 'text': text}


@contextmanager
def time_limit(seconds, student):
    """Raise TimeLimitExceeded in the main thread after ``seconds`` (None: no limit), saying where
    the student's code was.  The alarm repeats every second, in case the code swallows it; if even
    that does not stop it (stuck inside a C call), faulthandler prints every thread's stack and
    ends the process a minute later."""
    usable = seconds and hasattr(signal, 'setitimer') and threading.current_thread() is threading.main_thread()
    if not usable:
        yield None
        return
    state = {}

    def on_alarm(signum, frame):
        if 'stopped' not in state:
            state['stopped'] = Stopped(seconds, **student.where(frame))
        raise TimeLimitExceeded(state['stopped'])

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    faulthandler.dump_traceback_later(seconds + 60, exit=True)
    try:
        yield state
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


def run_limited(function, seconds, student):
    """(value, Stopped or None): ``function()`` under ``time_limit``; ran out of time: (None, Stopped)."""
    try:
        with time_limit(seconds, student) as state:
            value = function()
    except TimeLimitExceeded as stop:
        return None, stop.args[0]
    stopped = (state or {}).get('stopped')  # the alarm fired, but the code caught it and went on
    return (None, stopped) if stopped else (value, None)


# ------------------------------------------------------------------------------------------ the static policy
@dataclass
class KitRules:
    template: str     # the kit's solution.py template
    sections: dict    # {definition (qualified): section}
    variants: str = ''  # kit code as the course's older templates wrote it (accepted too)


@functools.lru_cache(maxsize=None)
def kit_rules(assignment):
    """The kit's template and the sections of its definitions: shipped in a student kit, made from the
    reference in the instructor's repository."""
    use_checker_modules()
    if assignments.RELEASED.is_file() and TEMPLATE_FILE.is_file():
        return KitRules(TEMPLATE_FILE.read_text(), json.loads(SECTIONS_FILE.read_text()), assignment.course_variants)
    from grader.static_rules import section_of_names
    from grader.regions import make_template
    reference = assignment.reference_path.read_text()
    return KitRules(make_template(reference, assignment.by_name), section_of_names(reference, assignment.by_name),
                    assignment.course_variants)


def write_kit_rules(assignment, folder):
    """Write the template and its sections for a student kit (``instructor/release.py``)."""
    from grader.static_rules import section_of_names
    from grader.regions import make_template
    reference = assignment.reference_path.read_text()
    (folder / TEMPLATE_FILE.name).write_text(make_template(reference, assignment.by_name))
    (folder / SECTIONS_FILE.name).write_text(json.dumps(section_of_names(reference, assignment.by_name), indent=1,
                                                        sort_keys=True) + '\n')


def splice_into_template(text, rules):
    """The student's regions in the kit's template (``grader.splice``), or None."""
    use_checker_modules()
    from grader.splice import splice
    try:
        return splice(text, rules.template)
    except (SyntaxError, ValueError):
        return None


def static_findings(text, rules, spliced, kit_used=False, why=''):
    """The checker's static findings (``grader.grade.Grader._graded_module``) under the assignment's rules."""
    use_checker_modules()
    from grader.course_policy import CoursePolicy
    from grader.static_rules import MODULE, Finding, EditChecker, check_submission
    checker = EditChecker(rules.template, rules.sections, rules.variants)
    markerless = spliced.markerless if spliced else ()
    options = {'kit_used': True} if kit_used else {}
    findings = check_submission(text, None, rules.template, markerless, CoursePolicy(), checker, **options)
    if kit_used:
        findings.append(Finding(MODULE, f"solution.py as written does not import ({why}): it was graded as the "
                                        f"kit's template with your regions filled in", WARNING))
        findings += [Finding(checker.section(owner), f"line {line}: a '# your code here' region in {owner}, where "
                                                      f"the kit has none: ignored", WARNING)
                     for owner, line in spliced.unplaced]
    return findings


# ------------------------------------------------------------------------------------------ the loop rule
def count_lines(run_scenario, solution, scenario, traced):
    """{line: executions} of the ``traced`` lines of solution.py while ``scenario`` runs (a call made from
    a traced line into other code counts as an execution of that line), and whether the tracer was
    removed: ``grader.harness.count_lines``, here."""
    counts, filename = {}, solution.__file__

    def local(frame, event, arg):
        if event == 'line' and frame.f_lineno in traced:
            counts[frame.f_lineno] = counts.get(frame.f_lineno, 0) + 1
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename == filename:
            return local
        caller = frame.f_back
        if caller is not None and caller.f_code.co_filename == filename and caller.f_lineno in traced:
            counts[caller.f_lineno] = counts.get(caller.f_lineno, 0) + 1
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        run_scenario(solution, scenario)
    except Exception:  # noqa: BLE001 - the cases have reported failures already; counts still tell
        pass
    finally:
        removed = sys.gettrace() is not tracer
        sys.settrace(previous)
    return counts, removed


def _probe_runner(assignment):
    """(the module with ``running``, the function running one probe scenario) of the assignment: the probes'
    own runner where it has one (the autoencoder's: its checker-side runner holds the oracle loss), else the
    checker's scenario runner (numpy-nn: assignments/numpy_nn/execute.py)."""
    probes = assignment.module('probes')
    runner = probes if hasattr(probes, 'run_probe') else assignment.module('execute')
    return runner, getattr(runner, 'run_probe', None) or runner.run_scenario


def section_context(assignment, section):
    """The context the checker runs a section in (``grader.grade.Grader._task``): Conv2D on the kit's torch
    convolution, so that a wrong convolve_numpy costs the convolve section only, at home too."""
    if not assignment.has('probes'):
        return contextlib.nullcontext()
    use_checker_modules()
    probes = assignment.module('probes')
    return _probe_runner(assignment)[0].running({'fast_convolve': section in getattr(probes, 'FAST_CONVOLVE', ())})


def probe_results(assignment, student, section):
    """{'line_counts': {label: {line: executions}}, 'trace_removed': bool} of the section's loop probes."""
    use_checker_modules()
    probes = assignment.module('probes')
    runner, run_scenario = _probe_runner(assignment)
    source_lines = len(Path(student.file).read_text().splitlines())
    traced = frozenset(student.graded.student_lines) if student.graded is not None else \
        frozenset(range(1, source_lines + 1))
    counts, removed = {}, False
    with runner.running({'fast_convolve': section in getattr(probes, 'FAST_CONVOLVE', ())}):
        for label, scenario in probes.probes(section):
            counts[label], tampered = count_lines(run_scenario, student.module, scenario, traced)
            removed = removed or tampered
    return {'line_counts': counts, 'trace_removed': removed}


def loop_findings(assignment, section, results, student, rules):
    """The checker's findings for lines that loop over data (``grader.loops.loop_findings``)."""
    use_checker_modules()
    from grader.course_policy import CoursePolicy
    from grader.loops import loop_findings as found
    from grader.static_rules import POLICY, WARNING as WARN
    severity = POLICY if CoursePolicy().loops == 'fail' else WARN
    return found(section, results, Path(student.file).read_text(), rules.sections, student.upload_line,
                 assignment.module('probes'), severity)


# ------------------------------------------------------------------------------------------ the verdict
@dataclass
class Judged:
    verdict: str                                    # as the checker names it: 'passed', 'policy violation', ...
    fatal: list = field(default_factory=list)       # [(severity, message)] that fail the section
    warnings: list = field(default_factory=list)    # [message]


def judge(run_verdict, findings):
    """The section's verdict from the cases' verdict and the findings: ``grader.grade.judge_section``."""
    fatal = [finding for finding in findings if finding.fatal]
    warnings = list(dict.fromkeys(finding.message for finding in findings if not finding.fatal))
    severity = POLICY_VERDICT if any(f.severity == POLICY_VERDICT for f in fatal) else \
        WRONG_VERDICT if fatal else None
    overruled = run_verdict in ('passed', 'wrong answer', 'runtime error')
    verdict = run_verdict
    if severity and overruled and not (severity == WRONG_VERDICT and run_verdict == 'wrong answer'):
        verdict = severity
    return Judged(verdict, list(dict.fromkeys((f.severity, f.message) for f in fatal)), warnings)
