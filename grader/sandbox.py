"""Run a submission's task in a child process that cannot hurt the grader.

Layers of isolation (the report says which ones this machine allowed):
* a fresh temporary directory holding copies of the kit's own files, the
  submission and the task; nothing else of the kit;
* new network and mount namespaces (root, or an unprivileged user namespace):
  no network at all, and the reference solution, the hidden tests, the kit's
  repository and the data folders are covered by empty mounts;
* the unprivileged user ``nobody`` when the grader runs as root;
* rlimits (address space, processes, file size, CPU, core dumps), BLAS threads
  pinned, its own process group killed on timeout;
* inside the child, an audit hook (see ``harness``).
Results come back as JSON and an .npz read with ``allow_pickle=False``.
"""
import ctypes
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.codec import pack
from grader.harness import VIOLATION_EXIT

KIT_ROOT = Path(__file__).resolve().parent.parent
SHARED_FILES = {  # file in the sandbox -> source in the kit, for every assignment
    'kit_harness.py': KIT_ROOT / 'grader' / 'harness.py',
    'kit_codec.py': KIT_ROOT / 'grader' / 'codec.py',
    'kit_runner.py': KIT_ROOT / 'grader' / 'kit_runner.py',
}
NOBODY = 65534
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18
MAX_RESULTS_BYTES = 256 << 20

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class ChildRun:
    """What came back from one child."""
    status: str                 # 'finished', 'timeout', 'output', 'violation', 'crashed'
    detail: str = ''            # why, for anything but 'finished'
    seconds: float = 0.0        # from just before the submission was imported to the child's exit
    output: str = ''            # the start of what the child printed
    isolation: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)


def hidden_paths():
    """What the child must not see: the reference, the hidden tests, the repository, the data."""
    from data_loaders.storage import candidate_dirs
    paths = [KIT_ROOT / name for name in ('solution.py', 'grader', 'tests', 'instructor', 'assignments', '.git')]
    paths += [folder for dataset in ('mnist', 'cifar10') for folder in candidate_dirs(dataset)]
    # Absolute (the child has changed directory by then), and the outermost only: once a
    # folder is covered, the folders inside it are no longer there to be covered.
    paths = {path.resolve() for path in paths if path.exists()}
    return sorted(str(path) for path in paths if not any(parent in paths for parent in path.parents))


def _mount(source, target, fstype, flags, data):
    return _libc.mount(source, target.encode() if isinstance(target, str) else target, fstype, flags, data) == 0


def _write_file(path, text):
    with open(path, 'w') as file:
        file.write(text)


@functools.lru_cache(maxsize=None)
def runs_as_nobody():
    """Whether the child will run as nobody: the grader is root and nobody can reach the interpreter
    and its libraries (they are not under a private /root, say)."""
    import sysconfig
    if os.getuid() != 0:
        return False
    paths = {os.path.realpath(sys.executable), os.path.realpath(sysconfig.get_paths()['stdlib']),
             os.path.realpath(sysconfig.get_paths()['purelib']), os.path.realpath(np.__file__)}
    for path in paths:
        parts = Path(path).parts
        for depth in range(1, len(parts)):
            if not os.stat(os.path.join(*parts[:depth + 1])).st_mode & 0o005:
                return False
    return True


def _isolate(limits, hide, control):
    """The child's first steps after fork, before exec (runs as the grader's user)."""
    uid, gid = os.getuid(), os.getgid()
    drop_to_nobody = runs_as_nobody()

    def preexec():
        notes = []
        flags = CLONE_NEWNS | CLONE_NEWNET | (0 if uid == 0 else CLONE_NEWUSER)
        try:
            if _libc.unshare(flags) != 0:
                raise OSError(ctypes.get_errno(), 'unshare')
            if uid != 0:
                _write_file('/proc/self/setgroups', 'deny')
                _write_file('/proc/self/uid_map', f'{uid} {uid} 1')
                _write_file('/proc/self/gid_map', f'{gid} {gid} 1')
            notes.append('network namespace: no network')
            hidden = _mount(None, b'/', None, MS_REC | MS_PRIVATE, None)
            for path in hide:
                if os.path.isdir(path):
                    hidden &= _mount(b'tmpfs', path, b'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV, b'size=4k,mode=000')
                else:
                    hidden &= _mount(b'/dev/null', path, None, MS_BIND, None)
            notes.append('mount namespace: kit, reference and data hidden' if hidden else
                         'mount namespace: could not hide every path')
        except OSError:
            notes.append('no namespaces (not permitted here): network and files guarded by the audit hook only')
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (int(limits.seconds * limits.threads) + 5,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))  # root ignores it
        if drop_to_nobody:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            notes.append('user nobody, process count limited')
        else:
            notes.append("the grader's own user (nobody cannot reach this Python): new processes are stopped "
                         "by the audit hook")
        os.write(control, ''.join(f"isolation {note}\n" for note in notes).encode())

    return preexec


def _child_environment(limits, sandbox):
    threads, blas_threads = str(limits.threads), str(limits.blas_threads or limits.threads)
    return {'PATH': '/usr/bin:/bin', 'HOME': sandbox, 'LANG': 'C.UTF-8', 'PYTHONDONTWRITEBYTECODE': '1',
            'PYTHONHASHSEED': '0', 'TQDM_DISABLE': '1', 'OMP_NUM_THREADS': threads, 'OPENBLAS_NUM_THREADS': blas_threads,
            'MKL_NUM_THREADS': blas_threads, 'NUMEXPR_NUM_THREADS': threads}


