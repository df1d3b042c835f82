"""Receiving an upload, cheapest checks first, so that a costly file is parsed only when it could be
accepted and never where it slows other requests:

1. the caller is signed in (the endpoint's dependency) and the body is at most 1 MiB (the HTTP layer);
2. name, size and text (``uploads.precheck_upload``: no parse);
3. the per-student limits, counted in the database (one submission in the queue, uploads and
   attempts per hour), and the attempt recorded: a short transaction of its own;
4. the parse, in one of the server's parser processes (``service.parsing``): this worker thread
   waits, the event loop and the other requests do not; the same process checks that the file
   defines the assignment's classes, methods and functions (``service.preflight``): a file that
   lacks some is refused with the list (422) and, like every refused file, queues nothing and does
   not count against the uploads per hour (only against the attempts, which bound the parsing);
5. the limits again and the file stored with its jobs, in one transaction committed before the
   response is sent.

Runs in the thread pool (the endpoints that call it are plain ``def``), never on the event loop:
database calls there would stall every request.
"""
from typing import Optional

from fastapi import Request, UploadFile
from sqlalchemy.orm import Session

from service.config import MAX_UPLOAD_BYTES, Settings
from service.jobs import accept_upload, admit_attempt, forget_attempt
from service.models import Person, Submission
from service.parsing import ParserBusy, check_source
from service.preflight import refusal_message, required_definitions
from service.uploads import UploadRefused, precheck_upload


def in_transaction(db: Session, work):
    """``work()`` committed, or rolled back when it raises."""
    try:
        result = work()
        db.commit()
        return result
    except BaseException:
        db.rollback()
        raise


def parse_upload(request: Request, db: Session, attempt_id: int, name: str, text: str, required=None):
    """The parse's refusal (None when the file parses and defines what ``required`` asks for, the list
    of what it lacks otherwise), in the application's parser processes. When they are all busy the
    upload is refused (503) and its attempt does not count."""
    parser = getattr(request.app.state, 'parser', None)
    try:
        return parser.refusal(name, text, required) if parser is not None else check_source(name, text, required)
    except ParserBusy:
        in_transaction(db, lambda: forget_attempt(db, attempt_id))
        raise UploadRefused("the checker is busy checking other uploads; try again in a minute", 503) from None


def receive_upload(request: Request, db: Session, person: Person, file: Optional[UploadFile],
                   settings: Settings) -> Submission:
    if file is None or not file.filename:
        raise UploadRefused("no file was chosen: upload your solution.py")
    upload = precheck_upload(file.filename, file.file.read(MAX_UPLOAD_BYTES + 1))
    attempt = in_transaction(db, lambda: admit_attempt(db, person, settings.per_hour, settings.attempts_per_hour))
    required = (required_definitions(settings.assignment, tuple(settings.grade_sections))
                if settings.check_interface else None)
    refusal = parse_upload(request, db, attempt, upload.filename, upload.text, required)
    if isinstance(refusal, list):
        raise UploadRefused(refusal_message(upload.filename, refusal), missing=refusal)
    if refusal:
        raise UploadRefused(refusal)
    submission = in_transaction(db, lambda: accept_upload(db, person, upload.checked(), settings.grade_sections,
                                                          settings.per_hour, assignment=settings.assignment))
    loop = getattr(request.app.state, 'grading', None)
    if loop is not None:
        loop.notify()
    return submission
