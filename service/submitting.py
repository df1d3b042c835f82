"""Receiving an upload: read at most 1 MiB + 1 byte, check it, store it and queue its jobs in one
transaction committed before the response is sent. Runs in the thread pool (the endpoints that
call it are plain ``def``), never on the event loop: database calls there would stall every request.
"""
from typing import Optional

from fastapi import Request, UploadFile
from sqlalchemy.orm import Session

from service.config import MAX_UPLOAD_BYTES, Settings
from service.jobs import accept_upload
from service.models import Person, Submission
from service.uploads import UploadRefused, check_upload


def receive_upload(request: Request, db: Session, person: Person, file: Optional[UploadFile],
                   settings: Settings) -> Submission:
    if file is None or not file.filename:
        raise UploadRefused("no file was chosen: upload your solution.py")
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    checked = check_upload(file.filename, content)
    try:
        submission = accept_upload(db, person, checked, settings.grade_sections, settings.per_hour,
                                   assignment=settings.assignment)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    loop = getattr(request.app.state, 'grading', None)
    if loop is not None:
        loop.notify()
    return submission
