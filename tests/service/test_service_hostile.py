"""Hostile uploads through the checker service: a student who wants the server.

A real ``./run.py serve`` (SQLite, then PostgreSQL), grading the way it does by default: a local Dask
cluster whose worker runs every section in a bubblewrap sandbox.  Another student uploads first;
then the attacker uploads twice, each section of an upload carrying its own payload, added to the
reference solution (a line in the section's region, plus module-level helpers):

* ``HIDDEN``: gets past the static rules (dynamic names only) *and* past the audit hook inside the
  sandbox: each probe runs inside the checker's own audit hook (a ``str`` subclass whose
  ``__hash__`` the hook calls while it ignores its thread), or switches the hook off (``gc`` finds
  the hook's closure); so only bubblewrap and seccomp stand between these probes and the server.
  Each probe knows exactly where the secrets are (the test writes the database path, the
  PostgreSQL socket, the ports and pids of the server, its Dask cluster and PostgreSQL into it,
  hex-encoded), counts what it reached ("hits") and carries them back: in an exception (relu,
  softmax, dense, sgd, momentum: a runtime error), in printed output before ``os._exit`` (dropout:
  crashed), in a file name that the audit hook's report repeats (pooling2d: a policy violation), in
  the shape of its output (flatten: always a wrong answer, of width 1000 + hits) and in the time it
  takes (crossentropy: passed in 2 s when it found nothing, 25 s more otherwise).  Should the audit
  hook one day stop these probes itself, a policy violation naming what it stopped passes too.
* ``OBVIOUS``: the same hunt the plain way (``import socket``, ``__builtins__['__import__']``,
  ``getattr(os, 'sy' + 's').modules``, a walk of numpy's modules to ``os``,
  ``().__class__.__base__.__subclasses__()``, ctypes, ``open``): some caught by the static rules
  too, all by the audit hook (a policy violation each).

Then: every probe found nothing; the attacker's reports (API and pages) hold none of the secrets;
every row of the database is as it was but the attacker's own (submissions, jobs, results, upload
attempts, login sessions); the attacker is still a student; the server, its Dask processes and
PostgreSQL are the same processes; no process of the sandbox's user (65534) is left of this
server's sandboxes, and none named like the process a probe forks; the canary and secret files and
the other student's upload are unchanged; listeners the test opened on loopback (TCP, an abstract
unix socket) were never reached.
"""
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url

from service.db import make_engine
from tests.support.service_support import KIT_ROOT, REFERENCE_SOURCE, Postgres, Server, import_roster

pytestmark = [pytest.mark.postgres, pytest.mark.service]  # markers: pyproject.toml

SECTIONS = ['relu', 'softmax', 'dense', 'flatten', 'dropout', 'crossentropy', 'pooling2d', 'sgd', 'momentum']
SANDBOX_UID = 65534
CANARY_VARIABLE = 'NN_KIT_CANARY'
WAIT_SECONDS = 240

