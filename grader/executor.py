"""One interface for running grading jobs: in this process, on a local Dask cluster, or on an existing one.

A ``Job`` is pure data: the submission's bytes, a label, the section names and the grading
options.  ``run_job(job)`` writes the bytes to a temporary file and grades them with
``grader.grade.Grader``; the sandboxed children therefore run on whichever machine runs the job.
The result is the report's JSON dict (``grader.report.as_dict``).

    executor = make_executor('local', workers=4)     # or 'serial', or 'tcp://HOST:8786'
    future = executor.submit(job)                     # concurrent.futures.Future of the dict
    report = future.result()
    executor.close()

What Dask carries: the scheduler unpickles every task it is given, and it does not have the kit.
So a task holds only plain data (the job as a dict, the kit's fingerprint, the dotted name of the
function to run) and functions of the standard library and Dask; the worker resolves
``grader.executor:run_remote`` by name and runs it.  A worker imports the kit because it was started
with ``--preload dask_preload.py`` (README, "Grading a course"); a local cluster's workers inherit
this process's ``sys.path``.

Failures of ours never become a verdict (``grader.infrastructure``): the future of a job that could
not be graded fails with ``InfrastructureError`` and the caller records it as *not graded*.

  * Before the first job, ``check_cluster`` compares Python, the requirements' versions (Dask's
    ``get_versions``) and the kit's fingerprint (a hash of its grading files, ``kit_identity``) of
    this machine, the scheduler and every worker, and refuses a cluster that differs or whose
    workers cannot import the kit.  Every job carries the fingerprint too, so a worker that joins
    later with another kit refuses the job instead of grading it.
  * A worker that dies mid-job makes the scheduler run the job again on another worker (only the
    finished run's result comes back, so each job is recorded once); a job that has been running
    on ``allowed_failures + 1`` dying workers is not graded (Dask's ``KilledWorker``), the others go on.
  * A task the scheduler or a worker cannot unpickle, a worker that cannot import the kit, a sandbox
    that cannot start: the batch stops (``InfrastructureError.stops_batch``).
  * Losing the scheduler fails the futures with ``SchedulerLost``.

Gate jobs ask for the Dask resource ``gate=1``; only some workers offer it (half of a local
cluster's workers; ``dask worker --resources gate=1`` on an existing cluster), so unit jobs always
have workers that are not busy with a CIFAR-10 run.
"""
import concurrent.futures
import dataclasses
import functools
import hashlib
import json
import logging
import os
import pkgutil
import signal
import tempfile
import threading
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import assignments
from grader.infrastructure import InfrastructureError

GATE_RESOURCE = 'gate'
ALLOWED_FAILURES = 2  # a job may see this many workers die under it; one more and it is not graded
WORKER_SATURATION = 1.0  # jobs sent to a worker per thread
KIT_ROOT = Path(__file__).resolve().parent.parent
# What grading reads: the fingerprint of a kit is the hash of these files (interface.py and solution.py
# of the top level, every .py and .toml below the folders).
KIT_FILES = ('interface.py', 'solution.py')
KIT_FOLDERS = ('grader', 'assignments', 'public_tests', 'data_loaders', 'instructor')
REMOTE_ENTRY = 'grader.executor:run_remote'  # what a Dask task asks the worker to run
PRELOAD = 'dask_preload.py'
HOW_TO_START_WORKERS = (f"start every worker from the kit's folder with `--preload {PRELOAD}` "
                        "(README.md, 'Grading a course')")
SAME_ENVIRONMENT = ("every machine of the cluster (this one, the scheduler, the workers) needs the same Python "
                    "and `pip install -r requirements.txt`; the workers need the same copy of the kit "
                    "(README.md, 'Grading a course')")


