"""A corpus of bad inputs, one table row each, with the one line credsim must answer.

Regime files (the press preset with one thing broken), ``--set`` overrides, command-line
values, damaged run folders read by explain, query, report and compare, interrupted folders
given to ``--resume``, SQL that would write or reach outside a run folder, and dashboard
requests. Each row: an id, what is wrong, the command, and words of the expected error line.
The contract checked for every row: exit status 2 (HTTP 4xx for the dashboard), one
``error: `` line naming the file or option, no traceback, and the folder given unchanged.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import tomllib
import warnings
from importlib import resources
from pathlib import Path

import pytest
import tomli_w
from test_reliability_faults import FaultLog, scrub
from typer.testing import CliRunner

import credsim
from credsim.cli import app

LOG = FaultLog("corpus")
PRESS = resources.files("credsim.regime.presets").joinpath("press.toml").read_text("utf-8")
PRESS_DATA = tomllib.loads(PRESS)
RUN = ["-n", "200", "-d", "2", "--no-report", "--workers", "1"]


def cli(*args: str) -> tuple[int, list[str]]:
    """Run the CLI in this process; the exit code and the stderr lines (estimates left out)."""
    result = CliRunner().invoke(app, list(args))
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    assert exc is None, f"uncaught {exc!r}"
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    lines = [
        line
        for line in result.stderr.splitlines()
        if not line.startswith(("estimate: ", "warning: "))
    ]
    return result.exit_code, lines


def one_error(*args: str) -> str:
    """The CLI on bad input: exit 2 and exactly one ``error:`` line, which is returned."""
    code, lines = cli(*args)
    assert code == 2, (code, lines)
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def stable(line: str) -> str:
    """A line as the faults page shows it: positions in a torn file and hashes, which change
    with the size of the folder's files, written as letters."""
    line = re.sub(r"line \d+ column \d+ \(char \d+\)", "line L column C (char N)", line)
    line = re.sub(r"\bhash [0-9a-f]{16}\b", "hash H", line)
    return re.sub(r"'[0-9a-f]{16}'", "'H'", line)


