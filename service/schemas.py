"""JSON shapes of the API (pydantic), apart from the database models."""
from datetime import datetime
from typing import Optional

from pydantic import BaseModel


class Me(BaseModel):
    student_id: str
    name: str
    role: str


class LimitsOut(BaseModel):
    per_hour: int                      # uploads per rolling hour (0: no limit)
    used: int                          # of them used in the last hour
    attempts_left: Optional[int]       # uploads that would be accepted now (None: no limit)
    next_free_at: Optional[datetime]   # when the next one frees up (None: none used)
    in_queue: Optional[int]            # a submission still being graded: no upload until it is done


class SubmissionCreated(BaseModel):
    id: int
    filename: str
    sha256: str
    size: int
    created_at: datetime
    queue_position: Optional[int]
    url: str          # the report page
    status_url: str   # this API's view of it


class FailedCaseOut(BaseModel):
    number: int                    # the first hidden case that failed: "hidden case 3 of 6 failed: <kind>"
    count: int
    kind: str                      # its kind of check
    input: Optional[str] = None    # its input, where the course shows it now


class WithheldOut(BaseModel):
    after_deadline: list[str] = []  # not shown now, shown once the deadline has passed
    never: list[str] = []           # not shown to students in this course


class PublicCaseOut(BaseModel):
    name: str                      # the case's name, as ./run.py unittest prints it
    inputs: list[str]              # its inputs, as its code makes them (service.public_cases)
    source: str                    # FILE:LINE of the case in the kit


class PublicCasesOut(BaseModel):
    command: str                   # ./run.py unittest SECTION: where the student runs them
    run_by_checker: bool = False   # the points come from the hidden cases: the checker does not run these
    cases: list[PublicCaseOut]


class SectionOut(BaseModel):
    name: str
    number: str
    title: str
    state: str                     # queued | grading | done
    verdict: str
    points: Optional[float]
    max_points: float
    reason: str
    warnings: list[str]
    seconds: float
    failed_case: Optional[FailedCaseOut] = None
    hidden_cases: Optional[int] = None      # how many hidden cases the section has, where known
    diagnosis: Optional[str] = None         # the likely mistake, where shown
    smallest_case: Optional[str] = None     # the smallest failing input, where shown
    withheld: Optional[WithheldOut] = None  # what is not shown now of a failed hidden case
    public_cases: Optional[PublicCasesOut] = None  # the section's public cases with their inputs (unit sections)


class SubmissionOut(BaseModel):
    id: int
    student_id: str
    filename: str
    sha256: str
    size: int
    created_at: datetime
    late: bool
    state: str                     # queued | grading | done
    queue_position: Optional[int]
    total: float
    max_total: float
    isolation: list[str]
    checker_failed: bool = False           # the checker failed on it (not the submission): it costs no upload
    waiting_for_checker: bool = False      # ... and it waits to be graded again
    retry_at: Optional[datetime] = None
    shown: str = 'all'                     # what the reader sees of a failed hidden case (service.course levels)
    held: bool = False                     # a re-grade's new result awaits an instructor: the previous one is shown
    drift: Optional[dict] = None           # instructors: the last re-grade's old and new results (service.drift)
    sections: list[SectionOut]


class SubmissionBrief(BaseModel):
    id: int
    created_at: datetime
    state: str
    total: float
    max_total: float


class RegradeOut(BaseModel):
    queued: list[int]
    busy: list[int]


class QueueOut(BaseModel):
    counts: dict[str, int]
    workers: list[dict]
