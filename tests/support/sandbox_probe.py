"""What a child that wants the server can find, tried from inside the sandbox with no audit hook.

Run by ``tests/checker/test_sandbox_boundary.py`` as a plain script under the sandbox's bubblewrap and
seccomp layers (``grader.sandbox.launch``), so that what it reports is what the outer layers let
through, not what the harness's audit hook stopped first.  Prints one JSON object.
"""
import ctypes
import errno
import json
import os
import signal
import socket
import sys

found = {}


def attempt(name, action):
    """Record what ``action`` returned, or the errno / exception it failed with."""
    try:
        found[name] = {'ok': action()}
    except OSError as error:
        found[name] = {'errno': errno.errorcode.get(error.errno, str(error.errno)), 'message': str(error)}
    except Exception as error:  # noqa: BLE001 - any failure is an answer
        found[name] = {'error': f"{type(error).__name__}: {error}"}


def walk(top, limit=200_000):
    """Every file name the child can list under ``top`` (not into /proc, /sys or /dev)."""
    names = []
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = [name for name in subfolders
                         if os.path.join(folder, name) not in ('/proc', '/sys', '/dev')]
        names += [os.path.join(folder, name) for name in files]
        if len(names) > limit:
            break
    return names


def proc_entries():
    pids = [int(name) for name in os.listdir('/proc') if name.isdigit()]
    entries = {}
    for pid in pids:
        entry = {}
        for what in ('cmdline', 'environ'):
            try:
                with open(f'/proc/{pid}/{what}', 'rb') as file:
                    entry[what] = file.read().decode(errors='replace')
            except OSError as error:
                entry[what] = f"error {error.errno}"
        try:
            entry['fds'] = [os.readlink(f'/proc/{pid}/fd/{fd}') for fd in os.listdir(f'/proc/{pid}/fd')]
        except OSError as error:
            entry['fds'] = f"error {error.errno}"
        try:
            entry['cwd'] = os.readlink(f'/proc/{pid}/cwd')
        except OSError as error:
            entry['cwd'] = f"error {error.errno}"
        entries[pid] = entry
    return entries


def connect(family, address):
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(address)
        return 'connected'


def syscall(name, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    result = getattr(libc, name)(*args)
    if result == -1:
        raise OSError(ctypes.get_errno(), name)
    return result


def main():
    with open('/sandbox/targets.json') as file:
        targets = json.load(file)
    found['uid'] = [os.getuid(), os.getgid(), os.geteuid()]
    found['environment'] = dict(os.environ)
    found['files'] = walk('/')
    found['proc'] = proc_entries()
    found['own_fds'] = sorted(os.listdir('/proc/self/fd'))
    with open('/proc/self/status') as status:
        found['status'] = {key: value.strip() for key, value in
                           (line.split(':', 1) for line in status if ':' in line)
                           if key in ('Seccomp', 'NoNewPrivs', 'CapEff', 'CapBnd')}
    with open('/proc/net/dev') as interfaces:
        found['interfaces'] = [line.split(':')[0].strip() for line in interfaces.readlines()[2:]]
    for path in targets['secrets']:
        attempt(f"read {path}", lambda path=path: open(path, 'rb').read().decode(errors='replace'))
    for path in targets['writable']:
        attempt(f"write {path}", lambda path=path: open(path, 'w').write('x'))
    attempt('tcp to the server', lambda: connect(socket.AF_INET, ('127.0.0.1', targets['port'])))
    attempt('tcp6 to the server', lambda: connect(socket.AF_INET6, ('::1', targets['port'])))
    attempt('unix socket of postgres', lambda: connect(socket.AF_UNIX, targets['unix_socket']))
    attempt('socketpair (allowed)', lambda: len(socket.socketpair()))
    attempt('ptrace the reaper', lambda: syscall('ptrace', 16, 1, None, None))           # PTRACE_ATTACH
    attempt('unshare a user namespace', lambda: syscall('unshare', 0x10000000))
    attempt('mount a tmpfs', lambda: syscall('mount', b'none', b'/sandbox', b'tmpfs', 0, None))
    attempt('perf_event_open', lambda: syscall('syscall', 298, None, 0, -1, -1, 0))      # x86_64 number
    attempt('keyctl', lambda: syscall('syscall', 250, 0, 0, 0, 0, 0))
    attempt('bpf', lambda: syscall('syscall', 321, 0, None, 0))
    attempt('signal the grader', lambda: os.kill(targets['grader_pid'], signal.SIGKILL))
    attempt('signal the sleeper', lambda: os.kill(targets['sleeper_pid'], signal.SIGKILL))
    print(json.dumps(found))
    sys.stdout.flush()
    os.kill(-1, signal.SIGKILL)  # everything it can see, itself excepted: the grader's side must not notice


if __name__ == '__main__':
    main()