# ----------------------------------------------------------------------------------------- the payloads
# Module-level helpers appended to the reference.  No import, no open(), no __import__, no sys, no
# __builtins__, no _getframe: nothing the static rules look for (grader/static_rules.py), only dynamic
# names (``getattr(os, 'sy' + 's')``).  __CONFIG__ becomes a dict of hex strings and numbers.
LIBRARY = r'''


# ---------------------------------------------------------------- helpers
_SYS = getattr(os, 'sy' + 's')
_B = _SYS.modules['built' + 'ins']
_imp = getattr(_B, '__imp' + 'ort__')
_opn = getattr(_B, 'op' + 'en')
_frame = getattr(_SYS, '_get' + 'frame')
_CFG = __CONFIG__
_DONE = {}


def _dx(text):
    return bytes.fromhex(text).decode()


def _cfg(key):
    value = _CFG[key]
    return [_dx(item) for item in value] if isinstance(value, list) else _dx(value)


_NEEDLES = _cfg('needles')
_HOST = list(_CFG['pids'])


class _Name(str):
    """A module name whose hash runs a job: the audit hook hashes the name of a module being
    imported (``name in BLOCKED_MODULES``) while it ignores its own thread."""
    job = None
    result = None

    def __hash__(self):
        caller = _frame(1)
        if _Name.job is not None and ('busy' in caller.f_locals or caller.f_code.co_name == 'hook'):
            job, _Name.job = _Name.job, None
            try:
                _Name.result = job()
            except BaseException as error:
                _Name.result = error
        return str.__hash__(self)

    __eq__ = str.__eq__


def _unchecked(job):
    _Name.job, _Name.result = job, None
    try:
        _imp(_Name('zz_unchecked_' + _dx(_CFG['tag'])))
    except ImportError:
        pass
    if _Name.job is not None:  # no hook to hide in: do it in the open
        _Name.job = None
        _Name.result = job()
    if isinstance(_Name.result, BaseException):
        raise _Name.result
    return _Name.result


def _read(path, size=1 << 16):
    with _opn(path, 'rb') as file:
        return file.read(size)


def _visible():
    return sorted(int(entry) for entry in os.listdir('/proc') if entry.isdigit())


class _Probe:
    def __init__(self, name):
        self.name, self.hits, self.errors, self.info = name, [], {}, {}

    def attempt(self, what, action, hit=lambda result: True):
        """action(); a hit (``what``) when it works and ``hit(result)``; else its error is counted."""
        try:
            result = action()
        except Exception as error:
            code = getattr(error, 'errno', None)
            key = type(error).__name__ + ('.' + _imp('errno').errorcode.get(code, str(code)) if code else '')
            self.errors[key] = self.errors.get(key, 0) + 1
            return None
        if hit(result):
            self.hits.append(what)
        return result

    def scan(self, where, data):
        if isinstance(data, str):
            data = data.encode(errors='replace')
        for needle in _NEEDLES:
            if needle.encode() in data:
                self.hits.append(needle + ' in ' + where)

    def message(self, limit=150):
        errors = sorted(self.errors.items(), key=lambda item: -item[1])[:5]
        info = ' '.join('%s=%s' % item for item in list(self.info.items()) + [('errors', dict(errors))])
        for char in "/:'\n":
            info = info.replace(char, '|')
        data = ','.join(self.hits).encode()[:limit // 2].hex()
        return 'PROBE:%s:found%d:%s:%s' % (self.name, len(self.hits), info[:limit], data)


def _probe(name, body, hide=True):
    """Run ``body`` once per process (a section is called for every case); its _Probe."""
    if name not in _DONE:
        probe = _Probe(name)
        try:
            if hide:
                _unchecked(lambda: body(probe))
            else:
                body(probe)
        except Exception as error:
            probe.info['aborted'] = type(error).__name__
        _DONE[name] = probe
    return _DONE[name]


# -- channels back to the student's report
def _raise(name, body, hide=True):
    raise RuntimeError(_probe(name, body, hide).message())


def _print_and_exit(name, body):
    print(_probe(name, body).message(80), flush=True)
    os._exit(3)


def _violation(name, body):
    _opn('..' + '/' + _probe(name, body).message(80))


def _shape(name, body, inputs):
    return np.zeros((inputs.shape[0], 1000 + len(_probe(name, body).hits)))


def _slow(name, body):
    if name not in _DONE:
        _imp('time').sleep(25 if _probe(name, body).hits else 2)


# -- probes
def _p_procfs(probe):
    """Every process it can see, and the server's by number: links, descriptors, environments."""
    seen = probe.attempt('list of /proc', _visible, hit=lambda result: False) or []
    probe.info['pids'] = seen
    for pid in seen + [pid for pid in _HOST if pid not in seen]:
        base, host = '/proc/%d/' % pid, pid not in seen
        for link in ('cwd', 'root', 'exe'):
            target = probe.attempt('%s of host pid %d' % (link, pid), lambda: os.readlink(base + link),
                                   hit=lambda result: host)
            if target:
                probe.scan(base + link, target)
        for fd in probe.attempt('fds of host pid %d' % pid, lambda: os.listdir(base + 'fd'),
                                hit=lambda result: host) or []:
            target = probe.attempt('fd of host pid %d' % pid, lambda: os.readlink(base + 'fd/' + fd),
                                   hit=lambda result: host)
            if target:
                probe.scan(base + 'fd', target)
                if target.endswith(('.sqlite3', '.sqlite3-wal', '.db', '.csv')):
                    probe.hits.append('open file ' + target)
        for name in ('environ', 'cmdline', 'status', 'maps', 'mountinfo', 'net/tcp', 'net/unix'):
            data = probe.attempt('%s of host pid %d' % (name, pid), lambda: _read(base + name, 1 << 20),
                                 hit=lambda result: host)
            if data:
                probe.scan(base + name, data)


def _suspicious(root, name):
    return (name.endswith(('.sqlite3', '.sqlite', '.sqlite3-wal', '.sqlite3-journal', '.session-secret',
                           '.instructor-token'))
            or (name.endswith('.db') and not root.startswith('/usr'))  # /usr/share/doc holds a few
            or name in ('login-links.csv', 'postmaster.pid', 'checker.sqlite3')
            or name.startswith(('nn-pg-', 'nn-job-', 'nn-grader-', 'nn-hostile-', 'pytest-of-', 'dask-scratch'))
            or _dx(_CFG['tag']) in name)


def _p_files(probe):
    """The secrets' own paths, the host's folders, the kit; then every name from / down."""
    for path in _cfg('paths') + _cfg('kit'):
        probe.attempt('stat ' + path, lambda: os.stat(path))
        probe.attempt('read ' + path, lambda: _read(path))
    runtime = _imp('sys')
    python = [_imp('os').path.realpath(prefix) for prefix in (runtime.prefix, runtime.base_prefix)]

    def beside_python(folder, names):
        # what a folder holds besides the way down to the Python installation (a venv under /tmp, say)
        return [name for name in names
                if not any(root.startswith(os.path.join(folder, name) + '/') for root in python)]

    for path in ('/tmp', '/var', '/home', '/run', '/srv', '/mnt', '/opt', '/media', '/var/lib/postgresql'):
        probe.attempt('list ' + path, lambda: os.listdir(path), hit=lambda names, path=path: beside_python(path, names))
    for path in ('/etc/passwd', '/etc/shadow', '/etc/hostname', '/root/.bash_history'):
        probe.attempt('read ' + path, lambda: _read(path))
    clock = _imp('time')
    deadline, count = clock.monotonic() + 15, 0
    for root, folders, files in os.walk('/'):
        if root == '/':
            folders[:] = [name for name in folders if name not in ('proc', 'sys')]
        for name in folders + files:
            count += 1
            if _suspicious(root, name):
                probe.hits.append('found ' + os.path.join(root, name))
        if clock.monotonic() > deadline:
            probe.info['walk'] = 'cut short'
            break
    probe.info['walked'] = count


def _pg_connect(probe, query):
    """PostgreSQL through its socket folder and on TCP, as its user and as postgres."""
    if not _CFG['pgport']:
        targets = [('127.0.0.1', 5432, 'postgres', 'postgres')]
    else:
        folder, user, database = _cfg('pg')
        targets = [(folder, _CFG['pgport'], user, database), ('127.0.0.1', _CFG['pgport'], user, database),
                   ('127.0.0.1', 5432, user, database)]
    for host, port, user, database in targets:
        def connect():
            psycopg = _imp('psycopg')
            with psycopg.connect(host=host, port=port, user=user, dbname=database, connect_timeout=2) as connection:
                return connection.execute(query).fetchall()
        probe.attempt('postgresql %s %d' % (host, port), connect)


def _p_net(probe):
    """Loopback TCP (the server, its Dask cluster, PostgreSQL, the test's listener), unix sockets."""
    socket = _imp('socket')
    for host, family in (('127.0.0.1', socket.AF_INET), ('::1', socket.AF_INET6)):
        for port in _CFG['ports']:
            def connect():
                with socket.socket(family, socket.SOCK_STREAM) as sock:
                    sock.settimeout(1.0)
                    sock.connect((host, port))
                    return True
            probe.attempt('tcp %s %d' % (host, port), connect)
    for path in _cfg('unix'):
        def connect_unix():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                sock.connect(path)
                return True
        probe.attempt('unix ' + path.replace('\0', '@'), connect_unix)
    for name in ('tcp', 'tcp6', 'udp', 'unix'):
        data = probe.attempt('/proc/net/' + name, lambda: _read('/proc/net/' + name, 1 << 20),
                             hit=lambda result: False) or b''
        probe.scan('/proc/net/' + name, data)
        for port in _CFG['ports']:
            if (':%04X ' % port).encode() in data:
                probe.hits.append('port %d listed in /proc/net/%s' % (port, name))
    _pg_connect(probe, 'select 1')


def _linger():
    """The child of a fork: a process of its own, meant to outlive the sandbox and kill the server."""
    try:
        os.setsid()
        _imp('ctypes').CDLL(None).prctl(15, _dx(_CFG['escapee']).encode(), 0, 0, 0)
        signal = _imp('signal')
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(number, signal.SIG_IGN)
        for _ in range(600):
            for pid in _HOST:
                try:
                    os.kill(pid, signal.SIGKILL)
                except Exception:
                    pass
            _imp('time').sleep(1)
    finally:
        os._exit(0)


def _p_signals(probe):
    """SIGKILL to every process it sees and to -1, signals and pidfds to the server's, then a fork that lingers."""
    signal = _imp('signal')
    seen = probe.attempt('list of /proc', _visible, hit=lambda result: False) or []
    probe.info['pids'] = seen
    for pid in seen:
        if pid != os.getpid():
            probe.attempt('kill', lambda: os.kill(pid, signal.SIGKILL), hit=lambda result: False)
    probe.attempt('kill -1', lambda: os.kill(-1, signal.SIGKILL), hit=lambda result: False)
    for pid in _HOST:
        if pid in seen:
            continue
        probe.attempt('signal 0 to host pid %d' % pid, lambda: os.kill(pid, 0))
        probe.attempt('pidfd of host pid %d' % pid, lambda: os.close(os.pidfd_open(pid)))
        probe.attempt('SIGKILL to host pid %d' % pid, lambda: os.kill(pid, signal.SIGKILL))
        probe.attempt('SIGKILL to host group %d' % pid, lambda: os.killpg(pid, signal.SIGKILL))
    child = probe.attempt('fork', os.fork, hit=lambda result: False)
    if child == 0:
        _linger()
    probe.info['forked'] = child


def _regions(maps, most=32):
    found = []
    for line in maps.decode(errors='replace').splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1].startswith('r'):
            start, end = (int(part, 16) for part in fields[0].split('-'))
            found.append((start, min(end, start + (1 << 20))))
    return found[:most]


def _p_memory(probe):
    """/proc/PID/mem of every process it sees and of the server's; process_vm_readv and ptrace."""
    seen = probe.attempt('list of /proc', _visible, hit=lambda result: False) or []
    others = [pid for pid in seen if pid != os.getpid()] + [pid for pid in _HOST if pid not in seen]
    first = {}
    for pid in others:
        host = pid not in seen
        maps = probe.attempt('maps of host pid %d' % pid, lambda: _read('/proc/%d/maps' % pid, 1 << 20),
                             hit=lambda result: host) or b''
        regions = _regions(maps)
        if regions:
            first[pid] = regions[0][0]

        def read_memory():
            chunks = []
            with _opn('/proc/%d/mem' % pid, 'rb', buffering=0) as memory:
                for start, end in regions:
                    try:
                        memory.seek(start)
                        chunks.append(memory.read(end - start))
                    except OSError:
                        pass
            return b''.join(chunks)
        data = probe.attempt('memory of host pid %d' % pid, read_memory, hit=lambda result: host and bool(result))
        if data:
            probe.info.setdefault('read', []).append(pid)
            probe.scan('memory of pid %d' % pid, data)
    ctypes = _imp('ctypes')
    libc = ctypes.CDLL(None, use_errno=True)

    class IOVec(ctypes.Structure):
        _fields_ = [('base', ctypes.c_void_p), ('length', ctypes.c_size_t)]
    buffer = ctypes.create_string_buffer(4096)
    for pid in others:
        local, remote = IOVec(ctypes.cast(buffer, ctypes.c_void_p), 4096), IOVec(first.get(pid, 0x400000), 4096)
        if libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) >= 0:
            probe.hits.append('process_vm_readv of pid %d' % pid)
        else:
            probe.errors['vm_readv.%d' % ctypes.get_errno()] = probe.errors.get('vm_readv.%d' % ctypes.get_errno(), 0) + 1
        if libc.ptrace(16, pid, 0, 0) == 0:  # PTRACE_ATTACH
            probe.hits.append('ptrace of pid %d' % pid)
            libc.ptrace(17, pid, 0, 0)
        else:
            probe.errors['ptrace.%d' % ctypes.get_errno()] = probe.errors.get('ptrace.%d' % ctypes.get_errno(), 0) + 1


def _p_environment(probe):
    """Its own environment, its parents' up the chain, the server's by number; the job folder's files."""
    for key, value in os.environ.items():
        probe.scan('own environment', key + '=' + value)
    chain, pid = [], os.getpid()
    while pid > 0 and pid not in chain:
        chain.append(pid)
        for name in ('environ', 'cmdline'):
            probe.scan('%s of %d' % (name, pid), probe.attempt(name, lambda: _read('/proc/%d/%s' % (pid, name)),
                                                              hit=lambda result: False) or b'')
        status = probe.attempt('status', lambda: _read('/proc/%d/status' % pid), hit=lambda result: False) or b''
        parents = [line.split()[1] for line in status.decode().splitlines() if line.startswith('PPid:')]
        pid = int(parents[0]) if parents else 0
    probe.info['chain'] = chain
    for pid in _HOST + list(_CFG['runner']):
        if pid not in chain:
            for name in ('environ', 'cmdline'):
                probe.attempt('%s of host pid %d' % (name, pid), lambda: _read('/proc/%d/%s' % (pid, name)))
    for name in probe.attempt('the job folder', lambda: os.listdir('/sandbox'), hit=lambda result: False) or []:
        if name != 'solution.py':
            probe.scan('/sandbox/' + name, probe.attempt('read', lambda: _read('/sandbox/' + name, 1 << 24),
                                                         hit=lambda result: False) or b'')


def _p_database(probe):
    """The database itself (SQLite read-only, PostgreSQL), the other student's upload on disk and in folders."""
    sqlite3 = _imp('sqlite3')
    for path in _cfg('sqlite'):
        def query():
            connection = sqlite3.connect('file:%s?mode=ro' % path, uri=True, timeout=1)
            try:
                return connection.execute('select filename, content from submissions').fetchall()
            finally:
                connection.close()
        probe.attempt('sqlite ' + path, query)
    _pg_connect(probe, 'select filename, content from submissions')
    victim = _dx(_CFG['victim'])
    for path in _cfg('paths'):
        if victim in path:
            probe.attempt('stat ' + path, lambda: os.stat(path))
    for pid in probe.attempt('list of /proc', _visible, hit=lambda result: False) or []:
        for name in probe.attempt('cwd', lambda: os.listdir('/proc/%d/cwd' % pid), hit=lambda result: False) or []:
            if victim in name or name.endswith('.sqlite3'):
                probe.hits.append('found %s in the cwd of %d' % (name, pid))
    for folder in ('/tmp', '/var/tmp', '/dev/shm', '/sandbox'):
        for name in probe.attempt('list ' + folder, lambda: os.listdir(folder), hit=lambda result: False) or []:
            if victim in name or name.startswith(('nn-job-', 'nn-grade-')):
                probe.hits.append('found %s in %s' % (name, folder))


def _p_tamper(probe):
    """Change the secrets' files, the database and the other student's upload; make itself instructor."""
    for path in _cfg('paths'):
        probe.attempt('open for writing ' + path, lambda: os.close(os.open(path, os.O_WRONLY | os.O_APPEND)))
        probe.attempt('truncate ' + path, lambda: os.truncate(path, 0))
        probe.attempt('chmod ' + path, lambda: os.chmod(path, 0o666))
        probe.attempt('rename ' + path, lambda: os.rename(path, path + '.gone'))
        probe.attempt('remove ' + path, lambda: os.remove(path))
    promote = "update people set role = 'instructor' where student_id = '%s'" % _dx(_CFG['attacker'])
    sqlite3 = _imp('sqlite3')
    for path in _cfg('sqlite'):
        def write():
            connection = sqlite3.connect('file:%s?mode=rw' % path, uri=True, timeout=1)
            try:
                connection.execute(promote)
                connection.commit()
            finally:
                connection.close()
        probe.attempt('sqlite write ' + path, write)
    _pg_connect(probe, promote + ' returning id')


class _Always(set):
    def __contains__(self, item):
        return True


def _p_hook_off(probe):
    """No hiding: switch the audit hook off for good (gc finds its closure, whose ``busy`` set now
    holds every thread), then the quick tour: parent's environment, the server's port, the database."""
    gc = _imp('gc')
    off = 0
    for thing in gc.get_objects():
        if type(thing).__name__ == 'function' and thing.__code__.co_name == 'hook' and thing.__closure__:
            for cell in thing.__closure__:
                try:
                    if isinstance(cell.cell_contents, set):
                        cell.cell_contents = _Always()
                        off += 1
                except ValueError:
                    pass
    probe.info['hooks_off'] = off
    probe.scan('environ of 1', probe.attempt('environ of 1', lambda: _read('/proc/1/environ'),
                                             hit=lambda result: False) or b'')
    socket = _imp('socket')
    for port in _CFG['ports']:
        probe.attempt('tcp %d' % port, lambda: socket.create_connection(('127.0.0.1', port), timeout=1).close())
    for path in _cfg('paths'):
        probe.attempt('read ' + path, lambda: _read(path))
    for pid in _HOST:
        probe.attempt('signal 0 to host pid %d' % pid, lambda: os.kill(pid, 0))
    sqlite3 = _imp('sqlite3')
    for path in _cfg('sqlite'):
        probe.attempt('sqlite ' + path, lambda: sqlite3.connect('file:%s?mode=ro' % path, uri=True)
                      .execute('select * from settings').fetchall())


def _find_module(attribute):
    """A module holding ``attribute``, reached from numpy through module attributes only."""
    seen, queue = set(), [np]
    while queue:
        module = queue.pop(0)
        if id(module) in seen:
            continue
        seen.add(id(module))
        if hasattr(module, attribute):
            return module
        queue += [value for value in vars(module).values() if type(value) is type(np)]
    return None
'''

