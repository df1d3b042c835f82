"""The grading queue, kept in the database.

A submission becomes one ``units`` job (its unit sections together, priority 0) and one job per
gate (priority 1), so a 20-minute CIFAR-10 run never holds up anybody's unit report. Workers
claim jobs in a transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
UPDATE elsewhere), each claim with a fresh lease; results are recorded only under the current
lease, and a unique (submission, section) constraint keeps one result per section.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

import assignments
from service.models import Job, Person, Result, Submission, UploadAttempt, Worker, utcnow
from service.uploads import CheckedUpload, UploadRefused
from service.visibility import result_detail

MAX_ATTEMPTS = 3  # a job whose worker died this many times while running it is recorded as crashed
OPEN_STATES = ('queued', 'running')
CHECKER_RETRY_MAX = 1800.0  # seconds: the longest wait before a job the checker failed on is tried again


def plan_jobs(sections: list, assignment: Optional[str] = None) -> list:
    """[(kind, [section names], priority)] for the sections (of ``assignment``) to grade."""
    by_name = assignments.get(assignment).by_name
    units = [name for name in sections if not by_name[name].is_gate]
    plan = [('units', units, 0)] if units else []
    return plan + [('gate', [name], 1) for name in sections if by_name[name].is_gate]


def add_jobs(db: Session, submission: Submission, sections: list, assignment: Optional[str] = None) -> None:
    for kind, names, priority in plan_jobs(sections, assignment):
        db.add(Job(submission=submission, kind=kind, sections=names, priority=priority, state='queued'))


# -- upload ---------------------------------------------------------------------------------------
def open_submission(db: Session, person: Person) -> Optional[Submission]:
    """The person's submission that still has a queued or running job, if any."""
    return db.scalars(select(Submission).join(Job).where(Submission.person_id == person.id,
                                                         Job.state.in_(OPEN_STATES)).limit(1)).first()


def lock_person(db: Session, person: Person) -> None:
    """Update the person's row (to itself), which serialises their uploads on every backend and every
    server on the database (a row lock on PostgreSQL, the write lock on SQLite), so the limits hold."""
    db.execute(update(Person).where(Person.id == person.id).values(role=Person.role))


def check_queue_and_hour(db: Session, person: Person, per_hour: int, now: datetime) -> None:
    """Raise UploadRefused (429) while the person has a submission in the queue, or ``per_hour``
    submissions in the last hour (counted in the database: the same for every server)."""
    pending = open_submission(db, person)
    if pending is not None:
        raise UploadRefused(f"your submission #{pending.id} is still being graded; upload again when its report "
                            f"is complete (one submission in the queue at a time)", 429)
    recent = counted_uploads(db, person, now)
    if per_hour and len(recent) >= per_hour:
        raise UploadRefused(f"you have uploaded {len(recent)} times in the last hour (the limit is {per_hour}); "
                            f"try again in about {minutes_until(recent[0], now)} minutes", 429)


def counted_uploads(db: Session, person: Person, now: datetime) -> list:
    """When the person's submissions of the last hour that count against ``per_hour`` were made, oldest
    first (those the grading machinery failed on do not count)."""
    failed_on = select(Job.submission_id).where(Job.checker_failures > 0)  # the checker's failure costs nothing
    return db.scalars(select(Submission.created_at).where(Submission.person_id == person.id,
                                                          Submission.created_at > now - timedelta(hours=1),
                                                          Submission.id.not_in(failed_on))
                      .order_by(Submission.created_at)).all()


@dataclass
class HourLimits:
    """What the per-hour limits leave a person now (``attempts_left`` None: no limit)."""
    per_hour: int
    used: int                       # submissions of the last hour that count
    attempts_left: Optional[int]    # uploads that would be accepted this hour (the stricter limit)
    next_free_at: Optional[datetime]  # when the next one frees up (None: nothing used)
    in_queue: Optional[int]         # the submission still being graded (no upload until it is done)

    def as_json(self) -> dict:
        return {'per_hour': self.per_hour, 'used': self.used, 'attempts_left': self.attempts_left,
                'next_free_at': self.next_free_at.isoformat() if self.next_free_at else None,
                'in_queue': self.in_queue}


