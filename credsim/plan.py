"""The plan of a regime's day: its phases, the components each runs, and their timings.

``credsim plan PRESET`` (or ``plan(regime)``) runs one shard of a small population and
prints the plan as a table, with the seconds each step took; a full run writes the same
rows, summed over its shards, into ``manifest.json`` (``plan_seconds``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["plan", "plan_command", "shard_of"]


def shard_of(regime: Any, population: int = 20_000, days: int = 30, seed: int = 1):
    """One shard of ``population`` citizens that has run ``regime`` (a preset name, a file
    or a Regime) for ``days`` days, without a ledger; ``shard.loop`` is its plan."""
    from credsim.engine.compiled import Compiled
    from credsim.engine.sampling import stream
    from credsim.engine.shard import Shard
    from credsim.ledger import Ledger
    from credsim.population import Census, synthesize
    from credsim.regime.load import load_regime
    from credsim.regime.schema import Regime

    r = regime if isinstance(regime, Regime) else load_regime(regime)
    census = Census.from_facts()
    c = Compiled(r, census.provinces, census.groups)
    pop = synthesize(population, stream(seed, 0, "population"), census)
    names = {k: getattr(c, k) for k in ("sources", "sanctions", "privileges")}
    names["rules"] = c.ledger_rules
    ledger = Ledger(0.0, 0, range(population), None, names)
    shard = Shard(c, pop, seed, 0, 0, days, ledger)
    for day in range(days):
        shard.run_day(day)
    return shard


def plan(regime: Any, population: int = 20_000, days: int = 30, seed: int = 1):
    """The plan of ``regime`` run on one shard (``shard_of``) as a DataFrame: phase,
    component, method, calls, seconds and share (of the day loop's time)."""
    df = shard_of(regime, population, days, seed).loop.to_df()
    total = float(df["seconds"].sum())
    df["share"] = df["seconds"] / total if total > 0 else 0.0
    return df


def plan_command(
    regime: Annotated[str, typer.Argument(help="A preset name or a regime TOML file.")],
    population: Annotated[
        int, typer.Option("--population", "-n", min=1, help="Citizens in the shard.")
    ] = 20_000,
    days: Annotated[int, typer.Option("--days", "-d", min=1, max=32000)] = 30,
    seed: Annotated[int, typer.Option(min=0)] = 1,
) -> None:
    """Print the day's plan: phases in order, each component's step, its calls and seconds."""
    from credsim.regime.load import RegimeError

    try:
        df = plan(regime, population, days, seed)
    except RegimeError as e:
        typer.echo(f"error: {e}", err=True)
        raise SystemExit(2) from None
    typer.echo(f"plan of {regime}: {population:,} citizens, {days} days, seed {seed}")
    typer.echo("(seconds: own time, summed over the days; a handler runs inside a phase step)")
    typer.echo(
        f"{'phase':<12}{'component':<13}{'method':<13}{'calls':>7}{'seconds':>10}{'share':>8}"
    )
    for row in df.itertuples():
        typer.echo(
            f"{row.phase:<12}{row.component:<13}{row.method:<13}{row.calls:>7}"
            f"{row.seconds:>10.4f}{row.share:>8.1%}"
        )
