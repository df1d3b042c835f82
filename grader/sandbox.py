"""Run a submission's task in a child process that cannot hurt the grader.

Layers of isolation, outermost first (the report's isolation line names those in force):

* bubblewrap (``grader.bubblewrap``): an allow-list of files (the Python installation and the
  system's /usr read-only, the job folder the only writable place), and user, PID, network, IPC,
  UTS and mount namespaces; the child is uid 65534, never the grader's user;
* a seccomp filter (``grader.seccomp``): no ptrace, no other process's memory, no mounts or
  namespaces, no kernel keyrings, BPF or performance counters, no network socket;
* a cleared environment: the variables of ``child_environment`` and nothing else of the grader's
  (no tokens, database URLs or secrets);
* rlimits (address space, processes, file size, CPU, open files, no core dumps), BLAS threads pinned;
* inside the child, an audit hook (see ``harness``): the assignment's rules, stopped with a reason.

Where bubblewrap cannot run, ``run_child`` raises ``InfrastructureError``: the grader's failure,
never the submission's.  ``--unsafe-no-sandbox`` (``NN_KIT_UNSAFE_NO_SANDBOX=1``, inherited by
local workers) runs children with the inner layers only, and every report says so.
Results come back as JSON and an .npz read with ``allow_pickle=False``.
"""
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

from grader import bubblewrap, seccomp
from grader.codec import pack
from grader.harness import VIOLATION_EXIT
from grader.infrastructure import InfrastructureError

KIT_ROOT = Path(__file__).resolve().parent.parent
SHARED_FILES = {  # file in the sandbox -> source in the kit, for every assignment
    'kit_harness.py': KIT_ROOT / 'grader' / 'harness.py',
    'kit_codec.py': KIT_ROOT / 'grader' / 'codec.py',
    'kit_runner.py': KIT_ROOT / 'grader' / 'kit_runner.py',
}
UNSAFE_VARIABLE = 'NN_KIT_UNSAFE_NO_SANDBOX'
UNSAFE_NOTE = 'NO SANDBOX (--unsafe-no-sandbox): only rlimits and the audit hook guarded this machine'
MAX_RESULTS_BYTES = 256 << 20


@dataclass
class ChildRun:
    """What came back from one child."""
    status: str                 # 'finished', 'timeout', 'output', 'violation', 'crashed'
    detail: str = ''            # why, for anything but 'finished'
    seconds: float = 0.0        # from just before the submission was imported to the child's exit
    cpu_seconds: float = 0.0    # the CPU time the child got over the same span (all its threads)
    output: str = ''            # the start of what the child printed
    isolation: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)


def unsafe():
    """Whether children run without bubblewrap (``--unsafe-no-sandbox``)."""
    return os.environ.get(UNSAFE_VARIABLE) == '1'


def allow_unsafe():
    """``--unsafe-no-sandbox``: this process and the workers it starts run children unsandboxed."""
    os.environ[UNSAFE_VARIABLE] = '1'
    print(f"WARNING: {UNSAFE_NOTE}. Student code can read and change whatever this user can.", file=sys.stderr)


def refusal():
    """None when student code may run here, else the one-line reason to refuse (``grade``, ``serve``)."""
    if unsafe():
        return None
    return bubblewrap.unusable_reason()


class SandboxRefused(ValueError):
    """Student code cannot be sandboxed on this machine: ``./run.py`` prints the reason in one line
    and exits with status 2."""
    one_line = True


def add_sandbox_options(parser):
    parser.add_argument('--unsafe-no-sandbox', action='store_true',
                        help="run student code without bubblewrap (a machine without user namespaces): the "
                             "submissions can read and change what this user can; every report says so")


def require_sandbox(args):
    """Refuse to go on where the sandbox cannot start, unless ``--unsafe-no-sandbox`` was given."""
    if getattr(args, 'unsafe_no_sandbox', False):
        allow_unsafe()
        return
    reason = refusal()
    if reason:
        raise SandboxRefused(f"student code is not run without the sandbox: {reason}")


