"""The seccomp filter of every sandboxed child: system calls no assignment needs answer EPERM.

Built once per grader process with libseccomp (through ``pyseccomp``) and handed to bubblewrap
as a compiled BPF program (``bwrap --seccomp FD``), so it is in force from the first instruction
of the child's interpreter.  Everything not listed is allowed: numpy and torch need threads,
memory mappings and files, and the other layers (namespaces, the allow-list of files, rlimits)
bound what those reach.  ``bwrap`` also sets ``no_new_privs``, which an unprivileged filter needs.
"""
import errno
import functools
import socket
import tempfile

# Each of these reaches another process, the kernel's configuration or a way around the other
# layers: reading another process's memory, new namespaces or mounts, kernel keyrings and BPF,
# performance counters (side channels), page-fault handlers (race exploits), io_uring (system
# calls that seccomp cannot see), loading kernel code.
DENIED = (
    'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd',
    'mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'chroot', 'mount_setattr', 'move_mount', 'open_tree',
    'fsopen', 'fsconfig', 'fsmount', 'fspick', 'open_by_handle_at', 'name_to_handle_at',
    'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'personality', 'userfaultfd',
    'io_uring_setup', 'io_uring_enter', 'io_uring_register',
    'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot', 'swapon', 'swapoff',
    'acct', 'quotactl', 'syslog', 'iopl', 'ioperm', 'lookup_dcookie', 'fanotify_init',
)
# clone() with any of these flags would make namespaces of the child's own (unshare by the back door).
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
                         0x00000080)  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME


class SeccompUnavailable(RuntimeError):
    """libseccomp (or pyseccomp) is missing on this machine."""


@functools.lru_cache(maxsize=None)
def compiled_filter():
    """The filter as a BPF program (bytes) for this machine's architecture."""
    try:
        import pyseccomp as seccomp
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    except Exception as error:  # ImportError, or libseccomp.so.2 not found by ctypes
        raise SeccompUnavailable(f"no seccomp filter: {error} (pip install pyseccomp; apt-get install libseccomp2)")
    denied = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            rules.add_rule(denied, name)
        except Exception:  # a system call this architecture does not have (iopl on arm64, ...)
            pass
    for flag in CLONE_NAMESPACE_FLAGS:
        rules.add_rule(denied, 'clone', seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes libc fall back to clone
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), 'clone3')
    # sockets: only AF_UNIX pairs (multiprocessing locks, torch); no network family at all
    rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), 'socket', seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    with tempfile.TemporaryFile() as file:
        rules.export_bpf(file)
        file.seek(0)
        return file.read()
