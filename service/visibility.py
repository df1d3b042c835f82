"""What a student sees of a section's result, and what an instructor sees.

The checker grades on hidden cases (the assignment's scenarios module); the public cases are in the
student's kit (``./run.py unittest SECTION``) and run on the student's machine, with their inputs.
A failing section's report names the first hidden case that failed ("case 'inputs (7, 3, 4, 5) with
zeros': ..."), which describes the case's input.  A student sees it as

    hidden case 2 of 4 failed: inputs with exact zeros
    step0.outputs: values differ (...)

(its number in the section's cases, their count and its kind of check), and more or less than that as
the course's level says (``service.course.VISIBILITY_LEVELS``: verdict < case < diagnosis < input), one
level before the deadline and one after it.  The pages and the API are built from the same ``Shown``,
so what a level withholds is in neither.  The server's own paths are taken out of every text.

``result_detail`` keeps the parts of a report apart when a result is recorded (``Result.detail``);
results recorded before that are split from their reason text.
"""
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from service.course import VISIBILITY_LEVELS

CASE_MENTION = re.compile(r"case '((?:[^'\\]|\\.)*?)': ")
SERVER_PATH = re.compile(r"(?<![\w.:/])(?:~|/)[\w.+@-]*(?:/[\w.+@-]+)+/?")  # /root/.cache/..., ~/.cache/...
LIKELY_MISTAKE, SMALLEST = 'likely mistake: ', 'smallest failing input:\n'
LEVELS = list(VISIBILITY_LEVELS)
WITHHELD_ITEMS = {'case': 'which hidden case failed', 'diagnosis': 'the likely mistake',
                  'input': "the failed case's input"}


def redact(text: str) -> str:
    """A text as a student may read it: "case 'lr=0.1, ...': values differ" -> "a hidden case: values differ";
    the server's own paths (its data folders, the sandbox) are taken out."""
    return SERVER_PATH.sub('<server path>', CASE_MENTION.sub('a hidden case: ', text))


