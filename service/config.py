"""Settings of one running checker (command-line options of ``./run.py serve``)."""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from assignments import DEFAULT as DEFAULT_ASSIGNMENT
from grader.course_policy import CoursePolicy

MAX_UPLOAD_BYTES = 1 << 20          # the largest solution.py accepted (1 MiB)
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + (64 << 10)  # multipart overhead on top; larger bodies get 413


@dataclass
class Settings:
    db_url: str = 'sqlite:///checker.sqlite3'
    assignment: str = DEFAULT_ASSIGNMENT  # the assignment this course grades (assignments.ASSIGNMENTS)
    scheduler: str = 'local'          # executor kind for grader.executor.make_executor: local, serial or an address
    workers: int = 2                  # grading jobs in flight at once
    sections: Optional[list] = None   # sections to grade (None: all)
    deadline: Optional[datetime] = None  # aware datetime; later submissions are flagged late
    show_before_deadline: str = 'diagnosis'  # what a student sees of a failed hidden case (service.course.VISIBILITY_LEVELS)
    show_after_deadline: str = 'input'       # ... once the deadline has passed
    per_hour: int = 6                 # uploads per student per rolling hour
    rate_per_second: float = 10.0     # HTTP requests per client address per second (0: no limit)
    rate_burst: int = 40
    base_url: str = 'http://127.0.0.1:8000'
    data_dir: Optional[str] = None
    allow_unverified: Optional[bool] = None
    policy: dict = field(default_factory=lambda: CoursePolicy().as_dict())  # the course's grading rules
    secure_cookies: bool = False      # set behind HTTPS
    start_worker: bool = True         # the grading loop runs in this process
    heartbeat_seconds: float = 2.0
    stale_after_seconds: float = 10.0  # a worker silent this long has died: its running jobs are queued again
    checker_retry_seconds: float = 30.0  # a job the checker failed on is tried again this much later (doubling)
    attempts_per_hour: int = 30       # uploads tried per student per rolling hour, refused files included (0: no limit)
    parse_workers: int = 1            # processes that parse uploads (0: in the request's thread)
    parse_waiting: int = 4            # uploads that may wait for a parser; more are told to come back (503)
    parse_timeout: float = 10.0       # seconds a parse may take before the upload is refused
    check_interface: bool = True      # refuse uploads without the assignment's classes/functions (service.preflight)
    state_dir: Optional[str] = None   # the session secret's folder (default: the SQLite file's, else the current)

    def student_level(self, now=None) -> str:
        """What a student sees of a failed hidden case now (the pages and the API alike)."""
        from service.course import student_level
        return student_level(self.show_before_deadline, self.show_after_deadline, self.deadline, now)

    @property
    def grade_sections(self):
        from public_tests.runner import section_names
        return section_names(self.sections or ['all'], self.assignment)
