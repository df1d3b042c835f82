"""The API for scripts and ``./run.py submit`` (``Authorization: Bearer <token>``)."""
from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import jobs
from service.config import Settings
from service.dependencies import api_instructor, api_person, get_db, get_settings
from service.models import Person, Submission, Worker
from service.routers.pages import own_submission
from service.schemas import LimitsOut, Me, QueueOut, RegradeOut, SubmissionBrief, SubmissionCreated, SubmissionOut
from service.submitting import receive_upload
from service.uploads import UploadRefused
from service.drift import release
from service.gradebook import course_drift
from service.views import student_view, submission_view

router = APIRouter(prefix='/api')


@router.get('/me', response_model=Me)
def me(person: Person = Depends(api_person)):
    return Me(student_id=person.student_id, name=person.name, role=person.role)


@router.get('/limits', response_model=LimitsOut)
def limits(person: Person = Depends(api_person), db: Session = Depends(get_db),
           settings: Settings = Depends(get_settings)):
    """How many uploads are left this hour and when the next one frees up."""
    return jobs.hour_limits(db, person, settings.per_hour, settings.attempts_per_hour).as_json()


@router.post('/submissions', status_code=201, response_model=SubmissionCreated,
             responses={413: {'description': 'file too large'},
                        422: {'description': "not an acceptable file ('missing': what it lacks of the assignment)"},
                        429: {'description': 'a submission is still queued, or too many this hour'}})
def create_submission(request: Request, file: UploadFile = File(None), person: Person = Depends(api_person),
                            db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    try:
        submission = receive_upload(request, db, person, file, settings)
    except UploadRefused as refused:
        body = {'detail': refused.message}
        if refused.missing is not None:
            body['missing'] = refused.missing
        return JSONResponse(body, status_code=refused.status)
    units = next((job for job in submission.jobs if job.kind == 'units'), submission.jobs[0])
    return SubmissionCreated(id=submission.id, filename=submission.filename, sha256=submission.sha256,
                             size=submission.size, created_at=submission.created_at,
                             queue_position=jobs.queue_position(db, units), url=f'/submissions/{submission.id}',
                             status_url=f'/api/submissions/{submission.id}')


@router.get('/submissions', response_model=list[SubmissionBrief])
def list_submissions(person: Person = Depends(api_person), db: Session = Depends(get_db),
                     settings: Settings = Depends(get_settings)):
    submissions = db.scalars(select(Submission).where(Submission.person_id == person.id)
                             .order_by(Submission.id)).all()
    views = [student_view(db, s, settings) for s in submissions]
    return [SubmissionBrief(id=v.id, created_at=v.created_at, state=v.state, total=v.total, max_total=v.max_total)
            for v in views]


@router.get('/submissions/{submission_id}', response_model=SubmissionOut)
def get_submission(submission_id: int, person: Person = Depends(api_person), db: Session = Depends(get_db),
                   settings: Settings = Depends(get_settings)):
    submission = own_submission(db, person, submission_id)
    if person.is_instructor:
        return submission_view(db, submission, settings.deadline, True, settings.assignment).as_json()
    return student_view(db, submission, settings).as_json()  # what the page shows: the same rule


@router.post('/submissions/{submission_id}/regrade', response_model=RegradeOut)
def regrade_one(submission_id: int, request: Request, _: Person = Depends(api_instructor),
                db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    if db.get(Submission, submission_id) is None:
        raise HTTPException(404, "no such submission")
    outcome = jobs.regrade(db, [submission_id], settings.grade_sections, settings.assignment)
    db.commit()
    request.app.state.grading and request.app.state.grading.notify()
    return RegradeOut(queued=outcome.queued, busy=outcome.busy)


@router.get('/drift')
def drift(_: Person = Depends(api_instructor), db: Session = Depends(get_db)):
    """Submissions whose last re-grade changed a verdict or points, not yet released to their students:
    the old and the new result of every section side by side."""
    return [found.as_json() for found in course_drift(db)]


@router.post('/submissions/{submission_id}/release')
def release_one(submission_id: int, _: Person = Depends(api_instructor), db: Session = Depends(get_db)):
    """Show the student the new result of a re-grade that changed it (flagged in the gradebook)."""
    submission = db.get(Submission, submission_id)
    if submission is None:
        raise HTTPException(404, "no such submission")
    released = release(db, [submission])
    db.commit()
    return {'released': released}


@router.get('/queue', response_model=QueueOut)
def queue(_: Person = Depends(api_instructor), db: Session = Depends(get_db)):
    workers = db.scalars(select(Worker).order_by(Worker.started_at.desc()).limit(20)).all()
    return QueueOut(counts=jobs.queue_counts(db), workers=[
        {'id': w.id, 'host': w.host, 'pid': w.pid, 'executor': w.executor, 'capacity': w.capacity,
         'in_flight': w.in_flight, 'last_seen': w.last_seen.isoformat(), 'stopped': w.stopped} for w in workers])