def child_environment(limits, home, torch=False):
    """The child's whole environment.  A child that runs torch (the fast convolution) gives numpy's BLAS
    one thread: its idle workers would spin against torch's threads (see interface.use_fast_convolve,
    which the sandbox's audit hook keeps from doing this itself)."""
    threads = str(limits.threads)
    blas_threads = '1' if torch else threads
    return {'PATH': '/usr/bin:/bin', 'HOME': home, 'TMPDIR': home, 'LANG': 'C.UTF-8',
            'PYTHONDONTWRITEBYTECODE': '1', 'PYTHONHASHSEED': '0', 'TQDM_DISABLE': '1', 'OMP_NUM_THREADS': threads,
            'OPENBLAS_NUM_THREADS': blas_threads, 'MKL_NUM_THREADS': blas_threads, 'NUMEXPR_NUM_THREADS': threads}


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
    """The job folder: ``work/`` (the child's /sandbox) holding the kit's files, the submission and
    the task; the ``linked_files`` ({name: host path}) to bind read-only into it.  Returns the
    ``bubblewrap.Layout`` (with everything the child may see)."""
    if kit_files is None:
        from assignments import DEFAULT, get
        kit_files = get(DEFAULT).sandbox_files()
    root = tempfile.mkdtemp(prefix='nn-grade-')
    os.chmod(root, 0o711)  # the child's user may pass through to work/, never list the stages
    work = os.path.join(root, 'work')
    os.mkdir(work, 0o700)
    for name, source in {**SHARED_FILES, **kit_files}.items():
        shutil.copyfile(source, os.path.join(work, name))
    with open(os.path.join(work, 'solution.py'), 'wb') as file:
        file.write(submission_source)
    stored = {}
    task = pack(task, stored, 'task')
    np.savez(os.path.join(work, 'task.npz'), **stored)
    with open(os.path.join(work, 'task.json'), 'w') as file:
        json.dump(task, file)
    binds = [bubblewrap.Bind(path, path) for path in bubblewrap.python_roots()]
    binds += bubblewrap.system_binds()[0] + [bubblewrap.Bind(work, bubblewrap.SANDBOX_DIR, writable=True)]
    for name, path in linked_files.items():
        if unsafe():
            shutil.copyfile(path, os.path.join(work, name))
            continue
        open(os.path.join(work, name), 'w').close()  # the mount point; the data itself stays read-only
        binds.append(bubblewrap.Bind(str(Path(path).resolve()), f"{bubblewrap.SANDBOX_DIR}/{name}"))
    layout = bubblewrap.Layout(root, binds)
    if os.getuid() == 0:
        for folder, _, files in os.walk(work):
            for name in [folder] + [os.path.join(folder, item) for item in files]:
                os.chown(name, bubblewrap.SANDBOX_ID, bubblewrap.SANDBOX_ID)
    return layout


def _load_results(work, run):
    paths = [os.path.join(work, name) for name in ('results.json', 'results.npz')]
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


def cpu_limit(limits):
    """RLIMIT_CPU: every thread busy for the whole wall-time limit, and a little more."""
    return int(limits.seconds * limits.threads) + 5


def _limit_resources(limits):
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit(limits),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))  # root ignores it


def _sandboxed_launch(layout, limits, argv):
    """(command, pass_fds, preexec_fn, isolation notes) of a child under bubblewrap and seccomp."""
    try:
        program = seccomp.compiled_filter()
    except seccomp.SeccompUnavailable as error:
        raise InfrastructureError(f"the sandbox could not be started: {error}") from None
    filter_read, filter_write = os.pipe()  # the program is small: it fits in the pipe's buffer
    os.write(filter_write, program)
    os.close(filter_write)
    as_root = os.getuid() == 0

    def preexec():
        layout.enter_stages()
        _limit_resources(limits)
        if as_root:  # bwrap (and so the child) as nobody: never the grader's user on the host either
            os.setgroups([])
            os.setgid(bubblewrap.SANDBOX_ID)
            os.setuid(bubblewrap.SANDBOX_ID)

    binds, links = bubblewrap.system_binds()
    notes = [f"{bubblewrap.version()}: an allow-list of files (the Python installation read-only, "
             f"the job folder the only writable place)",
             f"user (uid {bubblewrap.SANDBOX_ID}{', nobody on the host' if as_root else ''}), PID, network, IPC, "
             f"UTS and mount namespaces",
             'a cleared environment', 'rlimits']
    options = '\0'.join(bubblewrap.options(layout, links, filter_read)).encode() + b'\0'
    options_read, options_write = os.pipe()
    os.write(options_write, options)  # a few kB: fits in the pipe's buffer
    os.close(options_write)
    command = [bubblewrap.bwrap_binary(), '--args', str(options_read), '--'] + list(argv)
    return command, (filter_read, options_read), preexec, notes


def _unsafe_launch(layout, limits, argv):
    def preexec():
        _limit_resources(limits)
    return list(argv), (), preexec, [UNSAFE_NOTE]


