"""``./run.py grade``: one submission (the points table) or a batch through an executor.

    ./run.py grade solution.py [--json report.json] [--gradescope results.json]
    ./run.py grade uploads/ --workers 4 --json reports/ --csv grades.csv [--resume]
    ./run.py grade uploads/ --scheduler tcp://HOST:8786 --json reports/ --csv grades.csv

A batch splits each submission into jobs (the unit sections together, each gate alone), runs them
on a Dask cluster (a local one by default; ``--serial`` grades in this process), writes one JSON per
submission into the ``--json`` folder as soon as its last job is back (``--resume`` skips the
submissions that already have a graded one) and the gradebook CSV at the end.

A job we could not run -- a cluster that differs from this machine, a worker that cannot import the
kit, a sandbox that cannot start, a worker lost on every try, a bug of ours -- is *not graded*
(``grader.infrastructure``): its JSON and CSV row say 'not graded: REASON', never 0 points.  A
failure that would hit every job (and losing the scheduler) stops the batch.  Whenever some
submission is not graded, or the batch is interrupted (Ctrl-C: one line, no traceback), the
gradebook goes to ``GRADES.partial.csv`` instead of ``GRADES.csv``; ``--resume`` grades what is
missing and writes ``GRADES.csv`` once every submission is graded.

Exit status: 0 every submission graded, 2 bad options, 3 the scheduler was lost, 4 some submission
not graded, 130 interrupted.
"""
import concurrent.futures
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import assignments
from grader.course_policy import policy_from_args
from grader.executor import (SchedulerLost, sigint_ignored, is_graded, make_executor, merge_reports,
                             not_graded_report, report_from_dict, split_jobs)
from grader.gradebook_csv import gradebook_row, student_id, write_csv
from grader.infrastructure import InfrastructureError

EXIT_USAGE = 2
EXIT_SCHEDULER_LOST = 3
EXIT_NOT_GRADED = 4
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Submission:
    path: Path
    student: str      # from the file or folder name
    stem: str         # its JSON file in the output folder: STEM.json

    @property
    def label(self):
        return str(self.path)


def find_submissions(arguments):
    """Submissions in the given files and folders (every .py in a folder, sorted)."""
    from grader.grade import submissions_in
    found = []
    for argument in map(Path, arguments):
        root = argument if argument.is_dir() else argument.parent
        for path in submissions_in([argument]):
            relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
            found.append(Submission(path, student_id(path, root), '__'.join(relative.with_suffix('').parts)))
    stems = [submission.stem for submission in found]
    clashes = sorted({stem for stem in stems if stems.count(stem) > 1})
    if clashes:
        raise SystemExit(f"several submissions would share a report name: {', '.join(clashes)}")
    return found


def read_report(path):
    """A report dict written by an earlier run, or None when the file is missing or damaged."""
    try:
        report = json.loads(Path(path).read_text())
        return report if isinstance(report, dict) and 'sections' in report else None
    except (OSError, ValueError):
        return None


def write_report(report, path):
    """Write atomically: an interrupted batch never leaves half a JSON that --resume would trust."""
    temporary = Path(f"{path}.partial")
    temporary.write_text(json.dumps(report, indent=2))
    os.replace(temporary, path)


class sigint_deferred:
    """Hold SIGINT (Ctrl-C) back for a moment: the previous handler gets it on the way out."""

    def __enter__(self):
        self.previous, self.caught = None, False
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._catch)
        return self

    def _catch(self, number, frame):
        self.caught = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            if self.caught and callable(self.previous):
                self.previous(signal.SIGINT, None)  # Python's default handler: KeyboardInterrupt


