"""The checker hosts assignments and does not know one: grader/, service/ and instructor/ name no
assignment, dataset or layer in their code, and production code imports no test module.

Code means what runs: names and string constants (docstrings and comments may give examples).
Also: the import graph of the production packages has no circle.
"""
import ast
import io
import tokenize

import pytest

from tests.conftest import KIT_ROOT

SHARED = ('grader', 'service', 'instructor')
PRODUCTION = SHARED + ('assignments', 'public_tests', 'data_loaders')
FORBIDDEN = {
    'assignment': ('numpy-nn', 'numpy_nn', 'autoencoder', 'autodiff'),
    'dataset': ('mnist', 'cifar10', 'cifar-10', 'digits'),
    'layer': ('Dense', 'Conv2D', 'ReLU', 'Softmax', 'BatchNorm', 'Dropout', 'Pooling2D', 'Flatten', 'FCLayer',
              'convolve_numpy', 'relu', 'dense', 'conv2d'),
}


def python_files(*packages):
    for package in packages:
        yield from sorted((KIT_ROOT / package).rglob('*.py'))


def docstring_lines(tree):
    """Line numbers of every docstring in ``tree``."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_words(path):
    """[(line, text)] of the names and string constants of ``path`` outside its docstrings."""
    source = path.read_text()
    skipped = docstring_lines(ast.parse(source))
    words = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.NAME, tokenize.STRING) and token.start[0] not in skipped:
            words.append((token.start[0], token.string))
    return words


def naming(text, name):
    import re
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text, re.IGNORECASE
                     if name.islower() and '_' not in name else 0) is not None


@pytest.mark.parametrize('kind', FORBIDDEN)
def test_the_shared_packages_name_no_assignment_dataset_or_layer(kind):
    found = [f"{path.relative_to(KIT_ROOT)}:{line}: {text}"
             for path in python_files(*SHARED) for line, text in code_words(path)
             if any(naming(text, name) for name in FORBIDDEN[kind])]
    assert not found, '\n'.join(found)


def imports_of(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_production_code_imports_no_test_module():
    found = [f"{path.relative_to(KIT_ROOT)}: {name}" for path in python_files(*PRODUCTION)
             for name in imports_of(path) if name == 'tests' or name.startswith('tests.')]
    assert not found, '\n'.join(found)


def module_name(path):
    parts = path.relative_to(KIT_ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def test_the_shared_packages_import_in_one_direction():
    """grader/ is the core: it imports neither service/, instructor/ nor an assignment's package (the kit's
    public_tests.framework, where the tolerances shared with ./run.py unittest live, it may)."""
    found = []
    for path in python_files('grader'):
        found += [f"{module_name(path)} imports {name}" for name in imports_of(path)
                  if name.split('.')[0] in ('service', 'instructor') or name.startswith('assignments.')]
    assert not found, '\n'.join(found)
