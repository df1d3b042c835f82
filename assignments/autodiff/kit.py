"""The autodiff assignment's student kit: what it holds beyond every kit's files, and its README.

The README is ``kit_readme.md`` beside this file, a ``str.format`` template (its fields are named in
``readme``), so that its text is edited as text.
"""
from pathlib import Path

from instructor.release import INSTALL_TEXT, points_rows, unittest_text

# the package's student-side modules: its hidden scenarios (scenarios.py), its scenario runner (execute.py,
# which holds the kit's correct layer functions for the network section), its mistake catalogue and its
# gate limits stay with the checker; the loop probes, their builders and their kit-side runner run the
# loop rule at home
SHIPPED = ('__init__.py', 'sections.py', 'public_cases.py', 'gates.py', 'training.py', 'probes.py',
           'builders.py', 'probe_runner.py')
PUBLIC_TESTS = ()  # public_tests/: the framework only
README = Path(__file__).with_name('kit_readme.md')


def readme(assignment):
    """The kit's README.md: kit_readme.md with the assignment's figures filled in."""
    gate = assignment.gates['classifier']
    return README.read_text().format(
        title=assignment.title, units=len(assignment.unit_sections), install=INSTALL_TEXT, unittest=unittest_text(),
        total=f"{assignment.total_points:g}", points=points_rows(assignment, './run.py'), gate=gate,
        hidden=' -> '.join(map(str, gate.sizes)))