def listing(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------- regime files


def _set(path: str, value):
    """A mutation of the press data: ``path`` (dotted, list indexes as numbers) set to value."""

    def apply(d: dict) -> None:
        *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = d
        for p in head:
            node = node[p]
        node[last] = value

    return apply


def _drop(path: str):
    def apply(d: dict) -> None:
        *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = d
        for p in head:
            node = node[p]
        del node[last]

    return apply


def _append(kind: str, item: dict):
    def apply(d: dict) -> None:
        d.setdefault(kind, []).append(item)

    return apply


# (id, fault, mutation of the press data, words of the error after "FILE: ")
FILE_CASES = [
    (
        "bool-duration",
        "a duration of true",
        _set("sanctions.0.duration", True),
        "sanctions[0].duration: Input should be a valid integer",
    ),
    (
        "bool-delta",
        "a score change of true",
        _set("rules.0.delta", True),
        "rules[0].delta: Input should be a valid integer",
    ),
    (
        "bool-rate",
        "a rate of false",
        _set("behaviours.0.rate", False),
        "behaviours[0].rate: Input should be a valid number",
    ),
    (
        "bool-coverage",
        "a coverage of true",
        _set("sources.0.coverage_urban", True),
        "sources[0].coverage_urban: Input should be a valid number",
    ),
    (
        "bool-false-match",
        "a false-match rate of true",
        _set("sources.0.false_match", True),
        "sources[0].false_match: Input should be a valid number",
    ),
    (
        "bool-score-initial",
        "an initial score of true",
        _set("score.initial", True),
        "score.initial: Input should be a valid integer",
    ),
    (
        "bool-tier-min",
        "a tier minimum of false",
        _set("tiers.1.min", False),
        "tiers[1].min: Input should be a valid integer",
    ),
    (
        "bool-delay",
        "a source delay of true",
        _set("sources.1.delay", True),
        "sources[1].delay: Input should be a valid integer",
    ),
    (
        "bool-attempts",
        "privilege attempts of true",
        _set("privileges.0.attempts_urban", True),
        "privileges[0].attempts_urban: Input should be a valid number",
    ),
    (
        "bool-urban-factor",
        "an urban factor of true",
        _set("behaviours.0.urban_factor", True),
        "behaviours[0].urban_factor: Input should be a valid number",
    ),
    (
        "string-rate",
        'a rate of "0.5"',
        _set("behaviours.0.rate", "0.5"),
        "behaviours[0].rate: Input should be a valid number",
    ),
    (
        "string-delta",
        'a score change of "-5"',
        _set("rules.0.delta", "-5"),
        "rules[0].delta: Input should be a valid integer",
    ),
    (
        "string-duration",
        'a duration of "365"',
        _set("sanctions.0.duration", "365"),
        "sanctions[0].duration: Input should be a valid integer",
    ),
    (
        "string-coverage",
        'a coverage of "0.8"',
        _set("sources.0.coverage_urban", "0.8"),
        "sources[0].coverage_urban: Input should be a valid number",
    ),
    (
        "string-observes",
        'an observation probability of "0.3"',
        _set("sources.0.observes.jaywalking", "0.3"),
        "sources[0].observes.jaywalking: Input should be a valid number",
    ),
    (
        "string-propensity",
        'propensity "false"',
        _set("behaviours.3.propensity", "false"),
        "behaviours[3].propensity: Input should be a valid boolean",
    ),
    (
        "number-propensity",
        "propensity 0",
        _set("behaviours.3.propensity", 0),
        "behaviours[3].propensity: Input should be a valid boolean",
    ),
    (
        "number-name",
        "a behaviour name that is a number",
        _set("behaviours.0.name", 7),
        "behaviours[0].name: Input should be a valid string",
    ),
    (
        "float-duration",
        "a duration of 1.5 days",
        _set("sanctions.0.duration", 1.5),
        "sanctions[0].duration: Input should be a valid integer",
    ),
    (
        "float-delta",
        "a score change of -5.5",
        _set("rules.0.delta", -5.5),
        "rules[0].delta: Input should be a valid integer",
    ),
    (
        "nan-calibration",
        "calibration = {x = nan}",
        _set("regime.calibration", {"x": math.nan}),
        "regime.calibration.x: Input should be a finite number",
    ),
    (
        "inf-calibration",
        "calibration = {x = inf}",
        _set("regime.calibration", {"x": math.inf}),
        "regime.calibration.x: Input should be a finite number",
    ),
    (
        "nan-urban-factor",
        "an urban factor of nan",
        _set("behaviours.0.urban_factor", math.nan),
        "behaviours[0].urban_factor: Input should be a finite number",
    ),
    (
        "nan-false-match-group",
        "a false-match multiplier of nan",
        _set("sources.0.false_match_group", {"minority": math.nan}),
        "sources[0].false_match_group.minority: Input should be a finite number",
    ),
    (
        "inf-attempts",
        "infinite attempts",
        _set("privileges.0.attempts_urban", math.inf),
        "privileges[0].attempts_urban: Input should be a finite number",
    ),
    (
        "nan-schedule",
        "a schedule factor of nan",
        _set("behaviours.0.schedule", [[0, math.nan]]),
        "behaviours[0].schedule[0][1]: Input should be a finite number",
    ),
    (
        "unknown-group",
        "false_match_group names a group that does not exist",
        _set("sources.0.false_match_group", {"uyghur_typo": 10.0}),
        "sources[0].false_match_group: unknown group 'uyghur_typo'",
    ),
    (
        "unknown-key-source",
        "an unknown key in a source",
        _set("sources.0.colour", "red"),
        "sources[0].colour: unknown key",
    ),
    (
        "unknown-key-behaviour",
        "an unknown key in a behaviour",
        _set("behaviours.0.frequency", 0.1),
        "behaviours[0].frequency: unknown key",
    ),
    (
        "unknown-key-rule",
        "an unknown key in a rule",
        _set("rules.0.points", -5),
        "rules[0].points: unknown key",
    ),
    (
        "unknown-key-sanction",
        "an unknown key in a sanction",
        _set("sanctions.0.length", 30),
        "sanctions[0].length: unknown key",
    ),
    (
        "unknown-key-tier",
        "an unknown key in a tier",
        _set("tiers.0.max", 1300),
        "tiers[0].max: unknown key",
    ),
    (
        "unknown-key-score",
        "an unknown key in the score",
        _set("score.start", 1000),
        "score.start: unknown key",
    ),
    (
        "unknown-key-regime",
        "an unknown key in the regime table",
        _set("regime.author", "x"),
        "regime.author: unknown key",
    ),
    (
        "unknown-key-privilege",
        "an unknown key in a privilege",
        _set("privileges.0.price", 3),
        "privileges[0].price: unknown key",
    ),
    (
        "unknown-key-adaptation",
        "an unknown key in adaptation",
        _set("adaptation.fear", 0.5),
        "adaptation.fear: unknown key",
    ),
    (
        "unknown-key-rollout",
        "an unknown key in a rollout entry",
        _set("sources.0.rollout.0.province", "x"),
        "sources[0].rollout[0].province: unknown key",
    ),
    (
        "unknown-top-table",
        "an unknown top-level table",
        _set("penalties", {"a": 1}),
        "penalties: unknown key",
    ),
    (
        "empty-rollout-source",
        "rollout = [] on a source",
        _set("sources.0.rollout", []),
        "sources[0].rollout: List should have at least 1 item",
    ),
    (
        "rollout-not-a-list",
        "rollout given as a table",
        _set("sources.0.rollout", {"region": "urban"}),
        "sources[0].rollout: Input should be a valid list",
    ),
    (
        "rollout-bad-region",
        "a rollout region that does not exist",
        _set("sources.0.rollout.0.region", "suburban"),
        "sources[0].rollout[0].region: Input should be 'all', 'urban' or 'rural'",
    ),
    (
        "rollout-negative-day",
        "a rollout from day -1",
        _set("sources.0.rollout.0.day", -1),
        "sources[0].rollout[0].day: Input should be greater than or equal to 0",
    ),
    (
        "tier-above-max",
        "a tier minimum above score.max",
        _set("tiers.0.min", 5000),
        "tiers[0].min: 5000 is outside the score range 0 to 1300",
    ),
    (
        "tier-below-min",
        "a tier minimum below score.min",
        _set("tiers.1.min", -10),
        "tiers[1].min: -10 is outside the score range 0 to 1300",
    ),
    (
        "score-min-above-max",
        "score.min above score.max",
        _set("score.min", 2000),
        "score: need min <= initial <= max",
    ),
    (
        "score-initial-above-max",
        "an initial score above the maximum",
        _set("score.initial", 1400),
        "score: need min <= initial <= max",
    ),
    (
        "schedule-unordered",
        "schedule days not increasing",
        _set("behaviours.0.schedule", [[10, 1.0], [5, 2.0]]),
        "behaviours[0].schedule: schedule days must be strictly increasing",
    ),
    (
        "schedule-triple",
        "a schedule knot of three numbers",
        _set("behaviours.0.schedule", [[10, 1.0, 3]]),
        "behaviours[0].schedule[0]: Tuple should have at most 2 items",
    ),
    (
        "schedule-string-day",
        "a schedule day given as a string",
        _set("behaviours.0.schedule", [["10", 1.0]]),
        "behaviours[0].schedule[0][0]: Input should be a valid integer",
    ),
    (
        "kind-unknown",
        "an unknown behaviour kind",
        _set("behaviours.0.kind", "crime"),
        "behaviours[0].kind: Input should be",
    ),
    (
        "who-unknown",
        "an unknown 'who'",
        _set("behaviours.0.who", "elders"),
        "behaviours[0].who: Input should be",
    ),
    (
        "transparency-unknown",
        "an unknown transparency",
        _set("regime.transparency", "opaque"),
        "regime.transparency: Input should be",
    ),
    (
        "renewal-unknown",
        "an unknown renewal",
        _set("sanctions.0.renewal", "sometimes"),
        "sanctions[0].renewal: Input should be",
    ),
    (
        "observes-over-one",
        "an observation probability of 3",
        _set("sources.0.observes.jaywalking", 3.0),
        "sources[0].observes.jaywalking: Input should be less than or equal to 1",
    ),
    (
        "observes-unknown",
        "a source observing an undeclared behaviour",
        _set("sources.0.observes.loitering", 0.5),
        "sources[0].observes: unknown behaviour 'loitering'",
    ),
    (
        "rule-unknown-sanction",
        "a rule starting an undeclared sanction",
        _set("rules.0.sanction", "exile"),
        "rules[0].sanction: unknown sanction 'exile'",
    ),
    (
        "behaviours-empty",
        "behaviours = []",
        _set("behaviours", []),
        "behaviours: List should have at least 1 item",
    ),
    (
        "behaviours-missing",
        "no behaviours at all",
        _drop("behaviours"),
        "behaviours: Field required",
    ),
    (
        "duplicate-source",
        "two sources with one name",
        lambda d: d["sources"].append(copy.deepcopy(d["sources"][0])),
        "sources: name 'camera' declared twice",
    ),
    (
        "rule-name-pattern",
        "a rule name with a space",
        _set("rules.0.name", "jay walking"),
        "rules[0].name: String should match pattern",
    ),
    (
        "delta-huge",
        "a score change of 10**9",
        _set("rules.0.delta", 10**9),
        "rules[0].delta: Input should be less than or equal to 30000",
    ),
    (
        "duration-zero",
        "a sanction of 0 days",
        _set("sanctions.0.duration", 0),
        "sanctions[0].duration: Input should be greater than or equal to 1",
    ),
    (
        "redress-comply-over-one",
        "a compliance probability of 2",
        _set("rules.2.redress.comply", 2.0),
        "rules[2].redress.comply: Input should be less than or equal to 1",
    ),
    (
        "redress-unknown-demand",
        "a redress demand that does not exist",
        _set("rules.2.redress.demand", "grovel"),
        "rules[2].redress.demand: Input should be",
    ),
    (
        "green-lane-unknown-tier",
        "a green lane for an undeclared tier",
        _append("green_lanes", {"tier": "platinum"}),
        "unknown tier 'platinum'",
    ),
    (
        "province-unknown",
        "a coverage for a province that does not exist",
        _set("sources.0.coverage_province", {"atlantis": 0.5}),
        "sources[0].coverage_province: unknown province 'atlantis'",
    ),
]

RAW_CASES = [
    # (id, fault, file text, words of the error after "FILE: ")
    ("toml-unclosed-table", "an unclosed table header", "[regime\nname = 'x'\n", "TOML syntax"),
    ("toml-duplicate-key", "a key given twice", "[score]\nmin = 0\nmin = 1\n", "TOML syntax"),
    ("toml-bare-string", "a bare word as a value", "[score]\nmin = zero\n", "TOML syntax"),
    (
        "toml-only-comment",
        "a file of comments only",
        "# nothing here\n",
        "behaviours: Field required",
    ),
    (
        "toml-top-level-array",
        "behaviours as an array of numbers",
        "behaviours = [1]\n",
        "behaviours[0]: Input should be a valid dictionary",
    ),
    (
        "toml-nul-byte",
        "a NUL byte in the text",
        "[score]\nmin = 0\x00\n",
        "binary data, not a TOML file",
    ),
    ("toml-whitespace", "only whitespace", "   \n\t\n", "file is empty"),
]


def _case_file(tmp_path: Path, key: str, mutate) -> Path:
    data = copy.deepcopy(PRESS_DATA)
    mutate(data)
    f = tmp_path / f"{key}.toml"
    f.write_text(tomli_w.dumps(data), "utf-8")
    return f


@pytest.mark.parametrize("key, fault, mutate, words", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_regime_file(tmp_path, monkeypatch, key, fault, mutate, words):
    monkeypatch.chdir(tmp_path)
    f = _case_file(tmp_path, key, mutate)
    line = one_error("validate", str(f))
    assert line.startswith(f"error: {f}: ") and words in line, (words, line)
    assert one_error("run", str(f), *RUN, "-o", str(tmp_path / "out")) == line
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
    LOG.add(
        f"file/{key}",
        fault,
        "`credsim validate FILE`, `credsim run FILE`",
        "exit 2, nothing written: `" + scrub(line, FILE=f) + "`",
    )


@pytest.mark.parametrize("key, fault, text, words", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_bad_regime_text(tmp_path, key, fault, text, words):
    f = tmp_path / f"{key}.toml"
    f.write_text(text, "utf-8")
    line = one_error("validate", str(f))
    assert line.startswith(f"error: {f}: ") and words in line, (words, line)
    LOG.add(
        f"file/{key}", fault, "`credsim validate FILE`", "exit 2: `" + scrub(line, FILE=f) + "`"
    )


def test_every_shipped_preset_still_validates():
    from credsim.regime.load import load_regime, presets

    for name in presets():
        assert load_regime(name).regime.name


# --------------------------------------------------------------------------- special files


def test_special_files_are_refused_without_reading_them(tmp_path):
    fifo = tmp_path / "regime.fifo.toml"
    os.mkfifo(fifo)
    sparse = tmp_path / "sparse.toml"
    with open(sparse, "wb") as f:
        f.truncate(600 * 2**20)  # 600 MB of holes: no disk used
    cases = [
        ("dev-zero", "/dev/zero", "`/dev/zero` as a regime", "not a regular file"),
        ("fifo", str(fifo), "a FIFO as a regime (nobody writes to it)", "not a regular file"),
        ("sparse-600mb", str(sparse), "a 600 MB sparse file", "file is larger than 1000000 bytes"),
        ("dev-null", "/dev/null", "`/dev/null` as a regime", "not a regular file"),
    ]
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for key, path, fault, words in cases:
        line = one_error("validate", path)
        assert line == f"error: {path}: {words}" or words in line, line
        LOG.add(
            f"special/{key}",
            fault,
            "`credsim validate FILE`",
            "exit 2, nothing read: `" + scrub(line, DIR=tmp_path) + "`",
        )
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB on Linux
    assert grown < 100 * 1024, f"reading special files grew the process by {grown} KiB"


# --------------------------------------------------------------------------- --set

SET_CASES = [
    # (id, assignment, words)
    (
        "bool-duration",
        "sanctions[0].duration=true",
        "sanctions[0].duration: Input should be a valid integer",
    ),
    ("bool-delta", "rules[0].delta=true", "rules[0].delta: Input should be a valid integer"),
    ("bool-rate", "behaviours[0].rate=true", "behaviours[0].rate: Input should be a valid number"),
    (
        "string-rate",
        'behaviours[0].rate="0.5"',
        "behaviours[0].rate: Input should be a valid number",
    ),
    (
        "string-delta-by-name",
        'rules.jaywalking.delta="-20"',
        "rules[0].delta: Input should be a valid integer",
    ),
    (
        "string-false-match",
        'sources.camera.false_match="0.03"',
        "sources[0].false_match: Input should be a valid number",
    ),
    ("nan-rate", "behaviours[0].rate=nan", "behaviours[0].rate: Input should be a finite number"),
    (
        "inf-factor",
        "behaviours[0].urban_factor=inf",
        "behaviours[0].urban_factor: Input should be a finite number",
    ),
    (
        "nan-calibration",
        "regime.calibration={x=nan}",
        "regime.calibration.x: Input should be a finite number",
    ),
    ("unclosed-bracket", "behaviours[0.rate=0.1", "malformed path 'behaviours[0.rate'"),
    ("stray-bracket", "behaviours]0[.rate=0.1", "malformed path"),
    ("double-dot", "rules..delta=1", "malformed path 'rules..delta'"),
    ("leading-dot", ".score.min=1", "malformed path '.score.min'"),
    ("trailing-dot", "score.min.=1", "malformed path 'score.min.'"),
    ("empty-brackets", "behaviours[].rate=0.1", "malformed path 'behaviours[].rate'"),
    ("nested-brackets", "behaviours[[0]].rate=0.1", "malformed path"),
    ("empty-path", "=1", "malformed path ''"),
    ("bracket-first", "[0].rate=0.1", "malformed path '[0].rate'"),
    (
        "unknown-group",
        "sources.camera.false_match_group={bogus=2.0}",
        "sources[0].false_match_group: unknown group 'bogus'",
    ),
    ("unknown-key-source", "sources.camera.colour=1", "sources[0].colour: unknown key"),
    ("unknown-key-score", "score.start=1", "score.start: unknown key"),
    (
        "empty-rollout",
        "sources.camera.rollout=[]",
        "sources[0].rollout: List should have at least 1 item",
    ),
    (
        "empty-rule-rollout",
        "rules.jaywalking.rollout=[]",
        "rules[0].rollout: List should have at least 1 item",
    ),
    ("tier-above-max", "tiers[0].min=5000", "tiers[0].min: 5000 is outside the score range"),
    (
        "score-max-below-tiers",
        "score.max=1040",
        "tiers[0].min: 1050 is outside the score range 0 to 1040",
    ),
    ("no-item-named", "rules.littering.delta=1", "no item named 'littering'"),
    ("index-out-of-range", "behaviours[99].rate=0.1", "index 99 out of range"),
    ("not-a-table", "score.min.x=1", "is not a table or list"),
    ("no-equals", "score.min", "expected PATH=VALUE"),
    ("control-char", "score.min=\x07", "control characters are not allowed"),
    (
        "array-for-number",
        "behaviours[0].rate=[0.1]",
        "behaviours[0].rate: Input should be a valid number",
    ),
    (
        "table-for-number",
        "sanctions[0].duration={d=1}",
        "sanctions[0].duration: Input should be a valid integer",
    ),
    (
        "date-for-string",
        "regime.start_date=2020-01-01",
        "regime.start_date: Input should be a valid string",
    ),
    ("float-for-int", "score.initial=1000.5", "score.initial: Input should be a valid integer"),
    (
        "int-for-bool",
        "behaviours[3].propensity=1",
        "behaviours[3].propensity: Input should be a valid boolean",
    ),
]


@pytest.mark.parametrize("key, assignment, words", SET_CASES, ids=[c[0] for c in SET_CASES])
def test_bad_set(tmp_path, monkeypatch, key, assignment, words):
    monkeypatch.chdir(tmp_path)
    line = one_error("validate", "press", "--set", assignment)
    assert words in line, (words, line)
    assert one_error("run", "press", *RUN, "--set", assignment) == line
    assert list(tmp_path.iterdir()) == []
    LOG.add(
        f"override/{key}",
        f"`--set {assignment!r}`" if not assignment.isprintable() else f"`--set {assignment}`",
        "`credsim validate press --set`, `credsim run press --set`",
        f"exit 2, nothing written: `{line!r}`"
        if not line.isprintable()
        else f"exit 2, nothing written: `{line}`",
    )


# --------------------------------------------------------------------------- command line

OPTION_CASES = [
    # (id, fault, arguments after `credsim run press`, words)
    ("out-empty", '`-o ""` (the current folder)', ["-o", ""], "not a run folder name"),
    ("out-dot", "`-o .` (the current folder)", ["-o", "."], "not a run folder name"),
    (
        "population-huge",
        "`-n 1000000000000`",
        ["-n", "1000000000000"],
        "at most 100,000,000,000 citizens",
    ),
    (
        "shard-size-tiny",
        "`-n 100000000 --shard-size 10` (10 million shards)",
        ["-n", "100000000", "--shard-size", "10"],
        "more than 100,000; use a larger --shard-size",
    ),
    (
        "time-budget",
        "`-n 3000000000 -d 30000` (days of computing)",
        ["-n", "3000000000", "-d", "30000", "--ledger", "none"],
        "is estimated to take",
    ),
    (
        "scheduler-not-a-url",
        '`--backend dask --scheduler "not a url"`',
        ["--backend", "dask", "--scheduler", "not a url"],
        "not a scheduler address",
    ),
    (
        "scheduler-no-port",
        "`--backend dask --scheduler tcp://host`",
        ["--backend", "dask", "--scheduler", "tcp://host"],
        "not a scheduler address",
    ),
    ("backend-unknown", "`--backend ray`", ["--backend", "ray"], "unknown backend 'ray'"),
    ("ledger-bad", "`--ledger everything`", ["--ledger", "everything"], "ledger mode 'everything'"),
    (
        "regime-missing",
        "a regime file that does not exist",
        ["nosuch/regime.toml"],
        "file not found",
    ),
    (
        "resume-missing",
        "`--resume` a folder that does not exist",
        ["--resume", "nosuch"],
        "no such run folder",
    ),
]


@pytest.mark.parametrize("key, fault, args, words", OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_bad_command_line(tmp_path, monkeypatch, key, fault, args, words):
    monkeypatch.chdir(tmp_path)
    base = ["-n", "200", "-d", "2", "--no-report", "--workers", "1"]
    if args and not args[0].startswith("-"):  # a regime of its own
        line = one_error("run", *args, *base)
    elif args[:1] == ["--resume"]:
        line = one_error("run", *args, "--no-report")
    else:
        line = one_error("run", "press", *base, *args)
    assert words in line, (words, line)
    assert list(tmp_path.iterdir()) == [], key
    LOG.add(f"option/{key}", fault, "`credsim run press ...`", f"exit 2, nothing written: `{line}`")


USAGE_CASES = [
    # (id, arguments after `credsim run press`, words): refused by the option parser
    ("population-zero", ["-n", "0"], "--population"),
    ("population-negative", ["-n", "-5"], "--population"),
    ("population-text", ["-n", "many"], "--population"),
    ("days-zero", ["-d", "0"], "--days"),
    ("days-huge", ["-d", "100000"], "--days"),
    ("seed-negative", ["-s", "-1"], "--seed"),
    ("shard-size-zero", ["--shard-size", "0"], "--shard-size"),
    ("workers-zero", ["--workers", "0"], "--workers"),
    ("unknown-option", ["--colour", "red"], "No such option: --colour"),
]


def test_bad_option_values_in_a_real_process(tmp_path):
    import subprocess
    import sys

    for key, args, words in USAGE_CASES:
        p = subprocess.run(
            [sys.executable, "-m", "credsim", "run", "press", "--no-report", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = p.stderr.splitlines()
        assert p.returncode == 2 and len(lines) == 1, (key, p.returncode, p.stderr)
        assert lines[0].startswith("error: ") and words in lines[0], (key, lines)
        assert "Traceback" not in p.stdout + p.stderr
        assert list(tmp_path.iterdir()) == [], key
        LOG.add(
            f"option/{key}",
            f"`{' '.join(args)}`",
            "`credsim run press ...` (a real process)",
            f"exit 2, nothing written: `{lines[0]}`",
        )


def test_other_commands_bad_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("keep")
    cases = [
        (
            "serve-runs-file",
            "`credsim serve --runs FILE`",
            ["serve", "--runs", str(afile), "--port", "8765"],
            "is a file, not a folder of runs",
        ),
        (
            "sweep-sample-huge",
            "`sweep --sample lhs 100000000`",
            [
                "sweep",
                "press",
                "--vary",
                "behaviours.jaywalking.rate=0.001:0.01",
                "--sample",
                "lhs",
                "100000000",
                "--population",
                "200",
                "--days",
                "2",
            ],
            "at most 100,000 points",
        ),
        (
            "sensitivity-n-huge",
            "`sensitivity -n 100000000`",
            [
                "sensitivity",
                "press",
                "--param",
                "behaviours.jaywalking.rate=0.001:0.01",
                "-n",
                "100000000",
                "--population",
                "200",
            ],
            "at most 10,000 base samples",
        ),
        (
            "explain-no-folder",
            "`credsim explain` on a missing folder",
            ["explain", str(tmp_path / "nosuch"), "1"],
            "no such run folder",
        ),
        ("report-file", "`credsim report FILE`", ["report", str(afile)], "no such run folder"),
        ("query-empty", "`credsim query DIR ''`", ["query", str(tmp_path), ""], "SQL is empty"),
    ]
    for key, fault, args, words in cases:
        line = one_error(*args)
        assert words in line, (key, line)
        assert afile.read_text() == "keep"
        LOG.add(
            f"command/{key}",
            fault,
            f"`credsim {args[0]}`",
            "exit 2: `" + scrub(line, FILE=afile, DIR=tmp_path) + "`",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


# --------------------------------------------------------------------------- run folders


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    credsim.Sim("press", population=3000, days=30, seed=5, out=out, workers=1).run()
    return out


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Path:
    """A run of three shards stopped in its second shard (as Ctrl-C would stop it)."""
    import credsim.sim as sim_module

    out = tmp_path_factory.mktemp("interrupted") / "run"
    real = sim_module.run_shard

    def stop_at_second(task, progress=None):
        if task.shard == 1:
            raise KeyboardInterrupt
        return real(task, progress)

    sim_module.run_shard = stop_at_second
    try:
        with pytest.raises(KeyboardInterrupt):
            credsim.Sim(
                "press", population=3000, days=10, seed=5, out=out, shard_size=1000, workers=1
            ).run()
    finally:
        sim_module.run_shard = real
    assert (out / "parts" / "done-00000.json").exists()
    return out


def _damage(kind: str, folder: Path) -> None:
    ledger = sorted((folder / "ledger").glob("*.parquet"))
    if kind == "ledger-part-deleted":
        ledger[0].unlink()
    elif kind == "ledger-part-truncated":
        with open(ledger[0], "r+b") as f:
            f.truncate(ledger[0].stat().st_size // 2)
    elif kind == "metrics-deleted":
        (folder / "metrics.parquet").unlink()
    elif kind == "metrics-truncated":
        with open(folder / "metrics.parquet", "r+b") as f:
            f.truncate(100)
    elif kind == "citizens-deleted":
        (folder / "citizens.parquet").unlink()
    elif kind == "citizens-garbage":
        size = (folder / "citizens.parquet").stat().st_size
        (folder / "citizens.parquet").write_bytes(b"x" * size)
    elif kind == "groups-deleted":
        (folder / "metrics_groups.parquet").unlink()
    elif kind == "manifest-torn":
        text = (folder / "manifest.json").read_text()
        (folder / "manifest.json").write_text(text[: len(text) // 2])
    elif kind == "manifest-not-object":
        (folder / "manifest.json").write_text("[1, 2, 3]")
    elif kind == "manifest-population-text":
        m = json.loads((folder / "manifest.json").read_text())
        m["population"] = "many"
        (folder / "manifest.json").write_text(json.dumps(m))
    elif kind == "manifest-deleted":
        (folder / "manifest.json").unlink()
    elif kind == "manifest-folder":
        (folder / "manifest.json").unlink()
        (folder / "manifest.json").mkdir()
    else:
        raise AssertionError(kind)


DAMAGE = [
    (
        "ledger-part-deleted",
        "a ledger part deleted",
        "missing (the manifest lists it); the folder is damaged",
    ),
    (
        "ledger-part-truncated",
        "a ledger part cut in half",
        "size differs from the manifest's; the folder is damaged",
    ),
    (
        "metrics-deleted",
        "metrics.parquet deleted",
        "metrics.parquet: missing (the manifest lists it)",
    ),
    (
        "metrics-truncated",
        "metrics.parquet cut to 100 bytes",
        "metrics.parquet: size differs from the manifest's",
    ),
    (
        "citizens-deleted",
        "citizens.parquet deleted",
        "citizens.parquet: missing (the manifest lists it)",
    ),
    (
        "citizens-garbage",
        "citizens.parquet overwritten with junk of the same size",
        "citizens.parquet",
    ),
    (
        "groups-deleted",
        "metrics_groups.parquet deleted",
        "metrics_groups.parquet: missing (the manifest lists it)",
    ),
    ("manifest-torn", "manifest.json cut in half", "manifest.json: not a valid manifest"),
    (
        "manifest-not-object",
        "manifest.json holding a JSON array",
        "manifest.json: not a valid manifest (not a JSON object)",
    ),
    (
        "manifest-population-text",
        "a population that is text in the manifest",
        "manifest.json: population: missing or not a valid value ('many')",
    ),
    ("manifest-deleted", "manifest.json deleted", "not a credsim run folder (no manifest.json)"),
    ("manifest-folder", "manifest.json replaced by a folder", "manifest.json: is a folder"),
]
READERS = [
    ("explain", lambda d: ["explain", str(d), "7"]),
    ("report", lambda d: ["report", str(d)]),
    ("query", lambda d: ["query", str(d), "SELECT count(*) FROM citizens"]),
]


@pytest.mark.parametrize("kind, fault, words", DAMAGE, ids=[c[0] for c in DAMAGE])
@pytest.mark.parametrize("reader, args", READERS, ids=[r[0] for r in READERS])
def test_damaged_folder(tmp_path, finished, kind, fault, words, reader, args):
    folder = tmp_path / "run"
    shutil.copytree(finished, folder)
    _damage(kind, folder)
    before = listing(folder) if folder.is_dir() else None
    if kind == "citizens-garbage" and reader == "report":
        pytest.skip("the report reads no citizens table")
    line = one_error(*args(folder))
    assert words in line, (words, line)
    assert (listing(folder) if folder.is_dir() else None) == before
    LOG.add(
        f"folder/{reader}/{kind}",
        fault,
        f"`credsim {reader} DIR`",
        "exit 2, folder unchanged: `" + stable(scrub(line, DIR=folder)) + "`",
    )


def test_damaged_folder_in_compare(tmp_path, finished):
    for kind, fault, words in DAMAGE:
        folder = tmp_path / kind
        shutil.copytree(finished, folder)
        _damage(kind, folder)
        if kind == "citizens-garbage":
            continue  # compare reads manifests and metrics only
        line = one_error("compare", str(finished), str(folder), "--out", str(tmp_path / "c.html"))
        assert words in line, (kind, line)
        LOG.add(
            f"folder/compare/{kind}",
            fault,
            "`credsim compare GOOD DIR`",
            "exit 2: `" + stable(scrub(line, DIR=folder, GOOD=finished)) + "`",
        )


def test_foreign_ledger_part_is_not_counted(tmp_path, finished):
    folder = tmp_path / "run"
    shutil.copytree(finished, folder)
    sql = "SELECT count(*) AS n FROM ledger"
    code, _ = cli("query", str(folder), sql, "--format", "json")
    good = CliRunner().invoke(app, ["query", str(folder), sql, "--format", "json"]).stdout
    shutil.copy(sorted((folder / "ledger").glob("*.parquet"))[0], folder / "ledger" / "zz.parquet")
    result = CliRunner().invoke(app, ["query", str(folder), sql, "--format", "json"])
    assert result.exit_code == 0 and result.stdout == good
    warning = [x for x in result.stderr.splitlines() if x.startswith("warning: ")]
    assert warning == [
        f"warning: {folder}/ledger/zz.parquet: not part of this run (not in the manifest); ignored"
    ]
    LOG.add(
        "folder/query/foreign-ledger-part",
        "a copy of a ledger part added to ledger/",
        "`credsim query DIR 'SELECT count(*) FROM ledger'`",
        "the same count as before, and: `" + scrub(warning[0], DIR=folder) + "`",
    )


def test_query_on_an_interrupted_run_warns(tmp_path, interrupted):
    folder = tmp_path / "run"
    shutil.copytree(interrupted, folder)
    result = CliRunner().invoke(app, ["query", str(folder), "SELECT 1 AS one"])
    assert result.exit_code == 0, result.stderr
    warning = [x for x in result.stderr.splitlines() if x.startswith("warning: ")]
    assert len(warning) == 1 and "interrupted" in warning[0] and "--resume" in warning[0]
    LOG.add(
        "folder/query/interrupted",
        "an interrupted run (2 of 3 shards not done)",
        "`credsim query DIR SQL`",
        "answers, with: `" + scrub(warning[0], DIR=folder) + "`",
    )


# --------------------------------------------------------------------------- run into folders


def test_out_folders_are_never_taken_over(tmp_path, monkeypatch, finished):
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "mine"
    (user / "ledger").mkdir(parents=True)
    (user / "ledger" / "notes.txt").write_text("keep")
    (user / "manifest.json").write_text('{"mine": true}')
    earlier = tmp_path / "earlier"
    shutil.copytree(finished, earlier)
    cases = [
        (
            "user-folder",
            "`--out` a folder of the user's with ledger/ and manifest.json",
            user,
            [],
            "exists and is not empty (and not a credsim run)",
        ),
        (
            "user-folder-force",
            "the same with `--force`",
            user,
            ["--force"],
            "exists and is not empty (and not a credsim run)",
        ),
        (
            "earlier-run",
            "`--out` an earlier run's folder",
            earlier,
            [],
            "holds an earlier run; choose another --out",
        ),
    ]
    for key, fault, folder, extra, words in cases:
        before = listing(folder)
        line = one_error("run", "press", *RUN, "-o", str(folder), *extra)
        assert words in line, (key, line)
        assert listing(folder) == before, key
        LOG.add(
            f"out/{key}",
            fault,
            "`credsim run press -o DIR`",
            "exit 2, folder unchanged: `" + stable(scrub(line, DIR=folder)) + "`",
        )


def test_default_folder_gets_a_new_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _ = cli("run", "press", *RUN)
    assert code == 0
    first = listing(tmp_path / "runs" / "press-1")
    result = CliRunner().invoke(app, ["run", "press", *RUN, "-n", "300"])
    assert result.exit_code == 0
    assert "runs/press-1 holds an earlier run: writing runs/press-1-2" in result.stderr
    assert listing(tmp_path / "runs" / "press-1") == first
    assert json.loads((tmp_path / "runs/press-1-2/manifest.json").read_text())["population"] == 300
    result = CliRunner().invoke(app, ["run", "press", *RUN, "-o", "runs/press-1", "--force"])
    assert result.exit_code == 0
    assert json.loads((tmp_path / "runs/press-1/manifest.json").read_text())["status"] == "complete"
    LOG.add(
        "out/default-name-taken",
        "`credsim run press` twice (the default folder runs/press-1 exists)",
        "`credsim run press`",
        "the earlier run kept; the new one written to runs/press-1-2, saying so; "
        "`--force -o runs/press-1` replaces it",
    )


# --------------------------------------------------------------------------- resume


def _resume_damage(kind: str, folder: Path) -> None:
    parts = folder / "parts"
    m = json.loads((folder / "manifest.json").read_text())
    if kind == "regime-edited":
        text = (folder / "regime.toml").read_text().replace("delta = -5", "delta = -50", 1)
        (folder / "regime.toml").write_text(text)
    elif kind == "regime-invalid":
        text = (folder / "regime.toml").read_text().replace("delta = -5", "delta = true", 1)
        (folder / "regime.toml").write_text(text)
    elif kind == "done-torn":
        text = (parts / "done-00000.json").read_text()
        (parts / "done-00000.json").write_text(text[: len(text) // 2])
    elif kind == "done-not-object":
        (parts / "done-00000.json").write_text('"done"')
    elif kind == "metrics-garbage":
        size = (parts / "metrics-00000.npz").stat().st_size
        (parts / "metrics-00000.npz").write_bytes(b"\x00" * size)
    elif kind == "metrics-deleted":
        (parts / "metrics-00000.npz").unlink()
    elif kind == "citizens-part-edited":
        data = bytearray((parts / "citizens-00000.parquet").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (parts / "citizens-00000.parquet").write_bytes(bytes(data))
    elif kind == "ledger-part-deleted":
        sorted((folder / "ledger").glob("shard-00000-*"))[0].unlink()
    elif kind in (
        "population-huge",
        "days-changed",
        "seed-changed",
        "shards-changed",
        "shard-size-changed",
        "ledger-changed",
        "population-text",
        "hash-missing",
        "complete",
    ):
        key, value = {
            "population-huge": ("population", 10**13),
            "days-changed": ("days", 11),
            "seed-changed": ("seed", 6),
            "shards-changed": ("shards", 2),
            "shard-size-changed": ("shard_size", 1500),
            "ledger-changed": ("ledger", "none"),
            "population-text": ("population", "3000"),
            "hash-missing": ("regime_hash", None),
            "complete": ("status", "complete"),
        }[kind]
        m[key] = value
        (folder / "manifest.json").write_text(json.dumps(m))
    else:
        raise AssertionError(kind)


RESUME_CASES = [
    (
        "regime-edited",
        "regime.toml edited after the interruption",
        "regime.toml: the regime differs from the one the run started with",
    ),
    (
        "regime-invalid",
        "regime.toml made invalid",
        "regime.toml: rules[0].delta: Input should be a valid integer",
    ),
    ("done-torn", "a done marker cut in half", "done-00000.json: damaged (not JSON)"),
    (
        "done-not-object",
        "a done marker holding a string",
        "done-00000.json: timings: missing or wrong type",
    ),
    (
        "metrics-garbage",
        "a finished shard's metrics part overwritten with zeros",
        "metrics-00000.npz: changed since shard 0 wrote it",
    ),
    (
        "metrics-deleted",
        "a finished shard's metrics part deleted",
        "metrics-00000.npz: missing, but shard 0 finished with it",
    ),
    (
        "citizens-part-edited",
        "one byte of a finished shard's citizens part flipped",
        "citizens-00000.parquet: changed since shard 0 wrote it",
    ),
    (
        "ledger-part-deleted",
        "a finished shard's ledger part deleted",
        "missing, but shard 0 finished with it",
    ),
    (
        "population-huge",
        "a population of 10**13 in the manifest",
        "at most 100,000,000,000 citizens",
    ),
    (
        "days-changed",
        "days edited in the manifest",
        "shard 0 ran 10 days, but the manifest says 11",
    ),
    (
        "seed-changed",
        "seed edited in the manifest",
        "shard 0 ran with seed 5, but the manifest says 6",
    ),
    ("shards-changed", "shards edited in the manifest", "shards: 2, but the shard plan gives 3"),
    (
        "shard-size-changed",
        "shard_size edited in the manifest",
        "shards: 3, but the shard plan gives 2",
    ),
    (
        "ledger-changed",
        "ledger mode edited in the manifest",
        "shard 0 kept a ledger fraction of 1.0, but the manifest says none",
    ),
    ("population-text", "a population that is text", "population: missing or not a valid value"),
    (
        "hash-missing",
        "the regime hash removed",
        "the regime differs from the one the run started with",
    ),
    ("complete", "status set to complete", "the run is complete; nothing to resume"),
]


@pytest.mark.parametrize("kind, fault, words", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_bad_resume(tmp_path, monkeypatch, interrupted, kind, fault, words):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "run"
    shutil.copytree(interrupted, folder)
    _resume_damage(kind, folder)
    before = listing(folder)
    line = one_error("run", "--resume", str(folder), "--no-report", "--workers", "1")
    assert words in line, (words, line)
    after = listing(folder)
    after.pop(".credsim.lock", None)
    before.pop(".credsim.lock", None)
    assert after == before, kind
    LOG.add(
        f"resume/{kind}",
        fault,
        "`credsim run --resume DIR`",
        "exit 2, folder unchanged: `" + stable(scrub(line, DIR=folder)) + "`",
    )


RESUME_OPTIONS = [
    ("population", ["-n", "5000"], "--population 5000: the run in DIR has 3000"),
    ("days", ["-d", "20"], "--days 20: the run in DIR has 10"),
    ("seed", ["-s", "9"], "--seed 9: the run in DIR has 5"),
    ("ledger", ["--ledger", "none"], "--ledger none: the run in DIR has full"),
    ("shard-size", ["--shard-size", "500"], "--shard-size 500: the run in DIR has 1000"),
    ("out", ["-o", "elsewhere"], "--out elsewhere: the run in DIR has DIR"),
    (
        "set",
        ["--set", "rules.jaywalking.delta=-9"],
        "--set: resume uses the regime of DIR/regime.toml",
    ),
    ("regime", ["national"], "national: resume uses the regime of DIR/regime.toml"),
    ("force", ["--force"], "--force: not with --resume"),
]


@pytest.mark.parametrize("key, extra, words", RESUME_OPTIONS, ids=[c[0] for c in RESUME_OPTIONS])
def test_resume_checks_its_options(tmp_path, monkeypatch, interrupted, key, extra, words):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "run"
    shutil.copytree(interrupted, folder)
    before = listing(folder)
    line = one_error("run", *extra, "--resume", str(folder), "--no-report")
    assert scrub(line, DIR=folder).startswith(f"error: {words}"), line
    assert listing(folder) == before
    LOG.add(
        f"resume/option-{key}",
        f"`{' '.join(extra)}` given with `--resume`",
        "`credsim run ... --resume DIR`",
        "exit 2, folder unchanged: `" + stable(scrub(line, DIR=folder)) + "`",
    )


def test_resume_of_an_intact_folder_finishes_it(tmp_path, interrupted, finished):
    folder = tmp_path / "run"
    shutil.copytree(interrupted, folder)
    code, lines = cli("run", "--resume", str(folder), "--no-report", "--workers", "1")
    assert code == 0, lines
    m = json.loads((folder / "manifest.json").read_text())
    assert m["status"] == "complete" and m["resumed"] is True
    assert not (folder / "parts").exists()  # merged, then removed
    rows = sum(v["rows"] for k, v in m["files"].items() if k.startswith("ledger/"))
    assert rows == m["ledger_rows"]


# --------------------------------------------------------------------------- query

SQL_CASES = [
    ("read-passwd", "SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    (
        "read-outside",
        "SELECT * FROM read_parquet('/etc/hostname')",
        "file system operations are disabled",
    ),
    (
        "copy-over-metrics",
        "COPY (SELECT 1) TO 'DIR/metrics.parquet'",
        "only SELECT, EXPLAIN and DESCRIBE are allowed (COPY refused)",
    ),
    ("copy-outside", "COPY (SELECT 1) TO '/tmp/x.csv'", "(COPY refused)"),
    ("attach", "ATTACH 'x.duckdb'", "(ATTACH refused)"),
    ("install", "INSTALL httpfs", "(LOAD refused)"),
    ("load", "LOAD httpfs", "(LOAD refused)"),
    ("set-external", "SET enable_external_access = true", "(SET refused)"),
    ("reset-lock", "RESET lock_configuration", "refused)"),
    ("create-table", "CREATE TABLE t AS SELECT 1", "(CREATE refused)"),
    ("drop-view", "DROP VIEW citizens", "(DROP refused)"),
    ("select-then-copy", "SELECT 1; COPY (SELECT 1) TO 'x.csv'", "(COPY refused)"),
    ("explain-analyze-copy", "EXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'", "(EXPLAIN refused)"),
    ("pragma", "PRAGMA enable_profiling", "(PRAGMA refused)"),
    ("export", "EXPORT DATABASE 'x'", "refused)"),
    ("syntax", "SELEC 1", "Parser Error"),
]


@pytest.mark.parametrize("key, sql, words", SQL_CASES, ids=[c[0] for c in SQL_CASES])
def test_query_is_read_only(tmp_path, monkeypatch, finished, key, sql, words):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "run"
    shutil.copytree(finished, folder)
    before = listing(folder)
    line = one_error("query", str(folder), sql.replace("DIR", str(folder)))
    assert words in line, (words, line)
    assert listing(folder) == before
    assert list(tmp_path.iterdir()) == [folder]
    LOG.add(
        f"query/{key}",
        f"`{sql}`",
        "`credsim query DIR SQL`",
        "exit 2, nothing written: `" + scrub(line, DIR=folder) + "`",
    )


# --------------------------------------------------------------------------- dashboard

HTTP_CASES = [
    # (id, method, url, headers, body, status, words)
    (
        "host-port-word",
        "get",
        "/api/presets",
        {"host": "localhost:evil"},
        None,
        400,
        "Host header is not a host name",
    ),
    (
        "host-userinfo",
        "get",
        "/api/presets",
        {"host": "localhost:1@evil.com"},
        None,
        400,
        "Host header is not a host name",
    ),
    (
        "host-other",
        "get",
        "/api/presets",
        {"host": "evil.com"},
        None,
        400,
        "answers on localhost only",
    ),
    (
        "host-suffix",
        "get",
        "/api/presets",
        {"host": "localhost.evil.com"},
        None,
        400,
        "answers on localhost only",
    ),
    ("host-empty", "get", "/api/presets", {"host": ""}, None, 400, "Host header"),
    (
        "host-port-huge",
        "get",
        "/api/presets",
        {"host": "127.0.0.1:99999"},
        None,
        400,
        "Host header",
    ),
    (
        "post-no-origin",
        "post",
        "/api/runs",
        {"origin": None},
        {"days": 2},
        403,
        "needs an Origin header",
    ),
    (
        "origin-other-site",
        "post",
        "/api/runs",
        {"origin": "http://evil.com"},
        {"days": 2},
        403,
        "another site",
    ),
    (
        "origin-other-scheme",
        "post",
        "/api/runs",
        {"origin": "https://127.0.0.1"},
        {"days": 2},
        403,
        "another site",
    ),
    (
        "origin-other-port",
        "post",
        "/api/runs",
        {"origin": "http://127.0.0.1:8001"},
        {"days": 2},
        403,
        "another site",
    ),
    (
        "origin-with-path",
        "post",
        "/api/runs",
        {"origin": "http://127.0.0.1/x"},
        {"days": 2},
        403,
        "another site",
    ),
    ("origin-null", "post", "/api/runs", {"origin": "null"}, {"days": 2}, 403, "another site"),
    (
        "origin-userinfo",
        "post",
        "/api/runs",
        {"origin": "http://127.0.0.1@evil.com"},
        {"days": 2},
        403,
        "another site",
    ),
    (
        "origin-prefix",
        "post",
        "/api/runs",
        {"origin": "http://127.0.0.1.evil.com"},
        {"days": 2},
        403,
        "another site",
    ),
    (
        "cancel-no-origin",
        "post",
        "/api/runs/x/cancel",
        {"origin": None},
        None,
        403,
        "needs an Origin header",
    ),
    (
        "body-length-lie",
        "post",
        "/api/runs",
        {"content-length": "99999999"},
        None,
        413,
        "request body larger than",
    ),
    ("body-chunked-large", "post", "/api/runs", {}, "chunked", 413, "request body larger than"),
]


def test_bad_http_requests(tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from credsim.web.app import create_app

    runs = tmp_path / "runs"
    base = "http://127.0.0.1"
    with TestClient(create_app(runs), base_url=base, headers={"origin": base}) as client:
        for key, method, url, headers, body, status, words in HTTP_CASES:
            h = dict(headers)
            drop = [k for k, v in h.items() if v is None]
            for k in drop:
                h.pop(k)
            if drop:
                client.headers.pop("origin", None)
            try:
                if body == "chunked":

                    def chunks():
                        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, never all read
                            yield b" " * 65536

                    r = client.post(
                        url, content=chunks(), headers={"content-type": "application/json"}
                    )
                elif method == "post":
                    r = (
                        client.post(url, json=body, headers=h)
                        if body is not None
                        else client.post(url, headers=h)
                    )
                else:
                    r = client.get(url, headers=h)
            finally:
                client.headers["origin"] = base
            assert r.status_code == status, (key, r.status_code, r.text)
            error = r.json()["error"]
            assert words in error and "\n" not in error, (key, error)
            assert str(tmp_path) not in r.text
            assert list(runs.iterdir()) == [], key
            LOG.add(
                f"http/{key}",
                f"`{method.upper()} {url}` with "
                + (json.dumps(headers) if headers else "a chunked body of 12.5 MiB"),
                "dashboard API (TestClient)",
                f"HTTP {r.status_code}, nothing started: `{error}`",
            )


def test_errors_show_no_server_paths():
    from credsim.web.app import no_paths

    assert no_paths("could not write /srv/x/runs/a/report.html: disk full") == (
        "could not write report.html: disk full"
    )
    assert no_paths("error: /tmp/pytest-1/run/ledger") == "error: ledger"


def test_faults_doc():
    LOG.check()
