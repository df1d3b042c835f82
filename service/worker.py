"""The grading loop: claims jobs from the database and hands them to the grading executor
(grader.executor: in this process, a local Dask cluster or an existing one), then records the
reports. Submissions only ever run inside the checker's sandboxed children, never here.

One loop per server process, registered in the ``workers`` table with a heartbeat (its own
thread, so a long serial job does not silence it). Running jobs of a worker that went silent
(a killed server) are queued again by any loop, including the restarted server's.

A job the executor could not grade (``grader.infrastructure.InfrastructureError``, or any other
failure of the executor: never the submission's doing, whose failures are verdicts in the report)
is queued again and tried later (``jobs.retry_later``): no 'crashed' verdict, no zero, and the
upload does not count against the student's hour.
"""
import logging
import os
import queue
import socket
import threading
import time
import uuid
from sqlalchemy.orm import sessionmaker

from grader.executor import Job as GradingJob
from grader.executor import SchedulerLost, make_executor
from service import jobs
from service.config import Settings
from service.models import Job, Submission, Worker, utcnow
from service.priority import run_job_gently

log = logging.getLogger('service.worker')


class GradingLoop:
    def __init__(self, sessions: sessionmaker, settings: Settings, executor_factory=None):
        self.sessions, self.settings = sessions, settings
        # Grading at a lower CPU priority than this server's requests (service.priority)
        self.executor_factory = executor_factory or (lambda: make_executor(settings.scheduler, settings.workers,
                                                                           run=run_job_gently))
        self.executor = None
        self.worker_id = str(uuid.uuid4())
        self.capacity = 1 if settings.scheduler == 'serial' else max(1, settings.workers)
        self.gate_slots = max(1, self.capacity // 2)
        self.in_flight = {}                 # job id -> (lease, kind)
        self.finished = queue.Queue()       # (job id, lease, future)
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.status = 'starting'
        self._threads = []

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> None:
        with self.sessions.begin() as db:
            db.add(Worker(id=self.worker_id, host=socket.gethostname(), pid=os.getpid(),
                          executor=self.settings.scheduler, capacity=self.capacity))
        for target, name in ((self._run, 'grading-loop'), (self._beat, 'grading-heartbeat')):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; put unfinished jobs back in the queue; close the executor."""
        self.stopping.set()
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        with self.sessions() as db:
            for job_id, (lease, _) in list(self.in_flight.items()):
                jobs.release(db, job_id, lease)
            db.query(Worker).filter(Worker.id == self.worker_id).update({'stopped': True, 'in_flight': 0})
            db.commit()
        if self.executor is not None:
            self.executor.close()

    def notify(self) -> None:
        """A job was queued: look for work now rather than at the next poll."""
        self.wake.set()

    # -- threads -----------------------------------------------------------------------------------
    def _beat(self) -> None:
        while not self.stopping.wait(self.settings.heartbeat_seconds):
            try:
                with self.sessions() as db:
                    jobs.heartbeat(db, db.get(Worker, self.worker_id), len(self.in_flight))
            except Exception:
                log.exception("heartbeat failed")

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._ensure_executor()
                self._record_finished()
                self._housekeeping()
                self._claim_and_submit()
            except Exception:
                log.exception("grading loop error")
                self.status = 'error (see the server log); retrying'
                self.stopping.wait(2.0)
            self.wake.wait(0.5)
            self.wake.clear()
        self._record_finished()

    def _ensure_executor(self) -> None:
        if self.executor is None:
            self.status = f"starting the executor ({self.settings.scheduler})"
            try:
                self.executor = self.executor_factory()
            except Exception as error:
                self.status = f"cannot start the executor: {error}; retrying"
                log.error(self.status)
                self.stopping.wait(5.0)
                raise
            if self.settings.scheduler != 'serial':  # an existing cluster: as many jobs in flight as it has workers
                self.capacity = max(1, self.executor.workers)
                gate_workers = getattr(self.executor, 'gate_workers', None)
                self.gate_slots = max(1, len(gate_workers()) if gate_workers else self.capacity // 2)
            self.status = f"grading with {self.executor.describe()}"

    def _housekeeping(self) -> None:
        with self.sessions() as db:
            requeued = jobs.requeue_stale(db, self.settings.stale_after_seconds)
            crashed = jobs.give_up_on_repeat_crashes(db, self.settings.assignment)
        if requeued or crashed:
            log.warning("queued again %d job(s) of stopped workers; %d crashed repeatedly", requeued, crashed)

    def _claim_and_submit(self) -> None:
        while not self.stopping.is_set():
            kinds = tuple(kind for kind, limit in (('units', self.capacity), ('gate', self.gate_slots))
                          if sum(k == kind for _, k in self.in_flight.values()) < limit)
            if not kinds:
                return
            with self.sessions() as db:
                job = jobs.claim(db, self.worker_id, kinds)
                if job is None:
                    return
                submission = db.get(Submission, job.submission_id)
                grading_job = self._grading_job(job, submission)
                job_id, lease, kind = job.id, job.lease, job.kind
            self.in_flight[job_id] = (lease, kind)
            future = self.executor.submit(grading_job)
            future.add_done_callback(lambda done, job_id=job_id, lease=lease: self._done(job_id, lease, done))
            self._record_finished()

    def _grading_job(self, job: Job, submission: Submission) -> GradingJob:
        return GradingJob(label=f"submission {submission.id}", source=bytes(submission.content),
                          sections=tuple(job.sections), data_dir=self.settings.data_dir,
                          unverified_ok=self.settings.allow_unverified,
                          policy_options={'policy': self.settings.policy}, assignment=self.settings.assignment)

    def _done(self, job_id: int, lease: str, future) -> None:
        self.finished.put((job_id, lease, future))
        self.wake.set()

    def _record_finished(self) -> None:
        while True:
            try:
                job_id, lease, future = self.finished.get_nowait()
            except queue.Empty:
                return
            self.in_flight.pop(job_id, None)
            with self.sessions() as db:
                try:
                    report = future.result()
                except SchedulerLost as lost:
                    log.error("%s: job %d goes back to the queue", lost, job_id)
                    jobs.release(db, job_id, lease)
                    self._drop_executor(str(lost))
                    continue
                except Exception as failure:  # InfrastructureError and the like: ours, tried again later
                    log.error("job %d was not graded (%s: %s): it goes back to the queue", job_id,
                              type(failure).__name__, failure)
                    if not jobs.retry_later(db, job_id, lease, f"{type(failure).__name__}: {failure}",
                                            self.settings.checker_retry_seconds):
                        log.warning("job %d failed under an old lease", job_id)
                    continue
                if not jobs.record(db, job_id, lease, report, None, self.settings.assignment):
                    log.warning("job %d finished under an old lease: its result was not recorded", job_id)

    def _drop_executor(self, why: str) -> None:
        executor, self.executor = self.executor, None
        self.status = f"{why}; reconnecting"
        try:
            executor.close()
        except Exception:
            pass

    def describe(self) -> dict:
        return {'id': self.worker_id, 'status': self.status, 'capacity': self.capacity,
                'gate_slots': self.gate_slots, 'in_flight': len(self.in_flight), 'time': utcnow().isoformat()}


def wait_until_idle(sessions: sessionmaker, timeout: float = 120.0, poll: float = 0.2) -> bool:
    """True once no job is queued or running (tests and the benchmark)."""
    from sqlalchemy import func, select
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as db:
            if not db.scalar(select(func.count(Job.id)).where(Job.state.in_(jobs.OPEN_STATES))):
                return True
        time.sleep(poll)
    return False

