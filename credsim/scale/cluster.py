"""Start Dask workers on a batch system (SLURM or PBS) through dask-jobqueue.

``start_cluster`` submits ``jobs`` batch jobs, each running ``cores`` single-threaded Dask
worker processes that share ``memory``, and returns the cluster with its scheduler address.
The scheduler runs in the calling process (typically on the login node); ``credsim run
--backend dask --scheduler ADDRESS --out SHARED/FOLDER`` then sends the shards to it.

``cluster_app`` is the ``credsim cluster`` command group: ``credsim cluster slurm`` and
``credsim cluster pbs`` start such a cluster and keep it up until Ctrl-C; ``--dry-run`` prints
the job script without submitting anything.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import typer

from credsim.scale.dask import WORKER_ENVIRON

Kind = Literal["slurm", "pbs"]
KINDS: tuple[str, ...] = ("slurm", "pbs")
PLACEHOLDER_ADDRESS = "tcp://SCHEDULER-ADDRESS:8786"
JOBQUEUE_HINT = "batch-system clusters need dask-jobqueue: pip install 'credsim[dask]'"


def _cluster_class(kind: str):
    if kind not in KINDS:
        raise ValueError(f"unknown batch system {kind!r}: use slurm or pbs")
    try:
        import dask_jobqueue
    except ImportError as e:
        raise ImportError(JOBQUEUE_HINT) from e
    return dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.PBSCluster


def job_options(
    cores: int,
    memory: str,
    queue: str | None = None,
    walltime: str = "01:00:00",
    *,
    processes: int | None = None,
    account: str | None = None,
    prologue: Sequence[str] = (),
    interface: str | None = None,
    local_directory: str | None = None,
    log_directory: str | None = None,
    python: str | None = None,
    job_name: str = "credsim-worker",
) -> dict[str, Any]:
    """Keyword arguments of a dask-jobqueue job (and cluster) for credsim workers.

    Each job runs ``processes`` worker processes (default: one per core) of one thread each:
    a shard is single-threaded, so processes rather than threads use the cores. The workers'
    nanny is told not to set ``MALLOC_TRIM_THRESHOLD_`` (see ``credsim.scale.dask``).
    """
    if cores < 1:
        raise ValueError("cores must be at least 1")
    procs = processes or cores
    if not 1 <= procs <= cores:
        raise ValueError("processes must be between 1 and cores")
    env = [f'export {k}="{v}"' for k, v in WORKER_ENVIRON.items()]
    options: dict[str, Any] = {
        "cores": cores,
        "processes": procs,
        "memory": memory,
        "walltime": walltime,
        "job_name": job_name,
        "job_script_prologue": [*prologue, *env],
        "python": python or sys.executable,
    }
    for key, value in (
        ("queue", queue),
        ("account", account),
        ("interface", interface),
        ("local_directory", local_directory),
        ("log_directory", log_directory),
    ):
        if value is not None:
            options[key] = value
    return options


def job_script(
    kind: Kind,
    cores: int,
    memory: str,
    queue: str | None = None,
    walltime: str = "01:00:00",
    *,
    scheduler: str = PLACEHOLDER_ADDRESS,
    **options: Any,
) -> str:
    """The batch script one job would run, without starting a scheduler or submitting."""
    cls = _cluster_class(kind)
    kw = job_options(cores, memory, queue, walltime, **options)
    return cls.job_cls(scheduler=scheduler, name="credsim", **kw).job_script()


def start_cluster(
    kind: Kind,
    jobs: int,
    cores: int,
    memory: str,
    queue: str | None = None,
    walltime: str = "01:00:00",
    *,
    dashboard_address: str | None = None,
    **options: Any,
) -> tuple[Any, str]:
    """Start a scheduler here and submit ``jobs`` worker jobs; return ``(cluster, address)``.

    Close the cluster (``cluster.close()``) to cancel the jobs. Other keyword arguments are
    those of ``job_options``.
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    cls = _cluster_class(kind)
    kw = job_options(cores, memory, queue, walltime, **options)
    # dask-jobqueue takes the scheduler's dashboard through scheduler_options
    kw["scheduler_options"] = {"dashboard_address": dashboard_address}
    cluster = cls(**kw)
    try:
        cluster.scale(jobs=jobs)
    except BaseException:
        cluster.close()
        raise
    return cluster, cluster.scheduler_address


cluster_app = typer.Typer(
    help="Start Dask workers on a batch system for `credsim run --backend dask`.",
    no_args_is_help=True,
    add_completion=False,
)

