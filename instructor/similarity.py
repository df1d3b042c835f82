"""``./run.py similarity DIR [--known DIR] --html report.html``: which submissions share code.

Fingerprints come from ``copydetect`` (winnowing, Schleimer, Wilkerson and Aiken 2003) over the
tokens of each file as Pygments' Python lexer sees them, with every identifier replaced by one
letter (V for names and attributes, F for function names, O for classes), strings by S, and
comments and whitespace dropped: renamed variables and reformatting change nothing, and
reordering definitions only loses the k-grams that straddle their boundaries (the fingerprints of
a file are a set).  Every k-gram of the template (``grader.regions.make_template`` of the
reference ``solution.py``, plus any ``--template`` files such as an older course template) is
boilerplate and removed, so only what students wrote counts.

Two scores per pair: the file score, the larger of the two shares of each file's fingerprinted
code that the other file covers (a short solution pasted inside a longer one still scores high),
and the definition score, the largest share of one function or method (of at least
``MIN_DEFINITION_PRINTS`` fingerprints: one-liners say nothing) found in the other file, which
catches a single section copied into otherwise independent work.  Pairs rank by the larger of
the two.  Pairs among the
submissions and each submission against each known solution (``--known``: past years, public
repositories) are ranked; the HTML page shows the top pairs side by side with the shared regions
highlighted.
"""
import assignments
import io
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

NOISE_TOKENS = 25      # k: the shortest shared run (characters of filtered code) that counts
GUARANTEE_TOKENS = 30  # any shared run at least this long is always found; window = 30 - 25 + 1
MIN_DEFINITION_PRINTS = 25  # definitions with fewer fingerprints (after the template) are not scored alone


@dataclass
class Pair:
    left: str          # submission name
    right: str         # another submission, or a known solution
    score: float       # max(file_score, definition_score): what pairs rank by
    left_share: float  # share of the left file's fingerprinted code found in the right one
    right_share: float
    known: bool        # right is a known solution
    slices: tuple      # (left 2xN, right 2xN) character ranges of shared code in the raw sources
    file_score: float = 0.0        # max(left_share, right_share)
    definition_score: float = 0.0  # the largest share of one definition found in the other file
    definition: str = ''           # 'file: Class.method' of that definition


def template_sources(extra_templates=(), assignment=None):
    """The assignment's template (what every student starts from), plus extra boilerplate files."""
    from grader.regions import make_template
    assignment = assignments.get(assignment)
    sources = [make_template(assignment.reference_path.read_text(), assignment.by_name)]
    return sources + [Path(path).read_text(errors='replace') for path in extra_templates]


def fingerprint(name, source, boilerplate=()):
    """copydetect's CodeFingerprint of ``source`` with the ``boilerplate`` hashes removed."""
    import numpy as np
    from copydetect import CodeFingerprint
    logging.getLogger().setLevel(logging.ERROR)
    return CodeFingerprint(name, NOISE_TOKENS, GUARANTEE_TOKENS - NOISE_TOKENS + 1,
                           boilerplate=np.array(sorted(boilerplate), dtype=np.int64), language='python',
                           fp=io.StringIO(source))


def boilerplate_hashes(templates):
    """Every k-gram hash of the templates (window 1: all of them, as copydetect does)."""
    from copydetect import CodeFingerprint
    hashes = set()
    for index, source in enumerate(templates):
        hashes |= CodeFingerprint(f'template{index}.py', NOISE_TOKENS, 1, language='python',
                                  fp=io.StringIO(source)).hashes
    return hashes


def definitions(source):
    """[(name, source)] of the module's functions and its classes' methods ('Conv2D.forward_impl')."""
    import ast
    import textwrap
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    lines = source.splitlines(keepends=True)
    found = []
    for node in tree.body:
        members = [(f"{node.name}.{m.name}", m) for m in node.body if isinstance(m, ast.FunctionDef)] \
            if isinstance(node, ast.ClassDef) else [(node.name, node)] if isinstance(node, ast.FunctionDef) else []
        found += [(name, textwrap.dedent(''.join(lines[m.lineno - 1:m.end_lineno]))) for name, m in members]
    return found


def definition_prints(source, boilerplate):
    """[(name, fingerprint hashes)] of the definitions big enough to be scored alone."""
    scored = []
    for name, code in definitions(source):
        hashes = fingerprint(name, code, boilerplate).hashes
        if len(hashes) >= MIN_DEFINITION_PRINTS:
            scored.append((name, hashes))
    return scored


def compare(left, right, known=False, left_definitions=(), right_definitions=()):
    from copydetect import compare_files
    best, where = 0.0, ''
    for owner, own, other in ((left, left_definitions, right), (right, right_definitions, left)):
        for name, hashes in own:
            share = len(hashes & other.hashes) / len(hashes)
            if share > best:
                best, where = share, f"{owner.filename}: {name}"
    if not left.hashes or not right.hashes:
        return Pair(left.filename, right.filename, best, 0.0, 0.0, known, ((), ()), 0.0, best, where)
    _, (left_share, right_share), slices = compare_files(left, right)
    file_score = float(max(left_share, right_share))
    return Pair(left.filename, right.filename, max(file_score, best), float(left_share), float(right_share), known,
                slices, file_score, best, where)


