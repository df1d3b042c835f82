"""``./run.py grade``: one submission (the points table) or a batch through an executor.

    ./run.py grade solution.py [--json report.json] [--gradescope results.json]
    ./run.py grade uploads/ --workers 4 --json reports/ --csv grades.csv [--resume]
    ./run.py grade uploads/ --scheduler tcp://HOST:8786 --json reports/ --csv grades.csv

A batch splits each submission into jobs (the unit sections together, each gate alone), runs them
on a Dask cluster (a local one by default; ``--serial`` grades in this process), writes one JSON per
submission into the ``--json`` folder as soon as its last job is back (``--resume`` skips the
submissions that already have one) and the gradebook CSV at the end.  Losing the scheduler stops
the batch; what was finished stays in the folder.
"""
import concurrent.futures
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import assignments
from grader.course_policy import policy_from_args
from grader.executor import (SchedulerLost, crashed_report, make_executor, merge_reports, report_from_dict,
                             split_jobs)
from grader.gradebook import gradebook_row, student_id, write_csv

EXIT_SCHEDULER_LOST = 3


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


def grade_batch(submissions, names, executor, options, outdir=None, on_report=None, progress=True, reports=None):
    """Grade ``submissions`` (a list of Submission) through ``executor``.

    Returns ``(reports, problem)``: {Submission: report dict} for every one finished (filled in
    as they finish when a dict is given, so an interrupted caller keeps them), and None or
    the message that stopped the batch (the scheduler was lost).  Each report is written to
    ``outdir / STEM.json`` and passed to ``on_report(submission, report)`` as soon as it is complete."""
    from tqdm import tqdm
    jobs, job_of, parts = {}, {}, {}
    reports = {} if reports is None else reports
    bar = tqdm(total=len(submissions), unit='submission', desc='grading', disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    try:
        for submission in submissions:
            for job in split_jobs(submission.label, submission.path.read_bytes(), names, **options):
                future = executor.submit(job)
                jobs[future], job_of[future] = submission, job
            parts[submission] = []
        waiting = set(jobs)
        while waiting:
            done, waiting = concurrent.futures.wait(waiting, timeout=2, return_when='FIRST_COMPLETED')
            for future in done:
                submission = jobs[future]
                try:
                    parts[submission].append(future.result())
                except SchedulerLost:
                    raise
                except Exception as error:  # the executor could not run it: this job's sections crash
                    parts[submission].append(crashed_report(job_of[future], f"could not be graded: "
                                                                            f"{type(error).__name__}: {error}"[:500]))
                if len(parts[submission]) < sum(owner is submission for owner in jobs.values()):
                    continue
                report = merge_reports(parts[submission], names)
                report['student_id'] = submission.student
                reports[submission] = report
                if outdir is not None:
                    write_report(report, Path(outdir) / f"{submission.stem}.json")
                if on_report:
                    on_report(submission, report)
                bar.update(1)
            if not done and hasattr(executor, 'check'):
                executor.check()
        return reports, None
    except SchedulerLost as error:
        return reports, str(error)
    finally:
        bar.close()


def summary_line(submission, report):
    from grader.gradebook import short_verdicts
    return f"{submission.student:<24} {report['total']:g}/{report['max_total']:g}  {short_verdicts(report)}"


def choose_executor(args, batch):
    if args.scheduler:
        try:
            return make_executor(args.scheduler)
        except SchedulerLost as error:
            raise SystemExit(str(error)) from None
    if args.serial or not batch:
        return make_executor('serial')
    return make_executor('local', workers=args.workers)


def grade_command(args):
    from grader.report import print_report, write_gradescope
    from public_tests.runner import section_names
    from tqdm import tqdm
    names = section_names(args.sections or ['all'], args.assignment)
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
                    and [section['name'] for section in r['sections']] == names}  # other sections: grade again
            print(f"--resume: {len(done)} of {len(submissions)} submissions already graded in {outdir}")
    todo = [submission for submission in submissions if submission not in done]

    options = {'data_dir': args.data_dir, 'unverified_ok': args.allow_unverified, 'skip_gates': args.skip_gates,
               'policy_options': {'policy': policy_from_args(args).as_dict()}, 'assignment': args.assignment}
    executor = choose_executor(args, batch) if todo else None
    if executor is not None and batch:
        print(f"Grading {len(todo)} submission(s) on {executor.describe()}", file=sys.stderr)
        if any(assignments.get(args.assignment).by_name[name].is_gate for name in names) and not args.skip_gates \
                and hasattr(executor, 'gate_workers') and not executor.gate_workers():
            executor.close()
            raise SystemExit("no worker offers the 'gate' resource: start some with "
                             "`dask worker ... --resources gate=1`, or use --skip-gates")
    on_report = (lambda s, r: print_report(report_from_dict(r))) if not batch else \
        (lambda s, r: tqdm.write(summary_line(s, r)))
    reports, problem = {}, None
    try:
        if todo:
            reports, problem = grade_batch(todo, names, executor, options, outdir, on_report, batch, reports)
    except KeyboardInterrupt:
        problem = "interrupted"
    finally:
        if executor is not None:
            executor.close()
    reports.update(done)
    ordered = [reports[s] for s in submissions if s in reports]

    if json_file and ordered:
        with open(json_file, 'w') as file:
            json.dump(ordered[0] if len(submissions) == 1 else ordered, file, indent=2)
    if args.gradescope and ordered:
        write_gradescope(report_from_dict(ordered[0]), args.gradescope)
    if args.csv:
        write_csv([gradebook_row(r['student_id'] if 'student_id' in r else s.student, r)
                   for s in submissions if (r := reports.get(s)) is not None], args.csv, args.assignment)
    if batch:
        print(f"{len(ordered)} of {len(submissions)} submissions graded"
              + (f"; reports in {outdir}" if outdir else '') + (f"; gradebook {args.csv}" if args.csv else ''))
    if problem:
        print(f"Stopped: {problem}. The {len(ordered)} finished report(s) are kept"
              + (f"; run the same command with --resume to grade the other {len(submissions) - len(ordered)}."
                 if outdir else '.'), file=sys.stderr)
        return EXIT_SCHEDULER_LOST
    return 0