# section -> lines added at the start of each of its regions
HIDDEN = {
    'relu': ["_raise('relu', _p_procfs)"],
    'dense': ["_raise('dense', _p_files)"],
    'softmax': ["_raise('softmax', _p_net)"],
    'sgd': ["_raise('sgd', _p_environment)"],
    'momentum': ["_raise('momentum', _p_hook_off, hide=False)"],
    'dropout': ["_print_and_exit('dropout', _p_signals)"],
    'flatten': ["return _shape('flatten', _p_memory, inputs) if 'inputs' in dir() else grad_outputs * 0"],
    'crossentropy': ["_slow('crossentropy', _p_database)"],
    'pooling2d': ["_violation('pooling2d', _p_tamper)"],
}
OBVIOUS = {
    'relu': ["import socket",
             "socket.create_connection(('127.0.0.1', _CFG['ports'][0]), timeout=1).sendall(b'GET /api/queue')",
             "raise RuntimeError('PROBE:relu:found1:connected:')"],
    'softmax': ["_connection = __builtins__['__import__']('sq' + 'lite3').connect(_dx(_CFG['dbfile']), timeout=1)",
                "raise RuntimeError('PROBE:softmax:found%d::' % len(_connection.execute('select * from people')"
                ".fetchall()))"],
    'dense': ["_data = getattr(os, 'sy' + 's').modules['built' + 'ins'].open('/proc/1/environ', 'rb').read()",
              "raise RuntimeError('PROBE:dense:found%d::' % len(_data))"],
    'flatten': ["_find_module('getppid').kill(-1, 9)",
                "raise RuntimeError('PROBE:flatten:found1:signalled:')"],
    'dropout': ["_wrap = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]",
                "_wrap.__init__.__globals__['system']('kill -9 -1')",
                "raise RuntimeError('PROBE:dropout:found1:ran a shell:')"],
    'crossentropy': ["__builtins__['__import__']('ct' + 'ypes').CDLL(None).kill(-1, 9)",
                     "raise RuntimeError('PROBE:crossentropy:found1:native code:')"],
    'pooling2d': ["_data = np.fromfile('/proc/1/cmdline', dtype=np.uint8)",
                  "raise RuntimeError('PROBE:pooling2d:found%d::' % _data.size)"],
    'sgd': ["_links = [os.readlink('/proc/1/fd/' + fd) for fd in os.listdir('/proc/1/fd')]",
            "raise RuntimeError('PROBE:sgd:found%d::' % len(_links))"],
    'momentum': ["_data = open('/proc/1/environ').read()",
                 "raise RuntimeError('PROBE:momentum:found1::')"],
}
FIRST_REGION_ONLY = {'flatten'}
# what stops each obvious payload: a phrase of the audit hook's reason (every one of them runs: the
# static rules' findings do not keep a section from running) ...
OBVIOUS_STOPPED_BY = {
    'relu': 'importing socket', 'softmax': 'opening a database', 'dense': 'reading outside the sandbox',
    'flatten': 'sending signals', 'dropout': 'starting processes', 'crossentropy': 'native code',
    'pooling2d': 'reading outside the sandbox', 'sgd': 'reading outside the sandbox',
    'momentum': 'reading outside the sandbox',
}
# ... and of the static rules' findings, for those written plainly (the others use dynamic names only)
OBVIOUS_STATIC = {'relu': "import of 'socket' is not allowed", 'softmax': '`__builtins__` is not allowed',
                  'dropout': '`__subclasses__` is not allowed', 'crossentropy': '`__import__` is not allowed',
                  'momentum': 'open() is not allowed'}
