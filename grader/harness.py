"""The sandboxed child: import the submission, run its task, write plain arrays back.

Started by ``sandbox.run_child`` as ``python -I kit_harness.py CONTROL_FD`` in a
fresh directory that holds this file, the kit's interface.py, kit_execute.py,
kit_gates.py, the submission's solution.py and the task.  Everything trusted is
imported first; then an audit hook (PEP 578, which cannot be removed) guards
the process: network, new processes, signals, native code and files outside
the sandbox end it at once with a reported violation.  Results go to
results.json and results.npz (no pickles); the control pipe carries
'ready' (the child runs: the sandbox started), the layers the kernel confirms, 'start' (just
before the submission is imported) and violations.
"""
import _thread
import json
import os
import sys
import traceback

SANDBOX = os.path.dirname(os.path.abspath(__file__))
VIOLATION_EXIT = 87

BLOCKED_EVENTS = {
    'network access': ('socket.', 'urllib.', 'http.', 'ftplib.', 'smtplib.', 'poplib.', 'imaplib.', 'nntplib.',
                       'telnetlib.', 'webbrowser.'),
    'starting processes': ('subprocess.', 'os.exec', 'os.spawn', 'os.posix_spawn', 'os.fork', 'os.forkpty',
                           'os.system', 'os.startfile', 'pty.'),
    'sending signals': ('os.kill', 'os.killpg', 'signal.pthread_kill'),
    'native code (ctypes)': ('ctypes.',),
    'opening a database': ('sqlite3.',),
    'changing limits': ('resource.setrlimit', 'resource.prlimit'),
}
BLOCKED_MODULES = {'socket', '_socket', 'ssl', '_ssl', 'subprocess', '_posixsubprocess', 'multiprocessing',
                   '_multiprocessing', 'pty', 'resource', 'urllib.request', 'http.client', 'requests', 'torch'}
PATH_EVENTS = {'open', 'os.listdir', 'os.scandir', 'os.remove', 'os.rename', 'os.rmdir', 'os.mkdir', 'os.chmod',
               'os.chown', 'os.symlink', 'os.link', 'os.truncate', 'os.utime', 'shutil.copyfile', 'shutil.copymode',
               'shutil.copystat', 'shutil.copytree', 'shutil.rmtree', 'shutil.move', 'glob.glob', 'os.chdir'}
MODIFYING_EVENTS = PATH_EVENTS - {'open', 'os.listdir', 'os.scandir', 'glob.glob', 'os.chdir'}


def install_guard(control, readable_roots):
    """Audit hook: a forbidden event writes 'violation <reason>' to ``control`` and exits the process."""
    readable_roots = tuple(os.path.realpath(root) + os.sep for root in readable_roots)
    sandbox_root = os.path.realpath(SANDBOX) + os.sep
    # Everything already in the sandbox is the checker's: its code, the task, the upload and
    # the gate data (hard links to the grader's one copy, shared with later submissions).
    protected = frozenset(os.listdir(SANDBOX))
    busy = set()  # threads inside the hook (its own file checks raise events too)

    def violation(reason):
        try:
            os.write(control, f"violation {reason}\n".encode())
        finally:  # even if the submission closed the control pipe: the exit status tells
            os._exit(VIOLATION_EXIT)

    def inside(path, roots):
        if isinstance(path, int) or path is None:
            return True  # an already open descriptor
        real = os.path.realpath(os.fsdecode(path)) + os.sep
        return real.startswith(roots) or real in ('/dev/null' + os.sep,)

    def writes(event, args):
        if event in MODIFYING_EVENTS:
            return True
        if event == 'open':
            mode, flags = args[1], args[2]
            if isinstance(mode, str):
                return any(char in mode for char in 'wax+')
            return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
        return False

    def hook(event, args):
        thread = _thread.get_ident()
        if thread in busy:
            return
        busy.add(thread)
        try:
            for reason, prefixes in BLOCKED_EVENTS.items():
                if event.startswith(prefixes):
                    violation(f"{reason} ({event})")
            if event == 'import' and args[0] in BLOCKED_MODULES:
                violation(f"importing {args[0]} (the sandbox allows no such module, even inside a library)")
            if event in PATH_EVENTS and args:
                if writes(event, args):
                    if not inside(args[0], (sandbox_root,)):
                        violation(f"writing outside the sandbox ({event} {args[0]!r})")
                    if not isinstance(args[0], int) and os.path.basename(os.fsdecode(args[0])) in protected:
                        violation(f"tampering with the checker ({event} {args[0]!r})")
                elif not inside(args[0], readable_roots):
                    violation(f"reading outside the sandbox ({event} {args[0]!r})")
        finally:
            busy.discard(thread)

    sys.addaudithook(hook)


def save_results(results, arrays):
    import numpy as np
    np.savez(os.path.join(SANDBOX, 'results.npz'), **arrays)
    with open(os.path.join(SANDBOX, 'results.json'), 'w') as file:
        json.dump(results, file)


