"""Runs that cannot fit are refused before they start; a full disk is a clean, resumable stop.

A population whose shards would not fit in memory, or whose ledger would not fit on disk, is
refused with one line before anything is written. A disk that fills up during a run (a 3 MB
tmpfs, mounted when running as root; skipped where mounting is not permitted) stops the run
with one line saying what to do, leaves it marked incomplete, corrupts no earlier file, and
the run resumes to the result of an uninterrupted run once space is freed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from test_reliability_faults import FaultLog, scrub
from typer.testing import CliRunner

from credsim.cli import app

LOG = FaultLog("resources")


def cli(*args: str) -> tuple[int, list[str]]:
    """Run the CLI in this process; return the exit status and the lines on stderr."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stderr.splitlines()


def one_error(lines: list[str]) -> str:
    """The one ``error:`` line among the lines on stderr (the rest are estimates/progress)."""
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, lines
    others = [line for line in lines if not line.startswith("error: ")]
    assert all(line.startswith(("estimate: ", "press: ")) for line in others), lines
    return errors[0]


def masked(line: str) -> str:
    """A message with its machine-dependent figures replaced by N."""
    line = re.sub(r"\d[\d,.]* GiB", "N GiB", line)
    return re.sub(r"at most [\d,]+ with \d+", "at most N with N", line)


# --------------------------------------------------------------------------- memory and disk

REFUSED = [
    (
        "memory-shard",
        ["-n", "5000000000", "--shard-size", "2000000000", "--workers", "1"],
        "5 billion citizens in shards of 2 billion",
        "of memory",
        "--shard-size",
    ),
    (
        "memory-workers",
        ["-n", "5000000000", "--workers", "4096"],
        "5 billion citizens on 4,096 worker processes",
        "of memory",
        "--workers",
    ),
    (
        "disk-ledger",
        ["-n", "2000000000", "-d", "30000", "--workers", "1", "--ledger", "full", "--force"],
        "2 billion citizens for 30,000 days with the full ledger",
        "of disk",
        "--ledger sample=",
    ),
]


@pytest.mark.parametrize(
    ("args", "fault", "what", "advice"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_run_that_cannot_fit_is_refused_before_it_starts(tmp_path, args, fault, what, advice):
    out = tmp_path / "out"
    code, lines = cli("run", "press", *args, "-o", str(out), "--no-report")
    assert code == 2
    line = one_error(lines)
    assert what in line and advice in line, line
    assert not out.exists()
    key = next(c[0] for c in REFUSED if c[1] == args)
    LOG.add(
        f"resources/{key}",
        fault,
        "`credsim run press " + " ".join(args) + "`",
        "exit 2 before anything is written: `" + masked(scrub(line, DIR=out)) + "` "
        "(N: figures of this machine)",
    )


# --------------------------------------------------------------------------- disk full

SMALL = ["-n", "8000", "-d", "40", "--shard-size", "2000", "--no-report"]


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    ledger = pd.concat(
        [pd.read_parquet(p) for p in sorted((folder / "ledger").glob("*.parquet"))],
        ignore_index=True,
    )
    return {
        "metrics": pd.read_parquet(folder / "metrics.parquet"),
        "citizens": pd.read_parquet(folder / "citizens.parquet"),
        "ledger": ledger.sort_values("id").reset_index(drop=True),
    }


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (root only); skipped where mounting is not permitted."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_disk_full_during_a_run(tmp_path, small_disk, workers, monkeypatch):
    mnt = small_disk
    # The estimate counts every file and would refuse this run before it starts; a disk
    # shared with other writers can fill up at any moment, which is the fault tried here.
    import credsim.scale.budget as budget

    real_check = budget.check
    monkeypatch.setattr(
        budget,
        "check",
        lambda est, *a, **k: real_check(
            est.__class__(est.peak_bytes, est.seconds, 0.0, est.acts_per_day), *a, **k
        ),
    )
    code, lines = cli(
        "run",
        "press",
        "-n",
        "2000",
        "-d",
        "10",
        "--workers",
        "1",
        "-o",
        str(mnt / "early"),
        "--no-report",
    )
    assert code == 0, lines
    earlier = snapshot(mnt / "early")
    ballast = mnt / "ballast"
    ballast.write_bytes(b"\0" * 1_000_000)
    folder = mnt / "run"

    code, lines = cli("run", "press", *SMALL, "--workers", workers, "-o", str(folder))
    assert code == 2, lines
    line = one_error(lines)
    assert line.startswith("error: disk full writing "), line
    assert f"continue with credsim run --resume {folder}" in line
    assert "--ledger sample=" in line and "--out elsewhere" in line
    status = json.loads((folder / "manifest.json").read_text())["status"]
    assert status == "incomplete"
    assert snapshot(mnt / "early") == earlier  # no earlier file touched

    ballast.unlink()  # free space, then resume
    code, lines = cli("run", "--resume", str(folder), "--workers", "1", "--no-report")
    assert code == 0, lines
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    assert snapshot(mnt / "early") == earlier

    code, lines = cli("run", "press", *SMALL, "--workers", "1", "-o", str(tmp_path / "ref"))
    assert code == 0, lines
    ref, got = tables(tmp_path / "ref"), tables(folder)
    for name in ref:
        assert_frame_equal(ref[name], got[name], check_exact=True, obj=name)
    LOG.add(
        f"resources/disk-full-workers-{workers}",
        f"the disk fills up during a run ({workers} worker process{'es' * (workers != '1')}; "
        "3 MB tmpfs holding "
        "an earlier run and 1 MB of ballast)",
        f"`credsim run press -n 8000 -d 40 --shard-size 2000 --workers {workers} -o MNT/run`",
        "exit 2: `" + re.sub(r"writing \S+?:", "writing PATH:", scrub(line, MNT=mnt)) + "`; "
        "manifest `incomplete`; earlier run unchanged; after freeing space `--resume` "
        "completes it, identical to an uninterrupted run",
    )


def test_faults_doc():
    LOG.check()
