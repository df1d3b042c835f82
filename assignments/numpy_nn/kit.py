"""The first assignment's student kit: what it holds beyond every kit's files, and its README."""
from instructor.release import INSTALL_TEXT, points_rows, unittest_text

# the package's files in the kit: the loop rule's probes and their builders, the scenario runner
# (./run.py unittest's feedback runs the catalogued mistakes' fingerprints with it), the course templates
SHIPPED = ('__init__.py', 'probes.py', 'builders.py', 'execute.py', 'kit_variants.py')
PUBLIC_TESTS = 'all'  # public_tests/ holds this assignment's cases, gates, oracles and feedback


def extras(out_dir, assignment):
    """The outputs of every catalogued mistake on public scenarios (public_tests/feedback.py)."""
    from assignments.numpy_nn.fingerprints import write_fingerprints
    write_fingerprints(out_dir / 'public_tests', assignment.reference_path.read_text())


def readme(assignment):
    from public_tests.gates import GATES, SEED
    rows = points_rows(assignment, './run.py')
    mnist, cifar = GATES['mnist'], GATES['cifar10']
    return f"""# Training multilayer neural networks on numpy

    python3 -m venv .venv && .venv/bin/pip install --no-compile -r requirements.txt
    ./run.py unittest relu        # one section
    ./run.py unittest units       # the 12 unit sections
    ./run.py train mnist          # train and plot your MNIST model

{INSTALL_TEXT}

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

## Points ({assignment.total_points:g} in all; a section scores only when all of its checks pass)

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