# the verdict each channel gives when its probe found nothing (exception: runtime error)
CHANNEL_VERDICT = {'dropout': 'crashed', 'pooling2d': 'policy violation'}
# the audit hook's reasons (grader/harness.py): a probe it stopped before the probe could report
HOOK_STOPS = ('outside the sandbox', 'network access', 'sending signals', 'starting processes', 'native code',
              'opening a database', 'importing ', 'tampering with the checker', 'a forbidden operation')
PROBE = re.compile(r"PROBE:(?P<name>\w+):found(?P<count>\d+):(?P<info>[^:'\n]*):(?P<data>[0-9a-f]*)")


def hexed(value):
    return value.encode().hex()


def with_payloads(payloads, config):
    """The reference with ``payloads`` ({section: lines}) at the start of every region of each section."""
    out, done = [], set()
    for line in REFERENCE_SOURCE.splitlines():
        out.append(line)
        match = re.match(r'(\s*)# BEGIN SOLUTION (\w+)$', line)
        section = match.group(2) if match else None
        if section in payloads and not (section in FIRST_REGION_ONLY and section in done):
            out += [match.group(1) + code for code in payloads[section]]
            done.add(section)
    return '\n'.join(out) + '\n' + LIBRARY.replace('__CONFIG__', repr(config))


