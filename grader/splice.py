"""The fallback module: the kit's own code with the student's regions spliced in.

A file is graded as the student wrote it (``as_is``), in whatever template: student code leans on the
kit code around its regions (a ``return model`` after the region, ``self._lr`` set in a 2019
``__init__``, a ``nonlocal`` onto state bound beside ``updater``), and swapping that code for ours
breaks it.  Only a file that does not import as written (a template broken around the regions, a
region pasted in the wrong place) is graded spliced, and the report says so (``Grader._graded_module``):

* every definition of the kit (classes, their methods, ``convolve``, the
  asserts in ``convolve_numpy``) is the kit's text;
* each region of the kit is filled with the student's region of the same
  function (found by its qualified name, e.g. ``SGD.get_parameter_updater.updater``),
  or, when the student deleted the markers of a function whose body is all
  region, with that function's body;
* what the student added is kept, in the student's order: module-level
  helpers, imports and constants, and extra members of the kit's classes.

Line numbers of the graded module map back to the upload's (``Spliced.student_line``),
so messages and tracebacks name the student's own lines.
"""
import ast
import re
from dataclasses import dataclass, field

from grader.regions import enclosing_names, qualified_definitions, student_regions

LINE_REFERENCE = re.compile(r'solution\.py, line (\d+)')


@dataclass
class Spliced:
    source: str                                   # the graded module
    origins: list                                 # origins[i]: upload line (1-based) of graded line i + 1, or None
    unplaced: list = field(default_factory=list)  # [(qualified name, line)] regions with no place in the kit
    markerless: set = field(default_factory=set)  # functions taken whole because their markers were deleted

    def student_line(self, graded_line):
        """The upload's line number of a graded line, or None for the kit's code."""
        return self.origins[graded_line - 1] if 0 < graded_line <= len(self.origins) else None

    @property
    def student_lines(self):
        """Graded line numbers (1-based) that hold the student's code."""
        return [number + 1 for number, origin in enumerate(self.origins) if origin is not None]

    def translate(self, text):
        """Rewrite 'solution.py, line N' (graded numbering) into the upload's numbering."""
        def replace(match):
            origin = self.student_line(int(match.group(1)))
            return f"solution.py, line {origin}" if origin else "the kit's code"
        return LINE_REFERENCE.sub(replace, text)


def as_is(source):
    """An upload graded as written (the reference itself, or a file that cannot be spliced)."""
    return Spliced(source, list(range(1, len(source.splitlines()) + 1)))


# ------------------------------------------------------------------------------------------ reading the files
def qualified_functions(tree):
    """{'Class.method.inner': FunctionDef} for every function of a module (the first of a name)."""
    found = {}
    for name, node in qualified_definitions(tree):
        if not isinstance(node, ast.ClassDef):
            found.setdefault(name, node)
    return found


def regions_by_owner(source):
    """{qualified function name: [(first body line (0-based), [body lines])]} of the marked regions."""
    lines, names = source.splitlines(), enclosing_names(source)
    owners = {}
    for first, last in student_regions(source):
        owner = names.get(first)
        if owner is None:  # an empty region at the very end of its function: no statement holds the marker
            owner = next((names[line] for line in range(first - 1, -1, -1) if line in names), None)
        owners.setdefault(owner, []).append((first + 1, lines[first + 1:last]))
    return owners


def is_docstring(node):
    """Whether a statement is a bare string (a docstring where it stands first in a body)."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def docstring_free_body(function):
    """The statements of a function after its docstring."""
    body = function.body
    return body[1:] if body and is_docstring(body[0]) else body


def definition_lines(node):
    """(first, last) 1-based lines of a statement, decorators included."""
    return min([node.lineno] + [decorator.lineno for decorator in getattr(node, 'decorator_list', [])]), node.end_lineno


def bound_names(node):
    """Top-level names a statement binds (roots of attribute targets included: ``Dense.f = g`` binds Dense)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split('.')[0] for alias in node.names}
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, ast.Delete):
        targets = node.targets
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    names = set()
    for target in targets:
        for child in ast.walk(target):
            if isinstance(child, ast.Name):
                names.add(child.id)
    return names


def reindent(lines, indent):
    """``lines`` moved to ``indent``: their common leading whitespace becomes ``indent``."""
    code = [line for line in lines if line.strip()]
    common = code[0][:len(code[0]) - len(code[0].lstrip())] if code else ''
    for line in code[1:]:
        while not line.startswith(common):
            common = common[:-1]
    return [indent + line[len(common):] if line.strip() else '' for line in lines]


def has_code(lines):
    return any(line.strip() and not line.strip().startswith('#') for line in lines)


def markerless_region(kit_body, student_body):
    """The statements of a function whose markers the student deleted that stand where the kit's
    region is: the kit's body is [its own statements] + the region's ``raise`` + [its own statements],
    and the student's must start and end with the same statements (asserts, say).  [] when it does not."""
    cut = next((index for index, node in enumerate(kit_body) if isinstance(node, ast.Raise)), None)
    if cut is None:
        return []
    before, after = kit_body[:cut], kit_body[cut + 1:]
    middle = student_body[len(before):len(student_body) - len(after)]
    same = [ast.dump(node) for node in student_body[:len(before)]] == [ast.dump(node) for node in before] and \
        [ast.dump(node) for node in student_body[len(student_body) - len(after):]] == [ast.dump(n) for n in after]
    return middle if same and middle else []


