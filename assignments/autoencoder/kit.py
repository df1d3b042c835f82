"""The second assignment's student kit: what it holds beyond every kit's files, and its README."""
import shutil

from instructor.release import INSTALL_TEXT, points_rows, unittest_text

# the package's student-side modules: its hidden scenarios and its scenario runner (the oracle loss) stay
# with the checker; the loop probes, their builders and their kit-side runner run the loop rule at home
SHIPPED = ('__init__.py', 'sections.py', 'public_cases.py', 'gates.py', 'training.py', 'probes.py',
           'builders.py', 'probe_runner.py')
PUBLIC_TESTS = ()  # public_tests/: the framework only


def extras(out_dir, assignment):
    """The HFN study's own requirements (scikit-learn's digits), apart from the kit's."""
    shutil.copy2(assignment.folder / 'requirements-study.txt', out_dir / 'requirements-study.txt')


def readme(assignment):
    gate = assignment.gates['bottleneck']
    return f"""# {assignment.title}

    python3 -m venv .venv && .venv/bin/pip install --no-compile -r requirements.txt
    ./run.py unittest fclayer     # one section
    ./run.py unittest units       # the {len(assignment.unit_sections)} unit sections
    ./run.py train                # the study: four optimisers, the 2-D codes (PNG)
    .venv/bin/pip install -r requirements-study.txt && ./run.py train --study hfn   # HFN against Adam

{INSTALL_TEXT}

The assignment is **[handout.md](handout.md)**; sections are numbered as there.  Fill in every
region of `solution.py` marked `# Your code here` and upload `solution.py` alone.  Use numpy and
the pure standard library; no Python loops over objects, units or parameters.  Your code must
accept complex arrays (the complex-step check).

{unittest_text()}

## Points ({assignment.total_points:g} in all; a section scores only when all of its checks pass)

| handout section | title | command | points |
|---|---|---|---|
{points_rows(assignment, './run.py')}

The checker runs more (hidden) cases than the public tests, on random architectures, batch
sizes and directions p.  The gate trains the kit's 2-unit bottleneck autoencoder on MNIST with
your `run_adam`: validation loss <= {gate.max_loss:g} within {gate.max_seconds:g} s.

## Data
The loaders download MNIST into `~/.cache/numpy-nn-kit` when online.  Offline, point them at a
folder holding `mnist/`: `--data-dir DIR` or `NN_KIT_DATA_DIR=DIR`.
"""
