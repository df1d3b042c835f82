"""``./run.py benchmark kit-install``: each assignment's student kit, installed as its README says, and used.

For every assignment: release the kit into a temporary folder, run the setup line of its README
verbatim (``python3 -m venv .venv && .venv/bin/pip install ...``) with no venv activated, measure the
install's wall time, the venv's size and its packages, then put the reference in place of the template
and run ``./run.py unittest units`` there, as a student would after finishing: every section must pass.
Targets: the install under a minute and the venv under 1 GB (10^9 bytes).
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import assignments
from instructor.release import write_release

TARGET_SECONDS, TARGET_BYTES = 60.0, 10 ** 9


def student_env(home):
    """This shell's environment with no venv activated (pip's own settings, PIP_*, kept: they are the machine's)."""
    venvs = {os.environ.get('VIRTUAL_ENV'), str(assignments.KIT_ROOT / '.venv')} - {None}
    path = [folder for folder in os.environ.get('PATH', '/usr/bin:/bin').split(':')
            if not any(folder.startswith(venv) for venv in venvs)]
    env = {key: value for key, value in os.environ.items() if key.startswith('PIP_') or key in ('LANG', 'TMPDIR')}
    return {**env, 'PATH': ':'.join(path), 'HOME': str(home)}


def setup_line(readme):
    """The README's first indented command that makes the venv: what a student copies."""
    match = re.search(r'^    (python3 -m venv \.venv && .+)$', readme, re.MULTILINE)
    if match is None:
        raise ValueError("the kit's README has no 'python3 -m venv .venv && ...' line")
    return match.group(1)


def folder_bytes(folder):
    return sum(path.stat().st_size for path in Path(folder).rglob('*') if path.is_file() and not path.is_symlink())


def install_and_use(assignment, folder):
    """{'seconds', 'bytes', 'packages', 'unittest'}: the kit of ``assignment`` set up and used in ``folder``."""
    write_release(assignments.KIT_ROOT, folder, assignment.name)
    command = setup_line((folder / 'README.md').read_text())
    env = student_env(folder)
    started = time.perf_counter()
    installed = subprocess.run(['bash', '-c', command], cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if installed.returncode != 0:
        raise RuntimeError(f"{assignment.name}: `{command}` failed:\n{installed.stderr[-2000:]}")
    size = folder_bytes(folder / '.venv')
    packages = subprocess.run([str(folder / '.venv' / 'bin' / 'pip'), 'list', '--format=freeze'], env=env,
                              capture_output=True, text=True, check=True).stdout.split()
    shutil.copy2(assignment.reference_path, folder / 'solution.py')
    used = subprocess.run(['./run.py', 'unittest', 'units'], cwd=folder, env=env, capture_output=True, text=True)
    return {'command': command, 'seconds': seconds, 'bytes': size, 'packages': len(packages),
            'unittest_ok': used.returncode == 0, 'unittest_tail': used.stdout[-400:] + used.stderr[-400:]}


def bench_kit_install(args):
    figures, lines, ok = {}, [], True
    for name in assignments.ASSIGNMENTS:
        with tempfile.TemporaryDirectory(prefix=f'kit-{name}-') as folder:
            result = install_and_use(assignments.get(name), Path(folder))
        met = result['seconds'] <= TARGET_SECONDS and result['bytes'] <= TARGET_BYTES and result['unittest_ok']
        ok &= met
        figures[name] = result
        lines.append(f"{name}: {result['seconds']:.0f} s, {result['bytes'] / 1e6:.0f} MB, {result['packages']} "
                     f"packages, unittest {'passes' if result['unittest_ok'] else 'FAILS'}")
    return {**figures, 'meets_target': ok,
            'summary': '; '.join(lines) + f" (targets: {TARGET_SECONDS:g} s, {TARGET_BYTES / 1e9:g} GB)"}
