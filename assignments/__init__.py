"""The assignments the checker hosts: what is specific to one assignment, behind one object.

The checker (grader/), the service and the instructor's commands are shared; they ask an
``Assignment`` for the assignment's parts and never name one.  An assignment is a package under
assignments/ of fixed file names (``ROLES``, PrairieLearn's way: the checker never names a question),
declared in its ``__init__.py`` as ``ASSIGNMENT = Assignment(...)`` and found by ``discover``.  Its
student side, ``interface.py`` and ``solution.py`` (the reference: ``from interface import *``), lies
in ``root``: the package folder, or the repository's top level for the first assignment, whose kit
holds its files there.  A process holding two assignments loads each reference with its own interface
(``load``).

    numpy-nn     assignments/numpy_nn/ (student side: interface.py, solution.py, public_tests/)
    autoencoder  assignments/autoencoder/
    autodiff     assignments/autodiff/

Glossary: a *kit* is what a student gets (``./run.py release``); a *region* is a ``# Your code here``
block of the kit's solution.py; a *section* is a row of the points table (unit sections and *gates*,
which train a model); a *scenario* is one hidden case's inputs, run by the assignment's ``execute``;
a *child* is the sandboxed process that runs student code (grader/sandbox.py).
"""
import contextlib
import importlib
import importlib.util
import pkgutil
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
RELEASED = KIT_ROOT / 'ASSIGNMENT'  # in a student kit: the assignment it holds (see instructor/release.py)
DEFAULT = RELEASED.read_text().strip() if RELEASED.is_file() else 'numpy-nn'

# The modules of an assignment's package, by role (each optional one may be absent).
ROLES = {
    'sections': "SECTIONS: the points table (public_tests.sections.Section rows)",
    'public_cases': "registers the public cases with public_tests.framework.case",
    'scenarios': "hidden cases: scenarios(section) -> [(name, scenario)], categories(section); FAST_CONVOLVE and "
                 "TORCH_SECTIONS: the sections whose child loads torch",
    'execute': "run_scenario(solution, scenario) -> (outputs, failure), running(task) and describe_exception(error): "
               "kit_execute.py in the child",
    'gates': "GATES, TRAINING_NAMES, load_gate_data, judge, run_gate: kit_gates.py in the child",
    'limits': "GATE_LIMITS {gate: grader.limits.Limits}: each gate's child (the unit sections share the checker's)",
    'training': "train_command: ./run.py train",
    'kit': "the student kit: SHIPPED (files of the package it holds), readme(assignment), extras(out_dir, assignment)",
    'feedback': "optional: print_feedback(section, solution), the kit's likely mistake and smallest case at home",
    'probes': "optional, the loop rule (grader/loops.py): probes(section), GROWN, and NESTED where loops may nest",
    'ladders': "optional, shrinking a failing case: ladder(section, scenario) -> [(what, smaller scenario)], "
               "format_case(...)",
    'kit_variants': "optional: COURSE_DEFINITIONS, kit code as the course's older templates wrote it (accepted)",
    'benchmarks': "optional: BENCHMARKS {name: function(args) -> figures} for ./run.py benchmark",
}
CATALOGUE = 'mistakes.toml'  # optional: the mistake catalogue (grader/mistakes.py), for diagnosis
HANDOUT = 'handout.md'       # the assignment's text for students, shipped in its kit


