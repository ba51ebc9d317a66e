"""Where shards run: in this process, in local worker processes, or (later) on a cluster.

Every executor has one method, ``map_unordered(fn, tasks)``, yielding ``(task, result)`` as
shards finish. Results merge by addition, so the order does not change the outcome.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any


@contextmanager
def _ctrl_c_to_parent_only():
    """Processes started inside ignore SIGINT: Ctrl-C stops them through ``close()``."""
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is None  # a handler Python cannot restore
    ):
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class InProcess:
    """Run shards one after another in this process."""

    name = "inprocess"
    workers = 1

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        for t in tasks:
            yield t, fn(t)

    def close(self) -> None:
        pass


class LocalProcesses:
    """Run shards in ``workers`` local processes (spawned: no state leaks from the parent)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        ctx = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(self.workers, mp_context=ctx)

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        queue = list(tasks)
        running = {}
        while queue or running:
            while queue and len(running) < 2 * self.workers:
                t = queue.pop(0)
                with _ctrl_c_to_parent_only():  # a worker may be started here
                    running[self.pool.submit(fn, t)] = t
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                t = running.pop(f)
                yield t, f.result()

    def close(self) -> None:
        if sys.exc_info()[0] is KeyboardInterrupt:  # workers ignore Ctrl-C: stop them now
            for p in list((self.pool._processes or {}).values()):
                p.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)


def make_executor(backend: str = "local", workers: int | None = None, **options: Any):
    """An executor by name: ``inprocess``, ``local`` (processes) or ``dask``."""
    if backend == "dask":
        from credsim.scale.dask import DaskExecutor

        return DaskExecutor(workers=workers, **options)
    if backend == "inprocess" or (workers or 1) <= 1:
        return InProcess()
    if backend == "local":
        return LocalProcesses(workers)
    raise ValueError(f"unknown backend {backend!r}: use local, inprocess or dask")
