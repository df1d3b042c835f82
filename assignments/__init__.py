"""The assignments the checker hosts: what is specific to one homework, behind one object.

The template generator, release, sandbox, comparison, policy engine, reports, executor and
service are shared; they ask an ``Assignment`` for the homework's files, sections, public
cases, hidden scenarios and gates.  Every homework keeps its own ``interface.py`` and
``solution.py`` (``from interface import *``), so a process holding two of them loads each
reference with its own interface (``load``).

    numpy-nn     the repository's top level: interface.py, solution.py, public_tests/, grader/
    autoencoder  assignments/autoencoder/
"""
import contextlib
import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
RELEASED = KIT_ROOT / 'ASSIGNMENT'  # in a student kit: the assignment it holds (see instructor/release.py)
DEFAULT = RELEASED.read_text().strip() if RELEASED.is_file() else 'numpy-nn'


@dataclass(frozen=True)
class Assignment:
    name: str                 # what --assignment takes
    title: str
    root: Path                # holds interface.py, solution.py (the reference) and, for students, run.py
    sections_module: str      # SECTIONS: the points table
    cases_module: str         # registers the public cases with public_tests.framework.case
    scenarios_module: str     # hidden scenarios: scenarios(section), categories(section), FAST_CONVOLVE, TORCH_SECTIONS
    execute_module: str       # run_scenario(solution, scenario), running(task): kit_execute.py in the sandbox
    gates_module: str         # GATES, TRAINING_NAMES, load_gate_data, train_and_predict, judge, run_gate: kit_gates.py
    training_module: str      # train_command: ./run.py train
    probes_module: str = None  # probes(section), GROWN: the loop probes (grader/loops.py); None: no loop rule
    handout: Path = None      # the assignment text shipped to students
    datasets: tuple = ('mnist',)  # the data folders its gates and training use (run.py's --data-dir help)
    teaches: bool = False     # a mistake catalogue and shrinking ladders exist (grader/diagnose.py)
    shipped: tuple = field(default=())  # more (source, name in the release) pairs for the student kit

    @property
    def module_suffix(self):
        """The assignment's name as part of a module name."""
        return self.name.replace('-', '_')

    @property
    def reference_path(self):
        return self.root / 'solution.py'

    @property
    def interface_path(self):
        return self.root / 'interface.py'

    @cached_property
    def sections(self):
        return importlib.import_module(self.sections_module).SECTIONS

    @cached_property
    def by_name(self):
        return {section.name: section for section in self.sections}

    @property
    def unit_sections(self):
        return tuple(section for section in self.sections if not section.is_gate)

    @property
    def gate_sections(self):
        return tuple(section for section in self.sections if section.is_gate)

    @property
    def total_points(self):
        return sum(section.points for section in self.sections)

    def module(self, role):
        """The assignment's module for ``role``: 'scenarios', 'execute', 'gates', 'cases', 'training'."""
        with self.interface_bound():
            return importlib.import_module(getattr(self, f'{role}_module'))

    def module_file(self, role):
        return Path(importlib.util.find_spec(getattr(self, f'{role}_module')).origin)

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


def _root(folder):
    """Where an assignment's interface.py and solution.py are: its folder here, the top level of its student kit."""
    return folder if (folder / 'interface.py').is_file() else KIT_ROOT


AUTOENCODER_ROOT = _root(KIT_ROOT / 'assignments' / 'autoencoder')
ASSIGNMENTS = {
    'numpy-nn': Assignment(
        'numpy-nn', 'Training multilayer neural networks on numpy', KIT_ROOT,
        'public_tests.sections', 'public_tests.cases', 'grader.scenarios', 'grader.execute',
        'public_tests.gates', 'public_tests.training_report', 'grader.loops', teaches=True,
        handout=KIT_ROOT / 'docs' / 'numpy-nn-handout.md', datasets=('mnist', 'cifar10')),
    'autoencoder': Assignment(
        'autoencoder', 'Automatic differentiation for an autoencoder', AUTOENCODER_ROOT,
        'assignments.autoencoder.sections', 'assignments.autoencoder.public_cases',
        'assignments.autoencoder.scenarios', 'assignments.autoencoder.execute',
        'assignments.autoencoder.gates', 'assignments.autoencoder.training', 'assignments.autoencoder.probes',
        handout=KIT_ROOT / 'assignments' / 'autoencoder' / 'handout.md'),
}


if RELEASED.is_file():  # a student kit holds one assignment
    ASSIGNMENTS = {DEFAULT: ASSIGNMENTS[DEFAULT]}


def get(name=None):
    """The assignment called ``name`` (default: numpy-nn); SystemExit naming the choices otherwise."""
    name = name or DEFAULT
    if name not in ASSIGNMENTS:
        raise SystemExit(f"unknown assignment '{name}'. Choices: {', '.join(ASSIGNMENTS)}")
    return ASSIGNMENTS[name]
