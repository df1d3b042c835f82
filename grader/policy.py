"""Static checks of an uploaded solution.py (AST only: nothing of it is executed here).

* imports: numpy, math, interface and a few standard helpers only;
* no exec/eval/__import__/open and the like;
* loops: at most two nested loops in convolve_numpy; none in the layers',
  losses' and optimizers' computations (comprehensions and np.vectorize count);
* code outside the '# Your code here' regions must match the template.

Findings are attributed to the section whose code they are in; findings in
module-level code concern every section.
"""
import ast
import difflib
from dataclasses import dataclass

from instructor.template import enclosing_names, make_template, outside_regions, solution_regions

ALLOWED_IMPORTS = {'numpy', 'math', 'interface', 'typing', 'functools', 'itertools', 'operator'}
FORBIDDEN_CALLS = {'exec', 'eval', 'compile', '__import__', 'open', 'input', 'breakpoint', 'globals', 'vars',
                   'setattr', 'delattr', 'getattr'}
LOOP_CALLS = {'vectorize', 'apply_along_axis', 'apply_over_axes', 'frompyfunc', 'fromiter', 'map'}
COMPUTATION_METHODS = {'forward_impl', 'backward_impl', 'value_impl', 'gradient_impl', 'updater'}
MODULE = '*'  # findings in module-level code concern every section


@dataclass
class Finding:
    section: str      # a section name, or MODULE
    message: str
    fatal: bool       # fails the section (else a warning)


def section_of_names(reference_source):
    """{top-level name: section} from where the reference's student regions are."""
    names = enclosing_names(reference_source)
    return {names[first].split('.')[0]: section for first, _, _, section in solution_regions(reference_source)
            if first in names}


def _top_level(tree):
    """{line (1-based): top-level def/class name} for every line of the file."""
    owners = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            for line in range(node.lineno, node.end_lineno + 1):
                owners[line] = node.name
    return owners


STATEMENT_LOOPS = (ast.For, ast.AsyncFor, ast.While)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _loop_depth(node):
    """Deepest nesting of loops below ``node`` (for/while/comprehension generators)."""
    own = 1 if isinstance(node, STATEMENT_LOOPS) else len(node.generators) if isinstance(node, COMPREHENSIONS) else 0
    return own + max((_loop_depth(child) for child in ast.iter_child_nodes(node)), default=0)


def _call_name(node):
    function = node.func
    return function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else ''


def check_code(tree, owners, sections):
    """Imports, forbidden calls and loops."""
    findings = []

    def section_at(line):
        return sections.get(owners.get(line), MODULE)

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or '.']
            for module in modules:
                if module.split('.')[0] not in ALLOWED_IMPORTS:
                    findings.append(Finding(section_at(node.lineno), f"line {node.lineno}: import of '{module}' is "
                                            f"not allowed (only {', '.join(sorted(ALLOWED_IMPORTS))})", True))
        elif isinstance(node, ast.Call) and _call_name(node) in FORBIDDEN_CALLS and isinstance(node.func, ast.Name):
            findings.append(Finding(section_at(node.lineno), f"line {node.lineno}: {_call_name(node)}() is not allowed",
                                    True))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            section = section_at(node.lineno)
            depth = _loop_depth(node) if node.name == 'convolve_numpy' else 0
            if depth > 2:
                findings.append(Finding(section, f"line {node.lineno}: convolve_numpy nests {depth} loops "
                                        f"(at most 2 allowed)", True))
            elif node.name in COMPUTATION_METHODS:
                loops = [child for child in ast.walk(node) if isinstance(child, STATEMENT_LOOPS + COMPREHENSIONS)]
                calls = [child for child in ast.walk(node) if isinstance(child, ast.Call)
                         and _call_name(child) in LOOP_CALLS]
                if loops or calls:
                    line = (loops or calls)[0].lineno
                    findings.append(Finding(section, f"line {line}: a Python loop in {node.name} (vectorise it with "
                                            f"numpy)", True))
    return findings


def check_template(source, template_source, sections, fatal):
    """Edits outside the student regions, attributed by the enclosing top-level name."""
    findings = []
    student, template = outside_regions(source), outside_regions(template_source)
    student_owners = _top_level(ast.parse(source))
    template_owners = _top_level(ast.parse(template_source))
    matcher = difflib.SequenceMatcher(None, [text.strip() for _, text in template],
                                      [text.strip() for _, text in student], autojunk=False)
    for tag, i1, _, j1, j2 in matcher.get_opcodes():
        if tag == 'equal':
            continue
        if j2 > j1:
            line, text = student[j1]
            owner = student_owners.get(line + 1)
            what = f"line {line + 1} differs from the template: {text.strip()[:80]!r}"
        else:
            line, text = template[i1]
            owner = template_owners.get(line + 1)
            what = f"template line {line + 1} is missing: {text.strip()[:80]!r}"
        section = sections.get(owner, MODULE)
        # New helpers at module level are harmless; anything else outside the regions is not.
        is_fatal = fatal and (section != MODULE or tag != 'insert')
        findings.append(Finding(section, f"code outside '# Your code here' changed: {what}", is_fatal))
    return findings


def check_submission(source, reference_source, outside_regions_fatal=True):
    """All findings of a submission (``source`` text) against the reference's template."""
    sections = section_of_names(reference_source)
    tree = ast.parse(source)
    return check_code(tree, _top_level(tree), sections) + \
        check_template(source, make_template(reference_source), sections, outside_regions_fatal)
