"""Students' pages: upload, their submissions, a submission's live status and report."""
from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import jobs
from service.config import MAX_UPLOAD_BYTES, Settings
from service.dependencies import check_csrf, get_db, get_settings, page_person
from service.models import Person, Submission
from service.submitting import receive_upload
from service.templating import render
from service.uploads import UploadRefused
from service.views import student_view

router = APIRouter()


def own_submission(db: Session, person: Person, submission_id: int) -> Submission:
    """The submission if ``person`` may see it (their own, or any for an instructor); 404 otherwise,
    so nobody learns which numbers other students' submissions have."""
    submission = db.get(Submission, submission_id)
    if submission is None or (submission.person_id != person.id and not person.is_instructor):
        raise HTTPException(404, "no such submission")
    return submission


def home_context(db: Session, person: Person, settings: Settings) -> dict:
    submissions = db.scalars(select(Submission).where(Submission.person_id == person.id)
                             .order_by(Submission.id.desc())).all()
    return {'person': person, 'views': [student_view(db, s, settings) for s in submissions],
            'deadline': settings.deadline, 'per_hour': settings.per_hour, 'max_bytes': MAX_UPLOAD_BYTES,
            'limits': jobs.hour_limits(db, person, settings.per_hour, settings.attempts_per_hour)}


@router.get('/')
def home(request: Request, person: Person = Depends(page_person), db: Session = Depends(get_db),
         settings: Settings = Depends(get_settings)):
    return render(request, 'home.html', **home_context(db, person, settings))


@router.post('/upload', dependencies=[Depends(check_csrf)])
def upload(request: Request, file: UploadFile = File(None), person: Person = Depends(page_person),
                 db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    try:
        submission = receive_upload(request, db, person, file, settings)
    except UploadRefused as refused:
        return render(request, 'home.html', refused.status, error=refused.message,
                      **home_context(db, person, settings))
    return RedirectResponse(f'/submissions/{submission.id}', status_code=303)


@router.get('/submissions/{submission_id}')
def submission_page(request: Request, submission_id: int, person: Person = Depends(page_person),
                    db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    submission = own_submission(db, person, submission_id)
    view = student_view(db, submission, settings)
    return render(request, 'submission.html', person=person, view=view, deadline=settings.deadline)


@router.get('/submissions/{submission_id}/status')
def submission_status(request: Request, submission_id: int, person: Person = Depends(page_person),
                      db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    """The report part of the page alone, polled by the page's script while grading goes on."""
    submission = own_submission(db, person, submission_id)
    view = student_view(db, submission, settings)
    return render(request, '_report.html', person=person, view=view, deadline=settings.deadline)
