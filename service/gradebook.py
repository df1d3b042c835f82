"""The gradebook: a row per student (best and last total, per-section points of the best
submission, number of submissions, late flag against the deadline) and its CSV export.

The CSV starts with the columns of ``grader.gradebook_csv`` (the batch grader's format: student_id,
submission, one column per section, total, max_total, verdicts) for the best graded submission,
followed by the service's own columns (``drift``: how many of the student's submissions a re-grade
changed, not yet released to the student; ``drift_detail``: each with its old and new result, see
service.drift). Cells that a spreadsheet would take for formulas (a name
starting with ``=``, ``+``, ``-``, ``@``, ...) are escaped as ``grader.gradebook_csv.safe_cell`` says.
"""
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from grader import gradebook_csv as batch_format
from service.drift import drift_of
from service.models import Person, Regrade, Submission

EXTRA_COLUMNS = ('name', 'email', 'submissions', 'best_submitted_at', 'late', 'last_submission', 'last_total',
                 'last_submitted_at', 'drift', 'drift_detail')
EXTRA_NUMERIC = {'submissions', 'last_submission', 'last_total', 'drift'}


@dataclass
class GradedSubmission:
    id: int
    created_at: datetime
    complete: bool
    total: float
    max_total: float
    points: dict        # section -> points
    report: dict        # grader.report.as_dict-like (for the batch CSV format)


@dataclass
class StudentRow:
    student_id: str
    name: str
    email: str
    submissions: int
    late_submissions: int
    best: Optional[GradedSubmission]
    last: Optional[GradedSubmission]
    late: bool          # the best submission came after the deadline
    sections: list = field(default_factory=list)
    drift: list = field(default_factory=list)  # service.drift.Drift of submissions a re-grade changed (not released)


def graded(submission: Submission) -> GradedSubmission:
    results = {result.section: result for result in submission.results}
    wanted = {name for job in submission.jobs for name in job.sections}
    sections = [{'name': r.section, 'verdict': r.verdict, 'points': r.points, 'max_points': r.max_points}
                for r in sorted(results.values(), key=lambda r: r.id)]
    report = {'submission': str(submission.id), 'total': sum(s['points'] for s in sections),
              'max_total': sum(s['max_points'] for s in sections), 'sections': sections}
    return GradedSubmission(submission.id, submission.created_at, bool(wanted) and wanted <= set(results),
                            report['total'], report['max_total'], {s['name']: s['points'] for s in sections}, report)


def gradebook(db: Session, deadline: Optional[datetime]) -> list:
    """StudentRow for every student of the roster, sorted by student id."""
    people = db.scalars(select(Person).where(Person.role == 'student').order_by(Person.student_id).options(
        selectinload(Person.submissions).selectinload(Submission.results),
        selectinload(Person.submissions).selectinload(Submission.jobs),
        selectinload(Person.submissions).selectinload(Submission.regrades))).all()
    rows = []
    for person in people:
        graded_all = [graded(s) for s in person.submissions]
        complete = [g for g in graded_all if g.complete]
        best = max(complete, key=lambda g: (g.total, -g.id), default=None)
        late = [s for s in person.submissions if deadline and s.created_at > deadline]
        drifted = [found for s in person.submissions if (found := drift_of(s)) is not None and found.flagged]
        rows.append(StudentRow(person.student_id, person.name, person.email, len(person.submissions), len(late),
                               best, graded_all[-1] if graded_all else None,
                               bool(best and deadline and best.created_at > deadline), drift=drifted))
    return rows


def course_drift(db: Session) -> list:
    """Every submission (of students and instructors) whose last re-grade changed a verdict or points and
    was not released yet, oldest first."""
    submissions = db.scalars(select(Submission).where(Submission.id.in_(select(Regrade.submission_id)))
                             .order_by(Submission.id).options(selectinload(Submission.results), selectinload(Submission.jobs),
                                      selectinload(Submission.regrades))).all()
    return [found for s in submissions if (found := drift_of(s)) is not None and found.flagged]


def upload_times(db: Session) -> list:
    """When the students' submissions were uploaded (the instructors' own left out)."""
    return db.scalars(select(Submission.created_at).join(Person).where(Person.role == 'student')).all()


def csv_text(rows: list, assignment: Optional[str] = None) -> str:
    records = []
    for row in rows:
        record = (batch_format.gradebook_row(row.student_id, row.best.report) if row.best
                  else {'student_id': row.student_id, 'submission': ''})
        record.update({'name': row.name, 'email': row.email, 'submissions': row.submissions,
                       'best_submitted_at': row.best.created_at.isoformat() if row.best else '',
                       'late': 'yes' if row.late else '',
                       'last_submission': row.last.id if row.last else '',
                       'last_total': f"{row.last.total:g}" if row.last and row.last.complete else '',
                       'last_submitted_at': row.last.created_at.isoformat() if row.last else '',
                       'drift': len(row.drift) if row.drift else '',
                       'drift_detail': '; '.join(found.describe() for found in row.drift)})
        records.append(record)
    columns = batch_format.columns(records or [{}], assignment) + list(EXTRA_COLUMNS)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval='')
    writer.writeheader()
    writer.writerows(batch_format.safe_rows(records, batch_format.numeric_columns(assignment) | EXTRA_NUMERIC))
    return out.getvalue()