def _wait(child, timeout):
    """Wait for ``child`` (at most ``timeout`` seconds; None: for ever) and reap it: the CPU seconds it and
    its descendants used, or None if it is still running.  (wait4: Popen.wait does not tell the CPU time.)"""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.001
    while True:
        pid, status, usage = os.wait4(child.pid, 0 if deadline is None else os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() >= deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def launch(layout, limits, argv, env, pass_fds=()):
    """Start ``argv`` in ``layout`` within ``limits`` (bubblewrap and seccomp, or ``--unsafe-no-sandbox``'s
    inner layers only), its output piped: (the Popen, the isolation notes)."""
    command, fds, preexec, isolation = (_unsafe_launch if unsafe() else _sandboxed_launch)(layout, limits, argv)
    try:
        child = subprocess.Popen(command, cwd=layout.work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, pass_fds=tuple(pass_fds) + fds, start_new_session=True,
                                 preexec_fn=preexec)
    except (OSError, subprocess.SubprocessError) as error:
        raise InfrastructureError(f"the sandbox could not be started ({error})") from None
    finally:
        for fd in fds:
            os.close(fd)
    return child, isolation


def run_child(submission_source, task, limits, linked_files=None, kit_files=None):
    """Run ``task`` (a dict for the harness) on ``submission_source`` (bytes) within ``limits``;
    ``linked_files`` ({name in the sandbox: path}) are bound in read-only (gate data); ``kit_files``
    ({name in the sandbox: source}) are the assignment's interface, runner and gates (by default the
    default assignment's: ``Assignment.sandbox_files``).  Raises ``InfrastructureError`` when the
    sandbox itself cannot start: that is never the submission's verdict."""
    layout = prepare_sandbox(submission_source, task, linked_files or {}, kit_files)
    home = layout.work if unsafe() else bubblewrap.SANDBOX_DIR
    control_read, control_write = os.pipe()
    output, overflow = [], threading.Event()
    run = ChildRun('finished')
    try:
        argv = [sys.executable, '-I', '-B', os.path.join(home, 'kit_harness.py'), str(control_write)]
        try:
            child, run.isolation = launch(layout, limits, argv, child_environment(limits, home, task.get('torch', False)),
                                          pass_fds=(control_write,))
        except InfrastructureError:
            os.close(control_read)
            raise
        finally:
            os.close(control_write)
        control_lines, started = [], []

        def read_control():
            with os.fdopen(control_read, 'rb') as control:
                for line in control:
                    if line.startswith(b'start') and not started:
                        started.append((time.monotonic(), float(line.split()[1]) if line.split()[1:] else 0.0))
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
        cpu = _wait(child, limits.seconds)
        if cpu is None:
            os.killpg(child.pid, signal.SIGKILL)  # bwrap: --die-with-parent takes its PID namespace along
            cpu = _wait(child, None)
            run.status, run.detail = 'timeout', f"did not finish within {limits.seconds:g} s"
        ended = time.monotonic()
        try:  # a grandchild holding the pipes open must not hang the grader
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for reader in readers:
            reader.join(timeout=5)
        run.seconds = ended - (started[0][0] if started else launched)
        run.cpu_seconds = max(cpu - (started[0][1] if started else 0.0), 0.0)
        run.output = b''.join(output).decode(errors='replace')
        if 'ready' not in control_lines:  # the harness never ran: nothing of the submission did either
            raise InfrastructureError(f"the sandbox could not be started: {run.output.strip()[-300:] or run.detail}")
        run.isolation += [line[len('isolation '):] for line in control_lines if line.startswith('isolation ')]
        violations = [line[len('violation '):] for line in control_lines if line.startswith('violation ')]
        if run.status == 'timeout':
            return run
        if violations or child.returncode == VIOLATION_EXIT:
            run.status, run.detail = 'violation', violations[0] if violations else 'a forbidden operation'
        elif overflow.is_set():
            run.status, run.detail = 'output', f"printed more than {limits.output_bytes:,} bytes"
        elif not _load_results(layout.work, run):
            code = child.returncode
            if not unsafe() and code > 128:  # bwrap passes a signal on as 128 + its number
                code = 128 - code
            how = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            if code == -signal.SIGXFSZ:
                how += ' (file size limit)'
            elif code == -signal.SIGXCPU or (code == -signal.SIGKILL and cpu >= cpu_limit(limits) - 1):
                # SIGXCPU, or (the child is its PID namespace's init, which ignores SIGXCPU) the SIGKILL after it
                run.status, run.detail = 'timeout', 'CPU time limit'
                return run
            run.status, run.detail = 'crashed', f"{how} before reporting results"
            if run.output.strip():
                run.detail += f"; its last output: {run.output.strip()[-300:]}"
        return run
    finally:
        shutil.rmtree(layout.root, ignore_errors=True)


def probe_sandbox():
    """None when a child starts in the sandbox on this machine, else what went wrong (one line)."""
    from grader.limits import Limits
    probe = Limits(seconds=120, memory_bytes=8 << 30, processes=64, file_bytes=1 << 20, output_bytes=1 << 16,
                   threads=1)
    try:
        run = run_child(b'', {'scenarios': []}, probe)
    except InfrastructureError as error:
        return str(error)
    return None if run.status == 'finished' else f"{run.status}: {run.detail}"
