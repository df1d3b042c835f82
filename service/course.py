"""The course a checker database belongs to: the assignment it grades, its deadline and time zone.

``serve`` (and ``roster import`` on a new database) records them in the one-row ``course`` table at
first start; every later command checks them.  A database of another assignment is refused (its
results would be read against the wrong points table), and commands that only read a course
(``gradebook``, ``roster token``) refuse a database that does not exist instead of creating an empty
one.  The deadline is kept as the instructor gave it (ISO 8601 with its offset), shown in its own
zone (or the course's ``--timezone``), and compared as one instant everywhere.

What a student sees of a failed hidden case is a course setting too, one level before the deadline
and one after it (Gradescope's visibility rule; ``serve --show-before-deadline/--show-after-deadline``,
kept in the course row): each level shows what the one before it shows, and more (VISIBILITY_LEVELS).
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError

from grader.course_policy import SettingsError
from service.models import Course, Job, Person, Result

NO_DEADLINE = 'none'  # --deadline none: the course has no deadline (any more)

# What a student sees of a failed hidden case, least first; each level adds to the one before it.
VISIBILITY_LEVELS = {
    'verdict': "the section's verdict and points only",
    'case': "which hidden case failed (its number of the section's count), its kind of check and what differed",
    'diagnosis': "... and the likely mistake, where one was diagnosed",
    'input': "... and the case's input: its description and the smallest failing input",
}
SHOW_BEFORE_DEADLINE, SHOW_AFTER_DEADLINE = 'diagnosis', 'input'  # the defaults: inputs only after the deadline


class CourseError(SettingsError):
    """The database is not the course asked for (missing, not a checker database, another assignment)."""


@dataclass(frozen=True)
class CourseInfo:
    assignment: str
    deadline: Optional[datetime]    # aware; in the course's time zone, else with the offset it was given with
    timezone: Optional[str]
    show_before_deadline: str = SHOW_BEFORE_DEADLINE
    show_after_deadline: str = SHOW_AFTER_DEADLINE


# -- settings given on the command line ------------------------------------------------------------
def parse_timezone(name):
    """A ZoneInfo for an IANA name such as Europe/Berlin (None for None)."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"--timezone {name!r}: not a time zone name; expected an IANA name such as "
                            f"Europe/Berlin, America/New_York or UTC") from None


def parse_deadline(text, zone_name=None):
    """An aware datetime from ISO 8601 text.  The offset given is kept (2026-12-15T23:59:00+01:00 stays
    23:59 at +01:00); a time without one is in the course's time zone, else UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace('Z', '+00:00'))
    except ValueError:
        raise SettingsError(f"--deadline {text!r}: not an ISO 8601 time; expected e.g. 2026-12-15T23:59:00+01:00 "
                            f"(or 2026-12-15T23:59 with --timezone Europe/Berlin, or '{NO_DEADLINE}')") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=parse_timezone(zone_name) or timezone.utc)
    return moment


def check_visibility(before, after):
    """(before, after) when both are visibility levels and ``before`` shows no more than ``after``;
    SettingsError (one line) otherwise."""
    levels = list(VISIBILITY_LEVELS)
    for flag, level in (('--show-before-deadline', before), ('--show-after-deadline', after)):
        if level not in VISIBILITY_LEVELS:
            raise SettingsError(f"{flag} {level!r}: expected one of {', '.join(map(repr, levels))} (what a student "
                                f"sees of a failed hidden case, least first)")
    if levels.index(before) > levels.index(after):
        raise SettingsError(f"--show-before-deadline {before!r} shows more than --show-after-deadline {after!r}: "
                            f"students would see less of a hidden case after the deadline than before it")
    return before, after


def student_level(before, after, deadline, now=None):
    """What a student sees of a failed hidden case now: ``after`` once the deadline has passed, else ``before``
    (also when the course has no deadline)."""
    from service.models import utcnow
    return after if deadline is not None and (now or utcnow()) >= deadline else before


def course_deadline(stored, zone_name):
    """The stored deadline as an aware datetime in the course's zone (its own offset without one)."""
    if not stored:
        return None
    moment = datetime.fromisoformat(stored)
    zone = parse_timezone(zone_name) if zone_name else None
    return moment.astimezone(zone) if zone else moment


def show_time(moment):
    """'2026-12-15 23:59:00 UTC+01:00', '2026-12-15 23:59:00 CET (UTC+01:00)', '2026-12-15 22:59:00 UTC'."""
    if moment is None:
        return ''
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    name, offset = moment.tzname() or '', moment.utcoffset()
    sign, seconds = ('-', -offset.total_seconds()) if offset.total_seconds() < 0 else ('+', offset.total_seconds())
    offset_text = f"UTC{sign}{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}" if seconds else 'UTC'
    if name == 'UTC' or not name or name.startswith(('UTC+', 'UTC-')):
        zone = offset_text                  # UTC, or an offset as given: UTC+01:00
    else:
        zone = f"{name} ({offset_text})"    # a named zone: CET (UTC+01:00)
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S')} {zone}"