def decode_probe(reason):
    """(count, what it found, info) from a PROBE message in a reason, or None."""
    match = PROBE.search(reason)
    if match is None:
        return None
    found = bytes.fromhex(match['data']).decode(errors='replace') if match['data'] else ''
    return int(match['count']), found, match['info']


# ----------------------------------------------------------------------------------------- the machine
def tree(pid):
    """{(pid, start time)} of a process and all its descendants."""
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return {(p.pid, p.create_time()) for p in [root] + root.children(recursive=True)}
    return set()


def listening_ports(pids):
    ports = set()
    for pid, _ in pids:
        with contextlib.suppress(psutil.Error):
            for connection in psutil.Process(pid).net_connections(kind='inet'):
                if connection.status == psutil.CONN_LISTEN:
                    ports.add(connection.laddr.port)
    return ports


def sandbox_user_processes():
    """{(pid, start time): description} of every process of uid 65534 on this machine; the description
    holds its mounts, which name the job folder (under the server's TMPDIR) of a sandboxed one."""
    found = {}
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if SANDBOX_UID in process.uids():
                mounts = ''
                with contextlib.suppress(OSError):
                    mounts = Path(f'/proc/{process.pid}/mountinfo').read_text()
                found[(process.pid, process.create_time())] = \
                    f"{process.name()} {' '.join(process.cmdline())}\n{mounts}"
    return found


