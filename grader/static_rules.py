"""Static checks of an uploaded solution.py (AST only: nothing of it is executed here).

Static rules are the assignment's rules, and only those that can never reject
correct code; the sandbox, not this file, is the security boundary.

* imports: numpy, interface and the pure standard library; other numeric
  libraries (the assignment's rule) and modules that reach outside the kit are
  refused, wherever the import stands;
* no exec/eval/compile/__import__/open/input/breakpoint, and nothing that reaches the
  checker's line tracer (settrace, setprofile, _getframe, f_trace, ...);
* kit code outside the regions: compared by AST with docstrings stripped, so
  text (docstrings, comments, quotes, blank lines, order) never matters; what
  differs is reported under the course's ``outside_regions`` rule (warn, fail or
  ignore), never a reason for a wrong answer: the file runs as written, and the
  contract (constructor, parameter names and shapes, side effects) is checked by
  calling it (see ``execute``).

Loops are judged by what runs, in the sandbox (see ``loops``).  Findings are
attributed to the section whose code they are in; module-level findings
concern every section.
"""
import ast
import copy
from dataclasses import dataclass

from grader.splice import bound_names, is_docstring
from grader.regions import enclosing_names, owners_of_lines, solution_regions, student_regions

NUMERIC_LIBRARIES = {'torch', 'scipy', 'sklearn', 'jax', 'jaxlib', 'tensorflow', 'keras', 'numba', 'cupy', 'theano',
                     'mxnet', 'paddle', 'autograd', 'tinygrad', 'cython', 'numexpr', 'pandas'}
OUTSIDE_THE_KIT = {'os', 'sys', 'subprocess', 'socket', 'ssl', 'ctypes', 'cffi', 'importlib', 'pickle', 'marshal',
                   'shelve', 'io', 'pathlib', 'shutil', 'tempfile', 'glob', 'signal', 'threading', '_thread',
                   'multiprocessing', 'concurrent', 'asyncio', 'builtins', 'gc', 'inspect', 'code', 'codeop', 'runpy',
                   'pty', 'resource', 'select', 'selectors', 'mmap', 'fcntl', 'posix', 'urllib', 'http', 'requests',
                   'ftplib', 'smtplib', 'site', 'sysconfig', 'zipimport', 'types'}
PURE_STANDARD_LIBRARY = {'copy', 'collections', 'dataclasses', 'functools', 'itertools', 'math', 'cmath', 'operator',
                         'typing', 'numbers', 'enum', 'abc', 'warnings', 'random', 'time', 'statistics', 'string',
                         're', 'heapq', 'bisect', 'fractions', 'decimal', 'contextlib', 'textwrap', 'pprint'}
ALLOWED_IMPORTS = {'numpy', 'interface'} | PURE_STANDARD_LIBRARY
FORBIDDEN_CALLS = {'exec', 'eval', 'compile', '__import__', 'open', 'input', 'breakpoint'}
# Names that reach the interpreter's import machinery or every object it holds, by a name or an attribute
# (`__builtins__['__import__']`, `os.sys.modules`, `().__class__.__base__.__subclasses__()`): no layer or
# loss needs them.  Dynamic strings (`getattr(os, 'sy' + 's')`) get past any static rule: the sandbox
# makes what they reach harmless.
INTERPRETER_NAMES = {'__builtins__', '__import__', '__loader__', '__spec__', 'importlib', 'import_module',
                     '__subclasses__', '__globals__', '__base__', '__bases__', '__mro__', 'sys', 'builtins'}
TRACER_NAMES = {'settrace', 'setprofile', 'gettrace', 'getprofile', 'call_tracing', '_getframe', 'f_trace'}
MODULE = '*'  # findings in module-level code concern every section

POLICY, WRONG, WARNING = 'policy violation', 'wrong answer', 'warning'


@dataclass
class Finding:
    section: str      # a section name, or MODULE
    message: str
    severity: str     # POLICY or WRONG (each fails the section with that verdict), or WARNING

    @property
    def fatal(self):
        return self.severity != WARNING


def section_of_names(reference_source, sections=None):
    """{definition name: section} from where the reference's student regions are: every enclosing
    name, qualified ('Autoencoder.run_adam.step', 'Autoencoder.run_adam', 'Autoencoder'); a name whose
    regions belong to several sections (a class holding three of them) concerns them all (MODULE)."""
    names, found = enclosing_names(reference_source), {}
    for first, _, _, section in solution_regions(reference_source, sections):
        parts = names.get(first, '').split('.') if first in names else []
        for depth in range(1, len(parts) + 1):
            prefix = '.'.join(parts[:depth])
            found[prefix] = section if found.get(prefix, section) == section else MODULE
    return found


