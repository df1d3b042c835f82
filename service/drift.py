"""Drift: a re-grade whose verdicts or points differ from the results it replaced.

The same bytes graded again must get the same verdicts; when they do not (a time limit changed, a
flaky gate, a new kit), the instructor must see it before the students do.  ``jobs.regrade`` keeps the
results it replaces in a ``Regrade`` row (``snapshot``); once the new results are all in, the two
are compared section by section (verdict and points).  A submission whose re-grade changed something
is flagged in the gradebook (page, CSV, ``/api/drift``) with the old and the new result side by side,
and its student keeps seeing the old result (``held``) until an instructor releases the new one.  A
re-grade that changed nothing is not flagged and its student sees the new result, which is the same.
"""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from service.models import Regrade, Submission, utcnow

OPEN_STATES = ('queued', 'running')


def snapshot(results) -> list:
    """The results a re-grade replaces, as plain data."""
    return [{'section': r.section, 'verdict': r.verdict, 'points': r.points, 'max_points': r.max_points,
             'reason': r.reason, 'seconds': r.seconds, 'warnings': list(r.warnings or []), 'detail': r.detail,
             'recorded_at': r.recorded_at.isoformat() if r.recorded_at else None}
            for r in sorted(results, key=lambda r: r.id or 0)]


class Recorded:
    """A result of a snapshot, read like a ``Result``."""

    def __init__(self, entry: dict):
        self.section, self.verdict = entry['section'], entry['verdict']
        self.points, self.max_points = entry['points'], entry['max_points']
        self.reason, self.seconds = entry.get('reason') or '', entry.get('seconds') or 0.0
        self.warnings, self.detail = entry.get('warnings') or [], entry.get('detail')


@dataclass
class SectionChange:
    name: str
    old_verdict: Optional[str]     # None: the section was not graded before (or is not now)
    old_points: Optional[float]
    new_verdict: Optional[str]
    new_points: Optional[float]
    max_points: float

    @property
    def changed(self) -> bool:
        return (self.old_verdict, self.old_points) != (self.new_verdict, self.new_points)

    def describe(self) -> str:
        def side(verdict, points):
            return 'not graded' if verdict is None else f"{verdict} {points:g}"
        return f"{self.name}: {side(self.old_verdict, self.old_points)} -> {side(self.new_verdict, self.new_points)}"


@dataclass
class Drift:
    """The last re-grade of a submission: 'regrading' (new results not all in), 'same', 'changed' (flagged
    until released) or 'released' (changed, and an instructor released the new result)."""
    submission_id: int
    student_id: str
    regraded_at: datetime
    state: str
    sections: list = field(default_factory=list)  # SectionChange of every section on either side
    released_at: Optional[datetime] = None

    @property
    def changes(self) -> list:
        return [change for change in self.sections if change.changed]

    @property
    def flagged(self) -> bool:
        return self.state == 'changed'

    @property
    def old_total(self) -> float:
        return sum(change.old_points or 0.0 for change in self.sections)

    @property
    def new_total(self) -> float:
        return sum(change.new_points or 0.0 for change in self.sections)

    @property
    def max_total(self) -> float:
        return sum(change.max_points for change in self.sections)

    def describe(self) -> str:
        """'#12: 2 -> 1 (relu: passed 1 -> time limit 0)' (the CSV's cell)."""
        return (f"#{self.submission_id}: {self.old_total:g} -> {self.new_total:g} "
                f"({'; '.join(change.describe() for change in self.changes)})")

    def as_json(self) -> dict:
        return {'submission_id': self.submission_id, 'student_id': self.student_id,
                'regraded_at': self.regraded_at.isoformat(), 'state': self.state,
                'released_at': self.released_at.isoformat() if self.released_at else None,
                'old_total': self.old_total, 'new_total': self.new_total, 'max_total': self.max_total,
                'sections': [{'name': c.name, 'changed': c.changed, 'max_points': c.max_points,
                              'old': {'verdict': c.old_verdict, 'points': c.old_points},
                              'new': {'verdict': c.new_verdict, 'points': c.new_points}} for c in self.sections]}


def latest(submission: Submission) -> Optional[Regrade]:
    """The submission's last re-grade that replaced results, if any."""
    rows = [row for row in submission.regrades if row.previous]
    return rows[-1] if rows else None


def drift_of(submission: Submission) -> Optional[Drift]:
    """How the last re-grade of the submission compares with the results it replaced (None: never re-graded)."""
    regrade = latest(submission)
    if regrade is None:
        return None
    old = {entry['section']: entry for entry in regrade.previous}
    new = {result.section: result for result in submission.results}
    changes = []
    for name in list(old) + [name for name in new if name not in old]:
        before, now = old.get(name), new.get(name)
        changes.append(SectionChange(name, before and before['verdict'], before and float(before['points']),
                                     now and now.verdict, now and float(now.points),
                                     float((now.max_points if now else before['max_points']))))
    if any(job.state in OPEN_STATES for job in submission.jobs):
        state = 'regrading'
    elif not any(change.changed for change in changes):
        state = 'same'
    else:
        state = 'released' if regrade.released_at else 'changed'
    return Drift(submission.id, submission.person.student_id, regrade.requested_at, state, changes,
                 regrade.released_at)


def held(submission: Submission) -> bool:
    """Whether the submission's student sees the result from before its last re-grade: while the re-grade
    runs, and after it when it changed a verdict or points and no instructor has released it yet."""
    regrade = latest(submission)
    if regrade is None or regrade.released_at is not None:
        return False
    return drift_of(submission).state in ('regrading', 'changed')


def record_regrade(db, submission: Submission) -> None:
    """Before ``submission``'s results are deleted for a re-grade: keep them.  While an earlier re-grade's
    new result is still held from the student, the results the student sees stay the ones to compare with."""
    regrade = latest(submission)
    if regrade is not None and regrade.released_at is None and held(submission):
        regrade.requested_at = utcnow()
        return
    if submission.results:
        db.add(Regrade(submission_id=submission.id, requested_at=utcnow(), previous=snapshot(submission.results)))


def release(db, submissions) -> list:
    """Release the new results of these submissions' flagged re-grades to their students; their ids."""
    released = []
    for submission in submissions:
        found = drift_of(submission)
        if found is not None and found.state == 'changed':
            latest(submission).released_at = utcnow()
            released.append(submission.id)
    return released
