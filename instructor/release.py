"""``./run.py [--assignment NAME] release OUT_DIR``: the student kit, without the grader, hidden tests
or reference code.

Every kit has the assignment's interface.py, the template solution.py, run.py without the instructor
commands, the public tests, the data loaders and a README; the registry ``assignments/__init__.py``
comes along, with the released assignment's own modules and an ``ASSIGNMENT`` file naming it (what
run.py then grades by default).
"""
import shutil
from pathlib import Path

import assignments
from instructor.template import make_template, strip_blocks

SHIPPED_FOLDERS = ('public_tests', 'data_loaders')
SHIPPED_FILES = ('assignments/__init__.py',)
KIT_REQUIREMENTS = 'requirements-kit.txt'  # the kit's requirements.txt: no checker, service or cluster packages
# ./run.py unittest applies the checker's static policy and loop rule (public_tests/checks.py): the modules
# it runs, copied under public_tests/checker/ (importable there as grader.* and instructor.*).  None holds
# reference code or a hidden case: grader/scenarios.py stays out (the probes' builders are their own module).
CHECKER_FILES = ('grader/__init__.py', 'grader/policy.py', 'grader/splice.py', 'grader/kit_variants.py',
                 'grader/course_policy.py', 'grader/loops.py', 'grader/scenario_builders.py', 'grader/execute.py',
                 'grader/kit_runner.py', 'instructor/__init__.py', 'instructor/template.py')
# the second assignment's student-side modules: its hidden scenarios and its scenario runner (the oracle loss)
# stay with the grader; the loop probes, their builders and their kit-side runner run the loop rule at home
AUTOENCODER_SHIPPED = ('__init__.py', 'sections.py', 'public_cases.py', 'gates.py', 'training.py', 'probes.py',
                       'builders.py', 'probe_runner.py')
PUBLIC_TEST_FILES = ('__init__.py', 'framework.py', 'runner.py', 'sections.py', 'checks.py',
                     'checker')  # what any assignment's cases need


def points_rows(homework, command):
    return '\n'.join(f"| {s.number} | {s.title} | `{command} unittest {s.name}` | {s.points:g} |"
                     for s in homework.sections)


UNITTEST_TEXT = """`./run.py unittest` runs the public cases and then judges your file by the checker's own rules,
with the checker's own code: a forbidden import or call, edits of the kit's code outside the regions,
and Python loops over data (your code runs on small and bigger inputs, and a line of yours that runs
more often on the bigger ones is a loop over data).  What it finds is reported as the checker reports
it, with your line, and the last line of a section gives its verdict and points.  Each case gets
{seconds:g} seconds: an endless loop is stopped and named (the case, the method, the line).
`./run.py` uses the kit's `.venv` by itself when it exists, so `./run.py ...` works without activating it."""


def unittest_text():
    from public_tests.checks import CASE_SECONDS
    return UNITTEST_TEXT.format(seconds=CASE_SECONDS)


def student_readme():
    from public_tests.gates import GATES, SEED
    homework = assignments.get('numpy-nn')
    SECTIONS, TOTAL_POINTS = homework.sections, homework.total_points
    rows = points_rows(homework, './run.py')
    mnist, cifar = GATES['mnist'], GATES['cifar10']
    return f"""# Training multilayer neural networks on numpy

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    ./run.py unittest relu        # one section
    ./run.py unittest units       # the 12 unit sections
    ./run.py train mnist          # train and plot your MNIST model

**[handout.md](handout.md)** states every formula of the assignment and every convention the
checker relies on (ReLU'(0) = 1, Dropout's mask and its inference scaling, the shapes of the
parameters and of their gradients, ...): read it with the course's text.

Fill in every region of `solution.py` marked `# Your code here` and upload `solution.py` alone.
Keep the kit's code outside the regions as it is: the checker reports every edit there.  Use
numpy and the pure standard library (`copy`, `math`, `functools`, `collections`, ...); other
numeric libraries (torch, scipy, ...) and modules that reach outside (`os`, `sys`,
`subprocess`, ...) are refused.  No Python loops over the data (batch, units, channels,
pixels) in layers, losses and optimizers, wherever they hide (helpers, comprehensions,
`np.vectorize`).  A loop over the number of dimensions is fine; `convolve_numpy` may use up
to two nested loops.

{unittest_text()}

## Points ({TOTAL_POINTS:g} in all; a section scores only when all of its checks pass)

| section | title | command | points |
|---|---|---|---|
{rows}

The checker runs more (hidden) cases than the public tests: random shapes, batch size 1,
non-square images, 1x1 and 5x5 kernels, ties in max pooling, +-1e4 softmax inputs, ...

## Gates
Both gates seed `random` and `np.random` with {SEED} before calling your function, which
gets the training and validation splits only (never the test labels).
- MNIST: test accuracy >= {mnist.min_accuracy:.0%} and training + test evaluation <= {mnist.max_seconds / 60:g} minutes.
- CIFAR-10 (fast torch convolution on): test accuracy >= {cifar.min_accuracy:.0%} within {cifar.max_seconds / 60:g} minutes.

## Data
The loaders download MNIST and CIFAR-10 into `~/.cache/numpy-nn-kit` when online.  Offline, point
them at a folder holding `mnist/` and `cifar10/`: `--data-dir DIR` or `NN_KIT_DATA_DIR=DIR`.
"""


