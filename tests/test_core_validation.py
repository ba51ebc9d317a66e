"""Bad regimes are refused with one message per problem, naming the file and the field.

The library raises ``RegimeError`` whose ``lines`` read ``<file>: <field path>: <problem>``;
the CLI prints each as ``error: <line>`` on stderr and exits with status 2, no traceback.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import credsim
from credsim.cli import app


def ref1_data() -> dict:
    text = resources.files("credsim.regime.presets").joinpath("ref1.toml").read_text("utf-8")
    return tomllib.loads(text)


def cli(*args: str):
    """Run the CLI in-process; return (exit code, stdout, stderr, exception)."""
    result = CliRunner().invoke(app, list(args))
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, result.stderr, exc


def cli_errors(*args: str) -> list[str]:
    """Run the CLI on bad input and check the error contract; return the problem lines."""
    code, out, err, exc = cli(*args)
    assert exc is None, f"uncaught {exc!r}"
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert lines, "no message on stderr"
    assert all(line.startswith("error: ") for line in lines), err
    return [line.removeprefix("error: ") for line in lines]


def api_errors(regime, overrides=()) -> list[str]:
    with pytest.raises(credsim.RegimeError) as info:
        credsim.load_regime(regime, overrides)
    lines = info.value.lines
    assert lines and all(isinstance(line, str) and "\n" not in line for line in lines)
    assert str(info.value) == "\n".join(lines)
    return lines


def write(tmp_path: Path, data: dict, name: str = "regime.toml") -> Path:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- regime content

Edit = Callable[[dict], None]


def _set(path: str, value) -> Edit:
    """An edit of the parsed ref1 data at a path such as ``rules[2].delta``."""

    def edit(data: dict) -> None:
        parts = re.findall(r"[a-z_]+|\[\d+\]", path)
        node = data
        for part in parts[:-1]:
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
        last = parts[-1]
        if last.startswith("["):
            node[int(last[1:-1])] = value
        else:
            node[last] = value

    return edit


def _drop(path: str, key: str) -> Edit:
    def edit(data: dict) -> None:
        node = data
        for part in re.findall(r"[a-z_]+|\[\d+\]", path):
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
        del node[key]

    return edit


def _append(kind: str, item: dict) -> Edit:
    return lambda data: data[kind].append(copy.deepcopy(item))


def _three_tiers(middle_min: int, middle: str = "low") -> Edit:
    def edit(data: dict) -> None:
        data["tiers"] = [
            {"name": "normal", "min": 850},
            {"name": middle, "min": middle_min},
            {"name": "blacklisted"},
        ]

    return edit


# (id, edit of the ref1 data, field path, words of the message)
CONTENT_CASES = [
    ("unknown-top-level-key", _set("colour", "red"), "colour", "unknown key"),
    ("unknown-nested-key", _set("rules[0].deltaa", -5), "rules[0].deltaa", "unknown key"),
    ("unknown-key-in-table", _set("score.start", 1), "score.start", "unknown key"),
    ("wrong-type-int", _set("rules[2].delta", "x"), "rules[2].delta", "valid integer"),
    (
        "wrong-type-bool",
        _set("behaviours[3].propensity", "maybe"),
        "behaviours[3].propensity",
        "valid boolean",
    ),
    ("wrong-type-list", _set("behaviours", 5), "behaviours", "valid list"),
    ("wrong-choice", _set("behaviours[0].kind", "crime"), "behaviours[0].kind", "'infraction'"),
    (
        "probability-above-1",
        _set("behaviours[0].rate", 1.5),
        "behaviours[0].rate",
        "less than or equal to 1",
    ),
    (
        "probability-below-0",
        _set("sources[0].observes.jaywalking", -0.1),
        "sources[0].observes.jaywalking",
        "greater than or equal to 0",
    ),
    (
        "detection-above-1",
        _set("sources[2].observes.buy_domestic", 2.0),
        "sources[2].observes.buy_domestic",
        "less than or equal to 1",
    ),
    ("missing-field", _drop("behaviours[1]", "rate"), "behaviours[1].rate", "Field required"),
    (
        "bad-name",
        _set("behaviours[0].name", "Jay Walking"),
        "behaviours[0].name",
        "should match pattern",
    ),
    ("score-bounds", _set("score.initial", 2000), "score", "min <= initial <= max"),
    (
        "tiers-out-of-order",
        _three_tiers(900),
        "tiers[1].min",
        "tiers go from the top down, so 900 must be below 850",
    ),
    ("tiers-equal", _three_tiers(850), "tiers[1].min", "850 must be below 850"),
    (
        "tier-without-min",
        _drop("tiers[0]", "min"),
        "tiers[0].min",
        "required for every tier but the last",
    ),
    (
        "rule-unknown-behaviour",
        _set("rules[1].behaviour", "littering"),
        "rules[1].behaviour",
        "unknown behaviour 'littering'",
    ),
    (
        "source-unknown-behaviour",
        _set("sources[1].observes.littering", 0.5),
        "sources[1].observes",
        "unknown behaviour 'littering'",
    ),
    (
        "rule-unknown-sanction",
        _set("rules[2].sanction", "exile"),
        "rules[2].sanction",
        "unknown sanction 'exile'",
    ),
    (
        "sanction-unknown-privilege",
        _set("sanctions[0].privileges", ["flight", "yacht"]),
        "sanctions[0].privileges",
        "unknown privilege 'yacht'",
    ),
    (
        "sanction-unknown-tier",
        _set("sanctions[0].tier", "purgatory"),
        "sanctions[0].tier",
        "unknown tier 'purgatory'",
    ),
    (
        "sanction-top-tier",
        _set("sanctions[0].tier", "normal"),
        "sanctions[0].tier",
        "the top tier cannot trigger a sanction",
    ),
    (
        "duplicate-behaviour",
        _append("behaviours", {"name": "jaywalking", "rate": 0.1}),
        "behaviours",
        "name 'jaywalking' declared twice",
    ),
    (
        "duplicate-source",
        _append("sources", {"name": "camera", "observes": {}}),
        "sources",
        "name 'camera' declared twice",
    ),
    (
        "duplicate-rule",
        _append("rules", {"behaviour": "jaywalking", "delta": -1}),
        "rules",
        "name 'jaywalking' declared twice",
    ),
    ("duplicate-tier", _three_tiers(800, middle="normal"), "tiers", "name 'normal' declared twice"),
]


@pytest.mark.parametrize(
    ("edit", "field", "words"), [c[1:] for c in CONTENT_CASES], ids=[c[0] for c in CONTENT_CASES]
)
def test_content_problem_in_a_file(tmp_path, edit, field, words):
    data = ref1_data()
    edit(data)
    path = write(tmp_path, data)
    expected_start = f"{path}: {field}: "
    for lines in (api_errors(path), cli_errors("validate", str(path))):
        hits = [line for line in lines if line.startswith(expected_start)]
        assert hits, (expected_start, lines)
        assert words in hits[0], hits[0]


@pytest.mark.parametrize(
    ("edit", "field", "words"), [c[1:] for c in CONTENT_CASES], ids=[c[0] for c in CONTENT_CASES]
)
def test_content_problem_in_a_dict(edit, field, words):
    data = ref1_data()
    edit(data)
    lines = api_errors(data)
    assert any(line.startswith(f"regime: {field}: ") and words in line for line in lines), lines


def test_one_line_per_problem(tmp_path):
    data = ref1_data()
    data["behaviours"][0]["rate"] = 1.5
    data["rules"][2]["delta"] = "x"
    data["colour"] = "red"
    path = write(tmp_path, data)
    for lines in (api_errors(path), cli_errors("validate", str(path))):
        assert sorted(line.split(": ")[1] for line in lines) == [
            "behaviours[0].rate",
            "colour",
            "rules[2].delta",
        ]


def test_one_line_per_cross_reference_problem(tmp_path):
    data = ref1_data()
    data["rules"][0]["behaviour"] = "littering"
    data["rules"][1]["sanction"] = "exile"
    data["sanctions"][0]["privileges"] = ["yacht"]
    lines = cli_errors("validate", str(write(tmp_path, data)))
    fields = [line.split(": ")[1] for line in lines]
    assert fields == ["rules[0].behaviour", "rules[1].sanction", "sanctions[0].privileges"]


def test_unknown_spillover_privilege_names_the_spillover_field():
    data = ref1_data()
    data["sanctions"][0]["spillover"] = {"children": ["yacht"]}
    lines = api_errors(data)
    assert any(line.startswith("regime: sanctions[0].spillover") for line in lines), lines


def test_sanction_tier_without_any_tiers_is_a_regime_error():
    data = ref1_data()
    del data["tiers"]
    lines = api_errors(data)
    assert "regime: sanctions[0].tier: unknown tier 'blacklisted'" in lines


def test_sanction_tier_without_any_tiers_cli(tmp_path):
    data = ref1_data()
    del data["tiers"]
    lines = cli_errors("validate", str(write(tmp_path, data)))
    assert any("sanctions[0].tier" in line for line in lines)


# --------------------------------------------------------------------------- files

# (id, bytes of the file, words of the message)
FILE_CASES = [
    ("toml-syntax", b'[regime]\nname = "x"\nfoo bar\n', "TOML syntax:"),
    ("empty", b"", "file is empty"),
    ("blank", b"  \n\t\n", "file is empty"),
    ("binary-with-nul", b"\x00\x01\x02\x03" * 64, "binary data, not a TOML file"),
    ("latin-1", "[regime]\nname = 'café'\n".encode("latin-1"), "not UTF-8 text (byte 20)"),
    ("regime-not-a-table", b"regime = 5\nbehaviours = []\n", "regime: Input should be"),
]


@pytest.mark.parametrize(
    ("content", "words"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_file(tmp_path, content, words):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    for lines in (api_errors(path), cli_errors("validate", str(path))):
        assert any(line.startswith(f"{path}: ") and words in line for line in lines), lines


def test_toml_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[regime]\nname = "x"\n\n[[behaviours]]\nname = "a"\nrate = = 0.1\n')
    (line,) = cli_errors("validate", str(path))
    assert line.startswith(f"{path}: TOML syntax: ")
    assert re.search(r"line 6, column \d+", line), line


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.toml"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (line,) = cli_errors("validate", str(path))
    assert line.startswith(f"{path}: ")
    assert "not UTF-8 text" in line or "binary data" in line


def test_missing_file(tmp_path):
    path = tmp_path / "absent.toml"
    assert api_errors(path) == [f"{path}: file not found"]
    assert cli_errors("validate", str(path)) == [f"{path}: file not found"]


def test_folder_instead_of_file(tmp_path):
    path = tmp_path / "folder.toml"
    path.mkdir()
    assert cli_errors("validate", str(path)) == [f"{path}: is a folder, not a regime file"]


def test_unknown_preset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (line,) = cli_errors("validate", "nonexistent")
    assert line.startswith("nonexistent: no such preset or file (presets: ")
    assert "ref1" in line
    assert api_errors("nonexistent") == [line]


def test_run_with_a_bad_regime_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    args = ["run", "ref1", "-n", "10", "-d", "2", "-o", str(out), "--no-report"]
    lines = cli_errors(*args, "--set", "rules[2].delta=x")
    assert lines == ["preset ref1: rules[2].delta: Input should be a valid integer"]
    assert not out.exists()


# --------------------------------------------------------------------------- --set

SET_CASES = [
    ("no-equals", "behaviours[0].rate", "--set behaviours[0].rate: expected PATH=VALUE"),
    (
        "unknown-item",
        "behaviours.littering.rate=0.1",
        "--set behaviours.littering.rate=0.1: no item named 'littering' at behaviours.littering",
    ),
    (
        "index-out-of-range",
        "behaviours[7].rate=0.1",
        "--set behaviours[7].rate=0.1: index 7 out of range at behaviours.7",
    ),
    ("negative-index", "rules[-1].delta=1", "--set rules[-1].delta=1: no item named '-1'"),
    (
        "into-a-number",
        "behaviours[0].rate.x=1",
        "--set behaviours[0].rate.x=1: behaviours.0.rate.x is not a table or list",
    ),
    ("empty-path", "=1", "--set =1: malformed path ''"),
    ("double-dot", "score..min=1", "--set score..min=1: malformed path 'score..min'"),
    (
        "bad-value",
        "rules[2].delta=x",
        "preset ref1: rules[2].delta: Input should be a valid integer",
    ),
    ("unknown-key", "rules[0].deltaa=1", "preset ref1: rules[0].deltaa: unknown key"),
    (
        "probability",
        "sources.camera.observes.jaywalking=1.5",
        "preset ref1: sources[0].observes.jaywalking: Input should be less than or equal to 1",
    ),
    ("nan", "behaviours[0].rate=nan", "preset ref1: behaviours[0].rate: "),
]


@pytest.mark.parametrize(
    ("assignment", "message"), [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES]
)
def test_bad_set(tmp_path, monkeypatch, assignment, message):
    monkeypatch.chdir(tmp_path)  # a run that went ahead would write runs/ here
    lines = api_errors("ref1", (assignment,))
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert cli_errors("validate", "ref1", "--set", assignment) == lines
    assert (
        cli_errors("run", "ref1", "-n", "5", "-d", "1", "--no-report", "--set", assignment) == lines
    )


def test_good_set_is_valid():
    code, out, err, exc = cli(
        "validate",
        "ref1",
        "--set",
        "behaviours.jaywalking.rate=0.01",
        "--set",
        "sanctions[0].duration=180",
    )
    assert (code, exc, err) == (0, None, "")
    assert out.startswith("ref1: valid")
    r = credsim.load_regime("ref1", ("sanctions[0].duration=180",))
    assert r.sanctions[0].duration == 180


# --------------------------------------------------------------------------- a real process


def test_real_process_prints_errors_without_traceback(tmp_path):
    data = ref1_data()
    data["rules"][0]["deltaa"] = -5
    data["behaviours"][0]["rate"] = 1.5
    path = write(tmp_path, data)
    proc = subprocess.run(
        [sys.executable, "-m", "credsim.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"error: {path}: behaviours[0].rate: Input should be less than or equal to 1",
        f"error: {path}: rules[0].deltaa: unknown key",
    ]


@pytest.mark.parametrize(
    "args, expected",
    [(["run", "ref1", "-n", "0", "--no-report"], "population"), (["run", "--bogus"], "--bogus")],
)
def test_bad_option_gives_error_lines(args, expected):
    # option errors are turned into error lines by the console entry point (credsim.cli.main)
    p = subprocess.run(
        [sys.executable, "-m", "credsim.cli", *args], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 2, p
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert expected in lines[0]


# --------------------------------------------------------------------------- fuzzing

FIELDS = (
    "rate delta name behaviour observes min tier privileges duration renewal propensity kind "
    "initial max sanction x"
).split()
TOP = "behaviours sources rules tiers privileges sanctions score regime adaptation green_lanes"
TOP = TOP.split()
LITERALS = ["0.5", "1.5", "-1", "nan", "inf", "true", "'x'", "x", "[]", "{}", "['flight']"]
LITERALS += ["[{name='a'}]", "{a=1}", "850", "100000", "'jaywalking'", "'blacklisted'"]
LITERALS += ["'normal'", "'flight_ban'", ""]
VALUES = st.one_of(st.integers(-5, 5).map(str), st.sampled_from(LITERALS))
ITEMS = ["[0]", "[1]", "[3]", "[9]", ".jaywalking", ".camera", ".flight_ban"]
PATHS = st.one_of(
    st.sampled_from(TOP),
    st.tuples(st.sampled_from(TOP), st.sampled_from(ITEMS)).map("".join),
    st.tuples(
        st.sampled_from(TOP),
        st.sampled_from(["", *ITEMS]),
        st.sampled_from(FIELDS).map(".{}".format),
    ).map("".join),
)

REF1 = ref1_data()
# whole components replaced by something empty, scalar or minimal
WHOLE = st.tuples(st.sampled_from(TOP), st.sampled_from(["[]", "{}", "5", "[{name='a'}]"]))
ASSIGNMENTS = st.one_of(st.tuples(PATHS, VALUES), WHOLE)


@settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(ASSIGNMENTS, min_size=1, max_size=3))
def test_any_override_gives_a_regime_or_a_regime_error(assignments):
    overrides = tuple(f"{p}={v}" for p, v in assignments)
    try:
        regime = credsim.load_regime(copy.deepcopy(REF1), overrides)
    except credsim.RegimeError as e:
        assert e.lines and all(line and "\n" not in line for line in e.lines)
        assert all(line.startswith(("regime: ", "--set ")) for line in e.lines), e.lines
    else:
        assert isinstance(regime, credsim.Regime)
