"""The service's ./run.py commands: serve, roster import / token, gradebook."""
import csv
import sys

from sqlalchemy import select

import assignments
from grader.course_policy import SettingsError, add_policy_options, policy_from_args
from grader.private_files import open_private
from grader.sandbox import add_sandbox_options, require_sandbox
from service.config import Settings
from service.course import check_visibility, open_course, parse_deadline, parse_timezone, show_time


def add_db_option(command):
    command.add_argument('--db', default='sqlite:///checker.sqlite3',
                         help="SQLAlchemy URL: sqlite:///FILE (default checker.sqlite3 in the current folder: run "
                              "roster and gradebook where serve runs, or give the same --db) or "
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
    command.add_argument('--deadline', help="ISO time, e.g. 2026-12-15T23:59:00+01:00: later uploads are late; kept "
                                            "in the database for the next starts and for gradebook ('none' clears it)")
    command.add_argument('--timezone', help="the course's time zone (IANA name, e.g. Europe/Berlin): a --deadline "
                                            "without an offset is in it, and the deadline is shown in it")
    command.add_argument('--show-before-deadline', metavar='LEVEL',
                         help="what a student sees of a failed hidden case before the deadline: verdict (the "
                              "section's verdict only), case (which case of how many failed, its kind of check and "
                              "what differed), diagnosis (and the likely mistake: the default) or input (and the "
                              "case's input, the smallest failing one); kept in the database like --deadline")
    command.add_argument('--show-after-deadline', metavar='LEVEL',
                         help="the same once the deadline has passed (default: input); at least "
                              "--show-before-deadline's level")
    command.add_argument('--per-hour', type=int, default=6, help="uploads per student per hour (0: no limit)")
    command.add_argument('--attempts-per-hour', type=int, default=30,
                         help="uploads a student may try per hour, refused files included (each is parsed; 0: no limit)")
    command.add_argument('--state-dir', help="folder of the server's secret files (the session key, the instructor's "
                                             "first token; default: the SQLite database's folder, else "
                                             "~/.local/state/nn-kit-checker); $NN_KIT_SESSION_SECRET replaces the "
                                             "key's file")
    command.add_argument('--sections', nargs='+', help="grade only these sections (default: all)")
    command.add_argument('--rate', type=float, default=10.0,
                         help="HTTP requests per second per client address (0: no limit)")
    command.add_argument('--stale-after', type=float, default=10.0,
                         help="seconds without a heartbeat after which a worker's running jobs are queued again")
    command.add_argument('--no-worker', action='store_true', help="serve pages only; grade in another server")
    add_sandbox_options(command)
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
    command.add_argument('--html', help="also write a page with charts (best totals, pass rate per section, uploads "
                                        "per hour against the deadline) and the best totals")
    command.add_argument('--deadline', help="ISO time: flag later submissions as late (default: the course's "
                                            "deadline, as serve --deadline set it)")
    command.set_defaults(handler=gradebook_command)


def missing_gate_data(assignment, names, data_dir, allow_unverified):
    """{gate: the first line of why its data cannot be used} for the gates among ``names``."""
    from data_loaders import DataError, check_dataset
    gates = assignment.module('gates').GATES
    missing, checked = {}, {}
    for name in names:
        if not assignment.by_name[name].is_gate:
            continue
        dataset = getattr(gates[name], 'dataset', name)
        if dataset not in checked:
            try:
                check_dataset(dataset, data_dir, allow_unverified)
                checked[dataset] = None
            except DataError as error:
                checked[dataset] = str(error).splitlines()[0]
        if checked[dataset]:
            missing[name] = checked[dataset]
    return missing


def serve(args):
    import os

    import uvicorn

    from service.app import create_app
    if args.timezone:
        parse_timezone(args.timezone)
    if args.deadline and args.deadline.strip().lower() != 'none':
        parse_deadline(args.deadline, args.timezone)  # a wrong one stops here, before anything is written
    for level in (args.show_before_deadline, args.show_after_deadline):  # so does a wrong level
        if level is not None:
            check_visibility(level, level)
    if args.show_before_deadline is not None and args.show_after_deadline is not None:
        check_visibility(args.show_before_deadline, args.show_after_deadline)
    settings = Settings(db_url=args.db, assignment=args.assignment, scheduler=args.scheduler, workers=args.workers or os.cpu_count() or 1,
                        sections=args.sections, deadline=None, per_hour=args.per_hour,
                        rate_per_second=args.rate, base_url=args.base_url or f"http://{args.host}:{args.port}",
                        data_dir=args.data_dir, allow_unverified=args.allow_unverified,
                        policy=policy_from_args(args).as_dict(), secure_cookies=args.secure_cookies,
                        start_worker=not args.no_worker, stale_after_seconds=args.stale_after,
                        attempts_per_hour=args.attempts_per_hour, state_dir=args.state_dir)
    names = settings.grade_sections  # unknown section names stop here
    if not args.no_worker:  # this server grades: only in the sandbox (or loudly without it)
        require_sandbox(args)
    if not args.no_worker:  # students must never meet "data missing" (nor this machine's paths): check now
        missing = missing_gate_data(assignments.get(settings.assignment), names, args.data_dir, args.allow_unverified)
        if missing:
            raise SettingsError(
                f"the data of gate{'s' if len(missing) > 1 else ''} {', '.join(missing)} cannot be used "
                f"({'; '.join(dict.fromkeys(missing.values()))}): give --data-dir DIR (and --allow-unverified "
                f"for a local copy that is not the official file), or serve without gates: --sections units")
    _, course, _ = open_course(args.db, args.assignment, create=True, deadline=args.deadline,
                               zone_name=args.timezone, show_before=args.show_before_deadline,
                               show_after=args.show_after_deadline)
    settings.deadline = course.deadline
    settings.show_before_deadline, settings.show_after_deadline = course.show_before_deadline, course.show_after_deadline
    print(f"Course '{course.assignment}' in {describe_db(args.db)}; "
          + (f"deadline {show_time(course.deadline)}" if course.deadline else "no deadline")
          + f"; a failed hidden case shows students: {course.show_before_deadline}"
          + (f" before the deadline, {course.show_after_deadline} after it" if course.deadline else ''), flush=True)
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level='info', proxy_headers=bool(args.trust_proxy),
                forwarded_allow_ips=args.trust_proxy or '127.0.0.1', timeout_graceful_shutdown=30)
    return 0