@dataclass(frozen=True)
class Assignment:
    name: str                 # what --assignment takes
    title: str
    package: str              # 'assignments.numpy_nn': the folder of ROLES
    root: Path = None         # interface.py, solution.py; default: the package folder (or a kit's top level)
    datasets: tuple = ('mnist',)  # the data folders its gates and training use (run.py's --data-dir help)
    # roles whose module lies outside the package: the first assignment's kit keeps them in public_tests/
    elsewhere: dict = field(default_factory=dict, hash=False)

    @cached_property
    def folder(self):
        return Path(importlib.util.find_spec(self.package).origin).parent

    @cached_property
    def student_root(self):
        root = self.root or self.folder
        return root if (root / 'interface.py').is_file() else KIT_ROOT  # a student kit: its top level

    @property
    def handout(self):
        return self.folder / HANDOUT

    @property
    def catalogue(self):
        """The mistake catalogue's path, or None where the assignment has none."""
        path = self.folder / CATALOGUE
        return path if path.is_file() else None

    def module_name(self, role):
        if role not in ROLES:
            raise KeyError(f"no role {role!r}: {', '.join(ROLES)}")
        return self.elsewhere.get(role, f"{self.package}.{role}")

    def has(self, role):
        """Whether the assignment brings the optional ``role``."""
        try:
            return importlib.util.find_spec(self.module_name(role)) is not None
        except ModuleNotFoundError:
            return False

    @property
    def module_suffix(self):
        """The assignment's name as part of a module name."""
        return self.name.replace('-', '_')

    @property
    def reference_path(self):
        return self.student_root / 'solution.py'

    @property
    def interface_path(self):
        return self.student_root / 'interface.py'

    @cached_property
    def sections(self):
        return importlib.import_module(self.module_name('sections')).SECTIONS

    @cached_property
    def by_name(self):
        return {section.name: section for section in self.sections}

    @property
    def unit_sections(self):
        return tuple(section for section in self.sections if not section.is_gate)

    @property
    def gate_sections(self):
        return tuple(section for section in self.sections if section.is_gate)

    def section_names(self, requested):
        """Expand 'all' (every section) and 'units' (the unit sections); SystemExit on an unknown name."""
        names = []
        for name in requested:
            if name == 'all':
                names += [section.name for section in self.sections]
            elif name == 'units':
                names += [section.name for section in self.unit_sections]
            elif name in self.by_name:
                names.append(name)
            else:
                valid = ', '.join([section.name for section in self.sections] + ['units', 'all'])
                raise SystemExit(f"unknown test '{name}'. Valid names: {valid}")
        return list(dict.fromkeys(names))

    @property
    def total_points(self):
        return sum(section.points for section in self.sections)

    def module(self, role):
        """The assignment's module for ``role`` (ROLES), imported with its interface bound."""
        with self.interface_bound():
            return importlib.import_module(self.module_name(role))

    def module_file(self, role):
        return Path(importlib.util.find_spec(self.module_name(role)).origin)

    @property
    def course_variants(self):
        """Kit code as the course's older templates wrote it (its ``kit_variants``), or ''."""
        return self.module('kit_variants').COURSE_DEFINITIONS if self.has('kit_variants') else ''

    @property
    def gates(self):
        return self.module('gates').GATES

    def sandbox_files(self):
        """{file in the sandbox: source}: this assignment's interface, scenario runner and gates."""
        return {'interface.py': self.interface_path, 'kit_execute.py': self.module_file('execute'),
                'kit_gates.py': self.module_file('gates')}

    def load(self, path, module_name):
        """Import the Python file ``path`` as ``module_name`` with this assignment's interface as
        ``interface`` (restored afterwards: each module keeps the names it imported)."""
        with self.interface_bound():
            return _exec_file(path, module_name)

    @contextlib.contextmanager
    def interface_bound(self):
        """``import interface`` gives this assignment's interface meanwhile."""
        if self.interface_path == KIT_ROOT / 'interface.py':
            yield
            return
        saved = sys.modules.get('interface')
        sys.modules['interface'] = self.interface
        try:
            yield
        finally:
            if saved is None:
                sys.modules.pop('interface', None)
            else:
                sys.modules['interface'] = saved

    @cached_property
    def interface(self):
        """The assignment's interface module (imported once, under a name of its own)."""
        if self.interface_path == KIT_ROOT / 'interface.py':
            return importlib.import_module('interface')
        return _exec_file(self.interface_path, f"interface_{self.module_suffix}")


def _exec_file(path, module_name):
    """Import the Python file ``path`` as the module ``module_name``."""
    spec = importlib.util.spec_from_file_location(module_name, Path(path).resolve())
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def discover():
    """{name: Assignment} of every package under assignments/ that declares ``ASSIGNMENT`` (a student
    kit holds one), in the order of their names."""
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.ispkg:
            declared = getattr(importlib.import_module(f"{__name__}.{info.name}"), 'ASSIGNMENT', None)
            if isinstance(declared, Assignment):
                found[declared.name] = declared
    return dict(sorted(found.items(), key=lambda item: (item[0] != DEFAULT, item[0])))


ASSIGNMENTS = discover()
if RELEASED.is_file():  # a student kit holds one assignment
    ASSIGNMENTS = {DEFAULT: ASSIGNMENTS[DEFAULT]}


def get(name=None):
    """The assignment called ``name`` (default: numpy-nn; an ``Assignment`` is returned as it is);
    SystemExit naming the choices otherwise."""
    if isinstance(name, Assignment):
        return name
    name = name or DEFAULT
    if name not in ASSIGNMENTS:
        raise SystemExit(f"unknown assignment '{name}'. Choices: {', '.join(ASSIGNMENTS)}")
    return ASSIGNMENTS[name]
