"""Run shards on Dask: a loopback ``LocalCluster`` on this machine, or a scheduler you started.

Tasks are small dataclasses and results are per-day metric arrays: whole populations never
travel. Each worker writes its shard's ledger, citizen and metrics parts straight into the run
folder, which must therefore be on storage that every worker can see (a shared file system on
a cluster). ``Sim.run`` merges the parts, so results never depend on which executor ran them.

Without a scheduler address, ``DaskExecutor`` starts a ``distributed.LocalCluster`` of worker
processes bound to 127.0.0.1 (scheduler, workers and the scheduler's HTTP endpoint, on free
ports), with its scratch space in a temporary folder, and closes it in ``close()``. With an
address it connects a client and leaves the cluster running at ``close()``.

Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers by default. Setting that
variable at all switches off glibc's dynamic mmap threshold, so every large NumPy temporary is
mapped and unmapped afresh, which makes the engine's day loop slower. The local cluster is
started with the variable unset and without the workers' statistical profiler
(``WORKER_CONFIG``); for workers you start yourself, set ``WORKER_ENVIRON``. A nanny writes the
variables it sets into its own process's environment, so a plain ``LocalCluster`` started
earlier in the same process leaves ``MALLOC_TRIM_THRESHOLD_`` in ``os.environ``;
``DaskExecutor`` takes it out while its local cluster runs and puts it back at ``close()``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

INSTALL_HINT = "the dask backend needs dask.distributed: pip install 'credsim[dask]'"

#: Dask configuration of the workers of clusters this module starts (dotted keys): no
#: ``MALLOC_TRIM_THRESHOLD_`` from the nanny, and no statistical profiler (it samples the
#: running shard's stack every 10 ms for a dashboard that is not served).
WORKER_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}

#: The same as environment variables, for ``dask worker`` processes started by hand or by a
#: batch system (a dict value keeps the variable's upper-case name, which a key would lose).
WORKER_ENVIRON: dict[str, str] = {
    "DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON": "{'MALLOC_TRIM_THRESHOLD_': None}",
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
}

DEFAULT_RETRIES = 2
TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"


SCHEDULER_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?[A-Za-z0-9_.\-]+:[0-9]{1,5}$")
CONNECT_TIMEOUT = 20.0  # seconds to reach a scheduler before giving up


class SchedulerError(OSError, ValueError):
    """A Dask scheduler that cannot be used; the message is one line."""


def check_scheduler(scheduler: str) -> None:
    """Refuse a ``--scheduler`` that is neither an address like tcp://HOST:8786 nor a file."""
    if not os.path.isfile(scheduler) and not SCHEDULER_ADDRESS.fullmatch(scheduler):
        raise SchedulerError(
            f"--scheduler {scheduler!r}: not a scheduler address (like tcp://HOST:8786) "
            "nor a scheduler file"
        )


def require_dask() -> None:
    """Raise a one-line ImportError if dask.distributed is not installed."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e


def run_task(fn: Callable[[Any], Any], task: Any) -> Any:
    """Run ``fn(task)`` on a worker, first checking that the task's run folder is visible.

    A worker that cannot see the run folder would otherwise create a private copy of it on its
    own disk, and the run would only fail when the parts are merged.
    """
    folder = getattr(task, "folder", None)
    if folder and not os.path.isdir(folder):
        import socket

        raise FileNotFoundError(
            f"run folder {folder} is not visible on worker host {socket.gethostname()}: "
            "put the run folder (--out) on storage shared by every node"
        )
    return fn(task)


class DaskExecutor:
    """Run shards on a Dask cluster; ``map_unordered`` yields ``(task, result)`` as they finish.

    ``workers`` sizes the local cluster (default: the number of CPUs); it is ignored when
    ``scheduler`` is given (an address such as ``tcp://host:8786``, or the path of a scheduler
    file written by ``dask scheduler --scheduler-file``), since tasks queue on the scheduler
    until its workers take them.
    ``retries`` re-runs a shard whose task raised; a shard whose worker process died is
    rescheduled by Dask itself (up to ``distributed.scheduler.allowed-failures`` times).
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        threads_per_worker: int = 1,
        memory_limit: str | None = None,
        *,
        retries: int = DEFAULT_RETRIES,
        timeout: float = 60.0,
    ):
        require_dask()
        import dask
        from distributed import Client, LocalCluster

        self.retries = max(0, int(retries))
        self.cluster = None
        self._saved_trim: str | None = None
        self._scratch: str | None = None
        self._futures: dict[Any, Any] = {}
        self._closed = False
        if scheduler:
            where = {"scheduler_file": scheduler} if os.path.isfile(scheduler) else {}
            check_scheduler(scheduler)
            try:
                self.client = Client(
                    None if where else scheduler,
                    timeout=min(timeout, CONNECT_TIMEOUT),
                    set_as_default=False,
                    **where,
                )
            except (OSError, ValueError, TimeoutError) as e:
                msg = " ".join(str(e).split()) or type(e).__name__
                raise SchedulerError(
                    f"--scheduler {scheduler}: cannot reach the Dask scheduler within "
                    f"{min(timeout, CONNECT_TIMEOUT):.0f} s ({msg})"
                ) from None
            self.workers = len(self.client.scheduler_info().get("workers", {}))
            return
        self.workers = max(1, workers or os.cpu_count() or 1)
        # A nanny of another cluster started in this process may have left the variable in
        # os.environ, whence every worker process would inherit it: keep it out until close().
        self._saved_trim = os.environ.pop(TRIM_VARIABLE, None)
        self._scratch = tempfile.mkdtemp(prefix="credsim-dask-")
        config = {**WORKER_CONFIG, "temporary-directory": self._scratch}
        try:
            with dask.config.set(config):
                self.cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=max(1, int(threads_per_worker)),
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    memory_limit=memory_limit if memory_limit is not None else "auto",
                    local_directory=self._scratch,
                    silence_logs=logging.ERROR,
                )
                self.client = Client(self.cluster, timeout=timeout, set_as_default=False)
        except BaseException:
            self.close()
            raise

    @property
    def address(self) -> str:
        """The scheduler's address (``tcp://127.0.0.1:PORT`` for a local cluster)."""
        return self.client.scheduler.address

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        from distributed import as_completed

        token = uuid.uuid4().hex[:8]
        futures = {}
        for i, t in enumerate(tasks):
            shard = getattr(t, "shard", i)
            key = f"credsim-shard-{shard:05d}-{token}"
            f = self.client.submit(run_task, fn, t, key=key, pure=False, retries=self.retries)
            futures[f] = t
        self._futures.update(futures)
        try:
            for f in as_completed(futures, loop=self.client.loop):
                t = futures.pop(f)
                self._futures.pop(f, None)
                yield t, f.result()
        finally:
            self._cancel(list(futures))

    def _cancel(self, futures: list) -> None:
        if futures:
            try:
                self.client.cancel(futures)
            except Exception:  # best effort while shutting down
                pass
        for f in futures:
            self._futures.pop(f, None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        client = getattr(self, "client", None)
        if client is not None:
            self._cancel(list(self._futures))
            client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        if self._saved_trim is not None:
            os.environ.setdefault(TRIM_VARIABLE, self._saved_trim)
            self._saved_trim = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
