"""The sandbox's outer layers (bubblewrap, seccomp, the cleared environment) hold on their own.

``tests/support/sandbox_probe.py`` runs as a plain script under the same launch as a graded child, with no
audit hook, and reports what it could see and do; the grader's secrets, processes, sockets and
files must all be out of its reach.
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import bubblewrap
from grader.infrastructure import InfrastructureError
from grader.limits import LIMITS
from grader.sandbox import child_environment, launch, prepare_sandbox, probe_sandbox, refusal, run_child
from tests.conftest import DATA_DIR, KIT_ROOT

pytestmark = pytest.mark.postgres  # markers: pyproject.toml

PROBE = Path(__file__).resolve().parent.parent / 'support' / 'sandbox_probe.py'
CANARY = 'canary-4f1d9b'


@pytest.fixture(scope='module')
def probe(tmp_path_factory):
    """Run the probe once, with a server, a unix socket, a secret file, a database and a canary
    variable in the grader's reach; returns (what it found, the targets)."""
    secrets = tmp_path_factory.mktemp('server-state')
    (secrets / 'session-secret').write_text(CANARY)
    (secrets / 'checker.sqlite3').write_text(CANARY)
    os.chmod(secrets, 0o755)
    server = socket.create_server(('127.0.0.1', 0))
    unix_path = str(secrets / '.s.PGSQL.5432')
    unix_server = socket.socket(socket.AF_UNIX)
    unix_server.bind(unix_path)
    unix_server.listen()
    sleeper = subprocess.Popen(['sleep', '60'])
    targets = {'port': server.getsockname()[1], 'unix_socket': unix_path, 'grader_pid': os.getpid(),
               'sleeper_pid': sleeper.pid,
               'secrets': [str(secrets / 'session-secret'), str(KIT_ROOT / 'solution.py'), '/etc/shadow',
                           str((DATA_DIR / 'mnist' / 't10k-labels-idx1-ubyte.gz').resolve()), f'/proc/{os.getpid()}/environ'],
               'writable': [str(Path(sys.prefix) / 'pwned'), os.path.join(os.path.dirname(os.__file__), 'pwned.py'),
                            '/usr/pwned', '/sandbox/kit_probe_note']}
    os.environ['NN_KIT_CANARY'] = CANARY
    try:
        (secrets / 'targets.json').write_text(json.dumps(targets))
        layout = prepare_sandbox(b'', {'scenarios': []}, {},
                                 kit_files={'probe.py': PROBE, 'targets.json': secrets / 'targets.json'})
        limits = LIMITS['import']
        child, isolation = launch(layout, limits, [sys.executable, '-I', '/sandbox/probe.py'],
                                  child_environment(limits, bubblewrap.SANDBOX_DIR))
        output, _ = child.communicate(timeout=120)
        note_written = os.path.exists(os.path.join(layout.work, 'kit_probe_note'))
    finally:
        del os.environ['NN_KIT_CANARY']
        server.close()
        unix_server.close()
    time.sleep(0.2)
    sleeper_alive = sleeper.poll() is None
    sleeper.kill()
    text = output.decode(errors='replace')
    found = json.loads(text[text.index('{'):text.rindex('}') + 1])
    return found, targets, {'isolation': isolation, 'note_written': note_written, 'sleeper_alive': sleeper_alive,
                            'canary_anywhere': CANARY in text}


def test_the_child_is_an_unprivileged_user_with_seccomp(probe):
    found, _, _ = probe
    assert found['uid'] == [65534, 65534, 65534]
    assert found['status']['Seccomp'] == '2' and found['status']['NoNewPrivs'] == '1'
    assert int(found['status']['CapEff'], 16) == 0


def test_the_child_sees_its_own_processes_only(probe):
    found, _, outcome = probe
    # the probe itself, as its PID namespace's process 1: no grader, no server, no database
    assert list(found['proc']) == ['1'], found['proc'].keys()
    for pid, entry in found['proc'].items():
        assert 'pytest' not in entry['cmdline'] and 'postgres' not in entry['cmdline']
        assert 'nn-grade-' not in entry['cmdline'], entry['cmdline']  # bwrap's options (host paths) came by a pipe
        fds = entry['fds'] if isinstance(entry['fds'], list) else []
        assert not any('sqlite3' in target or 'server-state' in target for target in fds), fds
    assert found['own_fds'] == ['0', '1', '2', '3'], found['own_fds']  # stdio and the listing itself
    assert outcome['sleeper_alive'], 'kill(-1) in the sandbox reached a process outside it'
    assert found['signal the grader']['errno'] == 'ESRCH' and found['signal the sleeper']['errno'] == 'ESRCH'


def test_the_environment_is_the_allow_list(probe):
    found, _, outcome = probe
    allowed = {**child_environment(LIMITS['import'], '/sandbox'), 'PWD': '/sandbox'}  # PWD: bwrap's --chdir
    assert set(found['environment']) <= set(allowed) and found['environment']['PWD'] == '/sandbox'
    assert not outcome['canary_anywhere']


