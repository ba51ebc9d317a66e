"""Simulations run one at a time in a background thread, the others waiting in a queue.

A job's progress callback updates its day count and raises ``Cancelled`` once the job is asked
to stop, so a cancelled run stops after the day it is on; its folder keeps the manifest's
status "incomplete". A finished run gets its report.html (the page ``credsim report`` writes)
before it is marked done, so the dashboard can offer it at once. Each run folder gets a small
``dashboard.json`` with the request and the final state (done, cancelled or failed, with the
error line), so the list of runs survives a restart of the server.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credsim.files import write_atomic

STATE_FILE = "dashboard.json"
STATES = ("queued", "running", "done", "cancelled", "failed")


class Cancelled(Exception):
    """Raised from the progress callback to stop a run between two days."""


class QueueFull(Exception):
    """Too many runs are waiting already."""


@dataclass
class Job:
    """One requested run: its parameters, its ``Sim`` and where it stands."""

    name: str
    folder: Path
    preset: str
    population: int
    days: int
    seed: int
    overrides: dict[str, Any]
    sim: Any  # credsim.sim.Sim, built (and so validated) when the request arrives
    state: str = "queued"
    done: int = 0
    total: int = 1
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    estimate: float | None = None  # expected seconds of computing, from Sim.estimate()
    phase: str = "simulate"  # simulate | report
    replicates: int = 1  # seeds seed ... seed + replicates - 1, one run folder

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return round(self.done / max(self.total, 1), 4)

    def record(self) -> dict[str, Any]:
        """What ``dashboard.json`` keeps of the job."""
        return {
            "name": self.name,
            "preset": self.preset,
            "population": self.population,
            "days": self.days,
            "seed": self.seed,
            "replicates": self.replicates,
            "overrides": self.overrides,
            "state": self.state,
            "error": self.error,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
        }


def one_line(e: BaseException) -> str:
    """An exception as one short line."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


class Runner:
    """A FIFO of jobs and the one thread that runs them."""

    def __init__(self, max_queued: int = 8):
        self.max_queued = max_queued
        self.jobs: dict[str, Job] = {}
        self.queue: deque[Job] = deque()
        self.current: Job | None = None
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.stopping = False

    def submit(self, job: Job) -> int:
        """Queue a job; returns its queue position (1 = next to start)."""
        with self.cond:
            if self.stopping:
                raise QueueFull("the server is shutting down")
            if len(self.queue) >= self.max_queued:
                raise QueueFull(
                    f"{len(self.queue)} runs are already waiting; wait for one to finish "
                    "or cancel one"
                )
            self.jobs[job.name] = job
            self.queue.append(job)
            job.folder.mkdir(parents=True, exist_ok=True)
            self._save(job)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._work, name="credsim-web", daemon=True)
                self.thread.start()
            self.cond.notify_all()
            return self._position(job)

    def _position(self, job: Job) -> int:
        if job.state != "queued":
            return 0
        try:
            return list(self.queue).index(job) + 1
        except ValueError:  # taken by the worker, not yet marked running
            return 1

    def position(self, job: Job) -> int:
        with self.cond:
            return self._position(job)

    def get(self, name: str) -> Job | None:
        with self.cond:
            return self.jobs.get(name)

    def names(self) -> list[str]:
        with self.cond:
            return list(self.jobs)

    def cancel(self, job: Job) -> None:
        """Stop a running job at its next day, or drop a queued one at once."""
        with self.cond:
            job.cancel.set()
            if job.state == "queued" and job in self.queue:
                self.queue.remove(job)
                job.state, job.finished = "cancelled", time.time()
                self._save(job)

    def close(self, timeout: float = 30.0) -> None:
        """Cancel everything and wait for the worker to stop."""
        with self.cond:
            self.stopping = True
            for job in list(self.queue):
                job.cancel.set()
                job.state, job.finished = "cancelled", time.time()
                self._save(job)
            self.queue.clear()
            if self.current is not None:
                self.current.cancel.set()
            self.cond.notify_all()
        if self.thread is not None:
            self.thread.join(timeout)

    def _save(self, job: Job) -> None:
        try:
            write_atomic(job.folder / STATE_FILE, json.dumps(job.record(), indent=2))
        except OSError:
            pass  # the folder was removed under us; the state is still served from memory

    def _work(self) -> None:
        while True:
            with self.cond:
                while not self.queue and not self.stopping:
                    self.cond.wait()
                if self.stopping:
                    return
                job = self.queue.popleft()
                self.current = job
                job.state, job.started = "running", time.time()
                self._save(job)
            self._run(job)
            with self.cond:
                self.current = None
                job.finished = time.time()
                self._save(job)

    def _run(self, job: Job) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total
            if job.cancel.is_set():
                raise Cancelled()

        job.total = job.days * job.replicates
        job.sim.progress = progress
        job.sim.out = job.folder
        try:
            if job.cancel.is_set():
                raise Cancelled()
            job.sim.run()
            if job.cancel.is_set():  # asked during the merge: the answer was "cancelling"
                raise Cancelled()
            job.phase = "report"
            _write_report(job)
        except Cancelled:
            job.state = "cancelled"
        except Exception as e:  # any failure becomes the job's one-line error
            job.state, job.error = "failed", one_line(e)
        else:
            job.state = "done"
        finally:
            job.sim = None  # release the regime and its arrays


def _write_report(job: Job) -> None:
    """The finished run's report.html; a failure leaves it to be written when first asked for."""
    from credsim.report import write_report

    try:
        write_report(job.folder)
    except Exception as e:  # the run itself is complete; its report can be made later
        job.error = f"report not written: {one_line(e)}"