def describe_db(url):
    from service.course import describe
    return describe(url)


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
    sessions, course, created = open_course(args.db, args.assignment, create=True)
    if created:
        print(f"New course database for '{course.assignment}': {describe_db(args.db)} (serve, gradebook and roster "
              f"must use this one)", file=sys.stderr)
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
    with open_private(args.links, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=['id', 'name', 'email', 'token', 'link'])
        writer.writeheader()
        writer.writerows(links)
    print(f"{len(links)} new token(s) written to {args.links} (keep it private: the links sign students in); "
          f"{kept} student(s) already known kept their tokens" + ('' if args.reissue else ' (--reissue for new ones)'))
    return 0


def roster_token(args):
    from service.models import Person
    from service.security import new_token
    sessions, _, _ = open_course(args.db, args.assignment)
    with sessions.begin() as db:
        person = db.scalar(select(Person).where(Person.student_id == args.student_id))
        if person is None:
            raise SystemExit(f"no one with id '{args.student_id}'")
        token = new_token(person)
    print(f"New token for {args.student_id}: {token}\n{login_link(args.base_url, token)}")
    return 0


def gradebook_command(args):
    from service.gradebook import csv_text, gradebook, upload_times
    deadline = parse_deadline(args.deadline) if args.deadline else None
    sessions, course, _ = open_course(args.db, args.assignment)
    with sessions() as db:
        rows = gradebook(db, deadline or course.deadline)
        times = upload_times(db) if args.html else []
    with open_private(args.csv, "w", newline="") as file:
        file.write(csv_text(rows, args.assignment))
    print(f"Gradebook of {len(rows)} students written to {args.csv}", file=sys.stderr)
    if args.html:
        import assignments
        from service.charts import report_html
        assignment = assignments.get(args.assignment)
        graded = {entry['name'] for row in rows if row.best for entry in row.best.report['sections']}
        sections = [section for section in assignment.sections if section.name in graded] or list(assignment.sections)
        page = report_html(rows, sections, times, deadline or course.deadline,
                           f"Gradebook of {assignment.name}")
        with open_private(args.html, "w") as file:
            file.write(page)
        print(f"Charts written to {args.html}", file=sys.stderr)
    return 0
