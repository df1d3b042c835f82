"""The gradebook CSV: one row per submission, the same format for ``./run.py grade`` and the service.

Columns: ``student_id``, ``submission``, one column of points per section (named as in
``./run.py unittest``, in the assignment's order), ``total``, ``max_total`` and ``verdicts`` (``ok``
when every section passed, else the others with a short code, e.g. ``dense WA; mnist TL``).

Cells are written so that a spreadsheet cannot take them for formulas (CSV injection): text that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's
rule), e.g. a student named ``=HYPERLINK(...)``; the numbers of numeric columns stay numbers.
"""
import csv
from pathlib import Path

import assignments
from grader.private_files import open_private

SHORT_VERDICTS = {'passed': 'ok', 'wrong answer': 'WA', 'runtime error': 'RE', 'time limit': 'TL',
                  'memory limit': 'ML', 'policy violation': 'PV', 'crashed': 'CR', 'skipped': 'skipped',
                  'data missing': 'no data'}


def student_id(path, root):
    """'alice' for ROOT/alice.py, ROOT/alice/solution.py and ROOT/alice/hw2/solution.py; the file's
    stem when it is not inside ``root``."""
    path, root = Path(path), Path(root)
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return path.stem
    return parts[0] if len(parts) > 1 else path.stem


def short_verdicts(report):
    """'ok', or the sections that did not pass with short codes: 'dense WA; mnist TL'."""
    failed = [f"{s['name']} {SHORT_VERDICTS.get(s['verdict'], s['verdict'])}"
              for s in report['sections'] if s['verdict'] != 'passed']
    return '; '.join(failed) if failed else 'ok'


def gradebook_row(student, report):
    """One CSV row (a dict) from a report dict (``grader.report.as_dict``)."""
    row = {'student_id': student, 'submission': report['submission']}
    row.update({s['name']: f"{s['points']:g}" for s in report['sections']})
    row.update({'total': f"{report['total']:g}", 'max_total': f"{report['max_total']:g}",
                'verdicts': short_verdicts(report)})
    return row


FORMULA_START = ('=', '+', '-', '@', '\t', '\r')
NUMERIC_COLUMNS = ('total', 'max_total')   # with the sections' columns


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_cell(value, numeric=False):
    """``value`` as a spreadsheet will not run it: text starting like a formula gets a leading ``'``,
    except a number in a numeric column (-1.5 stays -1.5 there)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START) or (numeric and is_number(value)):
        return value
    return "'" + value


def safe_rows(rows, numeric_columns):
    """The rows (dicts) with every cell through ``safe_cell``."""
    return [{key: safe_cell(value, key in numeric_columns) for key, value in row.items()} for row in rows]


def numeric_columns(assignment=None):
    """The columns of points: one per section, total and max_total."""
    return {s.name for s in assignments.get(assignment).sections} | set(NUMERIC_COLUMNS)


def columns(rows, assignment=None):
    graded = {key for row in rows for key in row}
    return (['student_id', 'submission'] + [s.name for s in assignments.get(assignment).sections if s.name in graded]
            + ['total', 'max_total', 'verdicts'])


def write_csv(rows, path, assignment=None):
    """Write gradebook rows (dicts from ``gradebook_row``) of one assignment, sorted by student id then submission."""
    rows = sorted(rows, key=lambda row: (row['student_id'], row['submission']))
    with open_private(path, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=columns(rows, assignment), restval='')
        writer.writeheader()
        writer.writerows(safe_rows(rows, numeric_columns(assignment)))