def at_least(level: str, wanted: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(wanted)


# -- the hidden cases of a section ---------------------------------------------------------------------
@lru_cache(maxsize=None)
def hidden_cases(assignment: Optional[str], section: str) -> tuple:
    """((case name, kind of check), ...) of the section's hidden cases in the order the grader runs them;
    () where the assignment's scenarios module does not list them (gates, an unknown section)."""
    import assignments
    try:
        assignment = assignments.get(assignment)
        if assignment.by_name[section].is_gate:
            return ()
        scenarios = assignment.module('scenarios')
        kinds = scenarios.categories(section)  # {case name: what the case is about}
        return tuple((name, kinds.get(name) or 'a hidden case') for name, _ in scenarios.scenarios(section))
    except Exception:  # noqa: BLE001 - no numbering then: the case is still told apart as hidden
        return ()


def locate(assignment: Optional[str], section: str, text: str):
    """(start, end, case) of the first hidden case the text names ("case 'NAME': "), or None; ``case`` is
    {'name', 'number', 'count', 'kind'} (number, count and kind None when the case is not one of the
    section's hidden cases as the kit lists them now)."""
    cases = hidden_cases(assignment, section)
    found = []
    for number, (name, kind) in enumerate(cases, 1):
        at = text.find(f"case '{name}': ")
        if at >= 0:
            found.append((at, at + len(f"case '{name}': "),
                          {'name': name, 'number': number, 'count': len(cases), 'kind': kind}))
    if found:
        return min(found, key=lambda item: item[0])
    match = CASE_MENTION.search(text)
    if match:
        return match.start(), match.end(), {'name': match.group(1), 'number': None, 'count': None, 'kind': None}
    return None


# -- the parts of a report -----------------------------------------------------------------------------
def split_reason(reason: str) -> dict:
    """The parts of a reason text (``grader.grade.judge_section`` joins the findings, then 'likely mistake: '
    and 'smallest failing input:\\n'): {'findings': [text], 'diagnosis': str, 'smallest_case': str}."""
    head, smallest = reason, ''
    at = reason.find('\n' + SMALLEST) if not reason.startswith(SMALLEST) else -1
    if reason.startswith(SMALLEST):
        head, smallest = '', reason[len(SMALLEST):]
    elif at >= 0:
        head, smallest = reason[:at], reason[at + 1 + len(SMALLEST):]
    lines = head.split('\n') if head else []
    diagnosis = ''
    if lines and lines[-1].startswith(LIKELY_MISTAKE):
        diagnosis = lines.pop()[len(LIKELY_MISTAKE):]
    findings = ['\n'.join(lines)] if lines else []
    return {'findings': findings, 'diagnosis': diagnosis, 'smallest_case': smallest}


def result_detail(assignment: Optional[str], section: str, entry: dict) -> dict:
    """What ``Result.detail`` keeps of a report's section entry (``grader.report.as_dict``)."""
    if 'findings' in entry:
        parts = {'findings': [str(text) for text in entry.get('findings') or []],
                 'diagnosis': str(entry.get('diagnosis') or ''), 'smallest_case': str(entry.get('smallest_case') or '')}
    else:
        parts = split_reason(str(entry.get('reason') or ''))
    case = next((found[2] for text in parts['findings'] if (found := locate(assignment, section, text))), None)
    return {**parts, 'case': case, 'cases': len(hidden_cases(assignment, section)) or None}


# -- what is shown -------------------------------------------------------------------------------------
@dataclass
class Shown:
    """One section's result as someone may see it now."""
    reason: str                        # everything below as one text (the API's 'reason', the CLI's)
    lines: list                        # the findings: what failed, policy, errors (each may hold newlines)
    failed_case: Optional[dict] = None  # {'number', 'count', 'kind'} (+ 'input' where shown) of the failed hidden case
    cases: Optional[int] = None        # the section's number of hidden cases, where known
    diagnosis: str = ''                # the likely mistake, where shown
    smallest_case: str = ''            # the smallest failing input, where shown
    withheld: dict = field(default_factory=dict)  # {'after_deadline': [item], 'never': [item]} not shown now

    def as_json(self) -> dict:
        return {'failed_case': self.failed_case, 'hidden_cases': self.cases, 'diagnosis': self.diagnosis or None,
                'smallest_case': self.smallest_case or None, 'withheld': self.withheld or None}


def case_lines(text: str, where, level: str) -> list:
    """A finding that names a hidden case, as a student at ``level`` sees it."""
    start, end, case = where
    prefix, rest = text[:start], text[end:]
    if level == 'verdict':
        return [prefix + 'a hidden case failed']
    if case['number'] is None:  # not one of the kit's cases as it lists them now: still hidden, not numbered
        return [prefix + 'a hidden case: ' + rest]
    return [f"{prefix}hidden case {case['number']} of {case['count']} failed: {case['kind']}", rest]


def shown(result, assignment: Optional[str], level: Optional[str], later_level: Optional[str] = None) -> Shown:
    """``result`` (a Result, or a snapshot of one: section, verdict, reason, detail) as seen at ``level``;
    ``level`` None: an instructor's view (everything, names included).  ``later_level``: what students will
    see after the deadline, while it has not passed (None: the deadline has passed, or there is none)."""
    detail = result.detail or {}
    parts = detail if 'findings' in detail else split_reason(result.reason or '')
    if 'case' in detail:
        case = detail['case']
    else:
        case = next((found[2] for text in parts['findings'] if (found := locate(assignment, result.section, text))),
                    None)
    count = detail.get('cases') if 'cases' in detail else (len(hidden_cases(assignment, result.section)) or None)
    if level is None:
        failed = {key: case[key] for key in ('number', 'count', 'kind')} | {'input': case['name']} \
            if case and case.get('number') else None
        return Shown(result.reason or '', list(parts['findings']), failed, count, parts['diagnosis'],
                     parts['smallest_case'])
    lines = []
    for text in parts['findings']:
        where = locate(assignment, result.section, text)
        lines += [redact(line) for line in (case_lines(text, where, level) if where else [text])]
    failed = None
    if case and case.get('number') and at_least(level, 'case'):
        failed = {'number': case['number'], 'count': case['count'], 'kind': case['kind']}
        if at_least(level, 'input'):
            failed['input'] = redact(case['name'])
    diagnosis = redact(parts['diagnosis']) if at_least(level, 'diagnosis') else ''
    smallest = redact(parts['smallest_case']) if at_least(level, 'input') else ''
    withheld = {}
    if case:  # a hidden case failed: say what is not shown, and whether it will be
        items = [item for item in ('case', 'diagnosis', 'input') if not at_least(level, item)
                 and (item != 'diagnosis' or parts['diagnosis'])]  # a likely mistake only where one was found
        later = [item for item in items if later_level and at_least(later_level, item)]
        withheld = {key: [WITHHELD_ITEMS[item] for item in chosen] for key, chosen in
                    (('after_deadline', later), ('never', [item for item in items if item not in later])) if chosen}
    text = lines + ([f"{LIKELY_MISTAKE}{diagnosis}"] if diagnosis else []) \
        + ([f"input of the failed hidden case: {failed['input']}"] if failed and 'input' in failed else []) \
        + ([f"{SMALLEST}{smallest}"] if smallest else [])
    return Shown('\n'.join(text), lines, failed, count, diagnosis, smallest, withheld)