def autoencoder_readme(homework):
    gate = homework.gates['bottleneck']
    return f"""# {homework.title}

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    ./run.py unittest fclayer     # one section
    ./run.py unittest units       # the {len(homework.unit_sections)} unit sections
    ./run.py train                # the study: four optimisers, the 2-D codes (PNG)

The assignment is **[handout.md](handout.md)**; sections are numbered as there.  Fill in every
region of `solution.py` marked `# Your code here` and upload `solution.py` alone.  Use numpy and
the pure standard library; no Python loops over objects, units or parameters.  Your code must
accept complex arrays (the complex-step check).

{unittest_text()}

## Points ({homework.total_points:g} in all; a section scores only when all of its checks pass)

| handout section | title | command | points |
|---|---|---|---|
{points_rows(homework, './run.py')}

The checker runs more (hidden) cases than the public tests, on random architectures, batch
sizes and directions p.  The gate trains the kit's 2-unit bottleneck autoencoder on MNIST with
your `run_adam`: validation loss <= {gate.max_loss:g} within {gate.max_seconds:g} s.

## Data
The loaders download MNIST into `~/.cache/numpy-nn-kit` when online.  Offline, point them at a
folder holding `mnist/`: `--data-dir DIR` or `NN_KIT_DATA_DIR=DIR`.
"""


def write_checker(kit_root, folder, homework):
    """The checker's static modules and the kit's template, for ./run.py unittest (public_tests/checks.py)."""
    from public_tests.checks import write_kit_rules
    shutil.rmtree(folder, ignore_errors=True)
    for name in CHECKER_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(kit_root / name, folder / name)
    write_kit_rules(homework, folder)


def write_release(kit_root, out_dir, assignment=None):
    homework = assignments.get(assignment)
    kit_root, out_dir = Path(kit_root), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    for folder in SHIPPED_FOLDERS:
        shutil.rmtree(out_dir / folder, ignore_errors=True)
        shutil.copytree(kit_root / folder, out_dir / folder, ignore=ignore)
    for name in SHIPPED_FILES:
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(kit_root / name, out_dir / name)
    shutil.copy2(kit_root / KIT_REQUIREMENTS, out_dir / 'requirements.txt')
    write_checker(kit_root, out_dir / 'public_tests' / 'checker', homework)
    shutil.copy2(homework.interface_path, out_dir / 'interface.py')
    (out_dir / 'solution.py').write_text(make_template(homework.reference_path.read_text(), homework.by_name))
    run_py = strip_blocks((kit_root / 'run.py').read_text(), '# BEGIN INSTRUCTOR', '# END INSTRUCTOR')
    (out_dir / 'run.py').write_text(run_py)
    (out_dir / 'run.py').chmod(0o755)
    (out_dir / 'ASSIGNMENT').write_text(homework.name + '\n')
    shutil.copy2(homework.handout, out_dir / 'handout.md')
    if homework.name == 'numpy-nn':
        (out_dir / 'README.md').write_text(student_readme())
        # ./run.py unittest's feedback on a failing section: the checker's scenario runner, and the
        # outputs of every catalogued mistake on public scenarios (public_tests/feedback.py)
        from instructor.fingerprints import write_fingerprints
        for name in ('execute.py', 'kit_runner.py'):
            shutil.copy2(kit_root / 'grader' / name, out_dir / 'public_tests' / name)
        write_fingerprints(out_dir / 'public_tests', homework.reference_path.read_text())
        return
    for path in (out_dir / 'public_tests').iterdir():  # the first assignment's cases and feedback stay out
        if path.name not in PUBLIC_TEST_FILES:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    folder = out_dir / 'assignments' / 'autoencoder'
    folder.mkdir(parents=True, exist_ok=True)
    for name in AUTOENCODER_SHIPPED:
        shutil.copy2(homework.root / name, folder / name)
    (out_dir / 'README.md').write_text(autoencoder_readme(homework))
