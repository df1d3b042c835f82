"""``./run.py unittest``: load a solution.py, run sections, print a verdict per case and the points."""
import sys
from pathlib import Path

import assignments
from public_tests.framework import run_section

KIT_ROOT = Path(__file__).resolve().parent.parent


def load_solution(path, module_name='solution', assignment=None):
    """Import ``path`` as the module ``module_name``, with ``assignment``'s interface (default: the kit's)."""
    if str(KIT_ROOT) not in sys.path:
        sys.path.insert(0, str(KIT_ROOT))
    return assignments.get(assignment).load(path, module_name)


def section_names(requested, assignment=None):
    """Expand 'all' (every section) and 'units' (the unit sections); reject unknown names."""
    sections = assignments.get(assignment).sections
    by_name = {section.name: section for section in sections}
    names = []
    for name in requested:
        if name == 'all':
            names += [section.name for section in sections]
        elif name == 'units':
            names += [section.name for section in sections if not section.is_gate]
        elif name in by_name:
            names.append(name)
        else:
            valid = ', '.join([section.name for section in sections] + ['units', 'all'])
            raise SystemExit(f"unknown test '{name}'. Valid names: {valid}")
    return list(dict.fromkeys(names))


def run_unit_section(name, solution, assignment=None):
    homework = assignments.get(assignment)
    section = homework.by_name[name]
    print(f"== {section.number} {section.title} ({name}) ==")
    report = run_section(name, solution, homework.cases_module)
    for result in report.results:
        print(f"  {'PASS' if result.passed else 'FAIL'}  {result.name}")
        if not result.passed:
            print('        ' + result.message.replace('\n', '\n        '))
    if not report.passed and homework.teaches:  # the likely mistake and the smallest failing case (feedback.py)
        from public_tests.feedback import print_feedback
        print_feedback(name, solution)
    passed = sum(result.passed for result in report.results)
    points = section.points if report.passed else 0.0
    print(f"  {passed} of {len(report.results)} cases passed: {points:g} / {section.points:g} points\n")
    return points


def run_gate_section(name, solution, data_dir, unverified_ok, assignment=None):
    from data_loaders import DataError
    homework = assignments.get(assignment)
    section = homework.by_name[name]
    print(f"== {section.number} {section.title} ({name}) ==")
    try:
        result = homework.module('gates').run_gate(name, solution, data_dir, unverified_ok)
    except DataError as error:
        print(f"  DATA MISSING  {error}\n  0 / {section.points:g} points\n")
        return 0.0
    print(f"  {'PASS' if result.passed else 'FAIL'}  {result.describe()}")
    points = section.points if result.passed else 0.0
    print(f"  {points:g} / {section.points:g} points\n")
    return points


def unittest_command(names, solution_path, data_dir=None, unverified_ok=None, assignment=None):
    """Returns the exit status: 0 when every requested section scored."""
    homework = assignments.get(assignment)
    names = section_names(names, homework.name)
    solution = load_solution(solution_path, assignment=homework.name)
    scored = 0.0
    for name in names:
        if homework.by_name[name].is_gate:
            points = run_gate_section(name, solution, data_dir, unverified_ok, homework.name)
        else:
            points = run_unit_section(name, solution, homework.name)
        scored += points
    total = sum(homework.by_name[name].points for name in names)
    if len(names) > 1:
        print(f"Total: {scored:g} / {total:g} points")
    return 0 if scored == total else 1
