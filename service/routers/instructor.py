"""Instructors' pages: gradebook and its CSV, a submission's file and full report, re-grading,
the queue and the workers."""
from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

import assignments
from service import jobs
from service.config import Settings
from service.dependencies import check_csrf, get_db, get_settings, instructor_page
from service.charts import gradebook_charts
from service.drift import release
from service.gradebook import course_drift, csv_text, gradebook, upload_times
from service.models import Job, Person, Submission, Worker, utcnow
from service.templating import render
from service.uploads import attachment_header, safe_filename
from service.views import submission_view

router = APIRouter(prefix='/instructor')


@router.get('')
def gradebook_page(request: Request, person: Person = Depends(instructor_page), db: Session = Depends(get_db),
                   settings: Settings = Depends(get_settings)):
    rows = gradebook(db, settings.deadline)
    sections = [assignments.get(settings.assignment).by_name[name] for name in settings.grade_sections]
    charts = gradebook_charts(rows, sections, upload_times(db), settings.deadline)
    return render(request, 'gradebook.html', person=person, rows=rows, sections=sections, deadline=settings.deadline,
                  message=request.query_params.get('message'), charts=charts, drift=course_drift(db))


@router.get('/gradebook.csv')
def gradebook_csv(_: Person = Depends(instructor_page), db: Session = Depends(get_db),
                  settings: Settings = Depends(get_settings)):
    return Response(csv_text(gradebook(db, settings.deadline), settings.assignment), media_type='text/csv',
                    headers={'Content-Disposition': 'attachment; filename="gradebook.csv"'})


@router.get('/students/{student_id}')
def student_page(request: Request, student_id: str, person: Person = Depends(instructor_page),
                 db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    student = db.scalar(select(Person).where(Person.student_id == student_id))
    if student is None:
        raise HTTPException(404, "no such student")
    views = [submission_view(db, s, settings.deadline, True, settings.assignment) for s in reversed(student.submissions)]
    return render(request, 'student.html', person=person, student=student, views=views)


@router.get('/submissions')
def all_submissions(request: Request, person: Person = Depends(instructor_page), db: Session = Depends(get_db),
                    settings: Settings = Depends(get_settings)):
    submissions = db.scalars(select(Submission).order_by(Submission.id.desc()).limit(200)).all()
    views = [submission_view(db, s, settings.deadline, True, settings.assignment) for s in submissions]
    return render(request, 'submissions.html', person=person, views=views)


@router.get('/submissions/{submission_id}')
def submission_page(request: Request, submission_id: int, person: Person = Depends(instructor_page),
                    db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    submission = db.get(Submission, submission_id)
    if submission is None:
        raise HTTPException(404, "no such submission")
    view = submission_view(db, submission, settings.deadline, True, settings.assignment)
    source = submission.content.decode('utf-8', errors='replace')
    return render(request, 'instructor_submission.html', person=person, view=view, source=source,
                  jobs=submission.jobs)


@router.get('/submissions/{submission_id}/file')
def submission_file(submission_id: int, _: Person = Depends(instructor_page), db: Session = Depends(get_db)):
    submission = db.get(Submission, submission_id)
    if submission is None:
        raise HTTPException(404, "no such submission")
    # the names are made safe again here: rows stored before names were kept safe hold them as uploaded
    name = safe_filename(f"{submission.person.student_id}-{submission.id}-{safe_filename(submission.filename)}")
    return Response(submission.content, media_type='text/plain; charset=utf-8',
                    headers={'Content-Disposition': attachment_header(name), 'X-Content-Type-Options': 'nosniff'})


@router.post('/submissions/{submission_id}/regrade', dependencies=[Depends(check_csrf)])
def regrade_one(request: Request, submission_id: int, _: Person = Depends(instructor_page),
                db: Session = Depends(get_db), settings: Settings = Depends(get_settings)):
    if db.get(Submission, submission_id) is None:
        raise HTTPException(404, "no such submission")
    outcome = jobs.regrade(db, [submission_id], settings.grade_sections, settings.assignment)
    db.commit()
    if request.app.state.grading:
        request.app.state.grading.notify()
    message = 'queued again' if outcome.queued else 'still being graded: try when it is done'
    return RedirectResponse(f'/instructor/submissions/{submission_id}?message={message}', status_code=303)


@router.post('/regrade-all', dependencies=[Depends(check_csrf)])
def regrade_all(request: Request, _: Person = Depends(instructor_page), db: Session = Depends(get_db),
                settings: Settings = Depends(get_settings)):
    ids = db.scalars(select(Submission.id).order_by(Submission.id)).all()
    outcome = jobs.regrade(db, list(ids), settings.grade_sections, settings.assignment)
    db.commit()
    if request.app.state.grading:
        request.app.state.grading.notify()
    message = f"{len(outcome.queued)} submissions queued again"
    if outcome.busy:
        message += f", {len(outcome.busy)} still being graded were left alone"
    return RedirectResponse(f'/instructor?message={message}', status_code=303)


@router.post('/submissions/{submission_id}/release', dependencies=[Depends(check_csrf)])
def release_one(submission_id: int, _: Person = Depends(instructor_page), db: Session = Depends(get_db)):
    """Show the student the new result of a re-grade that changed it."""
    submission = db.get(Submission, submission_id)
    if submission is None:
        raise HTTPException(404, "no such submission")
    released = release(db, [submission])
    db.commit()
    message = 'the new result is shown to the student' if released else 'nothing to release'
    return RedirectResponse(f'/instructor?message={message}#drift', status_code=303)


@router.post('/release-all', dependencies=[Depends(check_csrf)])
def release_all(_: Person = Depends(instructor_page), db: Session = Depends(get_db)):
    """Release every flagged re-grade's new result to its student."""
    ids = [found.submission_id for found in course_drift(db)]
    released = release(db, db.scalars(select(Submission).where(Submission.id.in_(ids))).all()) if ids else []
    db.commit()
    return RedirectResponse(f'/instructor?message={len(released)} new results released to their students',
                            status_code=303)


@router.get('/queue')
def queue_page(request: Request, person: Person = Depends(instructor_page), db: Session = Depends(get_db),
               settings: Settings = Depends(get_settings)):
    running = db.scalars(select(Job).where(Job.state == 'running').order_by(Job.started_at)).all()
    queued = db.scalars(select(Job).where(Job.state == 'queued').order_by(Job.priority, Job.id).limit(100)).all()
    workers = db.scalars(select(Worker).where(Worker.last_seen > utcnow() - timedelta(hours=1))
                         .order_by(Worker.started_at.desc())).all()
    loop = request.app.state.grading
    return render(request, 'queue.html', person=person, counts=jobs.queue_counts(db), running=running,
                  queued=queued, workers=workers, grading=loop.describe() if loop else None,
                  stale_after=settings.stale_after_seconds, now=utcnow())