def grade_batch(submissions, names, executor, options, outdir=None, on_report=None, progress=True, reports=None):
    """Grade ``submissions`` (a list of Submission) through ``executor``.

    Returns ``(reports, stop)``: {Submission: report dict} for every one finished (filled in as they
    finish when a dict is given, so an interrupted caller keeps them), and None or the
    InfrastructureError that stopped the batch (SchedulerLost: the scheduler was lost).  A job the
    executor could not run gives a report that is not graded (``executor.is_graded``); when the
    batch stops, every submission it did not finish gets one too.  Each report is written to
    ``outdir / STEM.json`` and passed to ``on_report(submission, report)`` as soon as it is complete."""
    from tqdm import tqdm
    owner, parts, expected, pending = {}, {}, {}, set()
    reports = {} if reports is None else reports
    stop = None
    assignment = options.get('assignment')
    bar = tqdm(total=len(submissions), unit='submission', desc='grading', disable=not progress, file=sys.stderr,
               dynamic_ncols=True)

    def record(submission, report, announce=True):
        with sigint_deferred():  # Ctrl-C: after the report is both written and counted, never between
            report['student_id'] = submission.student
            if outdir is not None:
                write_report(report, Path(outdir) / f"{submission.stem}.json")
            reports[submission] = report
            if on_report and announce:
                on_report(submission, report)
            bar.update(1)

    def collect(future):
        nonlocal stop
        submission, job = owner[future]
        try:
            part = future.result()
        except Exception as error:  # ours, never the submission's: not graded
            if not isinstance(error, InfrastructureError):
                error = InfrastructureError(f"the executor could not run the job "
                                            f"({type(error).__name__}: {error})"[:500])
            part = not_graded_report(job.label, job.sections, str(error), job.assignment)
            if error.stops_batch and stop is None:
                stop = error
        parts[submission].append(part)
        if len(parts[submission]) == expected[submission]:
            record(submission, merge_reports(parts[submission], names))

    try:
        try:
            for submission in submissions:
                jobs = split_jobs(submission.label, submission.path.read_bytes(), names, **options)
                expected[submission], parts[submission] = len(jobs), []
                for job in jobs:
                    future = executor.submit(job)
                    owner[future] = (submission, job)
                    if future.done():  # the serial executor: run already
                        collect(future)
                    else:
                        pending.add(future)
                    if stop is not None:
                        break
                if stop is not None:
                    break
            while pending and stop is None:
                done, pending = concurrent.futures.wait(pending, timeout=2, return_when='FIRST_COMPLETED')
                for future in done:
                    collect(future)
                if not done and hasattr(executor, 'check'):
                    executor.check()
        except SchedulerLost as error:
            stop = error
        if stop is not None:  # what did not finish is not graded, for the reason that stopped the batch
            for submission in submissions:
                if submission not in reports:
                    got = parts.get(submission, [])
                    graded = {section['name'] for part in got for section in part['sections']}
                    missing = [name for name in names if name not in graded]
                    left = [not_graded_report(submission.label, missing, str(stop), assignment)] if missing else []
                    record(submission, merge_reports(got + left, names), announce=False)
        return reports, stop
    finally:
        bar.close()


def summary_line(submission, report):
    from grader.gradebook_csv import short_verdicts
    if not is_graded(report):
        return f"{submission.student:<24} not graded: {report.get('not_graded', '')}"
    return f"{submission.student:<24} {report['total']:g}/{report['max_total']:g}  {short_verdicts(report)}"


def csv_row(student, report):
    """The gradebook row of a report; one that is not graded says so instead of holding points."""
    if is_graded(report):
        return gradebook_row(student, report)
    row = {'student_id': student, 'submission': report['submission']}
    row.update({s['name']: 'not graded' if s['points'] is None else f"{s['points']:g}" for s in report['sections']})
    row.update({'total': 'not graded', 'max_total': f"{report['max_total']:g}",
                'verdicts': f"not graded: {report.get('not_graded', '')}"})
    return row


