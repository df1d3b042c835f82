"""The public cases of a section as a student's report lists them, with their inputs.

The checker grades on hidden cases only; the public cases are in the student's kit and run on the
student's machine (``./run.py unittest SECTION``), so nothing here says how they went on the upload: the
report lists them as what the student can run at home.  Their inputs are public, and a report shows them
at every visibility level.

A case's inputs are read from its own code, which is parsed, never run (the web process imports no
student-side module, and no torch): the assignment's ``public_cases`` module's files, every function
registered with ``@case('SECTION')`` (public_tests.framework), in the order the kit runs them.  The
inputs of a case are the expressions of its body that make data, as written:

  * random draws (a call with ``size=``): ``x = np.random.normal(size=(3, 2, 4, 5))``;
  * arrays built from constants: ``x = np.array([[-2.0, 0.0], [1.5, 7.0]])`` (with their shape where the
    values are literal), ``np.arange(1.0, 9.0).reshape(2, 4)``, ``np.full((1, 2, 3), 2.0)``;
  * the student's objects (the case's parameter is the student's module), with what they are built
    with: ``sol.Layer(5, kernel_size=3)``, ``layer = build_layer(sol.Layer(), (4,))``;
  * expressions of constants and the module's names alone: ``y = np.eye(6)[np.random.randint(6, size=8)]``;
  * calls of the module's own helpers with constants: ``X, y = make_problem(rng, 8, 3)``;
  * what a loop runs over, where it is literal (or a module constant that is), or such a call:
    ``for n, d in ((6, 3), (1, 4))``;

the expected values a check compares with (every argument but the first of a call named
``assert...``/``close...``) are not inputs.  Each is cut to a line; a case lists a few, then its place in
the kit (``FILE:LINE``) has the rest.
"""
import ast
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import assignments
from public_tests.framework import case as register

DECORATOR = register.__name__   # @case('SECTION') registers a public case
COMMAND = './run.py unittest {section}'
RANDOM_SIZE = 'size'            # numpy's and torch's draws name the shape so
BUILDERS = {'array', 'asarray', 'tensor', 'full', 'arange', 'linspace', 'zeros', 'ones', 'eye'}
CHECKS = ('assert', 'close')    # calls whose later arguments are expected values, not inputs
MOST_INPUTS, LONGEST = 6, 100


@dataclass(frozen=True)
class PublicCase:
    name: str
    inputs: tuple       # short texts: 'x = (2, 4) np.array([[-2.0, ...]])', 'n, d in (6, 3), (1, 4)'
    source: str         # 'FILE:LINE' in the kit

    def as_json(self) -> dict:
        return {'name': self.name, 'inputs': list(self.inputs), 'source': self.source}


@dataclass(frozen=True)
class PublicCases:
    section: str
    cases: tuple        # PublicCase, in the order the kit runs them

    @property
    def command(self) -> str:
        return COMMAND.format(section=self.section)

    def as_json(self) -> dict:
        return {'command': self.command, 'run_by_checker': False, 'cases': [case.as_json() for case in self.cases]}


def public_cases(assignment: Optional[str], section: str) -> Optional[PublicCases]:
    """The section's public cases, or None where it has none (a gate, an unknown section or assignment)."""
    cases = _cases(assignment, section)
    return PublicCases(section, cases) if cases else None


@lru_cache(maxsize=None)
def _cases(assignment: Optional[str], section: str) -> tuple:
    try:
        assignment = assignments.get(assignment)
        if assignment.by_name[section].is_gate or not assignment.has('public_cases'):
            return ()
        found = []
        for path in module_files(assignment.module_name('public_cases')):
            tree, constants = parsed(path)
            found += [PublicCase(node.name, inputs_of(node, tree, constants), f"{kit_path(path)}:{node.lineno}")
                      for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and section in registered_for(node)]
        return tuple(found)
    except (Exception, SystemExit):  # noqa: BLE001 - no list then: the report shows the rest as before
        return ()


