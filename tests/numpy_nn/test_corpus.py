"""The checker judges real students' code right: the corpus in tests/corpora/numpy_nn gets its manifest's verdicts.

The corpus is the course's own 2025 template filled in the way students fill it (see
tests/corpora/numpy_nn/manifest.py for what each file is).  Checked here:

* ground truth, in this process and without the grader's verdict logic: every section the
  manifest calls right computes the reference's values on the hidden cases, and every bug
  gives a wrong value or raises (so the manifest itself cannot drift);
* the grader, through its real sandboxed path and its DEFAULT configuration, gives every
  unit section of every file the manifest's verdict, and the section's text names the
  problem (for a section with a loop and a wrong value: both);
* the course's template, unfilled, scores nothing;
* the correct file with a train_mnist_model passes the MNIST gate;
* cosmetic edits of a correct file (docstrings, quotes, blank lines, comments, the order of
  top-level definitions, marker case, markers deleted) change no verdict.
"""
import ast
import contextlib
import io
import os
import tokenize

import numpy as np
import pytest

import interface
from assignments.numpy_nn import scenarios
from grader.compare import compare_output
from assignments.numpy_nn.execute import run_scenario
from grader.grade import Grader
from public_tests.runner import load_solution
from public_tests.sections import UNIT_SECTIONS
from tests.conftest import DATA_DIR, KIT_ROOT
from tests.support.corpus_support import section_text, verdict_problem
from tests.corpora.numpy_nn.manifest import ENTRIES, TEMPLATE, VERDICTS

CORPUS = KIT_ROOT / 'tests' / 'corpora' / 'numpy_nn'
UNIT_NAMES = [section.name for section in UNIT_SECTIONS]
COSMETIC_SOURCE = 'anna_einsum.py'  # correct in every unit section, docstrings and both quote styles


@pytest.fixture(scope='module')
def grader():
    return Grader(data_dir=DATA_DIR)


# ---------------------------------------------------------------------------------------- the manifest
def test_manifest_describes_every_corpus_file():
    files = {path.name for path in CORPUS.glob('*.py')} - {'manifest.py', '__init__.py'}
    assert files == {entry.file for entry in ENTRIES} | {TEMPLATE}
    assert len(ENTRIES) >= 14
    fully_correct = [entry for entry in ENTRIES if not entry.expected]
    assert len(fully_correct) >= 4 and any(entry.passes_mnist for entry in fully_correct)
    for entry in ENTRIES:
        assert set(entry.expected) <= set(UNIT_NAMES) and set(entry.expected.values()) <= set(VERDICTS)
        assert set(entry.phrases) == {name for name in UNIT_NAMES if entry.verdict(name) != 'passed'}, entry.file
        assert set(entry.wrong_values) <= {name for name in entry.expected if entry.verdict(name) == 'policy violation'}
    verdicts = {verdict for entry in ENTRIES for verdict in entry.expected.values()}
    assert verdicts == {'wrong answer', 'runtime error', 'policy violation'}


# ---------------------------------------------------------------------------------------- ground truth
def extra_cases(section):
    """Cases beyond the grader's own, for the ground truth only."""
    rng = np.random.default_rng(20261201)
    if section == 'dense':  # three batches through one layer: gradients must be those of the current batch
        n, d, c = 5, 6, 3
        steps = [scenarios.train_step(rng, rng.normal(size=(n, d)), (n, c)) for _ in range(3)]
        yield 'three training steps', scenarios.layer(
            'Dense', (d,), steps, args=[c], parameters={'weights': rng.normal(size=(c, d)), 'biases': rng.normal(size=c)})


def contract_cases(section):
    """The hidden cases and the extra ones, inside the documented contract (Flatten: 4-D inputs)."""
    for name, scenario in scenarios.scenarios(section) + list(extra_cases(section)):
        if section == 'flatten' and len(scenario['input_shape']) != 3:
            continue
        yield name, scenario


@contextlib.contextmanager
def fast_convolve(enabled):
    """The kit's convolution for Conv2D, through both switches (the kit's and the course's variable)."""
    saved = os.environ.pop('USE_FAST_CONVOLVE', None)
    if enabled:
        os.environ['USE_FAST_CONVOLVE'] = '1'
    try:
        with interface.use_fast_convolve(enabled):
            yield
    finally:
        os.environ.pop('USE_FAST_CONVOLVE', None)
        if saved is not None:
            os.environ['USE_FAST_CONVOLVE'] = saved


