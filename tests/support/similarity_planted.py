"""A planted set for the similarity report: independent solutions and disguised copies of some.

Independent bases: the reference ``solution.py`` and one solution of each family of
``tests/corpora/numpy_nn/`` (the corpus's files within a family are edits of one another, so only one of
each is taken).  Disguises, each applied to a base:

* ``renamed``   every local variable and parameter renamed (tokens, formatting kept);
* ``reformatted`` parsed and printed again (``ast.unparse``: comments gone, spacing, quotes and
  parentheses normalised);
* ``reordered`` the top-level functions and classes shuffled;
* ``disguised`` all three;

and one partial copy: ``anna_with_boris_conv2d.py`` is anna's solution with its Conv2D class
replaced by boris's, locals renamed (one section copied into otherwise independent work).

True pairs: any two files made from a common base (the partial copy has two).  ``measure`` ranks all pairs and reports
precision and recall of the top k (k = the number of true pairs by default).

    python -m tests.support.similarity_planted OUT_DIR     # write the set and print the figures
"""
import ast
import io
import itertools
import random
import sys
import tokenize
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]
CORPUS = KIT_ROOT / 'tests' / 'corpora' / 'numpy_nn'
COURSE_TEMPLATE = CORPUS / 'course_template_2025.py'
BASES = {'reference': KIT_ROOT / 'solution.py', 'anna': CORPUS / 'anna_einsum.py',
         'denis': CORPUS / 'denis_compact.py', 'clara': CORPUS / 'clara_kernel_loops.py',
         'boris': CORPUS / 'boris_strided.py'}
COPIED = ('reference', 'anna', 'denis', 'boris')  # the bases that get disguised copies


def local_names(source):
    """Parameters and names assigned inside functions (not self, not module-level names)."""
    tree = ast.parse(source)
    module_level = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    module_level |= {target.id for node in tree.body if isinstance(node, ast.Assign)
                     for target in node.targets if isinstance(target, ast.Name)}
    found = set()
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.Lambda)):
            found |= {arg.arg for arg in function.args.args + function.args.kwonlyargs}
            found |= {node.id for node in ast.walk(function) if isinstance(node, ast.Name)
                      and isinstance(node.ctx, ast.Store)}
    return sorted(found - module_level - {'self', 'cls', '_'})


def renamed(source, seed=0):
    rng = random.Random(seed)
    names = local_names(source)
    mapping = {name: f"{rng.choice(['tmp', 'val', 'arr', 'res', 'q', 'z'])}{index}_{rng.randrange(100)}"
               for index, name in enumerate(names)}
    tokens = [token._replace(string=mapping.get(token.string, token.string)) if token.type == tokenize.NAME
              else token for token in tokenize.generate_tokens(io.StringIO(source).readline)]
    return tokenize.untokenize(tokens)


def reformatted(source):
    return ast.unparse(ast.parse(source)) + '\n'


def reordered(source, seed=0):
    """Shuffle the top-level function and class definitions (decorators and all); the rest stays."""
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    spans = []  # (start, end) line indexes of each top-level statement, comments before it included
    previous_end = 0
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, 'decorator_list', [])]) - 1
        spans.append((node, previous_end, node.end_lineno))
        previous_end = node.end_lineno
    chunks = [''.join(lines[start:end]) for _, start, end in spans]
    movable = [index for index, (node, _, _) in enumerate(spans) if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    shuffled = movable[:]
    random.Random(seed).shuffle(shuffled)
    order = list(range(len(chunks)))
    for slot, index in zip(movable, shuffled):
        order[slot] = index
    return ''.join(chunks[index] if chunks[index].endswith('\n') else chunks[index] + '\n' for index in order) \
        + ''.join(lines[previous_end:])


def spliced(target, donor, names):
    """``target`` with its top-level definitions ``names`` replaced by those of ``donor``."""
    for name in names:
        spans = [{node.name: (node.lineno - 1, node.end_lineno) for node in ast.parse(source).body
                  if isinstance(node, (ast.ClassDef, ast.FunctionDef))} for source in (target, donor)]
        lines, donor_lines = target.splitlines(keepends=True), donor.splitlines(keepends=True)
        (start, end), (donor_start, donor_end) = spans[0][name], spans[1][name]
        target = ''.join(lines[:start] + donor_lines[donor_start:donor_end] + lines[end:])
    return target


DISGUISES = {'renamed': renamed, 'reformatted': reformatted, 'reordered': reordered,
             'disguised': lambda source: reformatted(reordered(renamed(source, 1), 1))}


def build(out_dir):
    """Write the planted set; returns {file name: set of the bases it was made from}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    origin = {}
    for base, path in BASES.items():
        source = path.read_text()
        (out_dir / f"{base}.py").write_text(source)
        origin[f"{base}.py"] = {base}
        if base in COPIED:
            for disguise, transform in DISGUISES.items():
                name = f"{base}_{disguise}.py"
                copy = transform(source)
                ast.parse(copy)  # still Python
                (out_dir / name).write_text(copy)
                origin[name] = {base}
    partial = renamed(spliced(BASES['anna'].read_text(), BASES['boris'].read_text(), ['Conv2D']), 3)
    (out_dir / 'anna_with_boris_conv2d.py').write_text(partial)
    origin['anna_with_boris_conv2d.py'] = {'anna', 'boris'}
    return origin


def true_pairs(origin):
    return {frozenset(pair) for pair in itertools.combinations(sorted(origin), 2)
            if origin[pair[0]] & origin[pair[1]]}


def measure(out_dir, k=None):
    """{'k', 'precision', 'recall', 'true_pairs', 'pairs', 'lowest_true', 'highest_false'} on the set."""
    from instructor.similarity import rank_pairs, read_sources, template_sources
    origin = build(out_dir)
    truth = true_pairs(origin)
    pairs = rank_pairs(read_sources(out_dir), templates=template_sources([COURSE_TEMPLATE]))
    k = k or len(truth)
    top = {frozenset((pair.left, pair.right)) for pair in pairs[:k]}
    hits = len(top & truth)
    return {'k': k, 'precision': hits / k, 'recall': hits / len(truth), 'true_pairs': len(truth),
            'pairs': len(pairs), 'files': len(origin),
            'partial_rank': 1 + min(index for index, p in enumerate(pairs)
                                    if {p.left, p.right} == {'anna_with_boris_conv2d.py', 'boris.py'}),
            'lowest_true': min(p.score for p in pairs if frozenset((p.left, p.right)) in truth),
            'highest_false': max(p.score for p in pairs if frozenset((p.left, p.right)) not in truth)}


if __name__ == '__main__':
    sys.path.insert(0, str(KIT_ROOT))
    figures = measure(sys.argv[1])
    print(figures)
    for k in (10, 20, figures['true_pairs'], 30):
        print(k, {key: round(value, 3) for key, value in measure(sys.argv[1], k).items()})