def read_sources(folder):
    """{name relative to the folder: source} for every .py file in it."""
    folder = Path(folder)
    return {str(path.relative_to(folder)): path.read_text(errors='replace') for path in sorted(folder.rglob('*.py'))}


def rank_pairs(submissions, known=None, templates=None):
    """Every pair among ``submissions`` ({name: source}) and each submission against each of
    ``known`` ({name: source}), best first."""
    boilerplate = boilerplate_hashes(template_sources() if templates is None else templates)
    known = known or {}
    prints = {name: fingerprint(name, source, boilerplate) for name, source in submissions.items()}
    known_prints = {name: fingerprint(f"known: {name}", source, boilerplate) for name, source in known.items()}
    parts = {name: definition_prints(source, boilerplate) for name, source in submissions.items()}
    known_parts = {name: definition_prints(source, boilerplate) for name, source in known.items()}
    pairs = [compare(prints[a], prints[b], False, parts[a], parts[b])
             for a, b in itertools.combinations(sorted(prints), 2)]
    pairs += [compare(prints[a], known_prints[b], True, parts[a], known_parts[b])
              for a in sorted(prints) for b in sorted(known_prints)]
    return sorted(pairs, key=lambda pair: (-pair.score, -pair.file_score, pair.left, pair.right))


def highlighted(source, slices):
    """HTML of ``source`` with the shared character ranges in <mark>."""
    import numpy as np
    from copydetect.utils import highlight_overlap
    from markupsafe import escape
    slices = np.asarray(slices)
    if slices.size == 0:
        return str(escape(source))
    marked, _ = highlight_overlap(source, slices, '<mark>', '</mark>', escape_html=True)
    return marked


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Similarity report</title>
<style>
body { font-family: sans-serif; margin: 1.5em; }
table.pairs td, table.pairs th { padding: 2px 10px; text-align: left; }
.side { display: flex; gap: 1em; }
.side > div { flex: 1; min-width: 0; }
pre { background: #f6f6f6; padding: 0.5em; overflow: auto; max-height: 40em; font-size: 12px; }
mark { background: #ffd54f; }
</style></head><body>
<h1>Similarity report</h1>
<p>{{ count }} submissions{% if known_count %}, {{ known_count }} known solutions{% endif %};
template code removed ({{ templates }} template file(s)); {{ pairs|length }} of {{ total }} pairs shown, best first.
Score: the larger of the file score (the larger share of one file's own code, after the template,
found in the other) and the definition score (the largest share of one function or method found in
the other).</p>
<table class="pairs"><tr><th>#</th><th>score</th><th>left</th><th>share</th><th>right</th><th>share</th>
<th>most copied definition</th></tr>
{% for pair in pairs %}<tr><td><a href="#pair{{ loop.index }}">{{ loop.index }}</a></td>
<td>{{ '%.0f%%' % (100 * pair.score) }}</td><td>{{ pair.left }}</td><td>{{ '%.0f%%' % (100 * pair.left_share) }}</td>
<td>{{ pair.right }}</td><td>{{ '%.0f%%' % (100 * pair.right_share) }}</td>
<td>{{ pair.definition }} {% if pair.definition %}({{ '%.0f%%' % (100 * pair.definition_score) }}){% endif %}</td></tr>
{% endfor %}</table>
{% for pair in pairs %}
<h2 id="pair{{ loop.index }}">{{ loop.index }}. {{ pair.left }} &harr; {{ pair.right }}: {{ '%.0f%%' % (100 * pair.score) }}</h2>
<div class="side"><div><h3>{{ pair.left }}</h3><pre>{{ pair.left_html }}</pre></div>
<div><h3>{{ pair.right }}</h3><pre>{{ pair.right_html }}</pre></div></div>
{% endfor %}
</body></html>
"""


def write_html(pairs, submissions, known, path, top=30, templates=1):
    from jinja2 import Environment
    from markupsafe import Markup
    shown = []
    for pair in pairs[:top]:
        right_source = known[pair.right[len('known: '):]] if pair.known else submissions[pair.right]
        shown.append(dict(left=pair.left, right=pair.right, score=pair.score, left_share=pair.left_share,
                          right_share=pair.right_share, definition=pair.definition,
                          definition_score=pair.definition_score,
                          left_html=Markup(highlighted(submissions[pair.left], pair.slices[0])),
                          right_html=Markup(highlighted(right_source, pair.slices[1]))))
    html = Environment(autoescape=True).from_string(PAGE).render(
        pairs=shown, count=len(submissions), known_count=len(known), total=len(pairs), templates=templates)
    from grader.private_files import open_private
    with open_private(path, 'w', encoding='utf-8') as file:  # students' code: readable by its owner only
        file.write(html)


def similarity_command(args):
    submissions = read_sources(args.submissions)
    known = read_sources(args.known) if args.known else {}
    templates = template_sources(getattr(args, 'template', None) or (), getattr(args, 'assignment', None))
    pairs = rank_pairs(submissions, known, templates)
    write_html(pairs, submissions, known, args.html, args.top, len(templates))
    print(f"{len(submissions)} submissions, {len(known)} known solutions, {len(pairs)} pairs; "
          f"top {min(args.top, len(pairs))} in {args.html}")
    for pair in pairs[:min(10, args.top)]:
        print(f"  {pair.score:6.0%}  {pair.left}  <->  {pair.right}")
    return 0
