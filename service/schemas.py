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
