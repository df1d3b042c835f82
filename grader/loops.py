"""The loop rule judged by what runs: which of the student's lines run more often on more data.

"No Python loops over data in layers, losses and optimizers; at most two nested
loops in convolve_numpy" is a rule about behaviour, so it is checked on
behaviour.  The sandboxed child runs each probe below with a line tracer on the
student's code (``harness.count_lines``): every executed line of the student's
code counts, and so does every call made from one (``map(np.sum, rows)``
calls from a single line).  Then, here in the grader:

* a line that runs more often on the bigger probe (every data dimension larger)
  than on the small one is a loop over data, wherever it stands (a helper, a
  comprehension, recursion, ``np.vectorize`` of a Python function).  A loop over
  ``ndim`` or over a fixed tuple runs as often on both, and is fine;
* a section allowed K nested loops over data (``NESTED``: numpy-nn's
  convolve_numpy, two) gets one probe per dimension made larger alone; a line
  whose count grows with more than K of them sits in more than K nested loops.

Each assignment brings its probes (its ``probes`` module: ``probes(section)``, ``GROWN``, and
``NESTED`` where a section may nest loops); ``loop_lines`` compares every '<run> small' with its
'<run> bigger'.
"""

import ast

from grader.regions import owners_of_lines
from grader.static_rules import MODULE, POLICY, Finding, section_of

GROWS = 'bigger'  # the label suffix of a probe with every data dimension larger
NUMBER_WORDS = ('no', 'one', 'two', 'three', 'four', 'five')


def loop_lines(section, counts, grown, nested=None):
    """{graded line: description} of the lines that loop over data, from the child's ``counts``
    ({label: {line: executions}}).  ``grown``: what the bigger probes have more of; ``nested``:
    (the probes' dimensions {label: what grew}, loops allowed) where ``section`` may nest loops."""
    def on(label):
        return {int(line): number for line, number in counts.get(label, {}).items()}

    found = {}
    if nested:
        dimensions, allowed = nested
        small = on('small')
        for line in sorted(set().union(*(on(key) for key in dimensions))):
            grew = [key for key in dimensions if on(key).get(line, 0) > small.get(line, 0)]
            if len(grew) > allowed:
                words = NUMBER_WORDS[allowed] if allowed < len(NUMBER_WORDS) else str(allowed)
                found[line] = (f"runs more often with every one of {', '.join(dimensions[key] for key in grew)}"
                               f": more than {words} nested loops over the data (at most {words} are allowed "
                               f"in {section})")
        return found
    pairs = [(label, label[:-len('small')] + GROWS) for label in counts if label.endswith('small')]
    for small_label, big_label in pairs:
        small, big = on(small_label), on(big_label)
        for line, number in sorted(big.items()):
            if number > small.get(line, 0) and line not in found:
                found[line] = (f"runs {small.get(line, 0)} times on the small probe and {number} times on a bigger one"
                               f" ({grown}): a Python loop over the data (vectorise it with numpy)")
    return found


def loop_findings(section, results, source, sections, student_line, probes, severity):
    """[Finding] for the lines of ``source`` (the graded text) that loop over data, from a run of the section's
    probes: ``results`` {'line_counts': {label: {line: executions}}, 'trace_removed': bool}.  ``sections``:
    {definition: section} of the kit's regions; ``student_line(line)``: that line as the student numbers it;
    ``probes``: the assignment's probes module; ``severity``: POLICY or WARNING, as the course decides."""
    counts = results.get('line_counts')
    if not isinstance(counts, dict):
        return []
    lines = source.splitlines()
    # A probe of one section may run another's code (rp's probe runs forward): each loop is charged to
    # the section whose function holds it; a helper outside every section, to whichever section runs it.
    owners = owners_of_lines(ast.parse(source))
    nested = getattr(probes, 'NESTED', {}).get(section)
    looping = {line: why for line, why in loop_lines(section, counts, probes.GROWN, nested).items()
               if 0 < line <= len(lines) and section_of(sections, owners.get(line)) in (section, MODULE)}
    found = []
    if looping:  # the first line (the outermost loop, usually) in full, the others by number
        first, *others = sorted(looping)
        also = f" (also line{'s' if len(others) > 1 else ''} " \
               f"{', '.join(str(student_line(line)) for line in others)})" if others else ''
        found.append(Finding(section, f"line {student_line(first)}: `{lines[first - 1].strip()[:80]}` "
                                      f"{looping[first]}{also}", severity))
    if results.get('trace_removed'):
        found.append(Finding(section, "the submission removed the checker's line tracer (sys.settrace)", POLICY))
    return found
