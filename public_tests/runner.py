"""``./run.py unittest``: load a solution.py, run sections, print a verdict per case and the points."""
import importlib.util
import sys
from pathlib import Path

from public_tests.framework import run_section
from public_tests.sections import BY_NAME, SECTIONS

KIT_ROOT = Path(__file__).resolve().parent.parent


def load_solution(path, module_name='solution'):
    """Import ``path`` as the module ``module_name`` (next to the kit's interface.py)."""
    path = Path(path).resolve()
    if str(KIT_ROOT) not in sys.path:
        sys.path.insert(0, str(KIT_ROOT))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def section_names(requested):
    """Expand 'all' (every section) and 'units' (the twelve unit sections); reject unknown names."""
    names = []
    for name in requested:
        if name == 'all':
            names += [section.name for section in SECTIONS]
        elif name == 'units':
            names += [section.name for section in SECTIONS if not section.is_gate]
        elif name in BY_NAME:
            names.append(name)
        else:
            valid = ', '.join([section.name for section in SECTIONS] + ['units', 'all'])
            raise SystemExit(f"unknown test '{name}'. Valid names: {valid}")
    return list(dict.fromkeys(names))


def run_unit_section(name, solution):
    section = BY_NAME[name]
    print(f"== {section.number} {section.title} ({name}) ==")
    report = run_section(name, solution)
    for result in report.results:
        print(f"  {'PASS' if result.passed else 'FAIL'}  {result.name}")
        if not result.passed:
            print('        ' + result.message.replace('\n', '\n        '))
    if not report.passed:  # the likely mistake and the smallest failing case (public_tests/feedback.py)
        from public_tests.feedback import print_feedback
        print_feedback(name, solution)
    passed = sum(result.passed for result in report.results)
    points = section.points if report.passed else 0.0
    print(f"  {passed} of {len(report.results)} cases passed: {points:g} / {section.points:g} points\n")
    return points


def run_gate_section(name, solution, data_dir, unverified_ok):
    from data_loaders import DataError
    from public_tests.gates import run_gate
    section = BY_NAME[name]
    print(f"== {section.number} {section.title} ({name}) ==")
    try:
        result = run_gate(name, solution, data_dir, unverified_ok)
    except DataError as error:
        print(f"  DATA MISSING  {error}\n  0 / {section.points:g} points\n")
        return 0.0
    print(f"  {'PASS' if result.passed else 'FAIL'}  {result.describe()}")
    points = section.points if result.passed else 0.0
    print(f"  {points:g} / {section.points:g} points\n")
    return points


def unittest_command(names, solution_path, data_dir=None, unverified_ok=None):
    """Returns the exit status: 0 when every requested section scored."""
    names = section_names(names)
    solution = load_solution(solution_path)
    scored = 0.0
    for name in names:
        if BY_NAME[name].is_gate:
            points = run_gate_section(name, solution, data_dir, unverified_ok)
        else:
            points = run_unit_section(name, solution)
        scored += points
    total = sum(BY_NAME[name].points for name in names)
    if len(names) > 1:
        print(f"Total: {scored:g} / {total:g} points")
    return 0 if scored == total else 1