def _read_capped(stream, limit, sink, on_overflow):
    """Keep the first ``limit`` bytes of ``stream`` in ``sink``; call ``on_overflow`` past it."""
    total = 0
    for chunk in iter(lambda: stream.read1(65536), b''):
        if total < limit:
            sink.append(chunk[:limit - total])
        total += len(chunk)
        if total > limit:
            on_overflow()
            break
    stream.close()


def prepare_sandbox(submission_source, task, linked_files, kit_files=None):
    if kit_files is None:
        from assignments import DEFAULT, get
        kit_files = get(DEFAULT).sandbox_files()
    sandbox = tempfile.mkdtemp(prefix='nn-grade-')
    for name, source in {**SHARED_FILES, **kit_files}.items():
        shutil.copyfile(source, os.path.join(sandbox, name))
    with open(os.path.join(sandbox, 'solution.py'), 'wb') as file:
        file.write(submission_source)
    stored = {}
    task = pack(task, stored, 'task')
    np.savez(os.path.join(sandbox, 'task.npz'), **stored)
    with open(os.path.join(sandbox, 'task.json'), 'w') as file:
        json.dump(task, file)
    for name, path in linked_files.items():
        os.link(path, os.path.join(sandbox, name))
    if runs_as_nobody():
        for root, folders, files in os.walk(sandbox):
            for name in [root] + [os.path.join(root, item) for item in folders + files]:
                os.chown(name, NOBODY, NOBODY)
    os.chmod(sandbox, 0o700)
    return sandbox


def _load_results(sandbox, run):
    paths = [os.path.join(sandbox, name) for name in ('results.json', 'results.npz')]
    if not all(os.path.isfile(path) for path in paths):
        return False
    if sum(os.path.getsize(path) for path in paths) > MAX_RESULTS_BYTES:
        run.status, run.detail = 'crashed', 'the results are too large'
        return True
    try:
        with open(paths[0]) as file:
            run.results = json.load(file)
        with np.load(paths[1], allow_pickle=False) as stored:
            run.arrays = {name: stored[name] for name in stored.files}
    except Exception as error:  # written by untrusted code: anything can be wrong with it
        run.status, run.detail = 'crashed', f"unreadable results ({type(error).__name__}: {error})"[:300]
    if not isinstance(run.results, dict):
        run.status, run.detail, run.results = 'crashed', 'malformed results', {}
    return True


def run_child(submission_source, task, limits, linked_files=None, kit_files=None):
    """Run ``task`` (a dict for the harness) on ``submission_source`` (bytes) within ``limits``;
    ``linked_files`` ({name in the sandbox: path}) are hard-linked in (gate data); ``kit_files``
    ({name in the sandbox: source}) are the assignment's interface, runner and gates (by default the
    default assignment's: ``Assignment.sandbox_files``)."""
    sandbox = prepare_sandbox(submission_source, task, linked_files or {}, kit_files)
    control_read, control_write = os.pipe()
    output, overflow = [], threading.Event()
    run = ChildRun('finished')
    try:
        try:
            child = subprocess.Popen(
                [sys.executable, '-I', '-B', os.path.join(sandbox, 'kit_harness.py'), str(control_write)],
                cwd=sandbox, env=_child_environment(limits, sandbox), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(control_write,), start_new_session=True,
                preexec_fn=_isolate(limits, hidden_paths(), control_write))
        except (OSError, subprocess.SubprocessError) as error:
            os.close(control_read)
            return ChildRun('crashed', f"the sandbox could not be started ({error})")
        finally:
            os.close(control_write)
        control_lines, started = [], []

        def read_control():
            with os.fdopen(control_read, 'rb') as control:
                for line in control:
                    if line == b'start\n' and not started:
                        started.append(time.monotonic())
                    control_lines.append(line.decode(errors='replace').strip())

        def kill():
            overflow.set()
            os.killpg(child.pid, signal.SIGKILL)

        readers = [threading.Thread(target=read_control, daemon=True),
                   threading.Thread(target=_read_capped, args=(child.stdout, limits.output_bytes, output, kill),
                                    daemon=True)]
        for reader in readers:
            reader.start()
        launched = time.monotonic()
        try:
            child.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            run.status, run.detail = 'timeout', f"did not finish within {limits.seconds:g} s"
        ended = time.monotonic()
        try:  # a grandchild holding the pipes open must not hang the grader
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for reader in readers:
            reader.join(timeout=5)
        run.seconds = ended - (started[0] if started else launched)
        run.output = b''.join(output).decode(errors='replace')
        run.isolation = [line[len('isolation '):] for line in control_lines if line.startswith('isolation ')]
        violations = [line[len('violation '):] for line in control_lines if line.startswith('violation ')]
        if run.status == 'timeout':
            return run
        if violations or child.returncode == VIOLATION_EXIT:
            run.status, run.detail = 'violation', violations[0] if violations else 'a forbidden operation'
        elif overflow.is_set():
            run.status, run.detail = 'output', f"printed more than {limits.output_bytes:,} bytes"
        elif not _load_results(sandbox, run):
            code = child.returncode
            how = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            if code == -signal.SIGXFSZ:
                how += ' (file size limit)'
            elif code == -signal.SIGXCPU:
                run.status, run.detail = 'timeout', 'CPU time limit'
                return run
            run.status, run.detail = 'crashed', f"{how} before reporting results"
            if run.output.strip():
                run.detail += f"; its last output: {run.output.strip()[-300:]}"
        return run
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
