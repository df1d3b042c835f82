#!/usr/bin/env python3
"""The kit's command line (the examples below are the chosen assignment's: see ``usage``)."""
import argparse
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(KIT_ROOT))


DATA_FOLDERS = 'mnist/ and cifar10/'  # the chosen assignment's datasets (main sets it)


def use_the_kits_environment():
    """Without numpy or torch in this Python, run again with the kit's .venv/bin/python (beside run.py);
    without one, say in one line how to make it (exit status 2)."""
    import importlib.util
    import os
    if all(importlib.util.find_spec(name) is not None for name in ('numpy', 'torch')):
        return
    python = KIT_ROOT / '.venv' / 'bin' / 'python'
    if python.is_file() and os.environ.get('NN_KIT_REEXEC') != '1':  # the variable: never twice
        os.environ['NN_KIT_REEXEC'] = '1'
        os.execv(str(python), [str(python), str(KIT_ROOT / 'run.py'), *sys.argv[1:]])
    print(f"{sys.executable} has no numpy or torch; set up the kit's environment in {KIT_ROOT}: "
          f"python3 -m venv .venv && .venv/bin/pip install -r requirements.txt", file=sys.stderr)
    sys.exit(2)


def usage(assignment):
    """The examples of ``./run.py --help``: the chosen assignment's commands, and (in the instructor's
    repository) how to reach the others; a student kit holds one assignment and names only it."""
    import assignments
    unit = assignment.unit_sections[0].name
    lines = [f"  ./run.py unittest NAME [NAME ...]   check sections of ./solution.py, e.g. {unit} "
             f"(names: ./run.py unittest --help)",
             "  ./run.py train [...]                train the solution's model, save plots (./run.py train --help)"]
    for other in assignments.ASSIGNMENTS.values():
        if other.name != assignment.name:
            lines.append(f"  ./run.py --assignment {other.name} unittest {other.unit_sections[0].name}   "
                         f"the same for '{other.title}'")
    return f"The kit's command line: {assignment.title}.\n\n" + '\n'.join(lines)


def add_data_options(parser):
    parser.add_argument('--data-dir', help=f"folder with {DATA_FOLDERS} (default: $NN_KIT_DATA_DIR, "
                                           "then ~/.cache/numpy-nn-kit, downloading when online)")
    parser.add_argument('--allow-unverified', action='store_true', default=None,
                        help="use local data whose md5 differs from the official files (with a warning)")


def unittest(args):
    from public_tests.runner import unittest_command
    return unittest_command(args.names, args.solution, args.data_dir, args.allow_unverified, args.assignment)


def train(args):
    import assignments
    from public_tests.runner import exit_on_syntax_error
    exit_on_syntax_error(args.solution)  # the student's line and a caret, nothing of the kit
    return assignments.get(args.assignment).module('training').train(args)


# BEGIN INSTRUCTOR
def release(args):
    from instructor.release import write_release
    write_release(KIT_ROOT, Path(args.out_dir), args.assignment)
    print(f"Student kit of '{args.assignment}' written to {args.out_dir}")
    return 0


def grade(args):
    from grader.batch import grade_command
    from grader.private_files import private_umask
    from grader.sandbox import require_sandbox
    require_sandbox(args)
    with private_umask():  # the reports and the CSV hold students' code and grades: 0600, folders 0700
        return grade_command(args)


def gradescope_package(args):
    from instructor.gradescope import gradescope_package_command
    return gradescope_package_command(args)


def similarity(args):
    from instructor.similarity import similarity_command
    return similarity_command(args)


def benchmark(args):
    from instructor.benchmarks import benchmark_command
    return benchmark_command(args)


def add_instructor_commands(commands):
    from grader.course_policy import add_policy_options
    from grader.sandbox import add_sandbox_options
    command = commands.add_parser('release', help="write the student kit (template, public tests, loaders)")
    command.add_argument('out_dir')
    command.set_defaults(handler=release)

    command = commands.add_parser('grade', help="grade uploaded solution.py files in a sandbox")
    command.add_argument('submissions', nargs='+', help="solution.py files (or folders holding one)")
    command.add_argument('--sections', nargs='+', help="only these sections (default: all)")
    command.add_argument('--skip-gates', action='store_true', help="skip the MNIST and CIFAR-10 gates")
    command.add_argument('--json', help="write the results as JSON: a FILE.json (one report, or a list), or a "
                                        "folder (one JSON per submission, written as each finishes)")
    command.add_argument('--csv', help="write a gradebook CSV here (student id, points per section, total)")
    command.add_argument('--resume', action='store_true',
                         help="skip the submissions that already have a graded report in the --json folder (the "
                              "way on after a stop, a Ctrl-C or submissions marked 'not graded')")
    command.add_argument('--workers', metavar='N', help="local Dask worker processes, at least 1 (default: one per "
                                                         "core; a batch of several submissions always uses Dask)")
    command.add_argument('--scheduler', help="grade on an existing Dask cluster, e.g. tcp://HOST:8786")
    command.add_argument('--serial', action='store_true', help="grade in this process, one job after another")
    command.add_argument('--gradescope', help="write Gradescope's results.json here")
    add_sandbox_options(command)
    add_policy_options(command)
    add_data_options(command)
    command.set_defaults(handler=grade)

    command = commands.add_parser('benchmark', help="measure the reference: gates, convolve speed, grading time")
    command.add_argument('what', nargs='*', default=['convolve', 'grading', 'mnist'],
                         help="grading, loaded, kit-install, deadline, and each assignment's own (instructor/benchmarks.py)")
    command.add_argument('--json', default='benchmarks.json', help="where to write the figures")
    command.add_argument('--submissions', type=int, default=40, help="scale: how many submissions to grade")
    command.add_argument('--workers', type=int, default=2, help="scale: local Dask workers to compare with serial; "
                                                                "deadline: grading workers")
    add_data_options(command)
    command.set_defaults(handler=benchmark)

    command = commands.add_parser('gradescope-package', help="write a Gradescope autograder zip")
    command.add_argument('out_zip')
    command.add_argument('--data', choices=('bake', 'download'), default='download',
                         help="bake the data folder into the zip, or download it in setup.sh (default)")
    add_data_options(command)
    command.set_defaults(handler=gradescope_package)

    command = commands.add_parser('similarity', help="pairwise similarity of submissions, as an HTML report")
    command.add_argument('submissions', help="folder of submissions (every .py in it)")
    command.add_argument('--known', help="folder of known solutions (past years, public repositories)")
    command.add_argument('--html', default='similarity.html', help="where to write the report")
    command.add_argument('--top', type=int, default=30, help="how many pairs to show")
    command.add_argument('--template', nargs='+', help="more boilerplate files to remove (an older template, say)")
    command.set_defaults(handler=similarity)

    from service.cli import add_service_commands  # serve, roster, gradebook: the upload checker
    add_service_commands(commands, add_data_options)
