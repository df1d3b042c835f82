"""One interface for running grading jobs: in this process, on a local Dask cluster, or on an existing one.

A ``Job`` is pure data: the submission's bytes, a label, the section names and the grading
options.  ``run_job(job)`` (module level, so Dask ships it by reference) writes the bytes to a
temporary file and grades them with ``grader.grade.Grader``; the sandboxed children therefore run
on whichever machine runs the job.  The result is the report's JSON dict (``grader.report.as_dict``).

    executor = make_executor('local', workers=4)     # or 'serial', or 'tcp://HOST:8786'
    future = executor.submit(job)                     # concurrent.futures.Future of the dict
    report = future.result()
    executor.close()

Faults on Dask: a worker that dies mid-job makes the scheduler run the job again on another worker
(only the finished run's result comes back, so each job is recorded once); a job that has been
running on ``allowed_failures + 1`` dying workers ends as a report whose sections are 'crashed'
(Dask's ``KilledWorker``); losing the scheduler fails the futures with ``SchedulerLost``.

Gate jobs ask for the Dask resource ``gate=1``; only some workers offer it (half of a local
cluster's workers; ``dask worker --resources gate=1`` on an existing cluster), so unit jobs always
have workers that are not busy with a CIFAR-10 run.
"""
import concurrent.futures
import json
import os
import tempfile
import threading
import uuid
from dataclasses import dataclass, field

import assignments

GATE_RESOURCE = 'gate'
ALLOWED_FAILURES = 2  # a job may see this many workers die under it; one more and it is 'crashed'
WORKER_SATURATION = 1.0  # jobs sent to a worker per thread


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


class SchedulerLost(RuntimeError):
    """The Dask scheduler went away: nothing more can be graded through it."""


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
    """Grade ``job`` here and return the report as a JSON-ready dict."""
    from grader.grade import SubmissionReport, SectionVerdict
    from grader.report import as_dict
    with tempfile.TemporaryDirectory(prefix='nn-job-') as folder:
        path = os.path.join(folder, 'solution.py')
        with open(path, 'wb') as file:
            file.write(job.source)
        try:
            report = _grader(job).grade(path, list(job.sections), job.skip_gates)
        except Exception:  # a bug of ours: report it for this submission, the batch goes on
            import traceback
            traceback.print_exc()
            report = SubmissionReport(path, [SectionVerdict(name, 'crashed', 'internal grader error (see the log)',
                                                            assignment=job.assignment) for name in job.sections],
                                      assignment=job.assignment)
    report.submission = job.label
    return as_dict(report)


def crashed_report(job, reason):
    """The report of a job that could not be run: every section 'crashed'."""
    from grader.grade import SubmissionReport, SectionVerdict
    from grader.report import as_dict
    return as_dict(SubmissionReport(job.label, [SectionVerdict(name, 'crashed', reason, assignment=job.assignment)
                                                for name in job.sections], assignment=job.assignment))


def report_from_dict(data):
    """A SubmissionReport again (for print_report and write_gradescope)."""
    from grader.grade import SubmissionReport, SectionVerdict
    assignment = data.get('assignment', assignments.DEFAULT)
    return SubmissionReport(data['submission'], [
        SectionVerdict(s['name'], s['verdict'], s['reason'], s['seconds'], list(s['warnings']),
                       list(s.get('findings', [])), s.get('diagnosis', ''), s.get('smallest_case', ''), assignment)
        for s in data['sections']], list(data.get('isolation', [])), assignment)


def merge_reports(parts, section_names):
    """One submission's report dict from its jobs' dicts, sections in the requested order."""
    by_name = {section['name']: section for part in parts for section in part['sections']}
    sections = [by_name[name] for name in section_names if name in by_name]
    isolation = next((part['isolation'] for part in parts if part.get('isolation')), [])
    return {'submission': parts[0]['submission'], 'assignment': parts[0].get('assignment', assignments.DEFAULT),
            'total': sum(s['points'] for s in sections),
            'max_total': sum(s['max_points'] for s in sections), 'isolation': isolation, 'sections': sections}


# -- executors --------------------------------------------------------------------------------
class Executor:
    """Runs jobs; ``submit`` returns a ``concurrent.futures.Future`` of the report dict."""
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
        except BaseException as error:
            future.set_exception(error)
        return future

    def describe(self):
        return 'in this process'


class DaskExecutor(Executor):
    """Runs jobs on a Dask cluster: a new local one (``workers`` processes), or ``address``."""

    def __init__(self, address=None, workers=None, run=run_job, allowed_failures=ALLOWED_FAILURES):
        import distributed
        self.run, self.cluster = run, None
        if address is None:
            self.cluster = local_cluster(workers or os.cpu_count() or 1, allowed_failures)
            address = self.cluster
        try:
            self.client = distributed.Client(address, timeout='30s', set_as_default=False)
        except OSError as error:
            if self.cluster is not None:
                self.cluster.close()
            raise SchedulerLost(f"cannot reach the Dask scheduler at {address}: {error}") from error
        self.address = self.client.scheduler.address
        self._lost = None
        self._futures = set()
        self._lock = threading.Lock()

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
        kind = 'gate' if job.needs_gate_worker else 'units'
        inner = self.client.submit(self.run, job, pure=False, key=f"{kind}-{uuid.uuid4().hex[:12]}-{job.label[-60:]}",
                                   resources={GATE_RESOURCE: 1} if job.needs_gate_worker else None,
                                   priority=0 if job.needs_gate_worker else 1)
        with self._lock:
            self._futures.add(inner)
        inner.add_done_callback(lambda done: self._settle(done, job, outer))
        return outer

    def _settle(self, inner, job, outer):
        from distributed import KilledWorker
        with self._lock:
            self._futures.discard(inner)
        try:
            if inner.status == 'finished':
                outer.set_result(inner.result())
                return
            error = inner.exception()
            if isinstance(error, KilledWorker):
                outer.set_result(crashed_report(job, "the grading worker died every time it ran this submission "
                                                     "(Dask KilledWorker)"))
            elif error is not None:
                outer.set_exception(error)
            else:  # cancelled: the client lost the scheduler
                self._lost = self._lost or f"lost the Dask scheduler at {self.address}"
                outer.set_exception(SchedulerLost(self._lost))
        except BaseException as error:  # cancelled while being read, connection gone...
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
        try:
            self.client.close(timeout=10)
        except Exception:
            pass
        if self.cluster is not None:
            self.cluster.close(timeout=20)

    def describe(self):
        where = 'a local Dask cluster' if self.cluster is not None else f"the Dask scheduler {self.address}"
        return f"{where}, {self.workers} worker(s), {len(self.gate_workers())} taking gate jobs"


def local_cluster(workers, allowed_failures=ALLOWED_FAILURES):
    """A Dask cluster on this machine: ``workers`` single-threaded worker processes (each under a
    nanny that restarts it if it dies), half of them (at least one) taking gate jobs."""
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
    with dask.config.set({'distributed.scheduler.worker-saturation': WORKER_SATURATION}):
        return SpecCluster(workers=specs, scheduler=scheduler, silence_logs=40, name='nn-grader')


def make_executor(kind='local', workers=None, run=run_job):
    """'serial' (this process), 'local' (a new Dask cluster of ``workers`` processes, default one per
    core) or a scheduler address such as 'tcp://HOST:8786' (an existing cluster)."""
    if kind == 'serial':
        return SerialExecutor(run)
    if kind == 'local':
        return DaskExecutor(None, workers, run)
    return DaskExecutor(kind, None, run)