def section_of(sections, name):
    """The section of definition ``name`` (qualified): its own or its innermost enclosing one's."""
    parts = name.split('.') if name else []
    for depth in range(len(parts), 0, -1):
        section = sections.get('.'.join(parts[:depth]))
        if section is not None:
            return section
    return MODULE


def _call_name(node):
    function = node.func
    return function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else ''


# ------------------------------------------------------------------------------------------ imports and calls
def import_problem(module, allowed):
    root = module.split('.')[0]
    if root in allowed:
        return None
    if root in NUMERIC_LIBRARIES:
        return f"import of '{module}': the assignment allows no numeric library but numpy"
    if root in OUTSIDE_THE_KIT:
        return f"import of '{module}' is not allowed (it reaches outside the kit: files, processes, the interpreter)"
    return (f"import of '{module}' is not allowed (numpy, interface and the pure standard library only: "
            f"{', '.join(sorted(PURE_STANDARD_LIBRARY))})")


def _interpreter_name(node):
    """The interpreter name ``node`` uses: a name, an attribute, or a constant key or attribute name
    (`x['__import__']`, `getattr(x, '__globals__')`); None for anything else."""
    if isinstance(node, ast.Name) and node.id in INTERPRETER_NAMES:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr in INTERPRETER_NAMES:
        return node.attr
    key = node.slice if isinstance(node, ast.Subscript) else \
        node.args[1] if isinstance(node, ast.Call) and _call_name(node) in ('getattr', 'setattr', 'hasattr') \
        and len(node.args) > 1 else None
    if isinstance(key, ast.Constant) and key.value in INTERPRETER_NAMES:
        return key.value
    return None


def check_code(tree, sections, extra_imports=()):
    """Imports and forbidden calls, wherever they stand."""
    owners, allowed = owners_of_lines(tree), ALLOWED_IMPORTS | set(extra_imports)
    findings = []
    for node in ast.walk(tree):
        section = section_of(sections, owners.get(getattr(node, 'lineno', 0)))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.level:
                findings.append(Finding(section, f"line {node.lineno}: relative imports are not allowed", POLICY))
                continue
            for module in [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]:
                problem = import_problem(module, allowed)
                if problem:
                    findings.append(Finding(section, f"line {node.lineno}: {problem}", POLICY))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            findings.append(Finding(section, f"line {node.lineno}: {node.func.id}() is not allowed", POLICY))
        elif _interpreter_name(node):
            findings.append(Finding(section, f"line {node.lineno}: `{_interpreter_name(node)}` is not allowed (it "
                                             f"reaches the interpreter's modules, not the kit's)", POLICY))
        elif (isinstance(node, ast.Attribute) and node.attr in TRACER_NAMES) or \
                (isinstance(node, ast.Name) and node.id in TRACER_NAMES):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            findings.append(Finding(section, f"line {node.lineno}: `{name}` is not allowed (it would tamper with the "
                                             f"checker's line tracer)", POLICY))
    return findings


# ------------------------------------------------------------------------------------------ kit code outside the regions
def skeleton(source):
    """``source`` with every region (markers included) replaced by ``...``; line numbers are kept."""
    lines = source.splitlines()
    for first, last in reversed(student_regions(source)):
        code = [line for line in lines[first + 1:last] if line.strip() and not line.strip().startswith('#')]
        reference = code[0] if code else lines[first]
        lines[first:last + 1] = [reference[:len(reference) - len(reference.lstrip())] + '...'] + [''] * (last - first)
    return '\n'.join(lines) + '\n'