# ------------------------------------------------------------------------------------------ the splice
class _Writer:
    def __init__(self):
        self.lines, self.origins = [], []

    def kit(self, lines):
        self.lines += lines
        self.origins += [None] * len(lines)

    def student(self, lines, first):
        """``lines`` of the upload, the first of them being upload line ``first`` (1-based)."""
        self.lines += lines
        self.origins += list(range(first, first + len(lines)))


def splice(student_source, kit_source):
    """The graded module for ``student_source`` within ``kit_source`` (the kit's template), or None
    when the result does not parse (then the caller grades the upload as written)."""
    kit_lines, student_lines = kit_source.splitlines(), student_source.splitlines()
    kit_tree, student_tree = ast.parse(kit_source), ast.parse(student_source)
    kit_regions, student_owned = regions_by_owner(kit_source), regions_by_owner(student_source)
    student_functions = qualified_functions(student_tree)
    kit_functions = qualified_functions(kit_tree)
    spliced = Spliced('', [])
    writer = _Writer()

    def fill(owner, count):
        """[(first upload line, body lines)] for the ``count`` regions of ``owner``."""
        bodies = student_owned.get(owner, [])
        if not bodies and owner in student_functions and count == 1:
            region = markerless_region(docstring_free_body(kit_functions[owner]),
                                       docstring_free_body(student_functions[owner]))
            if region:
                first, last = definition_lines(region[0])[0], region[-1].end_lineno
                spliced.markerless.add(owner)
                bodies = [(first - 1, student_lines[first - 1:last])]
        if count == 1 and len(bodies) > 1:  # one region written as several: they run one after another
            bodies = [(bodies[0][0], [line for _, part in bodies for line in part])]
        return bodies[:count] + [None] * (count - len(bodies))

    def write_kit_lines(first, last):
        """Kit lines first..last (1-based), each kit region in them filled with the student's code."""
        inside = sorted((start, owner, body) for owner, regions in kit_regions.items() for start, body in regions
                        if first <= start + 1 <= last)
        position = first
        filled = {owner: iter(fill(owner, len(kit_regions[owner]))) for _, owner, _ in inside}
        for start, owner, body in inside:  # start: 0-based first body line of the kit's region
            writer.kit(kit_lines[position - 1:start])  # up to and including the begin marker
            student = next(filled[owner])
            if student is None or not has_code(student[1]):
                writer.kit(body)  # not written: the kit's NotImplementedError stays
            else:
                indent = body[0][:len(body[0]) - len(body[0].lstrip())]
                code_first, code = student
                writer.student(reindent(code, indent), code_first + 1)
            position = start + len(body) + 1  # the end marker, 1-based
        writer.kit(kit_lines[position - 1:last])

    kit_definitions = {node.name: node for node in kit_tree.body
                       if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    header = [node for node in kit_tree.body if getattr(node, 'name', None) not in kit_definitions]
    header_dumps = {ast.dump(node) for node in header}
    for node in header:
        if not is_docstring(node):  # the kit's module docstring
            writer.kit(kit_lines[node.lineno - 1:node.end_lineno])

    def write_class(kit_class, student_class):
        write_kit_lines(*definition_lines(kit_class))
        if student_class is None:
            return
        kit_members = set()
        for member in kit_class.body:
            kit_members |= bound_names(member)
        indent = ' ' * kit_class.body[0].col_offset
        for member in student_class.body:
            if bound_names(member) & kit_members or is_docstring(member):
                continue  # the kit's member (or a docstring)
            first, last = definition_lines(member)
            writer.student(reindent(student_lines[first - 1:last], indent), first)

    written = set()
    for node in student_tree.body:
        names = bound_names(node)
        kit_name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
            and node.name in kit_definitions else None
        if kit_name and kit_name not in written:
            written.add(kit_name)
            kit_node = kit_definitions[kit_name]
            if isinstance(kit_node, ast.ClassDef):
                write_class(kit_node, node if isinstance(node, ast.ClassDef) else None)
            else:
                write_kit_lines(*definition_lines(kit_node))
        elif names & set(kit_definitions) or ast.dump(node) in header_dumps:
            continue  # rebinds kit code (reported by the policy), or repeats the kit's imports
        elif is_docstring(node) and node is student_tree.body[0]:
            continue  # the module docstring
        else:
            first, last = definition_lines(node)
            writer.student(student_lines[first - 1:last], first)
    for name, kit_node in kit_definitions.items():
        if name not in written:  # deleted from the upload: the kit's (its regions stay unimplemented)
            write_class(kit_node, None) if isinstance(kit_node, ast.ClassDef) \
                else write_kit_lines(*definition_lines(kit_node))

    for owner, bodies in student_owned.items():
        if owner not in kit_regions:
            spliced.unplaced += [(owner, first + 1) for first, body in bodies if has_code(body)]
    spliced.source, spliced.origins = '\n'.join(writer.lines) + '\n', writer.origins
    try:
        ast.parse(spliced.source)
    except SyntaxError:
        return None
    return spliced
