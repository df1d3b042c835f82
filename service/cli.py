"""The service's ./run.py commands: serve, roster import / token, gradebook."""
import csv
import sys
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from grader.course_policy import add_policy_options, policy_from_args
from service.config import Settings


def parse_deadline(text):
    """An ISO 8601 time; without a zone it is taken as UTC."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace('Z', '+00:00'))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def add_db_option(command):
    command.add_argument('--db', default='sqlite:///checker.sqlite3',
                         help="SQLAlchemy URL: sqlite:///FILE (default checker.sqlite3) or "
                              "postgresql+psycopg://USER:PASSWORD@HOST/DB")


def add_service_commands(commands, add_data_options):
    command = commands.add_parser('serve', help="run the upload checker (web pages, API, grading workers)")
    add_db_option(command)
    command.add_argument('--scheduler', default='local',
                         help="where grading runs: local (a Dask cluster on this machine, the default), serial "
                              "(in this process, one at a time) or an existing Dask scheduler tcp://HOST:8786")
    command.add_argument('--workers', type=int, default=None, help="local grading workers (default: one per core)")
    command.add_argument('--host', default='127.0.0.1')
    command.add_argument('--port', type=int, default=8000)
    command.add_argument('--base-url', help="the address students use (default http://HOST:PORT)")
    command.add_argument('--deadline', help="ISO time, e.g. 2026-12-15T23:59:00+01:00: later uploads are late")
    command.add_argument('--per-hour', type=int, default=6, help="uploads per student per hour (0: no limit)")
    command.add_argument('--sections', nargs='+', help="grade only these sections (default: all)")
    command.add_argument('--rate', type=float, default=10.0,
                         help="HTTP requests per second per client address (0: no limit)")
    command.add_argument('--stale-after', type=float, default=10.0,
                         help="seconds without a heartbeat after which a worker's running jobs are queued again")
    command.add_argument('--no-worker', action='store_true', help="serve pages only; grade in another server")
    command.add_argument('--secure-cookies', action='store_true', help="cookies only over HTTPS (behind a proxy)")
    command.add_argument('--trust-proxy', metavar='IP',
                         help="a reverse proxy's address whose X-Forwarded-For is believed (rate limits per student "
                              "address, not per proxy)")
    add_policy_options(command)
    add_data_options(command)
    command.set_defaults(handler=serve)

    command = commands.add_parser('roster', help="students of the checker: import a CSV, reissue a token")
    actions = command.add_subparsers(dest='action', required=True)
    action = actions.add_parser('import', help="add students from a CSV (id,name,email); write their login links")
    action.add_argument('csv')
    action.add_argument('--links', default='login-links.csv', help="where to write the personal links (CSV)")
    action.add_argument('--base-url', default='http://127.0.0.1:8000')
    action.add_argument('--reissue', action='store_true', help="new tokens also for students already known")
    add_db_option(action)
    action.set_defaults(handler=roster_import)
    action = actions.add_parser('token', help="a new token for one person (the old one stops working)")
    action.add_argument('student_id', help="a student id, or 'instructor'")
    action.add_argument('--base-url', default='http://127.0.0.1:8000')
    add_db_option(action)
    action.set_defaults(handler=roster_token)

    command = commands.add_parser('gradebook', help="export the checker's gradebook")
    add_db_option(command)
    command.add_argument('--csv', required=True, help="where to write it")
    command.add_argument('--deadline', help="ISO time: flag later submissions as late")
    command.set_defaults(handler=gradebook_command)


def serve(args):
    import os

    import uvicorn

    from service.app import create_app
    settings = Settings(db_url=args.db, assignment=args.assignment, scheduler=args.scheduler, workers=args.workers or os.cpu_count() or 1,
                        sections=args.sections, deadline=parse_deadline(args.deadline), per_hour=args.per_hour,
                        rate_per_second=args.rate, base_url=args.base_url or f"http://{args.host}:{args.port}",
                        data_dir=args.data_dir, allow_unverified=args.allow_unverified,
                        policy=policy_from_args(args).as_dict(), secure_cookies=args.secure_cookies,
                        start_worker=not args.no_worker, stale_after_seconds=args.stale_after)
    settings.grade_sections  # unknown section names stop here
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level='info', proxy_headers=bool(args.trust_proxy),
                forwarded_allow_ips=args.trust_proxy or '127.0.0.1', timeout_graceful_shutdown=30)
    return 0


def open_database(url):
    from service.db import make_engine, migrate, session_factory
    engine = make_engine(url)
    migrate(engine)
    return session_factory(engine)


def read_roster(path):
    """[(id, name, email)] from a CSV with a header naming id, name and email (other columns ignored)."""
    with open(path, newline='', encoding='utf-8-sig') as file:
        reader = csv.DictReader(file)
        fields = {name.strip().lower(): name for name in reader.fieldnames or []}
        missing = [name for name in ('id', 'name', 'email') if name not in fields]
        if missing:
            raise SystemExit(f"{path}: the header must name id, name and email (missing: {', '.join(missing)})")
        rows = []
        for number, row in enumerate(reader, start=2):
            ident = (row[fields['id']] or '').strip()
            if not ident:
                raise SystemExit(f"{path}, line {number}: empty id")
            if ident == 'instructor':
                raise SystemExit(f"{path}, line {number}: 'instructor' is reserved")
            rows.append((ident, (row[fields['name']] or '').strip(), (row[fields['email']] or '').strip()))
    ids = [row[0] for row in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SystemExit(f"{path}: repeated ids: {', '.join(duplicates)}")
    return rows


def login_link(base_url, token):
    return f"{base_url.rstrip('/')}/login#token={token}"


def roster_import(args):
    from service.models import Person
    from service.security import new_token
    rows = read_roster(args.csv)
    sessions = open_database(args.db)
    links, kept = [], 0
    with sessions.begin() as db:
        known = {p.student_id: p for p in db.scalars(select(Person)).all()}
        for ident, name, email in rows:
            person = known.get(ident)
            if person is not None and not args.reissue:
                person.name, person.email = name, email
                kept += 1
                continue
            if person is None:
                person = Person(student_id=ident, name=name, email=email, role='student', token_hash='')
                db.add(person)
                db.flush()
            else:
                person.name, person.email = name, email
            token = new_token(person)
            links.append({'id': ident, 'name': name, 'email': email, 'token': token,
                          'link': login_link(args.base_url, token)})
    with open(args.links, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=['id', 'name', 'email', 'token', 'link'])
        writer.writeheader()
        writer.writerows(links)
    Path(args.links).chmod(0o600)
    print(f"{len(links)} new token(s) written to {args.links} (keep it private: the links sign students in); "
          f"{kept} student(s) already known kept their tokens" + ('' if args.reissue else ' (--reissue for new ones)'))
    return 0


def roster_token(args):
    from service.models import Person
    from service.security import new_token
    sessions = open_database(args.db)
    with sessions.begin() as db:
        person = db.scalar(select(Person).where(Person.student_id == args.student_id))
        if person is None:
            raise SystemExit(f"no one with id '{args.student_id}'")
        token = new_token(person)
    print(f"New token for {args.student_id}: {token}\n{login_link(args.base_url, token)}")
    return 0


def gradebook_command(args):
    from service.gradebook import csv_text, gradebook
    sessions = open_database(args.db)
    with sessions() as db:
        rows = gradebook(db, parse_deadline(args.deadline))
    with open(args.csv, "w", newline="") as file:
        file.write(csv_text(rows, args.assignment))
    print(f"Gradebook of {len(rows)} students written to {args.csv}", file=sys.stderr)
    return 0
