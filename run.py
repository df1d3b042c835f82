#!/usr/bin/env python3
"""The kit's command line.

  ./run.py unittest NAME [NAME ...]   check sections of ./solution.py (names: ./run.py unittest --help)
  ./run.py train mnist|cifar10        train the solution's model, save curves and sample predictions
"""
import argparse
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(KIT_ROOT))


def add_data_options(parser):
    parser.add_argument('--data-dir', help="folder with mnist/ and cifar10/ (default: $NN_KIT_DATA_DIR, "
                                           "then ~/.cache/numpy-nn-kit, downloading when online)")
    parser.add_argument('--allow-unverified', action='store_true', default=None,
                        help="use local data whose md5 differs from the official files (with a warning)")


def unittest(args):
    from public_tests.runner import unittest_command
    return unittest_command(args.names, args.solution, args.data_dir, args.allow_unverified)


def train(args):
    from public_tests.training_report import train_command
    return train_command(args.dataset, args.solution, args.out, args.data_dir, args.allow_unverified)


# BEGIN INSTRUCTOR
def release(args):
    from instructor.release import write_release
    write_release(KIT_ROOT, Path(args.out_dir))
    print(f"Student kit written to {args.out_dir}")
    return 0


def grade(args):
    from grader.grade import grade_command
    return grade_command(args)


def benchmark(args):
    from instructor.benchmarks import benchmark_command
    return benchmark_command(args)


def add_instructor_commands(commands):
    command = commands.add_parser('release', help="write the student kit (template, public tests, loaders)")
    command.add_argument('out_dir')
    command.set_defaults(handler=release)

    command = commands.add_parser('grade', help="grade uploaded solution.py files in a sandbox")
    command.add_argument('submissions', nargs='+', help="solution.py files (or folders holding one)")
    command.add_argument('--sections', nargs='+', help="only these sections (default: all)")
    command.add_argument('--skip-gates', action='store_true', help="skip the MNIST and CIFAR-10 gates")
    command.add_argument('--json', help="write the results as JSON here (a folder when grading several)")
    command.add_argument('--gradescope', help="write Gradescope's results.json here")
    command.add_argument('--outside-regions', choices=('fail', 'warn'), default='fail',
                         help="edits outside the '# Your code here' regions: fail the section or only warn")
    add_data_options(command)
    command.set_defaults(handler=grade)

    command = commands.add_parser('benchmark', help="measure the reference: gates, convolve speed, grading time")
    command.add_argument('what', nargs='*', default=['convolve', 'grading', 'mnist'],
                         choices=('convolve', 'grading', 'mnist', 'cifar10'))
    command.add_argument('--json', default='benchmarks.json', help="where to write the figures")
    add_data_options(command)
    command.set_defaults(handler=benchmark)
# END INSTRUCTOR


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)

    from public_tests.sections import SECTIONS
    command = commands.add_parser('unittest', help="run the public tests of one or more sections",
                                  description="names: " + ', '.join(s.name for s in SECTIONS) +
                                              ", units (the 12 unit sections), all (everything)")
    command.add_argument('names', nargs='+')
    command.add_argument('--solution', default=str(KIT_ROOT / 'solution.py'))
    add_data_options(command)
    command.set_defaults(handler=unittest)

    command = commands.add_parser('train', help="train a model, save training curves and predictions as PNG")
    command.add_argument('dataset', choices=('mnist', 'cifar10'))
    command.add_argument('--solution', default=str(KIT_ROOT / 'solution.py'))
    command.add_argument('--out', default='.', help="folder for the PNG files")
    add_data_options(command)
    command.set_defaults(handler=train)

    if 'add_instructor_commands' in globals():
        add_instructor_commands(commands)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == '__main__':
    sys.exit(main())
