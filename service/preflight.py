"""What an upload must define before it is queued: the pre-flight check of the assignment's interface.

Derived from the assignment's reference solution (``assignments.get(name).reference_path``): a
top-level class or function is required when it holds a ``# BEGIN SOLUTION <section>`` region of a
section the course grades, or no region at all (the template's own code, e.g. ``convolve``); a
required class must have every method the reference defines in it, with the reference's positional
parameters.  The student template keeps all of them (only the regions' bodies change), so a file
made from it passes; one without ``Dense`` would only collect zeros and is refused at upload
(``service.parsing.missing_definitions`` checks it in the parser process), spending no attempt.
"""
import ast
from functools import lru_cache

import assignments
from service.parsing import signature


@lru_cache(maxsize=8)
def required_definitions(assignment: str, sections: tuple) -> tuple:
    """[{'kind': 'class', 'name', 'methods'} | {'kind': 'function', 'name', 'signature'}] (plain data, for
    the parser processes) that a file graded for ``sections`` of ``assignment`` must define."""
    from grader.regions import solution_regions
    assignment = assignments.get(assignment)
    source = assignment.reference_path.read_text()
    regions = solution_regions(source, assignment.by_name)
    required = []
    for node in ast.parse(source).body:
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            continue
        inside = {section for first, _, _, section in regions if node.lineno - 1 <= first < node.end_lineno}
        if inside and not inside & set(sections):
            continue
        if isinstance(node, ast.ClassDef):
            required.append({'kind': 'class', 'name': node.name, 'methods': {
                item.name: signature(item) for item in node.body if isinstance(item, ast.FunctionDef)}})
        else:
            required.append({'kind': 'function', 'name': node.name, 'signature': signature(node)})
    return tuple(required)


def refusal_message(name: str, problems: list) -> str:
    """What the student reads when the file lacks part of the interface."""
    return (f"'{name}' does not define what the assignment asks for: {'; '.join(problems)}. Nothing was queued "
            f"and this upload does not count against your hourly limit; keep every class, method and function "
            f"of the template (with its parameters) and upload again")
