"""``./run.py gradescope-package OUT.zip``: a Gradescope autograder.

The zip holds, at its root, ``setup.sh`` and ``run_autograder`` (Gradescope's two entry points)
beside ``gradescope_grade.py`` (grades one file with ``grader.grade.Grader``), the grader's own
files (``interface.py``, the reference ``solution.py``, ``grader/``, ``public_tests/``,
``data_loaders/``, ``instructor/``) and ``requirements-autograder.txt``: the grading
dependencies pinned to the versions of the machine that built the package.  Gradescope unpacks it
into ``/autograder/source`` and runs ``setup.sh`` once per image; each submission then runs
``run_autograder``, which grades ``/autograder/submission/solution.py`` (or the first solution.py
below that folder) into ``/autograder/results/results.json``.

Data: ``--data bake`` copies the data folders (each assignment's ``datasets``) into the zip as ``data/``;
``--data download`` (the default) leaves them out and ``setup.sh`` downloads the official files
(md5-checked) into the image's cache.

Environment variables read by the scripts (all optional; tests use them):
``AUTOGRADER_ROOT`` (default /autograder), ``NN_AUTOGRADER_PYTHON`` (default ROOT/venv/bin/python),
``NN_AUTOGRADER_SECTIONS`` (default ``all``), ``NN_AUTOGRADER_SKIP_PIP=1`` (setup.sh installs nothing).
"""
import importlib.metadata
import shutil
import zipfile
from pathlib import Path

import assignments
from grader.sandbox import KIT_ROOT

PACKAGED_FOLDERS = ('grader', 'public_tests', 'data_loaders', 'instructor',  # the grader imports grader.regions
                    'assignments')
