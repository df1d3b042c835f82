"""One source, two files: the reference ``solution.py`` and the student template.

In the reference, every student region is delimited by
``# BEGIN SOLUTION <section>`` and ``# END SOLUTION``.  The template replaces
each region by

    # Your code here \\/
    raise NotImplementedError("<section title> (<name>): <where> is not implemented yet")
    # Your code here /\\

and ``student_regions`` finds those regions again in an uploaded file, so the
grader can compare what lies outside them with the template.
"""
import ast
import re

BEGIN = re.compile(r'^(\s*)# BEGIN SOLUTION (\w+)\s*$')
END = re.compile(r'^\s*# END SOLUTION\s*$')
STUDENT_BEGIN = '# Your code here \\/'
STUDENT_END = '# Your code here /\\'


def solution_regions(source, sections=None):
    """[(first line, last line, indent, section)] of the marked regions (0-based, markers included);
    ``sections`` ({name: Section}): the names a region may carry (None: any name)."""
    regions, start = [], None
    for number, line in enumerate(source.splitlines()):
        if (match := BEGIN.match(line)):
            if start is not None:
                raise ValueError(f"line {number + 1}: BEGIN SOLUTION inside another region")
            start, indent, section = number, match.group(1), match.group(2)
            if sections is not None and section not in sections:
                raise ValueError(f"line {number + 1}: unknown section '{section}'")
        elif END.match(line):
            if start is None:
                raise ValueError(f"line {number + 1}: END SOLUTION without BEGIN")
            regions.append((start, number, indent, section))
            start = None
    if start is not None:
        raise ValueError(f"line {start + 1}: BEGIN SOLUTION is never closed")
    return regions


def qualified_definitions(tree, prefix=''):
    """(qualified name 'Class.method.inner', node) of every def and class of ``tree``, outer ones first:
    the one walk over definitions that the template, the splice and the static rules share."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{child.name}"
            yield name, child
            yield from qualified_definitions(child, name + '.')


def owners_of_lines(tree):
    """{line (1-based): the innermost def/class around it, qualified} for every line inside one."""
    return {line: name for name, node in qualified_definitions(tree)
            for line in range(node.lineno, node.end_lineno + 1)}  # inner definitions come later and win


def enclosing_names(source):
    """{line (0-based): 'Class.method'} for every line inside a def, innermost first."""
    return {line - 1: name for line, name in owners_of_lines(ast.parse(source)).items()}


def make_template(source, sections):
    """The student template of a reference solution source (``sections``: its {name: Section})."""
    lines = source.splitlines()
    names = enclosing_names(source)
    output, position = [], 0
    for first, last, indent, section in solution_regions(source, sections):
        output += lines[position:first]
        title = sections[section].title
        where = names.get(first, section)
        output += [f"{indent}{STUDENT_BEGIN}",
                   f'{indent}raise NotImplementedError("{title} ({section}): {where} is not implemented yet")',
                   f"{indent}{STUDENT_END}"]
        position = last + 1
    output += lines[position:]
    return '\n'.join(output) + '\n'


def student_regions(source):
    """[(first line, last line)] of the '# Your code here' regions of a student file (markers included).

    The reference's own BEGIN/END SOLUTION markers count as regions too, so the
    reference can be graded like any upload.
    """
    regions, start = [], None
    for number, line in enumerate(source.splitlines()):
        marker = ' '.join(line.split()).lower()
        if (marker == STUDENT_BEGIN.lower() or BEGIN.match(line)) and start is None:
            start = number
        elif (marker == STUDENT_END.lower() or END.match(line)) and start is not None:
            regions.append((start, number))
            start = None
    return regions


def outside_regions(source):
    """[(line number, text)] of the code outside the student regions: comments, blank lines and
    trailing spaces do not count, and each region becomes one '<your code>' line."""
    lines = source.splitlines()
    inside = {}
    for first, last in student_regions(source):
        for number in range(first, last + 1):
            inside[number] = first
    kept = []
    for number, line in enumerate(lines):
        if number in inside:
            if inside[number] == number:
                kept.append((number, '<your code>'))
            continue
        text = line.rstrip()
        if text and not text.lstrip().startswith('#'):
            kept.append((number, text))
    return kept


def strip_blocks(source, begin, end):
    """Remove every block from a line equal to ``begin`` to a line equal to ``end`` (markers included)."""
    output, skipping = [], False
    for line in source.splitlines():
        if line.strip() == begin:
            skipping = True
        elif line.strip() == end and skipping:
            skipping = False
        elif not skipping:
            output.append(line)
    return '\n'.join(output) + '\n'
