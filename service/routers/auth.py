"""Sign in with a personal token (from the login link or pasted), sign out."""
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from service.dependencies import check_csrf, get_db
from service.security import end_session, person_for_token, start_session
from service.templating import render

router = APIRouter()


@router.get('/login')
def login_page(request: Request):
    # The login link carries the token in the URL fragment (#token=...), which browsers never send
    # to the server (so it stays out of access logs); the page's script copies it into the form.
    return render(request, 'login.html')


@router.post('/login', dependencies=[Depends(check_csrf)])
def login(request: Request, token: str = Form(''), db: Session = Depends(get_db)):
    person = person_for_token(db, token)
    if person is None:
        return render(request, 'login.html', 401, error="That token is not valid. Use the link or the token "
                                                       "from your instructor's e-mail.")
    key = start_session(db, person)
    db.commit()
    request.session.clear()
    request.session.update({'session_key': key, 'token_fp': person.token_hash[:16]})
    return RedirectResponse('/instructor' if person.is_instructor else '/', status_code=303)


@router.post('/logout', dependencies=[Depends(check_csrf)])
def logout(request: Request, db: Session = Depends(get_db)):
    """Sign out: the session ends on the server too, so a copy of the cookie no longer signs anybody in."""
    end_session(db, request.session.get('session_key'))
    db.commit()
    request.session.clear()
    return RedirectResponse('/login', status_code=303)