def first_difference(solution, reference, section):
    """None when ``solution`` computes the reference's values on every case of ``section``, else why not."""
    with fast_convolve(section in scenarios.FAST_CONVOLVE):
        for name, scenario in contract_cases(section):
            expected, failure = run_scenario(reference, scenario)
            assert failure is None, f"the reference fails {section} '{name}': {failure}"
            actual, failure = run_scenario(solution, scenario)
            for output, want in expected.items():
                got = actual.get(output)
                if got is None:
                    return f"'{name}': {failure}"
                why = got.problem or compare_output(output, got.array, want.array)
                if why:
                    return f"'{name}': {why}"
            if failure:
                return f"'{name}': {failure}"
    return None


@pytest.mark.parametrize('entry', ENTRIES, ids=[entry.file for entry in ENTRIES])
def test_ground_truth(entry, reference):
    """The manifest's claims, checked by running the file here against the reference."""
    solution = load_solution(CORPUS / entry.file, f"corpus_{entry.file[:-3]}")
    wrong = {}
    for name in UNIT_NAMES:
        difference = first_difference(solution, reference, name)
        if entry.values_wrong(name) != (difference is not None):
            wrong[name] = difference or 'all values right, though the manifest says they are not'
        elif entry.verdict(name) == 'runtime error':
            assert 'Error' in difference, f"{name}: expected an exception, got {difference}"
    assert not wrong, wrong


# ---------------------------------------------------------------------------------------- the grader
@pytest.mark.parametrize('entry', ENTRIES, ids=[entry.file for entry in ENTRIES])
def test_grader_gives_the_manifest_verdicts(grader, entry):
    report = grader.grade(CORPUS / entry.file, UNIT_NAMES)
    assert [verdict.name for verdict in report.sections] == UNIT_NAMES
    wrong = [problem for problem in (verdict_problem(entry, verdict) for verdict in report.sections) if problem]
    assert not wrong, f"{entry.file} ({entry.what}):\n" + '\n'.join(wrong)


def test_course_template_scores_nothing(grader):
    report = grader.grade(CORPUS / TEMPLATE, UNIT_NAMES)
    assert report.total == 0
    assert not [verdict.name for verdict in report.sections if verdict.verdict == 'passed']


@pytest.mark.gate  # minutes of training: pytest -m gate, or ./run.py benchmark
def test_correct_course_file_passes_the_mnist_gate(grader):
    if not (DATA_DIR / 'mnist').is_dir():
        if os.environ.get('CI'):
            pytest.fail(f"no MNIST data in {DATA_DIR} (set NN_KIT_DATA_DIR)")
        pytest.skip(f"no MNIST data in {DATA_DIR}")
    entry = next(entry for entry in ENTRIES if entry.passes_mnist)
    verdict = grader.grade(CORPUS / entry.file, ['mnist']).sections[0]
    assert verdict.verdict == 'passed', section_text(verdict)


# ---------------------------------------------------------------------------------------- cosmetic edits
def drop_docstrings(source):
    """Remove every docstring whose quotes stand on lines of their own."""
    kept, inside = [], False
    for line in source.splitlines():
        if line.strip() == '"""':
            inside = not inside
        elif not inside:
            kept.append(line)
    return '\n'.join(kept) + '\n'


def change_docstrings(source):
    """Reword the docstrings: longer :param/:return lines, the 'n - batch size' lines gone, a line added."""
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith((':param', ':return')):
            line += ' (as in the lecture)'
        elif stripped == 'n - batch size':
            continue
        lines.append(line)
        if stripped == '"""':
            inside = not inside
            if inside:
                lines.append(line.replace('"""', 'My notes: see the seminar.'))
    return '\n'.join(lines) + '\n'


def switch_quotes(source):
    """'x' -> "x" and "x" -> 'x' for every string literal (same length: positions stay)."""
    lines = source.splitlines(keepends=True)
    for token in reversed(list(tokenize.generate_tokens(io.StringIO(source).readline))):
        text = token.string
        if token.type != tokenize.STRING or text[:1] not in '\'"':
            continue
        quote, other = text[0], '"' if text[0] == "'" else "'"
        triple = text.startswith(quote * 3)
        body = text[3:-3] if triple else text[1:-1]
        if other in body or '\\' in body:
            continue
        new = (other * 3 + body + other * 3) if triple else (other + body + other)
        (row, col), (end_row, end_col) = token.start, token.end
        if row == end_row:
            lines[row - 1] = lines[row - 1][:col] + new + lines[row - 1][end_col:]
        else:  # a multi-line docstring: swap the quotes at both ends
            lines[row - 1] = lines[row - 1][:col] + other * 3 + lines[row - 1][col + 3:]
            lines[end_row - 1] = lines[end_row - 1][:end_col - 3] + other * 3 + lines[end_row - 1][end_col:]
    return ''.join(lines)


