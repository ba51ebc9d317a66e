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


def _die_with_parent(parent: int | None) -> None:
    """In a worker: ask the kernel for SIGKILL when the parent dies (Linux), so a killed run
    leaves no worker writing into its folder; elsewhere, a thread watches the parent.
    ``parent``: the process that started the pool (None: a fork server started this worker,
    and the fork server dies with the pool's owner)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the run's handler
    if parent is None:
        parent = os.getppid()
    if os.getppid() != parent:  # the parent died before this worker started
        os._exit(1)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="credsim-parent-watch").start()


START_METHODS = ("fork", "forkserver", "spawn")


def start_method() -> str:
    """How worker processes start: ``CREDSIM_START_METHOD`` if set; else forked from this
    process where that is safe (POSIX, and this process runs no other thread, so no lock
    can be held in the copy), the modules it imported shared with the workers; else from a
    fork server that imported the engine once; else spawned (a fresh interpreter each)."""
    chosen = os.environ.get("CREDSIM_START_METHOD", "")
    if chosen in START_METHODS:
        return chosen
    available = multiprocessing.get_all_start_methods()
    if "fork" in available and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in available else "spawn"


class LocalProcesses:
    """Run shards in ``workers`` local processes (``start_method()``: forked, from a fork
    server or spawned; every shard builds its state from its task alone, so nothing a
    worker inherits changes a result)."""

    name = "local"

    def __init__(self, workers: int | None = None, start: str | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.start = start or start_method()
        ctx = multiprocessing.get_context(self.start)
        if self.start == "forkserver":
            ctx.set_forkserver_preload(["credsim.scale.preload"])
        parent = None if self.start == "forkserver" else os.getpid()
        self.pool = ProcessPoolExecutor(
            self.workers, mp_context=ctx, initializer=_die_with_parent, initargs=(parent,)
        )

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
        exc = sys.exc_info()[0]
        if exc is not None and issubclass(exc, KeyboardInterrupt):  # workers ignore Ctrl-C
            # stop them now, and do not wait on the pool's own threads: an interrupt that
            # arrived inside one of its waits can leave them waiting for ever
            procs = list((self.pool._processes or {}).values())
            for p in procs:
                p.terminate()
            for p in procs:
                p.join(5)
                if p.is_alive():
                    p.kill()
            self.pool.shutdown(wait=False, cancel_futures=True)
            return
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