# -- the module's files ----------------------------------------------------------------------------------
def module_files(module_name: str) -> list:
    """The files of ``module_name`` (a module, or a package: its ``__init__`` and then its submodules in the
    order the ``__init__`` imports them, which is the order their cases register in, the rest by name)."""
    spec = importlib.util.find_spec(module_name)
    origin = Path(spec.origin)
    if not spec.submodule_search_locations:
        return [origin]
    folder = origin.parent
    imported = []
    for node in ast.walk(parsed(origin)[0]):
        if isinstance(node, ast.ImportFrom) and node.module == module_name:
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
            imported += [alias.name for alias in node.names]
    rest = sorted(path.stem for path in folder.glob('*.py') if path.stem != '__init__')
    names = [name for name in dict.fromkeys(imported + rest) if (folder / f"{name}.py").is_file()]
    return [origin] + [folder / f"{name}.py" for name in names]


@lru_cache(maxsize=None)
def parsed(path: Path):
    """(the file's syntax tree, {module-level name: its literal value})."""
    tree = ast.parse(Path(path).read_text(), filename=str(path))
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
    return tree, constants


def kit_path(path: Path) -> str:
    """The file as the kit names it (the kit keeps the repository's layout)."""
    try:
        return Path(path).resolve().relative_to(assignments.KIT_ROOT).as_posix()
    except ValueError:
        return Path(path).name


def registered_for(function) -> set:
    """The sections ``@case('SECTION')`` registers ``function`` for."""
    sections = set()
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and called(decorator) == DECORATOR and decorator.args \
                and isinstance(decorator.args[0], ast.Constant) and isinstance(decorator.args[0].value, str):
            sections.add(decorator.args[0].value)
    return sections