def partial_path(path):
    """grades.csv -> grades.partial.csv: the gradebook of a batch that did not grade everything."""
    path = Path(path)
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def worker_count(value):
    """The number of local workers from --workers, or a one-line complaint (ValueError)."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = None
    if count is None or count < 1:
        raise ValueError(f"--workers {value}: give the number of local worker processes, a whole number of at least 1")
    return count


def usage_problem(args):
    """One line saying what is wrong with the options, or None."""
    if args.workers is not None:
        try:
            args.workers = worker_count(args.workers)
        except ValueError as error:
            return str(error)
        if args.scheduler or args.serial:
            return (f"--workers sets the size of a local Dask cluster: it makes no sense with "
                    f"{'--scheduler' if args.scheduler else '--serial'}")
    if args.scheduler and args.serial:
        return "--scheduler and --serial: choose one"
    return None


def choose_executor(args, batch):
    if args.scheduler:
        return make_executor(args.scheduler)
    if args.serial or not batch:
        return make_executor('serial')
    return make_executor('local', workers=args.workers)


def grade_command(args):
    from grader.report import print_report
    from tqdm import tqdm
    problem = usage_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    names = assignments.get(args.assignment).section_names(args.sections or ['all'])
    submissions = find_submissions(args.submissions)
    if not submissions:
        raise SystemExit("no .py files found in " + ' '.join(args.submissions))
    json_file = args.json if args.json and args.json.endswith('.json') else None
    outdir = Path(args.json) if args.json and not json_file else None
    batch = len(submissions) > 1 or bool(args.workers or args.scheduler or outdir or args.csv)
    if args.gradescope and len(submissions) > 1:
        raise SystemExit("--gradescope writes one submission's results.json: give one file")
    if args.resume and outdir is None:
        raise SystemExit("--resume needs --json FOLDER (the reports of the earlier run)")

    done = {}
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
        if args.resume:
            done = {s: r for s in submissions if (r := read_report(outdir / f"{s.stem}.json")) is not None
                    and is_graded(r) and [section['name'] for section in r['sections']] == names}
            print(f"--resume: {len(done)} of {len(submissions)} submissions already graded in {outdir}")
    todo = [submission for submission in submissions if submission not in done]

    options = {'data_dir': args.data_dir, 'unverified_ok': args.allow_unverified, 'skip_gates': args.skip_gates,
               'policy_options': {'policy': policy_from_args(args).as_dict()}, 'assignment': args.assignment}

    def on_report(submission, report):
        if batch:
            tqdm.write(summary_line(submission, report))
        elif is_graded(report):
            print_report(report_from_dict(report))

    executor, reports, stop, interrupted = None, {}, None, False
    try:
        if todo:
            executor = choose_executor(args, batch)
            if batch:
                print(f"Grading {len(todo)} submission(s) on {executor.describe()}", file=sys.stderr)
                if any(assignments.get(args.assignment).by_name[name].is_gate for name in names) \
                        and not args.skip_gates and hasattr(executor, 'gate_workers') and not executor.gate_workers():
                    raise SystemExit("no worker offers the 'gate' resource: start some with "
                                     "`dask worker ... --resources gate=1`, or use --skip-gates")
            reports, stop = grade_batch(todo, names, executor, options, outdir, on_report, batch, reports)
    except KeyboardInterrupt:
        interrupted = True
    except InfrastructureError as error:  # the cluster was refused (or not reached) before any job ran
        stop = error
        for submission in todo:
            report = not_graded_report(submission.label, names, str(error), args.assignment)
            report['student_id'] = submission.student
            reports[submission] = report
            if outdir is not None:
                write_report(report, outdir / f"{submission.stem}.json")
    finally:
        if executor is not None:
            with sigint_ignored():
                executor.close()
    reports.update(done)
    with sigint_ignored():  # a second Ctrl-C does not cut the gradebook short
        return finish(args, submissions, reports, outdir, json_file, batch, stop, interrupted)


def finish(args, submissions, reports, outdir, json_file, batch, stop, interrupted):
    """Write the JSON file, Gradescope's file and the gradebook; say how it went; the exit status."""
    from grader.report import write_gradescope
    finished = [s for s in submissions if s in reports]
    graded = [s for s in finished if is_graded(reports[s])]
    not_graded = [s for s in finished if s not in graded]
    complete = len(graded) == len(submissions)
    ordered = [reports[s] for s in finished]
    if json_file and ordered:
        with open(json_file, 'w') as file:
            json.dump(ordered[0] if len(submissions) == 1 else ordered, file, indent=2)
    if args.gradescope and graded:  # never a results.json (a score) for a submission that was not graded
        write_gradescope(report_from_dict(reports[graded[0]]), args.gradescope)
    gradebook = None
    if args.csv:
        gradebook = Path(args.csv) if complete else partial_path(args.csv)
        write_csv([csv_row(reports[s].get('student_id', s.student), reports[s]) for s in finished], gradebook,
                  args.assignment)
        if complete and partial_path(args.csv).exists():
            partial_path(args.csv).unlink()  # an earlier run's partial gradebook: superseded
    where = (f"; reports in {outdir}" if outdir else '') + \
        (f"; {'' if complete else 'partial '}gradebook {gradebook}" if gradebook else '')
    left = len(submissions) - len(graded)
    resume = (f"run the same command with --resume to grade the other {left}" if outdir else
              "run the same command again to grade them")
    if interrupted:
        print(f"Interrupted: {len(graded)} of {len(submissions)} submissions graded{where}; {resume}.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if batch:
        print(f"{len(graded)} of {len(submissions)} submissions graded"
              + (f", {len(not_graded)} not graded" if not_graded else '') + where)
    if stop is not None:
        print(f"Stopped: {stop}\nNothing was recorded for the {left} submission(s) not graded (they read "
              f"'not graded', never 0 points); fix that, then {resume}.", file=sys.stderr)
        return EXIT_SCHEDULER_LOST if isinstance(stop, SchedulerLost) else EXIT_NOT_GRADED
    if not_graded:
        for submission in not_graded[:10]:
            print(f"Not graded: {submission.label}: {reports[submission].get('not_graded', '')}", file=sys.stderr)
        print(f"{len(not_graded)} submission(s) not graded (nothing recorded for them, never 0 points); {resume}.",
              file=sys.stderr)
        return EXIT_NOT_GRADED
    return 0