@dataclass(frozen=True)
class Job:
    """One grading job: some sections of one submission."""
    label: str                   # what the report calls the submission (its path, usually)
    source: bytes                # the submission's solution.py
    sections: tuple              # section names, graded in this order
    data_dir: str = None         # folder holding mnist/ and cifar10/ (None: the loaders' default)
    unverified_ok: bool = None   # accept local data whose md5 differs from the official files
    skip_gates: bool = False
    policy_options: dict = field(default_factory=dict)  # passed to Grader as keywords: {'policy': {...}}
    assignment: str = assignments.DEFAULT

    @property
    def needs_gate_worker(self):
        """A gate that will really train (not skipped): only workers offering the gate resource take it."""
        sections = assignments.get(self.assignment).by_name
        return not self.skip_gates and any(sections[name].is_gate for name in self.sections)


def split_jobs(label, source, section_names, **options):
    """The jobs for one submission: the unit sections together, then each gate on its own."""
    sections = assignments.get(options.get('assignment')).by_name
    units = tuple(name for name in section_names if not sections[name].is_gate)
    gates = [(name,) for name in section_names if sections[name].is_gate]
    return [Job(label, source, names, **options) for names in ([units] if units else []) + gates]


class SchedulerLost(InfrastructureError):
    """The Dask scheduler went away (or could not be reached): nothing more can be graded through it."""


# -- the kit's identity (compared between this machine and the workers) -------------------------
def kit_identity():
    """{'kit': hex digest, 'files': {relative path: hex digest}} of the kit's files now (see KIT_FILES)."""
    paths = [KIT_ROOT / name for name in KIT_FILES]
    for folder in KIT_FOLDERS:
        paths += [path for path in (KIT_ROOT / folder).rglob('*')
                  if path.suffix in ('.py', '.toml') and '__pycache__' not in path.parts and path.is_file()]
    files = {path.relative_to(KIT_ROOT).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
             for path in paths if path.is_file()}
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return {'kit': digest, 'files': files}


@functools.cache
def worker_identity():
    """The identity of the kit this worker process runs: taken once, as it starts (``dask_preload``) or
    at its first job, so a kit edited under running workers differs until they are restarted.  What
    ``check_cluster`` asks each worker for (``client.run``) and what every job compares."""
    return kit_identity()


def requirement_names(path=KIT_ROOT / 'requirements.txt'):
    """The distribution names in requirements.txt (and the files it includes with -r) that apply to this Python."""
    from packaging.requirements import Requirement
    names = []
    for line in path.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line.startswith(('-r ', '--requirement ')):  # requirements-kit.txt: the student kit's part
            names += requirement_names(path.parent / line.split(None, 1)[1].strip())
        elif line:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate():
                names.append(requirement.name)
    return names


def kit_differences(mine, theirs, most=5):
    """'grader/compare.py, solution.py (missing there)' -- the files that differ, at most ``most``."""
    names = sorted(set(mine) | set(theirs))
    differ = [name + (' (missing there)' if name not in theirs else ' (only there)' if name not in mine else '')
              for name in names if mine.get(name) != theirs.get(name)]
    return ', '.join(differ[:most]) + (f" and {len(differ) - most} more" if len(differ) > most else '')


