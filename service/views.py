"""What the pages and the API show of a submission: its state, queue position and points table.

Students see the verdicts and reasons of ``./run.py grade`` as the course's visibility level allows
(service.visibility: a failed hidden case by its number, count and kind of check; its input only
where the level says), each unit section's public cases with their inputs, at every level, as what
they run at home (service.public_cases: the checker does not run them), and, while a re-grade of
theirs changed something an instructor has not yet released (service.drift), the result from before
it; instructors see everything.
"""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy.orm import Session

import assignments
from service import jobs
from service.drift import Drift, Recorded, drift_of, held as held_back, latest
from service.models import Submission, utcnow
from service.public_cases import PublicCases, public_cases
from service.visibility import Shown, redact, shown

DATA_MISSING = ("not graded yet: the checker's data for this gate is missing on the server (not a problem of your "
                "solution); the course staff will re-grade it")


@dataclass
class SectionRow:
    name: str
    number: str
    title: str
    state: str                      # queued | grading | done
    verdict: str = ''
    points: Optional[float] = None
    max_points: float = 0.0
    reason: str = ''
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    shown: Optional[Shown] = None   # the reason's parts as this reader may see them
    public: Optional[PublicCases] = None  # the section's public cases (run at home, not by the checker)


@dataclass
class SubmissionView:
    id: int
    student_id: str
    filename: str
    sha256: str
    size: int
    created_at: datetime
    late: bool
    state: str                      # queued | grading | done
    queue_position: Optional[int]
    rows: list
    isolation: list
    checker_failed: bool = False     # the grading machinery failed on it (ours): it does not count against the hour
    retry_at: Optional[datetime] = None  # while it waits to be tried again after such a failure
    level: Optional[str] = None      # what the reader sees of a failed hidden case (None: an instructor, all)
    held: bool = False               # a re-grade's new result awaits an instructor: the previous one is shown
    drift: Optional[Drift] = None  # for instructors: the last re-grade's old and new results

    @property
    def waiting_for_checker(self) -> bool:
        return self.checker_failed and self.state != 'done'

    @property
    def total(self) -> float:
        return sum(row.points or 0.0 for row in self.rows)

    @property
    def max_total(self) -> float:
        return sum(row.max_points for row in self.rows)

    @property
    def graded(self) -> int:
        return sum(row.state == 'done' for row in self.rows)

    def as_json(self) -> dict:
        return {'id': self.id, 'student_id': self.student_id, 'filename': self.filename, 'sha256': self.sha256,
                'size': self.size, 'created_at': self.created_at.isoformat(), 'late': self.late,
                'state': self.state, 'queue_position': self.queue_position, 'total': self.total,
                'max_total': self.max_total, 'isolation': self.isolation, 'checker_failed': self.checker_failed,
                'waiting_for_checker': self.waiting_for_checker,
                'retry_at': self.retry_at.isoformat() if self.retry_at else None,
                'shown': self.level or 'all', 'held': self.held,
                'drift': self.drift.as_json() if self.drift else None,
                'sections': [{'name': r.name, 'number': r.number, 'title': r.title, 'state': r.state,
                              'verdict': r.verdict, 'points': r.points, 'max_points': r.max_points,
                              'reason': r.reason, 'warnings': r.warnings, 'seconds': r.seconds,
                              **(r.shown.as_json() if r.shown else {}),
                              'public_cases': r.public.as_json() if r.public else None} for r in self.rows]}


def submission_view(db: Session, submission: Submission, deadline: Optional[datetime], for_instructor: bool,
                    assignment: Optional[str] = None, level: Optional[str] = None,
                    later_level: Optional[str] = None) -> SubmissionView:
    """The submission as an instructor (``for_instructor``) or its student sees it.  A student sees a failed
    hidden case at ``level`` (service.course.VISIBILITY_LEVELS; None: the most a student may see before
    the deadline by default); ``later_level``, while the deadline is ahead, what they will see after it.
    Settings.student_level() and Settings.show_after_deadline give both."""
    if not for_instructor and level is None:
        from service.course import SHOW_BEFORE_DEADLINE
        level = SHOW_BEFORE_DEADLINE
    results = {result.section: result for result in submission.results}
    job_of = {name: job for job in submission.jobs for name in job.sections}
    open_jobs = [job for job in submission.jobs if job.state in jobs.OPEN_STATES]
    held = not for_instructor and held_back(submission)
    if held:  # the student keeps the result from before the re-grade until an instructor releases the new one
        results, open_jobs = {entry['section']: Recorded(entry) for entry in latest(submission).previous}, []
    show = (lambda text: text) if for_instructor else redact
    rows = []
    for section in assignments.get(assignment).sections:
        result, job = results.get(section.name), job_of.get(section.name)
        if result is not None:
            parts = shown(result, assignment, None if for_instructor else level,
                          None if for_instructor or later_level == level else later_level)
            reason = DATA_MISSING if result.verdict == 'data missing' and not for_instructor else parts.reason
            rows.append(SectionRow(section.name, section.number, section.title, 'done', result.verdict, result.points,
                                   result.max_points, reason, [show(w) for w in result.warnings],
                                   result.seconds, None if result.verdict == 'data missing' and not for_instructor
                                   else parts, public_cases(assignment, section.name)))
        elif job is not None and not held:
            rows.append(SectionRow(section.name, section.number, section.title,
                                   'grading' if job.state == 'running' else 'queued', max_points=section.points,
                                   public=public_cases(assignment, section.name)))
    positions = [jobs.queue_position(db, job) for job in open_jobs if job.state == 'queued']
    running = any(job.state == 'running' for job in open_jobs)
    state = 'done' if not open_jobs else ('grading' if running or len(positions) < len(open_jobs)
                                          or any(r.state == 'done' for r in rows) else 'queued')
    isolation = next((job.isolation for job in submission.jobs if job.isolation), None) or []
    retries = [job.retry_at for job in open_jobs if job.checker_failures and job.state == 'queued' and job.retry_at]
    return SubmissionView(submission.id, submission.person.student_id, submission.filename, submission.sha256,
                          submission.size, submission.created_at,
                          bool(deadline and submission.created_at > deadline), state,
                          min(positions) if positions else None, rows, isolation,
                          any(job.checker_failures for job in submission.jobs), min(retries) if retries else None,
                          None if for_instructor else level, held,
                          drift_of(submission) if for_instructor else None)


def student_view(db: Session, submission: Submission, settings) -> SubmissionView:
    """The submission as its student sees it now (the pages and the API alike)."""
    now = utcnow()
    ahead = settings.deadline is not None and now < settings.deadline  # what a student will see after it
    return submission_view(db, submission, settings.deadline, False, settings.assignment, settings.student_level(now),
                           settings.show_after_deadline if ahead else None)

