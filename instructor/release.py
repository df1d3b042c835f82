"""``./run.py release OUT_DIR``: the student kit, without the grader, hidden tests or reference code."""
import shutil
from pathlib import Path

from instructor.fingerprints import write_fingerprints
from instructor.template import make_template, strip_blocks
from public_tests.gates import GATES, SEED
from public_tests.sections import SECTIONS, TOTAL_POINTS

SHIPPED_FOLDERS = ('public_tests', 'data_loaders')
SHIPPED_FILES = ('interface.py', 'requirements.txt')


def student_readme():
    rows = '\n'.join(f"| {s.number} | {s.title} | `./run.py unittest {s.name}` | {s.points:g} |" for s in SECTIONS)
    mnist, cifar = GATES['mnist'], GATES['cifar10']
    return f"""# Training multilayer neural networks on numpy

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    .venv/bin/python run.py unittest relu        # one section
    .venv/bin/python run.py unittest units       # the 12 unit sections
    .venv/bin/python run.py train mnist          # train and plot your MNIST model

Fill in every region of `solution.py` marked `# Your code here`.  The checker grades your
regions (and the helpers you add) inside its own copy of the rest of the kit: edits of the
kit's code outside the regions are reported and never used, so docstrings, comments and
formatting do not matter.  Upload `solution.py` alone.  Use numpy and the pure standard
library (`copy`, `math`, `functools`, `collections`, ...); other numeric libraries (torch,
scipy, ...) and modules that reach outside (`os`, `sys`, `subprocess`, ...) are refused.
No Python loops over the data (batch, units, channels, pixels) in layers, losses and
optimizers, wherever they hide (helpers, comprehensions, `np.vectorize`): the checker
watches which of your lines run more often on bigger inputs.  A loop over the number of
dimensions is fine; `convolve_numpy` may use up to two nested loops.

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


def write_release(kit_root, out_dir):
    kit_root, out_dir = Path(kit_root), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    for folder in SHIPPED_FOLDERS:
        shutil.rmtree(out_dir / folder, ignore_errors=True)
        shutil.copytree(kit_root / folder, out_dir / folder, ignore=ignore)
    for name in SHIPPED_FILES:
        shutil.copy2(kit_root / name, out_dir / name)
    (out_dir / 'solution.py').write_text(make_template((kit_root / 'solution.py').read_text()))
    run_py = strip_blocks((kit_root / 'run.py').read_text(), '# BEGIN INSTRUCTOR', '# END INSTRUCTOR')
    (out_dir / 'run.py').write_text(run_py)
    (out_dir / 'run.py').chmod(0o755)
    (out_dir / 'README.md').write_text(student_readme())
    # ./run.py unittest's feedback on a failing section: the checker's scenario runner, and the
    # outputs of every catalogued mistake on public scenarios (public_tests/feedback.py)
    shutil.copy2(kit_root / 'grader' / 'execute.py', out_dir / 'public_tests' / 'execute.py')
    write_fingerprints(out_dir / 'public_tests', (kit_root / 'solution.py').read_text())