def check_cluster(client, mine=None):
    """Refuse (InfrastructureError) a cluster whose scheduler or workers run another Python, other
    versions of the requirements or another kit than this machine (``mine``: its ``kit_identity``),
    or whose workers cannot import the kit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            client.get_versions(check=True, packages=requirement_names())
        except ValueError as error:
            caught.append(warnings.WarningMessage(str(error), UserWarning, '', 0))
    mismatched = [str(warning.message) for warning in caught if 'Mismatched versions' in str(warning.message)]
    if mismatched:
        raise InfrastructureError(f"the Dask cluster runs other versions than this machine: {SAME_ENVIRONMENT}.\n"
                                  f"{mismatched[0].strip()}")
    mine = mine or kit_identity()
    answers = client.run(worker_identity, on_error='return')
    for address, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            what = str(answer) if type(answer) is Exception else f"{type(answer).__name__}: {answer}"
            raise InfrastructureError(f"the Dask worker {address} cannot import the kit ({what}): "
                                      f"{HOW_TO_START_WORKERS}")
    differ = {address: answer for address, answer in answers.items() if answer['kit'] != mine['kit']}
    if differ:
        address, answer = sorted(differ.items())[0]
        files = kit_differences(mine['files'], answer['files'])
        raise InfrastructureError(f"{len(differ)} of {len(answers)} Dask worker(s) run another version of the kit "
                                  f"than this machine (the worker {address}: {files} differ): copy this kit to "
                                  "every grading machine and restart its workers")


# -- the work itself (runs on the worker) -----------------------------------------------------
_local = threading.local()


def _grader(job):
    """One Grader per worker thread and set of options: reference outputs and gate data are reused."""
    from grader.grade import Grader
    key = (job.assignment, job.data_dir, job.unverified_ok, json.dumps(job.policy_options, sort_keys=True))
    graders = _local.__dict__.setdefault('graders', {})
    if key not in graders:
        graders[key] = Grader(data_dir=job.data_dir, unverified_ok=job.unverified_ok, assignment=job.assignment,
                              **job.policy_options)
    return graders[key]


def run_job(job):
    """Grade ``job`` here and return the report as a JSON-ready dict.  Raises InfrastructureError when
    the job could not be graded (a sandbox that cannot start; a bug of ours: then only this job)."""
    from grader.report import as_dict
    with tempfile.TemporaryDirectory(prefix='nn-job-') as folder:
        path = os.path.join(folder, 'solution.py')
        with open(path, 'wb') as file:
            file.write(job.source)
        try:
            report = _grader(job).grade(path, list(job.sections), job.skip_gates)
        except InfrastructureError:
            raise
        except Exception as error:  # a bug of ours: this job is not graded, the batch goes on
            import traceback
            traceback.print_exc()
            raise InfrastructureError(f"internal grader error ({type(error).__name__}: {error}"[:400]
                                      + "; the traceback is in the grading worker's log)", stops_batch=False) from error
    report.submission = job.label
    return as_dict(report)


def run_remote(payload):
    """A Dask task's work, on the worker: ``payload`` = {'run': 'module:function', 'job': Job's fields,
    'kit': the client's kit digest}.  Returns plain data only (the scheduler does not have the kit):
    {'result': what the function returned} or {'not_graded': why, 'stops_batch': bool}."""
    try:
        mine = worker_identity()['kit']
        if payload.get('kit') and payload['kit'] != mine:
            raise InfrastructureError(f"this Dask worker runs another version of the kit ({mine[:12]}) than the "
                                      f"machine that sent the job ({payload['kit'][:12]}): copy the same kit to "
                                      "every grading machine and restart its workers")
        job = payload['job']
        return {'result': pkgutil.resolve_name(payload['run'])(Job(**dict(job, sections=tuple(job['sections']))))}
    except InfrastructureError as error:
        return {'not_graded': str(error), 'stops_batch': error.stops_batch}


PLAIN = (str, bytes, int, float, bool, type(None))


def plain(value, where='payload'):
    """``value`` when it is plain data (dicts, lists, tuples of str, bytes, numbers, None), else TypeError."""
    if isinstance(value, dict):
        for key, item in value.items():
            plain(key, where)
            plain(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            plain(item, f"{where}[{index}]")
    elif not isinstance(value, PLAIN):
        raise TypeError(f"{where} is a {type(value).__name__}: a Dask task carries only plain data")
    return value


def dask_task(payload):
    """(function, *arguments) of the Dask task that runs ``payload`` (see ``run_remote``) on a worker:
    ``apply(pkgutil.resolve_name('grader.executor:run_remote'), (payload,))``, the name resolved on the
    worker.  The scheduler unpickles it with the standard library, Dask and plain data only: no kit."""
    from dask._task_spec import Task
    from dask.utils import apply
    return apply, Task(None, pkgutil.resolve_name, REMOTE_ENTRY), (plain(payload),)


def not_graded_report(label, section_names, reason, assignment=None):
    """The report of sections that were not graded: no verdict, no points (``points`` and ``total``
    are None), and ``not_graded`` says why."""
    sections = assignments.get(assignment).by_name
    return {'submission': label, 'assignment': assignments.get(assignment).name, 'total': None,
            'max_total': sum(sections[name].points for name in section_names), 'isolation': [],
            'not_graded': reason,
            'sections': [{'name': name, 'number': sections[name].number, 'title': sections[name].title,
                          'verdict': 'not graded', 'points': None, 'max_points': sections[name].points,
                          'reason': f"not graded: {reason}", 'seconds': 0.0, 'warnings': [], 'findings': [],
                          'diagnosis': '', 'smallest_case': ''} for name in section_names]}


def is_graded(report):
    """True when every section of ``report`` has a verdict (none is 'not graded')."""
    return not report.get('not_graded') and all(s.get('points') is not None for s in report['sections'])


def report_from_dict(data):
    """A SubmissionReport again (for print_report and write_gradescope); only for graded reports."""
    from grader.grade import SubmissionReport, SectionVerdict
    assignment = data.get('assignment', assignments.DEFAULT)
    return SubmissionReport(data['submission'], [
        SectionVerdict(s['name'], s['verdict'], s['reason'], s['seconds'], list(s['warnings']),
                       list(s.get('findings', [])), s.get('diagnosis', ''), s.get('smallest_case', ''), assignment)
        for s in data['sections']], list(data.get('isolation', [])), assignment)


def merge_reports(parts, section_names):
    """One submission's report dict from its jobs' dicts, sections in the requested order.  A part
    that was not graded makes the whole not graded: ``total`` None, ``not_graded`` the reasons."""
    by_name = {section['name']: section for part in parts for section in part['sections']}
    sections = [by_name[name] for name in section_names if name in by_name]
    isolation = next((part['isolation'] for part in parts if part.get('isolation')), [])
    reasons = list(dict.fromkeys(part['not_graded'] for part in parts if part.get('not_graded')))
    merged = {'submission': parts[0]['submission'], 'assignment': parts[0].get('assignment', assignments.DEFAULT),
              'total': None if reasons else sum(s['points'] for s in sections),
              'max_total': sum(s['max_points'] for s in sections), 'isolation': isolation, 'sections': sections}
    if reasons:
        merged['not_graded'] = '; '.join(reasons)
    return merged


def dask_failure(error):
    """InfrastructureError for a Dask task that failed without a result (not the submission's doing)."""
    from distributed import KilledWorker
    if isinstance(error, KilledWorker):
        return InfrastructureError("a grading worker died every time it ran this job (Dask KilledWorker): see the "
                                   "workers' logs (out of memory?), then grade it again with --resume",
                                   stops_batch=False)
    text = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    if 'deserializ' in str(error).lower():
        return InfrastructureError(f"the Dask scheduler could not read a grading job ({text}): {SAME_ENVIRONMENT}")
    if isinstance(error, ImportError):
        return InfrastructureError(f"a Dask worker cannot import the kit ({text}): {HOW_TO_START_WORKERS}")
    return InfrastructureError(f"the Dask cluster could not run a grading job ({text}): see the scheduler's and "
                               f"the workers' logs; {SAME_ENVIRONMENT}")


# -- executors --------------------------------------------------------------------------------
class Executor:
    """Runs jobs; ``submit`` returns a ``concurrent.futures.Future`` of the report dict (failing with
    InfrastructureError when the job could not be graded)."""
    workers = 1

    def submit(self, job):
        raise NotImplementedError

    def close(self):
        pass

    def describe(self):
        return type(self).__name__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SerialExecutor(Executor):
    """Runs each job in this process when it is submitted (tests, single submissions)."""

    def __init__(self, run=run_job):
        self.run = run

    def submit(self, job):
        future = concurrent.futures.Future()
        try:
            future.set_result(self.run(job))
        except Exception as error:
            future.set_exception(error)
        return future

    def describe(self):
        return 'in this process'


def dotted_name(function):
    """'module:qualified.name' of a module-level function, which a worker can import."""
    name = f"{function.__module__}:{function.__qualname__}"
    if function.__module__ == '__main__' or '<locals>' in function.__qualname__:
        raise ValueError(f"{name}: a Dask worker can only run a function it can import by name")
    return name


class DaskExecutor(Executor):
    """Runs jobs on a Dask cluster: a new local one (``workers`` processes), or ``address``.  ``verify``:
    refuse (InfrastructureError) a cluster that differs from this machine (``check_cluster``)."""

    def __init__(self, address=None, workers=None, run=run_job, allowed_failures=ALLOWED_FAILURES, verify=True):
        import distributed
        self.run_name, self.cluster, self.client = dotted_name(run), None, None
        self.identity = kit_identity()  # the kit as it is now: every worker must run this one
        self.kit = self.identity['kit']
        self._lost, self._closing = None, False
        self._futures = set()
        self._lock = threading.Lock()
        self.address = address
        try:  # whatever stops the start (Ctrl-C too) lets go of what was started
            if address is None:
                self.cluster = local_cluster(workers or os.cpu_count() or 1, allowed_failures)
            try:
                self.client = distributed.Client(self.cluster or address, timeout='30s', set_as_default=False)
            except OSError as error:
                raise SchedulerLost(f"cannot reach the Dask scheduler at {address}: {error}") from error
            self.address = self.client.scheduler.address
            if verify:
                check_cluster(self.client, self.identity)
        except BaseException:
            self.close()
            raise

    @property
    def workers(self):
        return max(1, len(self.client.scheduler_info(n_workers=-1)['workers']))

    def gate_workers(self):
        """Names of the workers that offer the gate resource."""
        workers = self.client.scheduler_info(n_workers=-1)['workers'].values()
        return [w['name'] for w in workers if w.get('resources', {}).get(GATE_RESOURCE, 0) >= 1]

    def submit(self, job):
        outer = concurrent.futures.Future()
        if self._lost:
            outer.set_exception(SchedulerLost(self._lost))
            return outer
        # Unit jobs first when both wait; gate jobs only on workers offering the gate resource. The key's
        # first word names the task group, so Dask estimates a gate's and a unit job's durations apart.
        function, *arguments = dask_task({'run': self.run_name, 'job': dataclasses.asdict(job), 'kit': self.kit})
        kind = 'gate' if job.needs_gate_worker else 'units'
        inner = self.client.submit(function, *arguments, pure=False,
                                   key=f"{kind}-{uuid.uuid4().hex[:12]}-{job.label[-60:]}",
                                   resources={GATE_RESOURCE: 1} if job.needs_gate_worker else None,
                                   priority=0 if job.needs_gate_worker else 1)
        with self._lock:
            self._futures.add(inner)
        inner.add_done_callback(lambda done: self._settle(done, outer))
        return outer

    def _settle(self, inner, outer):
        with self._lock:
            self._futures.discard(inner)
        if self._closing:
            outer.cancel()
            return
        try:
            if inner.status == 'finished':
                answer = inner.result()
                if 'not_graded' in answer:
                    outer.set_exception(InfrastructureError(answer['not_graded'], answer['stops_batch']))
                else:
                    outer.set_result(answer['result'])
                return
            error = inner.exception()
            if error is not None:
                outer.set_exception(dask_failure(error))
            else:  # cancelled: the client lost the scheduler
                self._lost = self._lost or f"lost the Dask scheduler at {self.address}"
                outer.set_exception(SchedulerLost(self._lost))
        except BaseException as error:  # cancelled while being read, connection gone...
            if self._closing:
                outer.cancel()
                return
            self._lost = self._lost or f"lost the Dask scheduler at {self.address} ({type(error).__name__})"
            outer.set_exception(SchedulerLost(self._lost))

    def check(self):
        """Raise SchedulerLost when the client no longer talks to a scheduler."""
        if self._lost:
            raise SchedulerLost(self._lost)
        if self.client.status not in ('running', 'connecting'):
            self._lost = f"lost the Dask scheduler at {self.address} (client {self.client.status})"
            raise SchedulerLost(self._lost)

    def close(self):
        """Cancel what is still running and let go of the cluster, quietly (no Dask tracebacks: a batch
        that stops or is interrupted says why in one line)."""
        self._closing = True
        levels = quiet_logs()
        try:
            if self.client is not None:
                with self._lock:
                    running = list(self._futures)
                try:
                    if self.cluster is not None and self.client.status == 'running':
                        self.client.run(quiet_logs)  # our own worker processes: their shutdown is no news
                    if running and self.client.status == 'running':
                        self.client.cancel(running, force=True)
                    self.client.close(timeout=10)
                except Exception:
                    pass
            if self.cluster is not None:
                try:
                    self.cluster.close(timeout=20)
                except Exception:
                    pass
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)

    def describe(self):
        where = 'a local Dask cluster' if self.cluster is not None else f"the Dask scheduler {self.address}"
        return f"{where}, {self.workers} worker(s), {len(self.gate_workers())} taking gate jobs"