PACKAGED_FILES = ('interface.py', 'solution.py')
GRADING_PACKAGES = ('numpy', 'torch', 'tqdm', 'matplotlib', 'threadpoolctl')  # what the grader imports
PYTHON_310_PACKAGES = ('tomli',)  # the grader reads TOML (the mistake catalogue, course.toml) with tomllib from 3.11

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${NN_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
if [ "${NN_AUTOGRADER_SKIP_PIP:-0}" != "1" ]; then
    if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
        apt-get update -q && apt-get install -y -q python3 python3-venv python3-pip
    fi
    python3 -m venv "$ROOT/venv"
    "$ROOT/venv/bin/pip" install -q --upgrade pip
    # torch: the CPU build is enough (set PIP_EXTRA_INDEX_URL to PyTorch's CPU wheel index to avoid the CUDA one)
    "$ROOT/venv/bin/pip" install -q -r "$SOURCE/requirements-autograder.txt"
fi
chmod +x "$SOURCE/run_autograder"
__DATA_STEP__
echo "setup.sh: done"
"""

DOWNLOAD_STEP = r"""# Download the official data (md5-checked) into the image's cache, where the loaders look.
cd "$SOURCE"
if [ "${NN_AUTOGRADER_SKIP_DOWNLOAD:-0}" != "1" ]; then
    "$PYTHON" -c "from data_loaders import LOADERS; [LOADERS[name]() for name in __DATASETS__]"
fi"""

BAKED_STEP = r"""# The data is baked into the package: one folder per dataset under $SOURCE/data.
test -d "$SOURCE/data" || { echo "setup.sh: $SOURCE/data is missing" >&2; exit 1; }"""

GRADE_PY = r'''"""Grade one submission for Gradescope: gradescope_grade.py SUBMISSION RESULTS_JSON [SECTION ...]"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grader.grade import Grader  # noqa: E402
from grader.report import print_report, write_gradescope  # noqa: E402
from public_tests.runner import section_names  # noqa: E402

ASSIGNMENT = '__ASSIGNMENT__'
report = Grader(assignment=ASSIGNMENT).grade(sys.argv[1], section_names(sys.argv[3:] or ['all'], ASSIGNMENT))
print_report(report)
write_gradescope(report, sys.argv[2])
'''

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade solution.py into results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${NN_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
SUBMISSION="$ROOT/submission/solution.py"
if [ ! -f "$SUBMISSION" ]; then
    FOUND="$(find "$ROOT/submission" -name solution.py -type f 2>/dev/null | sort | head -n 1)"
    SUBMISSION="${FOUND:-$SUBMISSION}"
fi
mkdir -p "$ROOT/results"
cd "$SOURCE"
export NN_KIT_DATA_DIR="$SOURCE/data"
__UNVERIFIED__
read -r -a SECTIONS <<< "${NN_AUTOGRADER_SECTIONS:-all}"
"$PYTHON" gradescope_grade.py "$SUBMISSION" "$RESULTS" "${SECTIONS[@]}"
STATUS=$?
if [ $STATUS -ne 0 ] || [ ! -s "$RESULTS" ]; then
    # The grader itself failed: say so instead of leaving Gradescope without results.
    printf '{"score": 0, "output": "The autograder failed (exit status %s); please contact the course staff."}\n' \
        "$STATUS" > "$RESULTS"
fi
exit 0
"""


def pinned_requirements():
    """The grading dependencies, pinned to the versions installed here (``torch==2.13.0``, ...)."""
    lines = []
    for name in GRADING_PACKAGES:
        version = importlib.metadata.version(name).split('+')[0]  # 2.13.0+cpu -> 2.13.0
        lines.append(f"{name}=={version}")
    for name in PYTHON_310_PACKAGES:
        lines.append(f'{name}>=2.0.1; python_version < "3.11"')  # not installed where tomllib is: not pinned
    return '\n'.join(lines) + '\n'


def data_folders(data_dir=None):
    """{dataset: folder holding its files} for every dataset found where the loaders look."""
    from data_loaders.storage import candidate_dirs
    found = {}
    for dataset in dict.fromkeys(name for assignment in assignments.ASSIGNMENTS.values() for name in assignment.datasets):
        for folder in candidate_dirs(dataset, data_dir):
            if folder.is_dir() and folder.name == dataset:
                found[dataset] = folder
                break
    return found


def unofficial_files(dataset, folder):
    """The files of ``dataset`` in ``folder`` that are missing or differ from the official ones (md5)."""
    from data_loaders import official_files
    from data_loaders.storage import md5sum
    expected = official_files(dataset, folder)
    return [str(path) for path, md5 in expected.items() if not path.is_file() or md5sum(path) != md5]


def check_baked_data(folders, datasets, unverified_ok):
    """Refuse to bake data that is not the official files unless ``unverified_ok`` (then the package
    grades with NN_KIT_ALLOW_UNVERIFIED=1, and a warning says so): a package whose gate could never
    load its data would score every student 0 on it."""
    from data_loaders.storage import warn
    from grader.course_policy import SettingsError
    unofficial = {name: found for name in datasets if (found := unofficial_files(name, folders[name]))}
    if unofficial and not unverified_ok:
        listed = '; '.join(f"{name}: {', '.join(files[:2])}{' ...' if len(files) > 2 else ''}"
                           for name, files in unofficial.items())
        raise SettingsError(f"--data bake: not the official files ({listed}), and the package would score every "
                            f"student 0 on the gate: give --data-dir a folder with the official files, use --data "
                            f"download, or pass --allow-unverified to bake this copy and grade with it")
    if unofficial:
        warn(f"baking data that is NOT the official files ({', '.join(unofficial)}); the package grades with "
             f"NN_KIT_ALLOW_UNVERIFIED=1 and its gate figures are not official ones")
    return unofficial


def build_package(out_zip, data='download', data_dir=None, unverified_ok=False, datasets=None, assignment=None):
    """Write the autograder zip of ``assignment`` (default: the default one); returns the list of names in it."""
    assignment = assignments.get(assignment)
    datasets = datasets or assignment.datasets
    if data == 'bake':
        folders = data_folders(data_dir)
        missing = [name for name in datasets if name not in folders]
        if missing:
            raise SystemExit(f"--data bake: no {', '.join(missing)} folder found (give --data-dir)")
        check_baked_data(folders, datasets, unverified_ok)
    download = DOWNLOAD_STEP.replace('__DATASETS__', repr(list(datasets)))
    setup = SETUP_SH.replace('__DATA_STEP__', BAKED_STEP if data == 'bake' else download)
    run = RUN_AUTOGRADER.replace('__UNVERIFIED__', 'export NN_KIT_ALLOW_UNVERIFIED=1' if unverified_ok else '')
    with zipfile.ZipFile(out_zip, 'w', zipfile.ZIP_DEFLATED) as archive:
        def add_text(name, text, executable=False):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)

        add_text('setup.sh', setup, executable=True)
        add_text('run_autograder', run, executable=True)
        add_text('requirements-autograder.txt', pinned_requirements())
        add_text('gradescope_grade.py', GRADE_PY.replace('__ASSIGNMENT__', assignment.name))
        for name in PACKAGED_FILES:
            archive.write(KIT_ROOT / name, name)
        for folder in PACKAGED_FOLDERS:
            for path in sorted((KIT_ROOT / folder).rglob('*')):
                if path.is_file() and '__pycache__' not in path.parts and path.suffix != '.pyc':
                    archive.write(path, str(path.relative_to(KIT_ROOT)))
        if data == 'bake':
            for name in datasets:
                for path in sorted(folders[name].rglob('*')):
                    if path.is_file():
                        archive.write(path, str(Path('data') / name / path.relative_to(folders[name])))
        return archive.namelist()


def gradescope_package_command(args):
    names = build_package(args.out_zip, args.data, args.data_dir, bool(args.allow_unverified),
                          assignment=args.assignment)
    size = Path(args.out_zip).stat().st_size
    print(f"Gradescope autograder written to {args.out_zip}: {len(names)} files, {size / 2**20:.1f} MiB, "
          f"data {'baked in' if args.data == 'bake' else 'downloaded by setup.sh'}"
          + (" (unverified copy allowed: NN_KIT_ALLOW_UNVERIFIED=1)" if args.allow_unverified else ''))
    return 0


def unpack(out_zip, root):
    """Lay the package out as Gradescope does: ROOT/source, ROOT/run_autograder, ROOT/submission,
    ROOT/results (for tests and for trying a package locally)."""
    root = Path(root)
    with zipfile.ZipFile(out_zip) as archive:
        archive.extractall(root / 'source')
        for info in archive.infolist():
            mode = info.external_attr >> 16
            if mode:
                (root / 'source' / info.filename).chmod(mode & 0o777)
    shutil.copy2(root / 'source' / 'run_autograder', root / 'run_autograder')
    for folder in ('submission', 'results'):
        (root / folder).mkdir(exist_ok=True)
    return root