Jobs = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Batch jobs to submit.")]
Cores = Annotated[int, typer.Option("--cores", "-c", min=1, help="Cores per job.")]
Memory = Annotated[str, typer.Option("--memory", "-m", help="Memory per job, e.g. 64GB.")]
Queue = Annotated[str | None, typer.Option("--queue", "-q", help="Partition or queue.")]
Walltime = Annotated[str, typer.Option("--walltime", "-t", help="HH:MM:SS per job.")]
Account = Annotated[str | None, typer.Option(help="Account or project to charge.")]
Processes = Annotated[
    int | None,
    typer.Option(min=1, help="Worker processes per job (default: one per core)."),
]
Prologue = Annotated[
    list[str] | None,
    typer.Option(
        help="Shell line run before the workers start, e.g. 'source /shared/env/bin/activate' "
        "(repeatable)."
    ),
]
Interface = Annotated[
    str | None, typer.Option(help="Network interface for scheduler and workers, e.g. ib0.")
]
LocalDirectory = Annotated[
    str | None, typer.Option(help="Node-local scratch folder for the workers (e.g. $TMPDIR).")
]
LogDirectory = Annotated[str | None, typer.Option(help="Folder for the jobs' output files.")]
Dashboard = Annotated[
    str | None,
    typer.Option(help="Address of the scheduler's HTTP endpoint and dashboard (default :8787)."),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the job script and exit; submit nothing.")
]


def _serve(kind: Kind, jobs: int, dry_run: bool, dashboard: str | None, **kw: Any) -> None:
    try:
        if dry_run:
            typer.echo(job_script(kind, **kw), nl=False)
            typer.echo(
                f"# {jobs} such job(s); {PLACEHOLDER_ADDRESS} is replaced by the scheduler's "
                "address when the cluster starts",
                err=True,
            )
            return
        cluster, address = start_cluster(kind, jobs, dashboard_address=dashboard, **kw)
    except (ImportError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"scheduler: {address}")
    typer.echo(f"submitted {jobs} {kind} job(s) of {kw['cores']} cores; run shards with:")
    typer.echo(
        f"  credsim run REGIME --population N --out /shared/runs/NAME "
        f"--backend dask --scheduler {address}"
    )
    typer.echo("Ctrl-C stops the scheduler and cancels the jobs.")
    seen = -1
    try:
        while True:
            n = len(cluster.scheduler_info.get("workers", {}))
            if n != seen:
                typer.echo(f"workers connected: {n}", err=True)
                seen = n
            time.sleep(5)
    except KeyboardInterrupt:
        typer.echo("stopping: cancelling the jobs", err=True)
    finally:
        cluster.close()


@cluster_app.command()
def slurm(
    cores: Cores,
    memory: Memory,
    jobs: Jobs = 1,
    queue: Queue = None,
    walltime: Walltime = "01:00:00",
    account: Account = None,
    processes: Processes = None,
    prologue: Prologue = None,
    interface: Interface = None,
    local_directory: LocalDirectory = None,
    log_directory: LogDirectory = None,
    dashboard: Dashboard = None,
    dry_run: DryRun = False,
) -> None:
    """Submit SLURM jobs running Dask workers; print the scheduler address; wait for Ctrl-C."""
    _serve(
        "slurm",
        jobs,
        dry_run,
        dashboard,
        cores=cores,
        memory=memory,
        queue=queue,
        walltime=walltime,
        account=account,
        processes=processes,
        prologue=tuple(prologue or ()),
        interface=interface,
        local_directory=local_directory,
        log_directory=log_directory,
    )


@cluster_app.command()
def pbs(
    cores: Cores,
    memory: Memory,
    jobs: Jobs = 1,
    queue: Queue = None,
    walltime: Walltime = "01:00:00",
    account: Account = None,
    processes: Processes = None,
    prologue: Prologue = None,
    interface: Interface = None,
    local_directory: LocalDirectory = None,
    log_directory: LogDirectory = None,
    dashboard: Dashboard = None,
    dry_run: DryRun = False,
) -> None:
    """Submit PBS jobs running Dask workers; print the scheduler address; wait for Ctrl-C."""
    _serve(
        "pbs",
        jobs,
        dry_run,
        dashboard,
        cores=cores,
        memory=memory,
        queue=queue,
        walltime=walltime,
        account=account,
        processes=processes,
        prologue=tuple(prologue or ()),
        interface=interface,
        local_directory=local_directory,
        log_directory=log_directory,
    )


__all__ = ["KINDS", "cluster_app", "job_options", "job_script", "start_cluster"]

if __name__ == "__main__":  # pragma: no cover
    cluster_app()