def postgres_tree(pg):
    if pg is None:
        return set()
    return tree(int((pg.data / 'postmaster.pid').read_text().split()[0]))


def snapshot(engine):
    """{table: sorted rows} of every table (the workers' heartbeat columns left out)."""
    metadata = MetaData()
    metadata.reflect(engine)
    tables = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = [dict(row._mapping) for row in connection.execute(select(table))]
            if table.name == 'workers':
                rows = [{k: v for k, v in row.items() if k not in ('last_seen', 'in_flight')} for row in rows]
            tables[table.name] = sorted(rows, key=repr)
    return tables


def without_rows_of(tables, person_id):
    """``tables`` less the rows of one person: theirs (``person_id``: submissions, upload attempts, login
    sessions) and their submissions' (``submission_id``: jobs, results)."""
    mine = {row['id'] for row in tables['submissions'] if row['person_id'] == person_id}
    return {table: [row for row in rows if row.get('person_id') != person_id and row.get('submission_id') not in mine]
            for table, rows in tables.items()}


def instructor_token(log):
    """The instructor's first token: printed once (older servers) or kept in a file whose path is printed."""
    printed = re.search(r'Instructor token \(shown once; keep it\): (\S+)', log)
    if printed:
        return printed.group(1)
    return Path(re.search(r'Instructor token written to (\S+)', log).group(1)).read_text().split()[0]


def wait_done(url, token, submission_id):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        report = httpx.get(f"{url}/api/submissions/{submission_id}", headers=bearer(token), timeout=30).json()
        if report['state'] == 'done':
            return report
        time.sleep(0.5)
    raise AssertionError(f"submission {submission_id} was not graded within {WAIT_SECONDS} s: {report}")


def bearer(token):
    return {'Authorization': f'Bearer {token}'}


def upload(url, token, name, source):
    response = httpx.post(f"{url}/api/submissions", headers=bearer(token), files={'file': (name, source.encode())},
                          timeout=30)
    assert response.status_code == 201, response.text
    return response.json()['id']