def without_docstrings(node):
    """A copy of ``node`` with every docstring removed (an emptied body gets ``pass``)."""
    node = copy.deepcopy(node)
    for child in ast.walk(node):
        body = getattr(child, 'body', None)
        if isinstance(child, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and is_docstring(body[0]):
            child.body = body[1:] or [ast.Pass()]
    return node


def kit_members(tree):
    """{'Name' or 'Class.member': node} of a module's definitions; a class's own entry holds its header only."""
    members = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members[node.name] = node
        elif isinstance(node, ast.ClassDef):
            header = copy.copy(node)
            header.body = [ast.Pass()]
            members[node.name] = header
            for member in node.body:
                names = [member.name] if hasattr(member, 'name') else \
                    [target.id for target in getattr(member, 'targets', []) if isinstance(target, ast.Name)]
                for name in names:
                    members.setdefault(f"{node.name}.{name}", member)
    return members


def first_difference(student, kit):
    """(student node, kit node): the innermost pair where two trees first differ, or None."""
    if type(student) is not type(kit):
        return student, kit
    for name in student._fields:
        mine, theirs = getattr(student, name, None), getattr(kit, name, None)
        if not isinstance(mine, list) or not isinstance(theirs, list):
            mine, theirs = [mine], [theirs]
        for a, b in zip(mine, theirs):
            if isinstance(a, ast.AST) and isinstance(b, ast.AST):
                found = first_difference(a, b)
                if found:
                    return found
            elif isinstance(a, ast.AST) or isinstance(b, ast.AST) or a != b:
                return student, kit
        if len(mine) != len(theirs):  # a statement (or argument) added or removed
            return (mine[len(theirs)] if len(mine) > len(theirs) else student), \
                (theirs[len(mine)] if len(theirs) > len(mine) else kit)
    return None


def dump(node):
    return ast.dump(without_docstrings(node))


class EditChecker:
    """Finds where an upload's kit code (outside the regions) differs from the kit's template."""

    def __init__(self, kit_template, sections, variants=''):
        """``variants``: kit code as the course's older templates wrote it, accepted too (the assignment's
        ``kit_variants.COURSE_DEFINITIONS``)."""
        self.sections = sections
        self.kit = kit_members(ast.parse(skeleton(kit_template)))
        self.accepted = {name: {dump(node)} for name, node in self.kit.items()}
        for name, node in kit_members(ast.parse(variants)).items():
            self.accepted.setdefault(name, set()).add(dump(node))

    def section(self, name):
        return section_of(self.sections, name)

    def findings(self, source, markerless=()):
        """Findings on the kit code of ``source``; severity None marks an edit (the course policy decides
        it), WRONG a changed parameter shape.  ``markerless``: functions spliced whole (nothing to compare)."""
        lines = source.splitlines()
        try:
            tree = ast.parse(skeleton(source))
        except SyntaxError:
            return [Finding(MODULE, "the '# your code here' markers could not be matched: regions spill over "
                                    "their functions", None)]
        student = kit_members(tree)
        found = []
        for name, kit_node in self.kit.items():
            if any(owner == name or owner.startswith(name + '.') for owner in markerless):
                continue  # taken whole from the upload: it has no kit code to compare
            node = student.get(name)
            if node is None:
                found.append(Finding(self.section(name), f"{name} is missing from solution.py", None))
                continue
            if dump(node) in self.accepted[name]:
                continue
            found.append(self._edit_finding(name, node, kit_node, lines))
        definitions = {name for name in self.kit if '.' not in name}
        seen = set()
        for node in tree.body:
            names = bound_names(node) & definitions
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name not in seen:
                seen.add(node.name)
                continue
            for name in sorted(names):
                found.append(Finding(self.section(name), f"line {node.lineno} rebinds the kit's {name} "
                                                         f"(`{lines[node.lineno - 1].strip()[:80]}`)", None))
        return found

    def _edit_finding(self, name, node, kit_node, lines):
        mine, theirs = first_difference(without_docstrings(node), without_docstrings(kit_node)) or (node, kit_node)
        line = getattr(mine, 'lineno', node.lineno)
        kit_text = ast.unparse(theirs) if hasattr(theirs, 'lineno') else ''
        kit_text = kit_text.splitlines()[0][:80] if kit_text else ''
        where = f"line {line}: `{lines[line - 1].strip()[:80]}`" + (f", where the kit has `{kit_text}`" if kit_text
                                                                      else '')
        return Finding(self.section(name), f"{name} differs from the kit's code outside the regions ({where})", None)


def check_submission(source, reference_source, kit_template, markerless=(), policy=None, edit_checker=None,
                     kit_used=False):
    """All findings of a submission (``source`` text), with severities under the course ``policy``;
    ``kit_used``: the file is graded spliced into the kit's template, so its edits of kit code were not run."""
    from grader.course_policy import CoursePolicy
    policy = policy or CoursePolicy()
    sections = edit_checker.sections if edit_checker else section_of_names(reference_source)
    findings = check_code(ast.parse(source), sections, policy.extra_imports)
    checker = edit_checker or EditChecker(kit_template, sections)
    for finding in checker.findings(source, markerless):
        if finding.severity is None:  # an edit of kit code: the course decides
            if policy.outside_regions == 'ignore':
                continue
            finding.severity = POLICY if policy.outside_regions == 'fail' else WARNING
            if kit_used:
                finding.message += ": the kit's code was used"
            if finding.severity == POLICY:
                finding.message += " (this course does not allow edits outside the regions)"
        findings.append(finding)
    return findings