# END INSTRUCTOR


def submit_token(args):
    """The personal token: --token-file (its first line that is not a comment; a login link does too),
    else --token (shown by ps and kept in shell history: a warning says so), else $NN_KIT_TOKEN."""
    import os
    if args.token_file:
        try:
            lines = [line.strip() for line in Path(args.token_file).read_text().splitlines()]
        except OSError as error:
            raise SystemExit(f"submit: cannot read --token-file {args.token_file}: {error.strerror}")
        token = next((line for line in lines if line and not line.startswith('#')), '')
    elif args.token:
        print("warning: --token shows your token to other users of this machine (ps) and keeps it in your shell "
              "history; use --token-file FILE or the NN_KIT_TOKEN environment variable", file=sys.stderr)
        token = args.token
    else:
        token = os.environ.get('NN_KIT_TOKEN', '')
    if not token.strip():
        raise SystemExit("submit: give your token with --token-file FILE or the NN_KIT_TOKEN environment variable")
    return token.strip().rsplit('#token=', 1)[-1]


def submit(args):
    """Upload a solution.py to the course's checker (standard library only: works in the student kit)."""
    import json
    import urllib.error
    import urllib.request
    import uuid
    path = Path(args.file)
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f'Content-Type: text/x-python\r\n\r\n').encode() + path.read_bytes() + f'\r\n--{boundary}--\r\n'.encode()
    server = args.server.rstrip('/')
    request = urllib.request.Request(f'{server}/api/submissions', data=body, method='POST', headers={
        'Authorization': f'Bearer {submit_token(args)}', 'Content-Type': f'multipart/form-data; boundary={boundary}'})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            created = json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors='replace')
        try:
            detail = json.loads(detail).get('detail', detail)
        except ValueError:
            pass
        print(f"Not accepted ({error.code}): {detail}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"Cannot reach {server}: {error.reason}", file=sys.stderr)
        return 1
    position = created.get('queue_position')
    print(f"Submission {created['id']} stored (sha256 {created['sha256'][:12]}...)"
          + (f", position {position} in the queue" if position else '') + f".\nReport: {server}{created['url']}")
    return 0


def main(argv=None):
    import assignments
    chosen = argparse.ArgumentParser(add_help=False)
    chosen.add_argument('--assignment', choices=tuple(assignments.ASSIGNMENTS), default=assignments.DEFAULT)
    assignment = assignments.get(chosen.parse_known_args(argv)[0].assignment)

    global DATA_FOLDERS
    DATA_FOLDERS = ' and '.join(f"{name}/" for name in assignment.datasets)
    parser = argparse.ArgumentParser(description=usage(assignment), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--assignment', choices=tuple(assignments.ASSIGNMENTS), default=assignment.name,
                        help=f"the assignment (default: {assignments.DEFAULT})")
    commands = parser.add_subparsers(dest='command', required=True)

    command = commands.add_parser('unittest', help="run the public tests of one or more sections",
                                  description="names: " + ', '.join(s.name for s in assignment.sections) +
                                              f", units (the {len(assignment.unit_sections)} unit sections), "
                                              "all (everything)")
    command.add_argument('names', nargs='+')
    command.add_argument('--solution', default=str(assignment.reference_path))
    add_data_options(command)
    command.set_defaults(handler=unittest)

    command = commands.add_parser('train', help="train a model, save training curves and pictures as PNG")
    assignment.module('training').add_train_arguments(command)
    command.add_argument('--solution', default=str(assignment.reference_path))
    command.add_argument('--out', default='.', help="folder for the PNG files")
    add_data_options(command)
    command.set_defaults(handler=train)

    command = commands.add_parser('submit', help="upload solution.py to the course's checker")
    command.add_argument('file', nargs='?', default='solution.py')
    command.add_argument('--server', required=True, help="the checker's address, e.g. https://checker.example.edu")
    command.add_argument('--token-file', help="a file holding your personal token (from your login link)")
    command.add_argument('--token', help="your token on the command line (visible to others: prefer --token-file "
                                         "or the NN_KIT_TOKEN environment variable)")
    command.set_defaults(handler=submit)

    if 'add_instructor_commands' in globals():
        add_instructor_commands(commands)

    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:  # a wrong setting (course.toml, --deadline, --db, ...): one line, exit status 2
        if not getattr(error, 'one_line', False):
            raise
        parser.exit(2, f"{parser.prog} {args.command}: error: {error}\n")


if __name__ == '__main__':
    use_the_kits_environment()
    sys.exit(main())