def add_blank_lines(source):
    """Every blank line doubled, and one more after each def/class line."""
    lines = []
    for line in source.splitlines():
        lines.append(line)
        if not line.strip():
            lines.append('')
        elif line.lstrip().startswith(('def ', 'class ')) and line.rstrip().endswith(':'):
            lines.append('')
    return '\n'.join(lines) + '\n'


def add_comments(source):
    """A comment line above every def/class and a trailing comment on every 'self.x = x' line."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        if stripped.startswith(('def ', 'class ')):
            lines.append(f"{indent}# student's note: {stripped.split('(')[0]} below")
        if stripped.startswith('self.') and ' = ' in stripped and '#' not in stripped and '"""' not in stripped:
            line += '  # attribute'
        lines.append(line)
    return '\n'.join(lines) + '\n'


def reorder_definitions(source):
    """Top-level defs and classes in reverse order (imports and other statements stay first)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    definitions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    first = definitions[0].lineno - 1
    header = lines[:first]
    assert all(node.lineno - 1 >= first for node in definitions)
    blocks = ['\n'.join(lines[node.lineno - 1:node.end_lineno]) for node in definitions]
    rest = [node for node in tree.body if node.lineno - 1 >= first and node not in definitions]
    assert not rest, "statements between the definitions: reordering would change their meaning"
    return '\n'.join(header) + '\n\n\n' + '\n\n\n'.join(reversed(blocks)) + '\n'


def capitalise_markers(source):
    return source.replace('# your code here', '# Your code here')


def delete_markers(source):
    """Every '# your code here' line gone, as students who tidy their file do."""
    return '\n'.join(line for line in source.splitlines() if 'your code here' not in line.lower()) + '\n'


def add_module_docstring(source):
    return '"""Homework: neural networks on numpy.  Student: A. Ivanova, group 101."""\n' + source


COSMETIC_EDITS = {
    'module docstring added': add_module_docstring,
    'docstrings removed': drop_docstrings,
    'docstrings changed': change_docstrings,
    'quotes switched': switch_quotes,
    'blank lines added': add_blank_lines,
    'comments added': add_comments,
    'top-level definitions reordered': reorder_definitions,
    "markers written '# Your code here'": capitalise_markers,
    'markers deleted': delete_markers,
}


def all_edits(source):
    for edit in (change_docstrings, switch_quotes, add_comments, add_blank_lines, reorder_definitions,
                 capitalise_markers, add_module_docstring):
        source = edit(source)
    return source


@pytest.mark.parametrize('edit', list(COSMETIC_EDITS.values()) + [all_edits],
                         ids=list(COSMETIC_EDITS) + ['all of them at once'])
def test_cosmetic_edits_change_no_verdict(grader, tmp_path, edit):
    source = (CORPUS / COSMETIC_SOURCE).read_text()
    edited = edit(source)
    assert edited != source
    ast.parse(edited)
    path = tmp_path / 'solution.py'
    path.write_text(edited)
    report = grader.grade(path, UNIT_NAMES)
    lost = {verdict.name: f"{verdict.verdict}: {section_text(verdict)[:400]}"
            for verdict in report.sections if verdict.verdict != 'passed'}
    assert not lost, lost


# ---------------------------------------------------------------------------------------- every MNIST-passing file
@pytest.mark.parametrize('entry', [entry for entry in ENTRIES if entry.passes_mnist][1:],
                         ids=[entry.file for entry in ENTRIES if entry.passes_mnist][1:])
def test_other_course_files_pass_the_mnist_gate(grader, entry):
    """Every file the manifest marks passes_mnist passes the gate (the first one is tested above)."""
    if not (DATA_DIR / 'mnist').is_dir():
        if os.environ.get('CI'):
            pytest.fail(f"no MNIST data in {DATA_DIR} (set NN_KIT_DATA_DIR)")
        pytest.skip(f"no MNIST data in {DATA_DIR}")
    verdict = grader.grade(CORPUS / entry.file, ['mnist']).sections[0]
    assert verdict.verdict == 'passed', section_text(verdict)
