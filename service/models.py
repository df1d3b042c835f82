"""Database tables (SQLAlchemy 2, typed ``Mapped`` columns). The database is the source of truth:
people and their hashed tokens, every uploaded file, the grading jobs and one result per section.
"""
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import (JSON, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class Person(Base):
    """A student of the roster or an instructor; ``token_hash`` is sha256 of the secret part of the token."""
    __tablename__ = 'people'
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default='')
    email: Mapped[str] = mapped_column(String(200), default='')
    role: Mapped[str] = mapped_column(String(16), default='student')  # student | instructor
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submissions: Mapped[list['Submission']] = relationship(back_populates='person', order_by='Submission.id')

    @property
    def is_instructor(self) -> bool:
        return self.role == 'instructor'


class Submission(Base):
    """One uploaded solution.py, stored whole before the upload is acknowledged."""
    __tablename__ = 'submissions'
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey('people.id'), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    person: Mapped[Person] = relationship(back_populates='submissions')
    jobs: Mapped[list['Job']] = relationship(back_populates='submission', order_by='Job.id')
    results: Mapped[list['Result']] = relationship(back_populates='submission', order_by='Result.id')
    regrades: Mapped[list['Regrade']] = relationship(back_populates='submission', order_by='Regrade.id')


class Job(Base):
    """A grading job: the unit sections of a submission together, or one gate.

    state: queued -> running (claimed with a fresh ``lease`` by a worker) -> done. A running job
    whose worker stops sending heartbeats is queued again; only the holder of the current lease
    can record its results, so a section's result is recorded once. A job the grading machinery
    failed on (``checker_failures``) is queued again, not claimed before ``retry_at``.
    """
    __tablename__ = 'jobs'
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey('submissions.id'), index=True)
    kind: Mapped[str] = mapped_column(String(16))            # units | gate
    sections: Mapped[list] = mapped_column(JSON)             # section names, in grading order
    priority: Mapped[int] = mapped_column(Integer, default=0)  # lower first: units 0, gates 1
    state: Mapped[str] = mapped_column(String(16), default='queued')
    lease: Mapped[Optional[str]] = mapped_column(String(36), nullable=True)
    worker_id: Mapped[Optional[str]] = mapped_column(String(36), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    isolation: Mapped[Optional[list]] = mapped_column(JSON, nullable=True)
    error: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    checker_failures: Mapped[int] = mapped_column(Integer, default=0, server_default='0')
    retry_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    submission: Mapped[Submission] = relationship(back_populates='jobs')

    __table_args__ = (Index('ix_jobs_claim', 'state', 'priority', 'id'),)


class Result(Base):
    """The verdict of one section of one submission (exactly one per section)."""
    __tablename__ = 'results'
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey('submissions.id'))
    job_id: Mapped[int] = mapped_column(ForeignKey('jobs.id'))
    section: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(32))
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default='')
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    # the report's parts kept apart (service.visibility): {'findings': [...], 'diagnosis': str,
    # 'smallest_case': str, 'case': {'name', 'number', 'count', 'kind'} of the hidden case that failed, or None,
    # 'cases': the number of hidden cases}; None for results recorded before revision 0005
    detail: Mapped[Optional[dict]] = mapped_column(JSON, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates='results')

    __table_args__ = (UniqueConstraint('submission_id', 'section', name='uq_results_submission_section'),)


class Worker(Base):
    """A grading loop (one per server process) and its heartbeat."""
    __tablename__ = 'workers'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    executor: Mapped[str] = mapped_column(String(255))
    capacity: Mapped[int] = mapped_column(Integer)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped: Mapped[bool] = mapped_column(default=False)


class Setting(Base):
    """Server-wide values kept in the database (none at present: the session signing key, which
    revision 0003 removed from here, lives in a file of the server's own; see service.state)."""
    __tablename__ = 'settings'
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Course(Base):
    """The course this database belongs to (one row, id 1), written at its first start: the assignment
    it grades (a server, gradebook or roster of another assignment is refused) and the deadline as
    the instructor gave it (ISO 8601 with its offset) with the course's time zone, if one was given."""
    __tablename__ = 'course'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    timezone: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    # what a student sees of a failed hidden case before / after the deadline (None: the default)
    show_before_deadline: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)
    show_after_deadline: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(Base):
    """A browser's signed-in session. The cookie holds a random key; only its sha256 is stored. Signing
    out deletes the row (a copied cookie stops working), a new token deletes all the person's rows."""
    __tablename__ = 'login_sessions'
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey('people.id'), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UploadAttempt(Base):
    """An upload that passed the cheap checks and was parsed (accepted or not): the per-hour limit of
    attempts counts these rows, so every server on the database enforces the same limit."""
    __tablename__ = 'upload_attempts'
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey('people.id'))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index('ix_upload_attempts_person_time', 'person_id', 'created_at'),)


class Regrade(Base):
    """A re-grade of a submission and the results it replaced (``previous``: one dict per section, as
    ``service.drift.snapshot`` writes it). When the new verdicts or points differ, the gradebook flags
    the submission with both side by side, and its student keeps seeing the previous result until an
    instructor releases the new one (``released_at``)."""
    __tablename__ = 'regrades'
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey('submissions.id'), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    previous: Mapped[list] = mapped_column(JSON)
    released_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    submission: Mapped[Submission] = relationship(back_populates='regrades')