def test_only_the_python_installation_and_the_job_folder_are_visible(probe):
    found, targets, _ = probe
    roots = tuple(root + os.sep for root in bubblewrap.python_roots()) + ('/usr/', '/sandbox/', '/etc/ld.so',
                                                                          '/etc/alternatives/')
    strays = [name for name in found['files'] if not name.startswith(roots)]
    assert not strays, strays[:20]
    assert not any(name.startswith(str(KIT_ROOT) + os.sep) and not name.startswith(tuple(bubblewrap.python_roots()))
                   for name in found['files'])
    assert not any(name.endswith(('.sqlite3', 'session-secret', 'login-links.csv')) for name in found['files'])
    for path in targets['secrets']:
        assert 'ok' not in found[f"read {path}"], (path, found[f"read {path}"])


def test_nothing_outside_the_job_folder_is_writable(probe):
    found, targets, outcome = probe
    for path in targets['writable'][:-1]:
        assert found[f"write {path}"].get('errno') in ('EROFS', 'EACCES', 'ENOENT'), (path, found[f"write {path}"])
    assert 'ok' in found['write /sandbox/kit_probe_note'] and outcome['note_written']


def test_no_network_and_no_host_socket(probe):
    found, _, _ = probe
    assert found['interfaces'] == ['lo']
    assert found['tcp to the server'].get('errno') in ('EAFNOSUPPORT', 'EPERM')
    assert found['tcp6 to the server'].get('errno') in ('EAFNOSUPPORT', 'EPERM')
    assert found['unix socket of postgres'].get('errno') == 'ENOENT'
    assert found['socketpair (allowed)'] == {'ok': 2}


def test_seccomp_denies_what_no_homework_needs(probe):
    found, _, _ = probe
    for attempt in ('ptrace the reaper', 'unshare a user namespace', 'mount a tmpfs', 'perf_event_open', 'keyctl',
                    'bpf'):
        assert found[attempt].get('errno') == 'EPERM', (attempt, found[attempt])


def test_the_report_names_the_layers(probe):
    _, _, outcome = probe
    line = '; '.join(outcome['isolation'])
    assert 'bubblewrap' in line and 'user (uid 65534' in line and 'PID, network' in line and 'mount namespaces' in line
    run = run_child(b'', {'scenarios': []}, LIMITS['import'])
    assert run.status == 'finished' and 'seccomp filter' in run.isolation


def failing_bwrap(tmp_path, message):
    """A bwrap that fails as on a machine without user namespaces (where the sandbox's user can run it)."""
    folder = tmp_path / 'bin'
    folder.mkdir()
    for path in [folder] + list(folder.parents):
        if path == Path('/tmp'):
            break
        path.chmod(path.stat().st_mode | 0o711)
    broken = folder / 'bwrap'
    broken.write_text(f'#!/bin/sh\necho "{message}" >&2\nexit 1\n')
    broken.chmod(0o755)
    return broken


def test_a_machine_where_bubblewrap_cannot_run_is_refused_with_the_way_to_fix_it(monkeypatch, tmp_path):
    broken = failing_bwrap(tmp_path, 'bwrap: No permissions to create new namespace')
    monkeypatch.setenv(bubblewrap.BWRAP_VARIABLE, str(broken))
    bubblewrap.unusable_reason.cache_clear()
    try:
        with pytest.raises(InfrastructureError, match='No permissions to create new namespace'):
            run_child(b'', {'scenarios': []}, LIMITS['import'])
        reason = refusal()
        assert 'cannot start the sandbox' in reason and 'user namespaces' in reason and '--unsafe-no-sandbox' in reason
        assert probe_sandbox()
    finally:
        bubblewrap.unusable_reason.cache_clear()


def test_grade_refuses_without_a_sandbox_and_unsafe_runs_loudly(tmp_path):
    broken = failing_bwrap(tmp_path, 'bwrap: setting up uid map: Permission denied')
    env = {**os.environ, bubblewrap.BWRAP_VARIABLE: str(broken)}
    command = [sys.executable, 'run.py', 'grade', 'solution.py', '--skip-gates', '--data-dir', str(DATA_DIR)]
    refused = subprocess.run(command, cwd=KIT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert 'cannot start the sandbox' in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    unsafe = subprocess.run(command + ['--unsafe-no-sandbox'], cwd=KIT_ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert unsafe.returncode == 0, unsafe.stdout[-2000:] + unsafe.stderr[-2000:]
    assert 'WARNING' in unsafe.stderr and 'NO SANDBOX' in unsafe.stdout


def test_the_child_reports_the_cpu_time_it_got_apart_from_the_wall_time():
    """A gate's time is judged on the CPU time the child got (a loaded machine stretches only the wall
    time): a child that waits 2 s used almost no CPU; one that computes used about what it took."""
    sleeper = b"from interface import *\nimport time\ntime.sleep(2)\n"
    run = run_child(sleeper, {'scenarios': []}, LIMITS['import'])
    assert run.status == 'finished' and run.seconds >= 2 and run.cpu_seconds < 0.5, (run.seconds, run.cpu_seconds)
    busy = b"from interface import *\nimport time\nstart = time.process_time()\nwhile time.process_time() - start < 1: pass\n"
    run = run_child(busy, {'scenarios': []}, LIMITS['import'])
    assert run.status == 'finished' and 0.9 <= run.cpu_seconds <= run.seconds + 0.1, (run.seconds, run.cpu_seconds)
