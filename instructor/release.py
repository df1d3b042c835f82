"""``./run.py [--assignment NAME] release OUT_DIR``: the student kit, without the grader, hidden tests
or reference code.

Every kit has the assignment's interface.py, the template solution.py, run.py without the instructor
commands, the public tests, the data loaders and a README; the registry ``assignments/__init__.py``
comes along, with the released assignment's package as its ``kit`` module says (``SHIPPED``,
``PUBLIC_TESTS``, ``readme``, ``extras``) and an ``ASSIGNMENT`` file naming it (what run.py then
grades by default).
"""
import shutil
from pathlib import Path

import assignments
from grader.regions import make_template, strip_blocks

SHIPPED_FOLDERS = ('public_tests', 'data_loaders')
SHIPPED_FILES = ('assignments/__init__.py',)
KIT_REQUIREMENTS = 'requirements-kit.txt'  # the kit's requirements.txt: no checker, service or cluster packages
# ./run.py unittest applies the checker's static policy and loop rule (public_tests/checks.py): the modules
# it runs, copied under public_tests/checker/ (importable there as grader.*).  None holds
# reference code or a hidden case; an assignment's own modules for it (its probes) ship as its kit says.
CHECKER_FILES = ('grader/__init__.py', 'grader/static_rules.py', 'grader/splice.py', 'grader/course_policy.py',
                 'grader/loops.py', 'grader/kit_runner.py', 'grader/codec.py', 'grader/regions.py')
PUBLIC_TEST_FILES = ('__init__.py', 'framework.py', 'runner.py', 'sections.py', 'checks.py',
                     'checker')  # what any assignment's cases need


def points_rows(assignment, command):
    return '\n'.join(f"| {s.number} | {s.title} | `{command} unittest {s.name}` | {s.points:g} |"
                     for s in assignment.sections)


UNITTEST_TEXT = """`./run.py unittest` runs the public cases and then judges your file by the checker's own rules,
with the checker's own code: a forbidden import or call, edits of the kit's code outside the regions,
and Python loops over data (your code runs on small and bigger inputs, and a line of yours that runs
more often on the bigger ones is a loop over data).  What it finds is reported as the checker reports
it, with your line, and the last line of a section gives its verdict and points.  Each case gets
{seconds:g} seconds: an endless loop is stopped and named (the case, the method, the line).
`./run.py` uses the kit's `.venv` by itself when it exists, so `./run.py ...` works without activating it."""


INSTALL_TEXT = """The install takes under a minute and under 1 GB with torch's CPU build (`--no-compile`: pip does not
byte-compile every module ahead; Python compiles what it imports, once).  On Linux, PyPI's torch is the
CUDA build (several GB): for the CPU build add `--extra-index-url https://download.pytorch.org/whl/cpu`
to the pip command."""


def unittest_text():
    from public_tests.checks import CASE_SECONDS
    return UNITTEST_TEXT.format(seconds=CASE_SECONDS)


def write_checker(kit_root, folder, assignment):
    """The checker's static modules and the kit's template, for ./run.py unittest (public_tests/checks.py)."""
    from public_tests.checks import write_kit_rules
    shutil.rmtree(folder, ignore_errors=True)
    for name in CHECKER_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(kit_root / name, folder / name)
    write_kit_rules(assignment, folder)


def write_release(kit_root, out_dir, assignment=None):
    assignment = assignments.get(assignment)
    kit = assignment.module('kit')
    kit_root, out_dir = Path(kit_root), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    for folder in SHIPPED_FOLDERS:
        shutil.rmtree(out_dir / folder, ignore_errors=True)
        shutil.copytree(kit_root / folder, out_dir / folder, ignore=ignore)
    if kit.PUBLIC_TESTS != 'all':  # another assignment's cases and feedback stay out
        for path in (out_dir / 'public_tests').iterdir():
            if path.name not in PUBLIC_TEST_FILES + tuple(kit.PUBLIC_TESTS):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in SHIPPED_FILES:
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(kit_root / name, out_dir / name)
    package = out_dir / Path(*assignment.package.split('.'))
    package.mkdir(parents=True, exist_ok=True)
    for name in kit.SHIPPED:
        shutil.copy2(assignment.folder / name, package / name)
    shutil.copy2(kit_root / KIT_REQUIREMENTS, out_dir / 'requirements.txt')
    write_checker(kit_root, out_dir / 'public_tests' / 'checker', assignment)
    shutil.copy2(assignment.interface_path, out_dir / 'interface.py')
    (out_dir / 'solution.py').write_text(make_template(assignment.reference_path.read_text(), assignment.by_name))
    run_py = strip_blocks((kit_root / 'run.py').read_text(), '# BEGIN INSTRUCTOR', '# END INSTRUCTOR')
    (out_dir / 'run.py').write_text(run_py)
    (out_dir / 'run.py').chmod(0o755)
    (out_dir / 'ASSIGNMENT').write_text(assignment.name + '\n')
    shutil.copy2(assignment.handout, out_dir / 'handout.md')
    (out_dir / 'README.md').write_text(kit.readme(assignment))
    if hasattr(kit, 'extras'):
        kit.extras(out_dir, assignment)