def signed_in(url, token):
    """An httpx client with the cookie session a browser gets from the login page."""
    client = httpx.Client(base_url=url, timeout=30)
    page = client.get('/login')
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post('/login', data={'token': token, 'csrf_token': csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


# ----------------------------------------------------------------------------------------- the attack
@pytest.fixture(scope='module', params=['sqlite', 'postgresql'])
def attack(request, tmp_path_factory):
    """Start a server on the backend, let a student upload, snapshot, attack; what came of it."""
    folder = tmp_path_factory.mktemp(f'hostile-{request.param}')
    tag = secrets.token_hex(5)
    pg = Postgres() if request.param == 'postgresql' else None
    if pg is None:
        db_file = folder / f'checker-{tag}.sqlite3'
        db_url = f"sqlite:///{db_file}"
    else:
        db_url = pg.new_database()
        db_file = pg.socket_dir / f'.s.PGSQL.{pg.port}'
    # the server's temporary files (the job folders) in a folder of its own: its processes are ours
    server_tmp = tempfile.mkdtemp(prefix='nn-hostile-')
    os.chmod(server_tmp, 0o711)
    tcp_listener = socket.create_server(('127.0.0.1', 0))
    tcp_listener.setblocking(False)
    abstract_name = f'\0nn-hostile-{tag}'
    unix_listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_listener.bind(abstract_name)
    unix_listener.listen()
    unix_listener.setblocking(False)
    server = None
    try:
        tokens = import_roster(db_url, folder, 3)
        shutil.move(folder / 's-links.csv', folder / 'login-links.csv')
        attacker, victim = tokens['s000'], tokens['s001']
        files = {'secret': folder / f'secret-{tag}.txt', 'canary': folder / f'canary-{tag}.txt',
                 'victim': folder / f'victim-{tag}.py', 'links': folder / 'login-links.csv'}
        files['secret'].write_text(secrets.token_urlsafe(24))
        files['canary'].write_text(secrets.token_urlsafe(24))
        victim_marker = f'victim marker {secrets.token_hex(8)}'
        victim_source = REFERENCE_SOURCE + f'\n# {victim_marker}\n'
        files['victim'].write_text(victim_source)
        canary_value = secrets.token_urlsafe(24)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(CANARY_VARIABLE, canary_value)
            patch.setenv('TMPDIR', server_tmp)
            patch.setenv('XDG_STATE_HOME', str(folder))  # its secret files, for a database that is not a file
            # never without the sandbox: a probe sends SIGKILL to -1, which as root would be every process here
            patch.delenv('NN_KIT_UNSAFE_NO_SANDBOX', raising=False)
            server = Server(db_url, folder, '--scheduler', 'local', '--workers', '1', '--sections', *SECTIONS,
                            '--rate', '0', '--per-hour', '0')
        instructor = instructor_token(server.log.read_text())
        # the server's own secret files (its session key, the instructor's first token), where it keeps them
        files.update({path.name: path for pattern in ('*.session-secret', '*.instructor-token')
                      for path in folder.rglob(pattern)})

        victim_id = upload(server.url, victim, files['victim'].name, victim_source)
        victim_report = wait_done(server.url, victim, victim_id)
        assert {row['verdict'] for row in victim_report['sections']} == {'passed'}, victim_report

        engine = make_engine(db_url)
        with engine.connect() as connection:
            attacker_id = connection.execute(text("select id from people where student_id = 's000'")).scalar()
            session_secret = connection.execute(text("select value from settings where key = 'session_secret'")).scalar()
        for path in folder.rglob('*.session-secret'):
            session_secret = path.read_text().strip()
        before = snapshot(engine)
        served = tree(server.process.pid)
        postgres = postgres_tree(pg)
        nobody_before = sandbox_user_processes()
        contents = {name: path.read_bytes() for name, path in files.items()}
        host_pids = sorted({pid for pid, _ in served | postgres})
        ports = sorted(listening_ports(served) | {5432, tcp_listener.getsockname()[1]} | ({pg.port} if pg else set()))
        escapee = f'nnk{tag[:8]}'
        secret_paths = [str(db_file), str(folder)] + [str(path) for path in files.values()]
        config = {
            'tag': hexed(tag), 'victim': hexed(files['victim'].name), 'attacker': hexed('s000'),
            'escapee': hexed(escapee), 'dbfile': hexed(str(db_file)),
            'paths': [hexed(path) for path in secret_paths],
            'kit': [hexed(str(KIT_ROOT / name)) for name in ('run.py', 'solution.py', 'service/db.py')],
            'sqlite': [hexed(str(db_file))] if pg is None else [],
            'pg': [hexed(str(pg.socket_dir)), hexed(pg.user), hexed(make_url(db_url).database)]
            if pg else [],
            'pgport': pg.port if pg else 0,
            'unix': [hexed(abstract_name)] + ([hexed(str(db_file))] if pg else []),
            'needles': [hexed(needle) for needle in
                        [tag, CANARY_VARIABLE, victim_marker, 'sqlite:///', 'postgresql+psycopg', 'run.py\0serve',
                         'PYTHONUNBUFFERED', 'PYTEST_CURRENT_TEST', 'NN_KIT_DATA_DIR', 'login-links']
                        + ([pg.root.name] if pg else [])],
            'pids': host_pids, 'runner': [os.getpid()], 'ports': ports,
        }
        started = time.monotonic()
        reports = {}
        for name, payloads in (('hidden', HIDDEN), ('obvious', OBVIOUS)):
            source = with_payloads(payloads, config)
            submission_id = upload(server.url, attacker, f'{name}.py', source)
            reports[name] = wait_done(server.url, attacker, submission_id)
            reports[name]['id'] = submission_id
        graded_in = time.monotonic() - started

        # what the attacker sees: the API's JSON (each report, the list) and the pages
        seen = [json.dumps(httpx.get(f"{server.url}/api/submissions", headers=bearer(attacker), timeout=30).json())]
        session = signed_in(server.url, attacker)
        privileges = {'me': httpx.get(f"{server.url}/api/me", headers=bearer(attacker), timeout=30).json(),
                      'api queue': httpx.get(f"{server.url}/api/queue", headers=bearer(attacker), timeout=30).status_code,
                      'api regrade': httpx.post(f"{server.url}/api/submissions/{victim_id}/regrade",
                                                headers=bearer(attacker), timeout=30).status_code,
                      'victim report': httpx.get(f"{server.url}/api/submissions/{victim_id}", headers=bearer(attacker),
                                                 timeout=30).status_code}
        for report in reports.values():
            seen.append(httpx.get(f"{server.url}/api/submissions/{report['id']}", headers=bearer(attacker),
                                  timeout=30).text)
            seen.append(session.get(f"/submissions/{report['id']}").text)
            seen.append(session.get(f"/submissions/{report['id']}/status").text)
        seen.append(session.get('/').text)
        for path in ('/instructor', '/instructor/queue', '/instructor/gradebook.csv', f'/instructor/submissions/{victim_id}',
                     f'/instructor/submissions/{victim_id}/file', '/instructor/students/s001'):
            privileges[path] = session.get(path, follow_redirects=False).status_code
        session.close()

        # what became of the machine: give finished children a moment to be reaped
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = {key: value for key, value in sandbox_user_processes().items()
                    if key not in nobody_before and key not in postgres_tree(pg)}
            if not left and tree(server.process.pid) <= served:
                break
            time.sleep(0.5)
        accepted = []
        for listener in (tcp_listener, unix_listener):
            with contextlib.suppress(BlockingIOError):
                accepted.append(listener.accept())
        yield {
            'backend': request.param, 'reports': reports, 'seen': seen, 'privileges': privileges,
            'graded_in': graded_in, 'before': before, 'after': snapshot(engine), 'attacker_id': attacker_id,
            'files': files, 'contents': contents, 'after_contents': {name: path.read_bytes() if path.exists() else None
                                                                     for name, path in files.items()},
            'secrets': {'database url': db_url, 'database path': str(db_file), 'folder': str(folder),
                        'session secret': session_secret, 'instructor token': instructor,
                        'instructor secret': instructor.split('.', 1)[1], 'victim token': victim.split('.', 1)[1],
                        'victim marker': victim_marker, 'victim file': files['victim'].name,
                        'canary value': canary_value, 'secret file': contents['secret'].decode(),
                        'canary file': contents['canary'].decode(), 'server tmp': server_tmp,
                        **({'postgres folder': str(pg.socket_dir)} if pg else {})},
            'served': served, 'served_after': tree(server.process.pid), 'postgres': postgres,
            'postgres_after': postgres_tree(pg), 'nobody_before': nobody_before,
            'nobody_after': sandbox_user_processes(), 'escapee': escapee, 'server_tmp': server_tmp,
            'server': server, 'accepted': accepted,
            'healthz': httpx.get(f"{server.url}/healthz", timeout=10).status_code,
        }
        engine.dispose()
    finally:
        if server is not None:
            server.stop()
        if pg is not None:
            pg.stop()
        tcp_listener.close()
        unix_listener.close()
        shutil.rmtree(server_tmp, ignore_errors=True)


def section_rows(report):
    return {row['name']: row for row in report['sections']}


# ----------------------------------------------------------------------------------------- the verdicts
def test_every_hidden_probe_found_nothing(attack):
    """Past the static rules and (while the hook can be hidden in or switched off) the audit hook: only
    bubblewrap and seccomp were left, and they held.  Each probe carried back that it found nothing; a
    probe the audit hook stopped after all (a hardened hook) is a policy violation naming what it stopped."""
    rows = section_rows(attack['reports']['hidden'])
    problems = []
    for name in SECTIONS:
        row = rows[name]
        verdict, reason = row['verdict'], row['reason']
        probe = decode_probe(reason)
        if 'is not allowed' in reason:  # the static rules saw it: it was meant to get past them
            problems.append(f"{name}: the static rules caught it: {reason}")
        if probe is not None and probe[0] != 0:
            problems.append(f"{name}: the probe found {probe[0]}: {probe[1]} ({probe[2]})")
        elif probe is not None and 'aborted' in probe[2]:
            problems.append(f"{name}: the probe stopped early: {probe[2]}")
        elif verdict == 'policy violation' and probe is None and any(stop in reason for stop in HOOK_STOPS):
            pass  # the audit hook stopped the probe itself: nothing left the sandbox either
        elif name == 'crossentropy':  # the time channel: 2 s when nothing was found, 25 s otherwise
            if verdict != 'passed' or not 2 <= row['seconds'] < 20:
                problems.append(f"{name}: {verdict} in {row['seconds']:.1f} s: {reason}")
        elif name == 'flatten':  # the shape channel: (n, 1000 + hits)
            widths = {int(width) for width in re.findall(r'\(\d+, (1\d\d\d)\)', reason)}
            if verdict != 'wrong answer' or widths != {1000}:
                problems.append(f"{name}: {verdict}, output widths {widths}: {reason}")
        elif verdict != CHANNEL_VERDICT.get(name, 'runtime error'):
            problems.append(f"{name}: {verdict} (expected {CHANNEL_VERDICT.get(name, 'runtime error')}): {reason}")
        elif probe is None:
            problems.append(f"{name}: no probe report in {reason!r}")
    assert not problems, '\n'.join(problems)


def test_the_obvious_ways_are_stopped(attack):
    """Literal imports, open(), dynamic imports, attribute walks to os, ctypes: a policy violation each."""
    rows = section_rows(attack['reports']['obvious'])
    problems = []
    for name in SECTIONS:
        row = rows[name]
        probe = decode_probe(row['reason'])
        if row['verdict'] != 'policy violation' or OBVIOUS_STOPPED_BY[name] not in row['reason'] \
                or OBVIOUS_STATIC.get(name, OBVIOUS_STOPPED_BY[name]) not in row['reason'] \
                or (probe is not None and probe[0] != 0):
            problems.append(f"{name}: {row['verdict']}: {row['reason']}")
    assert not problems, '\n'.join(problems)


def test_no_payload_passed_by_finding_something(attack):
    for report in attack['reports'].values():
        for row in report['sections']:
            assert row['verdict'] != 'passed' or row['name'] == 'crossentropy', row
            probe = decode_probe(row['reason'])
            assert probe is None or probe[0] == 0, row


# ----------------------------------------------------------------------------------------- what leaked
def test_the_attackers_reports_hold_no_secret(attack):
    seen = '\n'.join(attack['seen'])
    for what, value in attack['secrets'].items():
        assert value and len(value) >= 8, what
        for form in (value, value.encode().hex()):
            assert form not in seen, f"the attacker's pages show the {what}"
    assert attack['secrets']['canary value'] not in seen


def test_every_row_but_the_attackers_own_is_unchanged(attack):
    before, after = attack['before'], attack['after']
    assert set(before) == set(after)
    kept = without_rows_of(after, attack['attacker_id'])
    for table in before:
        assert kept[table] == before[table], f"table {table} changed"
    mine = [row for row in after['submissions'] if row['person_id'] == attack['attacker_id']]
    assert len(mine) == 2


def test_the_attacker_is_still_a_student(attack):
    privileges = attack['privileges']
    assert privileges['me']['role'] == 'student'
    assert privileges['api queue'] in (401, 403) and privileges['api regrade'] in (401, 403)
    assert privileges['victim report'] == 404
    for path, status in privileges.items():
        if path.startswith('/instructor'):
            assert status in (401, 403), (path, status)
    person = [row for row in attack['after']['people'] if row['id'] == attack['attacker_id']]
    assert person[0]['role'] == 'student'


def test_files_and_the_other_students_upload_are_unchanged(attack):
    assert attack['after_contents'] == attack['contents']
    victim = [row for row in attack['after']['submissions'] if row['person_id'] != attack['attacker_id']]
    assert len(victim) == 1 and victim[0]['content'] == attack['contents']['victim']


def test_nothing_reached_the_test_listeners(attack):
    assert not attack['accepted']


# ----------------------------------------------------------------------------------------- the machine
def test_the_server_and_its_processes_survive(attack):
    assert attack['healthz'] == 200 and attack['server'].process.poll() is None
    # the same Dask nanny and worker, nothing more (the sandboxes are gone)
    assert attack['served_after'] <= attack['served'], attack['served_after'] - attack['served']
    assert attack['served_after'] >= {key for key in attack['served'] if key[0] == attack['server'].process.pid}
    assert len(attack['served_after']) == len(attack['served'])
    if attack['backend'] == 'postgresql':
        postmaster = min(attack['postgres'], key=lambda key: key[1])
        assert postmaster in attack['postgres_after']


def test_no_process_of_the_sandbox_user_is_left(attack):
    new = {key: description for key, description in attack['nobody_after'].items()
           if key not in attack['nobody_before'] and key not in attack['postgres_after']}
    ours = {key: description for key, description in new.items()
            if os.path.basename(attack['server_tmp']) in description or attack['escapee'] in description}
    assert not ours, ours
    # a process the payload forked under its own name, anywhere on this machine
    escaped = [p.pid for p in psutil.process_iter(['name']) if p.info['name'] == attack['escapee']]
    assert not escaped