def run_scenarios(solution, task, arrays):
    """Each case: its failure (or None), the problems of non-array outputs, and the arrays."""
    import kit_execute
    from kit_codec import unpack
    cases, saved = [], {}
    if hasattr(kit_execute, 'isolate'):  # the assignment's trusted stand-ins for what a section must not use
        kit_execute.isolate(solution, task)
    with kit_execute.running(task):
        for index, packed in enumerate(task['scenarios']):
            try:
                outputs, failure = kit_execute.run_scenario(solution, unpack(packed, arrays))
            except MemoryError:
                outputs, failure = {}, 'memory limit: MemoryError'
            except BaseException as error:  # SystemExit, KeyboardInterrupt, ... from the student's code
                outputs, failure = {}, kit_execute.describe_exception(error)
            cases.append({'failure': failure, 'problems': {name: out.problem for name, out in outputs.items()
                                                            if out.problem}})
            saved.update({f"{index}/{name}": out.array for name, out in outputs.items() if out.problem is None})
            if failure and failure.startswith('memory limit'):
                break
        results = {'cases': cases}
        if task.get('probes'):
            results['line_counts'], results['trace_removed'] = probe_loops(solution, task, arrays)
    return results, saved


def count_lines(solution, scenario, traced):
    """{line: executions} of the ``traced`` lines of solution.py while ``scenario`` runs; a call made
    from a traced line into other code counts as an execution of that line.  Also: whether the
    submission removed the tracer."""
    import kit_execute
    counts, filename = {}, solution.__file__

    def local(frame, event, arg):
        if event == 'line' and frame.f_lineno in traced:
            counts[frame.f_lineno] = counts.get(frame.f_lineno, 0) + 1
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename == filename:
            return local
        caller = frame.f_back
        if caller is not None and caller.f_code.co_filename == filename and caller.f_lineno in traced:
            counts[caller.f_lineno] = counts.get(caller.f_lineno, 0) + 1
        return None

    sys.settrace(tracer)
    try:
        kit_execute.run_scenario(solution, scenario)
    except BaseException:  # noqa: BLE001 - the cases have reported failures already; counts still tell
        pass
    finally:
        removed = sys.gettrace() is not tracer
        sys.settrace(None)
    return counts, removed


def probe_loops(solution, task, arrays):
    """{label: {line: executions}} of every loop probe (see grader/loops.py), and whether the tracer was removed."""
    from kit_codec import unpack
    traced, counts, removed = frozenset(task['traced_lines']), {}, False
    for label, packed in task['probes']:
        counts[label], tampered = count_lines(solution, unpack(packed, arrays), traced)
        removed = removed or tampered
    return counts, removed


def run_gate(solution, task, arrays):
    import kit_gates
    gate = kit_gates.GATES[task['gate']]
    training = [arrays[name] for name in task['training']]
    _, predicted = kit_gates.train_and_predict(solution, gate, training, arrays['x_test'])
    return {}, {'predicted': predicted}


def announce_layers(control):
    """Tell the grader the child is running ('ready': the sandbox started) and which inner layers the
    kernel confirms; close every descriptor the child did not need to inherit."""
    os.closerange(3, control)
    os.closerange(control + 1, 1 << 16)
    notes = ['ready']
    try:
        with open('/proc/self/status') as status:
            fields = dict(line.split(':', 1) for line in status if ':' in line)
        if fields.get('Seccomp', '').strip() == '2':
            notes.append('isolation seccomp filter')
    except OSError:
        pass
    os.write(control, ''.join(f"{note}\n" for note in notes).encode())


def main():
    control = int(sys.argv[1])
    announce_layers(control)
    sys.path.insert(0, SANDBOX)
    with open(os.path.join(SANDBOX, 'task.json')) as file:
        task = json.load(file)
    import numpy as np
    import interface  # noqa: F401 - the kit's copy, imported before the submission can shadow anything
    import kit_execute
    import kit_gates  # noqa: F401
    if task.get('gate'):  # tqdm's first bar creates a multiprocessing lock (imports socket): do it now
        from tqdm.auto import tqdm
        tqdm(range(1), disable=True).close()
    if task.get('torch'):
        import torch
        torch.set_num_threads(task['threads'])
        kit_execute.warm_up()  # load torch's kernels before the guard is up
    with np.load(os.path.join(SANDBOX, 'task.npz'), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    for name in task.get('files', ()):  # gate data, linked into the sandbox as .npy files
        arrays[name] = np.load(os.path.join(SANDBOX, f'{name}.npy'), allow_pickle=False)
    readable = [SANDBOX] + [path for path in sys.path[1:] if path and os.path.isdir(path)]
    install_guard(control, readable)
    used = os.times()
    os.write(control, f"start {used.user + used.system:.3f}\n".encode())  # CPU spent on the kit's own imports
    try:
        import solution
    except MemoryError:
        save_results({'import_error': 'memory limit: MemoryError while importing solution.py'}, {})
        return
    except BaseException as error:  # a syntax error, an exception or sys.exit() at import
        detail = ''.join(traceback.format_exception_only(type(error), error)).strip()
        save_results({'import_error': f"importing solution.py failed: {detail[:2000]}"}, {})
        return
    try:
        results, saved = (run_gate if task.get('gate') else run_scenarios)(solution, task, arrays)
    except MemoryError:
        results, saved = {'error': 'memory limit: MemoryError'}, {}
    except BaseException as error:
        results, saved = {'error': kit_execute.describe_exception(error)}, {}
    save_results(results, saved)


if __name__ == '__main__':
    main()