def hour_limits(db: Session, person: Person, per_hour: int, attempts_per_hour: int,
                now: Optional[datetime] = None) -> HourLimits:
    """How many uploads the person has left this hour and when the next one frees up (read only)."""
    now = now or utcnow()
    uploads = counted_uploads(db, person, now)
    attempts = db.scalars(select(UploadAttempt.created_at).where(UploadAttempt.person_id == person.id,
                                                                 UploadAttempt.created_at > now - timedelta(hours=1))
                          .order_by(UploadAttempt.created_at)).all() if attempts_per_hour else []
    limits = [(limit, used) for limit, used in ((per_hour, uploads), (attempts_per_hour, attempts)) if limit]
    left = min((max(0, limit - len(used)) for limit, used in limits), default=None)
    if left == 0:  # every exhausted limit must free a place
        frees = max(used[len(used) - limit] for limit, used in limits if len(used) >= limit) + timedelta(hours=1)
    else:
        frees = uploads[0] + timedelta(hours=1) if uploads else None
    pending = open_submission(db, person)
    return HourLimits(per_hour, len(uploads), left, frees, pending.id if pending else None)


def minutes_until(oldest: datetime, now: datetime) -> int:
    """Minutes until ``oldest`` leaves the last hour (at least 1)."""
    return max(1, int((oldest + timedelta(hours=1) - now).total_seconds() // 60) + 1)


def admit_attempt(db: Session, person: Person, per_hour: int, attempts_per_hour: int,
                  now: Optional[datetime] = None) -> int:
    """The limits an upload must pass before it is parsed (committed by the caller): nothing of the
    person's in the queue, fewer than ``per_hour`` submissions and ``attempts_per_hour`` attempts
    (refused files count too) in the last hour. Records the attempt and returns its id; raises
    UploadRefused (429)."""
    now = now or utcnow()
    lock_person(db, person)
    check_queue_and_hour(db, person, per_hour, now)
    hour_ago = now - timedelta(hours=1)
    db.execute(delete(UploadAttempt).where(UploadAttempt.person_id == person.id, UploadAttempt.created_at <= hour_ago))
    if attempts_per_hour:
        recent = db.scalars(select(UploadAttempt.created_at).where(UploadAttempt.person_id == person.id)
                            .order_by(UploadAttempt.created_at)).all()
        if len(recent) >= attempts_per_hour:
            raise UploadRefused(f"you have tried to upload {len(recent)} times in the last hour, refused files "
                                f"included (the limit is {attempts_per_hour}); try again in about "
                                f"{minutes_until(recent[0], now)} minutes", 429)
    attempt = UploadAttempt(person_id=person.id, created_at=now)
    db.add(attempt)
    db.flush()
    return attempt.id


def forget_attempt(db: Session, attempt_id: int) -> None:
    """Take back an attempt that the server could not serve (its parsers were busy); committed by the caller."""
    db.execute(delete(UploadAttempt).where(UploadAttempt.id == attempt_id))


def accept_upload(db: Session, person: Person, upload: CheckedUpload, sections: list, per_hour: int,
                  now: Optional[datetime] = None, assignment: Optional[str] = None) -> Submission:
    """Store the file and queue its jobs (committed by the caller) or raise UploadRefused (429).

    The limits are checked again under the person's lock: another upload of theirs, through this
    server or another one, may have been accepted while this one was parsed.
    """
    now = now or utcnow()
    lock_person(db, person)
    check_queue_and_hour(db, person, per_hour, now)
    submission = Submission(person=person, filename=upload.filename, content=upload.content,
                            sha256=upload.sha256, size=len(upload.content), created_at=now)
    db.add(submission)
    add_jobs(db, submission, sections, assignment)
    db.flush()
    return submission


# -- workers --------------------------------------------------------------------------------------
def claim(db: Session, worker_id: str, kinds: tuple = ('units', 'gate')) -> Optional[Job]:
    """Claim the next queued job of these kinds (units before gates, oldest first); commits."""
    query = (select(Job).where(Job.state == 'queued', Job.kind.in_(kinds),
                               Job.retry_at.is_(None) | (Job.retry_at <= utcnow()))  # not while waiting for a retry
             .order_by(Job.priority, Job.id).limit(1))
    postgres = db.get_bind().dialect.name == 'postgresql'
    for _ in range(20):
        if postgres:
            job = db.scalars(query.with_for_update(skip_locked=True)).first()
            if job is None:
                db.rollback()
                return None
            job.state, job.lease, job.worker_id = 'running', str(uuid.uuid4()), worker_id
            job.attempts += 1
            job.started_at = utcnow()
            db.commit()
            return job
        candidate = db.scalars(query.with_only_columns(Job.id)).first()
        if candidate is None:
            db.rollback()
            return None
        lease = str(uuid.uuid4())
        claimed = db.execute(update(Job).where(Job.id == candidate, Job.state == 'queued')
                             .values(state='running', lease=lease, worker_id=worker_id, attempts=Job.attempts + 1,
                                     started_at=utcnow())).rowcount
        db.commit()
        if claimed == 1:
            return db.get(Job, candidate, populate_existing=True)
    return None


def record(db: Session, job_id: int, lease: str, report: Optional[dict], error: Optional[str] = None,
           assignment: Optional[str] = None) -> bool:
    """Record a job's results under its lease; False (nothing written) when the lease is no longer current.

    ``report`` is grader.report.as_dict; a section it lacks, or every section when ``error``
    is given, is recorded as 'crashed'. Commits.
    """
    done = db.execute(update(Job).where(Job.id == job_id, Job.lease == lease, Job.state == 'running')
                      .values(state='done', finished_at=utcnow(), error=error,
                              isolation=(report or {}).get('isolation'))).rowcount
    if done != 1:
        db.rollback()
        return False
    job = db.get(Job, job_id)
    add_results(db, job, report, error, assignment)
    db.commit()
    return True


def add_results(db: Session, job: Job, report: Optional[dict], error: Optional[str],
                assignment: Optional[str] = None) -> None:
    graded = {entry['name']: entry for entry in (report or {}).get('sections', [])}
    for name in job.sections:
        entry = graded.get(name) if error is None else None
        section = assignments.get(assignment).by_name[name]
        if entry is None:
            reason = f"internal grader error: {error}" if error else "no result came back from the grader"
            db.add(Result(submission_id=job.submission_id, job_id=job.id, section=name, verdict='crashed',
                          points=0.0, max_points=section.points, reason=reason[:2000], warnings=[]))
            continue
        db.add(Result(submission_id=job.submission_id, job_id=job.id, section=name, verdict=entry['verdict'],
                      points=float(entry['points']), max_points=float(entry['max_points']),
                      reason=entry.get('reason') or '', seconds=float(entry.get('seconds') or 0.0),
                      warnings=list(entry.get('warnings') or []), detail=result_detail(assignment, name, entry)))


def give_up_on_repeat_crashes(db: Session, assignment: Optional[str] = None) -> int:
    """Queued jobs that already ran MAX_ATTEMPTS times (their worker died each time): recorded as
    crashed instead of being tried forever. Returns how many; commits."""
    jobs = db.scalars(select(Job).where(Job.state == 'queued', Job.attempts >= MAX_ATTEMPTS)).all()
    for job in jobs:
        job.state, job.finished_at, job.error = 'done', utcnow(), f"the grading worker died {job.attempts} times"
        add_results(db, job, None, f"the grading worker died {job.attempts} times while grading this", assignment)
    db.commit()
    return len(jobs)


def release(db: Session, job_id: int, lease: str) -> None:
    """Put a running job back in the queue (its executor went away before it finished); commits."""
    db.execute(update(Job).where(Job.id == job_id, Job.lease == lease, Job.state == 'running')
               .values(state='queued', lease=None, worker_id=None, started_at=None, attempts=Job.attempts - 1))
    db.commit()


def retry_later(db: Session, job_id: int, lease: str, error: str, delay: float) -> bool:
    """The grading machinery failed on a running job (an InfrastructureError): queue it again, to be
    claimed ``delay`` seconds from now at the earliest (doubled on each further failure, at most
    CHECKER_RETRY_MAX), with the reason for the instructor. Never a verdict, never a zero: the
    student's upload does not count against the hour (``counted_uploads``). False under an old lease; commits."""
    job = db.get(Job, job_id)
    if job is None or job.lease != lease or job.state != 'running':
        db.rollback()
        return False
    wait = min(delay * 2 ** job.checker_failures, CHECKER_RETRY_MAX)
    db.execute(update(Job).where(Job.id == job_id, Job.lease == lease, Job.state == 'running')
               .values(state='queued', lease=None, worker_id=None, started_at=None, attempts=Job.attempts - 1,
                       checker_failures=Job.checker_failures + 1, error=f"checker failure: {error}"[:2000],
                       retry_at=utcnow() + timedelta(seconds=wait)))
    db.commit()
    return True


def heartbeat(db: Session, worker: Worker, in_flight: int) -> None:
    db.execute(update(Worker).where(Worker.id == worker.id).values(last_seen=utcnow(), in_flight=in_flight))
    db.commit()


def requeue_stale(db: Session, stale_after: float, now: Optional[datetime] = None) -> int:
    """Queue again the running jobs of workers that stopped or went silent (a killed server); commits.
    A lost worker is the checker's failure, not the student's: counted in ``checker_failures``, so the upload
    does not count against the hour and the student's page says the failure was ours (tried again at once)."""
    now = now or utcnow()
    dead = select(Worker.id).where((Worker.last_seen < now - timedelta(seconds=stale_after)) | Worker.stopped)
    orphaned = select(Job.id).where(Job.state == 'running',
                                    Job.worker_id.in_(dead) | Job.worker_id.not_in(select(Worker.id)))
    count = db.execute(update(Job).where(Job.id.in_(orphaned))
                       .values(state='queued', lease=None, worker_id=None, started_at=None,
                               checker_failures=Job.checker_failures + 1,
                               error="checker failure: the grading worker was lost while grading this "
                                     "(a killed or silent server); queued again")).rowcount
    db.commit()
    return count


# -- reading --------------------------------------------------------------------------------------
def queue_position(db: Session, job: Job) -> Optional[int]:
    """1 for the next job to be claimed; None unless the job is queued."""
    if job.state != 'queued':
        return None
    ahead = db.scalar(select(func.count(Job.id)).where(
        Job.state == 'queued', Job.retry_at.is_(None) | (Job.retry_at <= utcnow()),  # not those waiting for a retry
        (Job.priority < job.priority) | ((Job.priority == job.priority) & (Job.id < job.id))))
    return ahead + 1


def queue_counts(db: Session) -> dict:
    rows = db.execute(select(Job.kind, Job.state, func.count(Job.id)).group_by(Job.kind, Job.state)).all()
    return {f"{kind} {state}": count for kind, state, count in rows}


# -- instructors ----------------------------------------------------------------------------------
@dataclass
class RegradeOutcome:
    queued: list
    busy: list


def regrade(db: Session, submission_ids: list, sections: list, assignment: Optional[str] = None) -> RegradeOutcome:
    """Forget the results of these submissions and queue them again (those still being graded are
    left alone and listed in ``busy``); the results replaced are kept in a ``Regrade`` row, to flag a
    re-grade that changes them (service.drift). Committed by the caller.  A database of another assignment's
    course is refused (service.course.CourseError): its results would be replaced by the wrong sections."""
    if assignment is not None:
        from service.course import check_assignment
        check_assignment(db, assignment)
    busy = set(db.scalars(select(Job.submission_id).where(Job.submission_id.in_(submission_ids),
                                                          Job.state.in_(OPEN_STATES))).all())
    queued = [sid for sid in submission_ids if sid not in busy]
    if queued:
        from service.drift import record_regrade
        submissions = db.scalars(select(Submission).where(Submission.id.in_(queued))).all()
        for submission in submissions:  # the results replaced, kept to compare with (service.drift)
            record_regrade(db, submission)
        db.flush()
        db.execute(delete(Result).where(Result.submission_id.in_(queued)))
        for submission in submissions:
            add_jobs(db, submission, sections, assignment)
    db.flush()
    return RegradeOutcome(queued, sorted(busy))