# -- where the database is -------------------------------------------------------------------------
def sqlite_file(url):
    """The file of a sqlite URL (absolute), None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(f"--db {url!r}: not a database URL; expected sqlite:///FILE or "
                            f"postgresql+psycopg://USER:PASSWORD@HOST/DB") from None
    if not parsed.drivername.startswith('sqlite'):
        return None
    if not parsed.database or parsed.database == ':memory:' or parsed.database.startswith('file:'):
        return None
    return Path(parsed.database).resolve()


def describe(url):
    """The database as a message names it: the absolute file of a SQLite URL, else the URL without password."""
    path = sqlite_file(url)
    return str(path) if path else make_url(url).render_as_string(hide_password=True)


# -- what the database holds -----------------------------------------------------------------------
def section_owners(sections):
    """The assignments whose points tables hold every one of ``sections``."""
    import assignments
    return [name for name in assignments.ASSIGNMENTS
            if set(sections) <= {section.name for section in assignments.get(name).sections}]


def check_assignment(db, assignment, where='this database'):
    """The database's course row (None when none is recorded yet), after checking that it grades
    ``assignment``.  A database from before the course table is judged by the sections it has
    results and jobs for.  Raises CourseError otherwise."""
    import assignments
    course = db.get(Course, 1)
    if course is not None:
        if course.assignment != assignment:
            raise CourseError(f"{where} holds a course of the '{course.assignment}' assignment, not '{assignment}': "
                              f"run with --assignment {course.assignment}, or give --db another database for "
                              f"'{assignment}'")
        return course
    used = set(db.scalars(select(Result.section).distinct()).all())
    for sections in db.scalars(select(Job.sections)).all():
        used.update(sections or ())
    own = {section.name for section in assignments.get(assignment).sections}
    if used - own:
        owners = [name for name in section_owners(used) if name != assignment]
        raise CourseError(f"{where} holds results of sections that '{assignment}' does not have "
                          f"({', '.join(sorted(used - own)[:5])})"
                          + (f": it is a course of '{owners[0]}'; run with --assignment {owners[0]}" if owners else '')
                          + f", or give --db another database for '{assignment}'")
    return None


def info(course, assignment):
    if course is None:
        return CourseInfo(assignment, None, None)
    return CourseInfo(course.assignment, course_deadline(course.deadline, course.timezone), course.timezone,
                      course.show_before_deadline or SHOW_BEFORE_DEADLINE,
                      course.show_after_deadline or SHOW_AFTER_DEADLINE)


def claim(sessions, assignment, where, deadline=None, zone_name=None, show_before=None, show_after=None):
    """Record (first start) or check the course of this database; ``deadline`` (text, or NO_DEADLINE),
    ``zone_name`` and the visibility levels replace the stored ones when given (the levels are checked
    together with the stored one they are paired with).  Returns the CourseInfo."""
    for attempt in range(2):
        try:
            with sessions.begin() as db:
                course = check_assignment(db, assignment, where)
                if course is None:
                    course = Course(id=1, assignment=assignment)
                    db.add(course)
                if zone_name is not None:
                    parse_timezone(zone_name)
                    course.timezone = zone_name
                if deadline is not None:
                    course.deadline = None if deadline.strip().lower() == NO_DEADLINE else \
                        parse_deadline(deadline, course.timezone).isoformat()
                if show_before is not None or show_after is not None:
                    course.show_before_deadline, course.show_after_deadline = check_visibility(
                        show_before or course.show_before_deadline or SHOW_BEFORE_DEADLINE,
                        show_after or course.show_after_deadline or SHOW_AFTER_DEADLINE)
                db.flush()
                return info(course, assignment)
        except IntegrityError:  # another process recorded it first: check theirs
            if attempt:
                raise
    raise AssertionError('unreachable')


def open_course(url, assignment, create=False, deadline=None, zone_name=None, show_before=None, show_after=None):
    """(sessionmaker, CourseInfo, created) for the course database at ``url``.

    ``create``: a missing SQLite file is made (0600, only its owner can read students' code) and the
    course recorded (serve, roster import).  Otherwise the database must exist and hold a course of
    ``assignment`` (gradebook, roster token); a missing one is refused, naming the path looked at."""
    from service.db import make_engine, migrate, session_factory
    from grader.private_files import create_private_file
    where = describe(url)
    path = sqlite_file(url)
    created = False
    if path is not None:
        if not path.is_file() or path.stat().st_size == 0:
            if not create:
                raise CourseError(f"no course database at {where} (--db {url}): run this command in the folder "
                                  f"where `serve` runs, or give --db sqlite:////ABSOLUTE/PATH/checker.sqlite3")
            if not path.parent.is_dir():
                raise CourseError(f"--db {url}: the folder {path.parent} does not exist")
            created = create_private_file(path) or path.stat().st_size == 0
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    except OperationalError as error:
        engine.dispose()
        raise CourseError(f"cannot open {where}: {str(error.orig or error).strip().splitlines()[0]}") from None
    if not create and 'people' not in tables:
        engine.dispose()
        raise CourseError(f"{where} is not a checker database (no tables): give --db the database `serve` uses")
    migrate(engine)
    sessions = session_factory(engine)
    if create:
        return sessions, claim(sessions, assignment, where, deadline, zone_name, show_before, show_after), created
    with sessions() as db:
        course = check_assignment(db, assignment, where)
        if course is None and db.scalar(select(Person.id).limit(1)) is None:
            raise CourseError(f"{where} holds no course (never started by `serve` or `roster import`): give --db "
                              f"the database `serve` uses")
        return sessions, info(course, assignment), False