# -- a case's inputs -------------------------------------------------------------------------------------
def called(call: ast.Call) -> str:
    """The name a call calls: ``np.random.normal(...)`` -> 'normal'."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ''


def root(call: ast.Call):
    """The first call of a chain and the name it starts from: ``np.arange(9.0).reshape(3, 3)`` ->
    (``np.arange(9.0)``, 'np')."""
    first, func = call, call.func
    while isinstance(func, (ast.Attribute, ast.Call, ast.Subscript)):
        if isinstance(func, ast.Call):
            first = func
            func = func.func
        else:
            func = func.value
    return first, func.id if isinstance(func, ast.Name) else ''


def has_constant(node) -> bool:
    return any(isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float, complex))
               and not isinstance(inner.value, bool) for inner in ast.walk(node))


def literal(node) -> bool:
    """A number, or numbers in lists and tuples, as written."""
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return has_constant(node)


@dataclass
class Reading:
    """What the inputs of one case are told apart by."""
    solution: str       # the case's parameter: the student's module
    local: set          # the names the case assigns
    helpers: set        # the module's own functions (not cases)
    constants: dict     # the module's literal constants

    def is_input(self, node) -> bool:
        """Whether the expression makes data (see the module's docstring)."""
        if not isinstance(node, ast.Call):
            return False
        if any(keyword.arg == RANDOM_SIZE for keyword in node.keywords):
            return True
        first, start = root(node)
        name = called(first)
        if start == self.solution and isinstance(first.func, ast.Attribute):  # sol.Layer(5, kernel_size=3)
            return has_constant(node) or name[:1].isupper()
        if start in self.local:
            return False
        if name in BUILDERS:  # of constants alone: np.array([[1.0, 2.0]]), np.arange(8.0).reshape(2, 4)
            return has_constant(node) and not self.reads_local(node)
        return name in self.helpers and not name.lower().startswith(CHECKS) and has_constant(node)

    def reads_local(self, node) -> bool:
        return any(isinstance(inner, ast.Name) and inner.id in self.local for inner in ast.walk(node))

    def made_of_data(self, node) -> bool:
        """An expression of constants, the module's names and the student's classes, with data in it:
        ``build_layer(sol.Layer(), (4,))``, ``np.eye(6)[np.random.randint(6, size=8)]``."""
        calls = [inner for inner in ast.walk(node) if isinstance(inner, ast.Call)]
        return bool(calls) and has_constant(node) and not self.reads_local(node) and \
            not any(called(call).lower().startswith(CHECKS) for call in calls)


def bare(node) -> str:
    """A target as written, without the parentheses of a tuple."""
    text = ast.unparse(node)
    return text[1:-1] if isinstance(node, ast.Tuple) and text.startswith('(') else text


def shape_of(node) -> str:
    """'(2, 4) ': the shape of an array built from literal values (nothing otherwise)."""
    if isinstance(node, ast.Call) and called(node) in ('array', 'asarray', 'tensor') and node.args \
            and literal(node.args[0]):
        shape, level = [], ast.literal_eval(node.args[0])
        while isinstance(level, (list, tuple)):
            shape.append(len(level))
            if not level or len({len(item) if isinstance(item, (list, tuple)) else -1 for item in level}) != 1:
                break
            level = level[0]
        return f"{tuple(shape)} " if shape else ''
    return ''


def line(text: str) -> str:
    text = ' '.join(text.split())
    return text if len(text) <= LONGEST else text[:LONGEST - 1] + '\u2026'


def inputs_of(function, tree, constants: dict) -> tuple:
    """The case's inputs as short texts, in the order of its code."""
    helpers = {node.name for node in tree.body
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not registered_for(node)}
    local = {inner.id for inner in ast.walk(function) if isinstance(inner, ast.Name)
             and isinstance(inner.ctx, ast.Store)} | {argument.arg for argument in function.args.args[1:]}
    reading = Reading(function.args.args[0].arg if function.args.args else '', local, helpers, constants)
    expected = set()  # the expected values of checks
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and called(node).lower().startswith(CHECKS):
            for argument in node.args[1:]:
                expected.update(id(inner) for inner in ast.walk(argument))
    parent = {id(child): node for node in ast.walk(function) for child in ast.iter_child_nodes(node)}
    found, taken = [], set()  # (line, column, text); the nodes already said

    def say(node, text):
        found.append((node.lineno, node.col_offset, line(text)))
        taken.update(id(inner) for inner in ast.walk(node))

    for node in ast.walk(function):
        if id(node) in taken or id(node) in expected:
            continue
        if isinstance(node, ast.For):
            values = node.iter
            if isinstance(values, ast.Name) and isinstance(constants.get(values.id), (list, tuple)):
                text = repr(constants[values.id])[1:-1].rstrip(',')
            elif literal(values) or (isinstance(values, ast.Constant) and isinstance(values.value, str)) or \
                    (isinstance(values, (ast.Tuple, ast.List)) and all(isinstance(item, ast.Constant)
                                                                       for item in values.elts)):
                text = ast.unparse(values)
                text = text[1:-1].rstrip(',') if isinstance(values, (ast.Tuple, ast.List)) else text
            elif reading.is_input(values):
                text = ast.unparse(values)
            else:
                continue
            say(values, f"{bare(node.target)} in {text}")
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            pairs = list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and \
                isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) else [(target, value)]
            for one, made in pairs:
                if reading.is_input(made) or literal(made):
                    say(made, f"{bare(one)} = {shape_of(made)}{ast.unparse(made)}")
            if len(pairs) == 1 and id(value) not in taken and reading.made_of_data(value):
                say(value, f"{bare(target)} = {ast.unparse(value)}")
        elif reading.is_input(node):
            outer = parent.get(id(node))  # build_layer(sol.Layer(), (4,)): the student's object and its shape
            if root(node)[1] == reading.solution and isinstance(outer, ast.Call) and reading.made_of_data(outer):
                node = outer
            say(node, f"{shape_of(node)}{ast.unparse(node)}")
    said = list(dict.fromkeys(text for _, _, text in sorted(found)))
    return tuple(said[:MOST_INPUTS] + ([f"\u2026 {len(said) - MOST_INPUTS} more"] if len(said) > MOST_INPUTS else []))