def quiet_logs():
    """Silence Dask's (and its libraries') logging in this process; returns the levels it had."""
    names = ['distributed', 'tornado', 'asyncio'] + [name for name in logging.root.manager.loggerDict
                                                     if name.startswith(('distributed.', 'tornado.'))]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    return levels


def local_cluster(workers, allowed_failures=ALLOWED_FAILURES):
    """A Dask cluster on this machine: ``workers`` single-threaded worker processes (each under a
    nanny that restarts it if it dies), half of them (at least one) taking gate jobs.  The worker
    processes ignore SIGINT (Ctrl-C on the terminal reaches them too): this process stops them."""
    import dask
    from distributed import Nanny, Scheduler, SpecCluster
    gate_slots = max(1, workers // 2)
    options = {'host': '127.0.0.1', 'protocol': 'tcp://', 'nthreads': 1, 'memory_limit': 0,
               'dashboard': False, 'dashboard_address': ':0', 'silence_logs': 40}
    specs = {f'grader-{index}': {'cls': Nanny, 'options': dict(
        options, resources={GATE_RESOURCE: 1} if index < gate_slots else {})} for index in range(workers)}
    scheduler = {'cls': Scheduler, 'options': {'host': '127.0.0.1', 'protocol': 'tcp://', 'port': 0,
                                               'dashboard': False, 'dashboard_address': ':0',
                                               'allowed_failures': allowed_failures}}
    # A worker takes a job only when its thread is free: a unit job never waits in the queue of a
    # worker that is busy with a CIFAR-10 run (Dask's default sends 1.1 jobs per thread).
    with dask.config.set({'distributed.scheduler.worker-saturation': WORKER_SATURATION}), sigint_ignored():
        return SpecCluster(workers=specs, scheduler=scheduler, silence_logs=40, name='nn-grader')


class sigint_ignored:
    """Ignore SIGINT while starting processes (they inherit it: Python leaves an ignored SIGINT ignored)."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, signal.SIG_IGN)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def make_executor(kind='local', workers=None, run=run_job, verify=True):
    """'serial' (this process), 'local' (a new Dask cluster of ``workers`` processes, default one per
    core) or a scheduler address such as 'tcp://HOST:8786' (an existing cluster)."""
    if kind == 'serial':
        return SerialExecutor(run)
    if kind == 'local':
        return DaskExecutor(None, workers, run, verify=verify)
    return DaskExecutor(kind, None, run, verify=verify)
