"""Grading reports: the points table on the terminal, JSON, and Gradescope's results.json."""
import json

from grader.private_files import open_private

NOT_GRADED = ('skipped', 'data missing')  # gates that were not run: no points, and not a failure either
VERDICT_MARK = {'passed': 'ok', 'skipped': '--', 'data missing': '--'}


def print_report(report):
    print(f"\nGrading {report.submission}")
    titles = [f"{verdict.section.number} {verdict.section.title}" for verdict in report.sections]
    width = max([22] + [len(title) + 2 for title in titles])
    print(f"  {'section':<{width}}{'verdict':<18}{'points':>10}  reason")
    for title, verdict in zip(titles, report.sections):
        points = f"{verdict.points:g}/{verdict.section.points:g}"
        print(f"  {title:<{width}}{verdict.verdict:<18}{points:>10}  "
              f"{verdict.reason.splitlines()[0] if verdict.reason else ''}")
        for line in verdict.reason.splitlines()[1:]:
            print(f"  {'':<{width + 28}}  {line}")
        for warning in verdict.warnings:
            print(f"  {'':<{width + 28}}  warning: {warning}")
    print(f"  Total: {report.total:g} / {report.max_total:g}")
    skipped = [v.name for v in report.sections if v.verdict == 'skipped']
    if skipped:
        print(f"  Not graded: {', '.join(skipped)} (gates skipped)")
    no_data = [v for v in report.sections if v.verdict == 'data missing']
    if no_data:
        print(f"  {sum(v.section.points for v in no_data):g} point(s) missing only because this machine lacks the "
              f"official data of {', '.join(v.name for v in no_data)}, not because of the solution: give --data-dir "
              f"DIR (or go online to download it); a local copy that is not the official file needs "
              f"--allow-unverified")
    if report.isolation:
        print(f"  Sandbox: {'; '.join(report.isolation)}")


def as_dict(report):
    return {
        'submission': report.submission, 'assignment': report.assignment, 'total': report.total,
        'max_total': report.max_total,
        'isolation': report.isolation,
        'sections': [{'name': v.name, 'number': v.section.number, 'title': v.section.title, 'verdict': v.verdict,
                      'points': v.points, 'max_points': v.section.points, 'reason': v.reason,
                      'seconds': round(v.seconds, 3), 'warnings': v.warnings,
                      'findings': v.findings, 'diagnosis': v.diagnosis, 'smallest_case': v.smallest_case} for v in report.sections],
    }


def write_json(reports, path):
    content = as_dict(reports[0]) if len(reports) == 1 else [as_dict(report) for report in reports]
    with open_private(path) as file:
        json.dump(content, file, indent=2)


def write_gradescope(report, path):
    """Gradescope's autograder results format (one test per section).  Gradescope knows only passed and
    failed tests: a gate that was not run (skipped, data missing) is left out of the tests and named,
    with its reason, in the overall output, so that it never shows as the student's failure."""
    tests = [{'name': f"{v.section.number} {v.section.title}", 'score': v.points, 'max_score': v.section.points,
              'status': 'passed' if v.verdict == 'passed' else 'failed',
              'output': f"{v.verdict}: {v.reason}" + ''.join(f"\nwarning: {w}" for w in v.warnings),
              'visibility': 'visible'} for v in report.sections if v.verdict not in NOT_GRADED]
    not_graded = [f"Not graded ({v.verdict}): {v.section.number} {v.section.title}: "
                  f"{v.reason.splitlines()[0] if v.reason else v.verdict}"
                  for v in report.sections if v.verdict in NOT_GRADED]
    with open_private(path) as file:
        json.dump({'score': report.total, 'tests': tests,
                   'output': '\n'.join(not_graded + [f"Sandbox: {'; '.join(report.isolation)}"])}, file, indent=2)
