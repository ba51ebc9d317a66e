"""Bad input of every kind is refused with one line per problem, and nothing is written.

The contract: exit status 2, every line on stderr starts with ``error: ``, the line names the
file (or option) and the field path, no traceback, and no run folder content for a bad
input. Covered here: the corpus of bad regime files in tests/bad_regimes (listed with their
expected lines in tests/bad_regimes/expected.toml), bad ``--set`` overrides, bad ``--ledger``
values, bad ``--resume`` folders and ``--out`` paths, bad targets files and ``--fit`` specs
for ``credsim calibrate``, bad dashboard requests, and a fuzz of the loaders with hypothesis.
"""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import tomllib
import warnings
from contextlib import contextmanager
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reliability_faults import FaultLog, scrub
from typer.testing import CliRunner

import credsim
from credsim.cli import app
from credsim.regime.load import RegimeError, load_regime

LOG = FaultLog("input")
CORPUS = Path(__file__).parent / "bad_regimes"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text("utf-8"))["files"]
TARGETS = CORPUS / "targets"
TARGETS_EXPECTED = tomllib.loads((TARGETS / "expected.toml").read_text("utf-8"))["files"]
RUN = ["-n", "100", "-d", "2", "--no-report"]
PRESS = resources.files("credsim.regime.presets").joinpath("press.toml").read_text("utf-8")
PRESS_DATA = tomllib.loads(PRESS)


def cli_errors(*args: str) -> list[str]:
    """Run the CLI in this process on bad input; check the error contract; return the lines."""
    result = CliRunner().invoke(app, list(args))
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    assert exc is None, f"uncaught {exc!r}"
    out, err = result.stdout, result.stderr
    assert result.exit_code == 2, (result.exit_code, out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if not line.startswith("estimate: ")]
    assert lines, "no message on stderr"
    assert all(line.startswith("error: ") for line in lines), err
    return lines


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------- regime files


def test_every_corpus_file_is_listed():
    files = {p.name for p in CORPUS.glob("*.toml")} - {"expected.toml"}
    assert files == set(EXPECTED), files ^ set(EXPECTED)
    assert len(files) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_regime_file(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)  # a run that went ahead would write runs/ here
    path = CORPUS / name
    expected = f"error: {path}: {EXPECTED[name]['error']}"
    lines = cli_errors("validate", str(path))
    assert len(lines) == 1 and lines[0].startswith(expected), (expected, lines)
    out = tmp_path / "out"
    assert cli_errors("run", str(path), *RUN, "-o", str(out)) == lines
    assert not out.exists() and not (tmp_path / "runs").exists()
    LOG.add(
        f"regime/{name}",
        EXPECTED[name]["fault"],
        "`credsim validate FILE`, `credsim run FILE`",
        "exit 2, nothing written: `" + scrub(lines[0], FILE=path) + "`",
    )


def test_oversized_and_unreadable_regime_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * 1_000_000 + b"\n")
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    cases = [
        ("oversized", big, "a regime file over 1 MB", "file is larger than 1000000 bytes"),
        ("missing", tmp_path / "absent.toml", "a file that does not exist", "file not found"),
        ("folder", folder, "a folder named like a regime file", "is a folder, not a regime"),
    ]
    for key, path, fault, words in cases:
        lines = cli_errors("validate", str(path))
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {words}"), lines
        assert cli_errors("run", str(path), *RUN, "-o", str(tmp_path / "out")) == lines
        assert not (tmp_path / "out").exists()
        outcome = "exit 2, nothing written: `" + scrub(lines[0], FILE=path) + "`"
        LOG.add(f"regime/{key}", fault, "`credsim validate FILE`, `credsim run FILE`", outcome)


def test_real_process_bad_regime_has_no_traceback(tmp_path):
    path = CORPUS / "utf16.toml"
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "credsim.cli", "run", str(path), *RUN, "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: {path}: {EXPECTED['utf16.toml']['error']}"]
    assert not out.exists()


# --------------------------------------------------------------------------- --set

SET_CASES = [
    # (id, assignment, start of the error line after "error: ")
    ("no-equals", "score.min", "--set score.min: expected PATH=VALUE"),
    ("empty-path", "=1", "--set =1: malformed path ''"),
    ("double-dot", "score..min=1", "--set score..min=1: malformed path 'score..min'"),
    (
        "unknown-item",
        "behaviours.littering.rate=0.1",
        "--set behaviours.littering.rate=0.1: no item named 'littering' at behaviours.littering",
    ),
    ("index-out-of-range", "behaviours[99].rate=1", "--set behaviours[99].rate=1: index 99"),
    (
        "unicode-digit-index",
        "behaviours[²].rate=0.1",
        "--set behaviours[²].rate=0.1: no item named '²'",
    ),
    ("into-a-number", "score.min.x=1", "--set score.min.x=1: score.min.x is not a table"),
    ("newline", "score.min=1\nscore.max=2", "--set 'score.min=1\\nscore.max=2': control"),
    ("unknown-key", "colour=red", "preset press: colour: unknown key"),
    ("unknown-deep-key", "rules.jaywalking.deltaa=-5", "preset press: rules[0].deltaa: unknown"),
    ("wrong-type", "rules.jaywalking.delta=lots", "preset press: rules[0].delta: Input should"),
    ("probability", "behaviours[0].rate=1.5", "preset press: behaviours[0].rate: Input should"),
    ("negative", "sources.camera.observes.jaywalking=-0.1", "preset press: sources[0].observes"),
    ("nan", "behaviours.jaywalking.rate=nan", "preset press: behaviours[0].rate: "),
    ("infinite", "score.max=inf", "preset press: score.max: "),
    ("huge", "score.max=" + "9" * 400, "preset press: score.max: Input should be less than"),
    ("deep-value", "score.min=" + "[" * 3000, "preset press: score.min: Input should be a valid"),
    ("no-behaviours", "behaviours=[]", "preset press: behaviours: List should have at least 1"),
    ("no-tiers", "tiers=[]", "preset press: sanctions[0].tier: unknown tier 'untrustworthy'"),
    (
        "tiers-out-of-order",
        "tiers.normal.min=1100",
        "preset press: tiers[1].min: tiers go from the top down",
    ),
    ("schedule", "behaviours[0].schedule=[[5,1],[2,1]]", "preset press: behaviours[0].schedule"),
    ("date-type", "regime.start_date=2020-01-01", "preset press: regime.start_date: Input"),
]


@pytest.mark.parametrize(
    ("assignment", "message"), [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES]
)
def test_bad_set(tmp_path, monkeypatch, assignment, message):
    monkeypatch.chdir(tmp_path)
    lines = cli_errors("validate", "press", "--set", assignment)
    assert lines[0].startswith("error: " + message), (message, lines)
    out = tmp_path / "out"
    assert cli_errors("run", "press", *RUN, "-o", str(out), "--set", assignment) == lines
    assert not out.exists() and not (tmp_path / "runs").exists()
    case = next(c[0] for c in SET_CASES if c[1] == assignment)
    shown = assignment if len(assignment) <= 60 else assignment[:40] + "..."
    line = "`; `".join(x if len(x) <= 160 else x[:150] + "..." for x in lines)
    LOG.add(
        f"set/{case}",
        f"`--set {shown!r}`" if not shown.isprintable() else f"`--set {shown}`",
        "`credsim validate press --set`, `credsim run press --set`",
        f"exit 2, nothing written: `{line}`",
    )


# --------------------------------------------------------------------------- run options

LEDGER_CASES = ["sample=0", "sample=1.5", "sample=-0.1", "sample=x", "sample=nan", "sample="]
LEDGER_CASES += ["partial", "FULL", "sample=1e-400"]


@pytest.mark.parametrize("mode", LEDGER_CASES)
def test_bad_ledger(tmp_path, monkeypatch, mode):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    lines = cli_errors("run", "press", *RUN, "-o", str(out), "--ledger", mode)
    assert lines == [
        f"error: ledger mode {mode!r}: expected full, none or sample=FRACTION in (0, 1]"
    ]
    assert not out.exists()
    LOG.add(
        f"ledger/{mode}",
        f"`--ledger {mode}`",
        "`credsim run press --ledger`",
        f"exit 2, nothing written: `{lines[0]}`",
    )


def make_resume_folders(tmp_path: Path) -> list[tuple[str, Path, str, str]]:
    """(id, folder, fault, start of the error line) for folders --resume cannot use."""
    good = {"population": 100, "days": 2, "seed": 1, "ledger": "full", "status": "incomplete"}
    cases = []

    def folder(name: str, manifest: str | None, regime: bytes | None = None) -> Path:
        f = tmp_path / name
        f.mkdir()
        if manifest is not None:
            (f / "manifest.json").write_text(manifest)
        if regime is not None:
            (f / "regime.toml").write_bytes(regime)
        return f

    f = tmp_path / "absent"
    cases.append(("absent", f, "a folder that does not exist", f"{f}: no such run folder"))
    f = folder("empty", None)
    cases.append(("empty", f, "an empty folder", f"{f}: not a credsim run folder"))
    f = folder("torn-manifest", '{"population": 10')
    cases.append(("torn-manifest", f, "a truncated manifest.json", f"{f}/manifest.json: not a"))
    f = folder("binary-manifest", None)
    (f / "manifest.json").write_bytes(b"\xff\xfe\x00junk")
    cases.append(("binary-manifest", f, "a binary manifest.json", f"{f}/manifest.json: not a"))
    f = folder("list-manifest", "[1, 2]")
    cases.append(("list-manifest", f, "a manifest that is a JSON list", f"{f}/manifest.json: "))
    f = folder("keyless-manifest", "{}")
    cases.append(("keyless-manifest", f, "a manifest without its keys", f"{f}/manifest.json: "))
    f = folder("no-regime", json.dumps(good))
    cases.append(("no-regime", f, "no regime.toml", f"{f}/regime.toml: file not found"))
    f = folder("bad-regime", json.dumps(good), PRESS.replace("rate = 0.002", "rate = 2").encode())
    cases.append(("bad-regime", f, "an edited, invalid regime.toml", f"{f}/regime.toml: behav"))
    bad = {**good, "population": "many"}
    f = folder("bad-population", json.dumps(bad), PRESS.encode())
    cases.append(
        ("bad-population", f, "a population that is not a number", "population: missing or not")
    )
    return cases


def test_bad_resume_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key, folder, fault, words in make_resume_folders(tmp_path):
        before = listing(folder) if folder.exists() else None
        lines = cli_errors("run", "--resume", str(folder), "--no-report", "--workers", "1")
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert words in lines[0], (key, words, lines)
        assert (listing(folder) if folder.exists() else None) == before, key
        assert not (tmp_path / "runs").exists()
        LOG.add(
            f"resume/{key}",
            fault,
            "`credsim run --resume DIR`",
            "exit 2, folder unchanged: `" + scrub(lines[0], DIR=folder) + "`",
        )


def test_bad_out_and_backend(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    cases = [
        ("out-is-a-file", ["-o", str(afile)], "`--out` names an existing file", f"{afile}: "),
        ("out-under-a-file", ["-o", str(afile / "x")], "`--out` inside a file", f"{afile}/x: "),
        (
            "unknown-backend",
            ["-o", str(tmp_path / "o"), "--backend", "slurm"],
            "`--backend slurm`",
            "unknown backend 'slurm'",
        ),
    ]
    for key, args, fault, words in cases:
        lines = cli_errors("run", "press", *RUN, *args)
        assert len(lines) == 1 and words in lines[0], (key, lines)
        assert afile.read_text() == "keep me"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"], key
        LOG.add(
            f"run/{key}",
            fault,
            "`credsim run press -o ...`",
            "exit 2, nothing written: `" + scrub(lines[0], FILE=afile) + "`",
        )


# --------------------------------------------------------------------------- calibrate

CALIBRATE = ["--trials", "1", "-n", "100", "--replicates", "1", "--workers", "1"]
FIT = "behaviours.jaywalking.rate"


def test_every_targets_file_is_listed():
    files = {p.name for p in TARGETS.glob("*.toml")} - {"expected.toml"}
    assert files == set(TARGETS_EXPECTED), files ^ set(TARGETS_EXPECTED)


@pytest.mark.parametrize("name", sorted(TARGETS_EXPECTED))
def test_bad_targets_file(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    path = TARGETS / name
    case = TARGETS_EXPECTED[name]
    out = tmp_path / "cal"
    lines = cli_errors(
        "calibrate", "press", "--targets", str(path), "--fit", FIT, *CALIBRATE, "-o", str(out)
    )
    prefix = "" if case.get("unprefixed") else f"{path}: "
    expected = f"error: {prefix}{case['error']}"
    assert len(lines) == 1 and lines[0].startswith(expected), (expected, lines)
    assert not out.exists()
    LOG.add(
        f"targets/{name}",
        case["fault"],
        "`credsim calibrate press --targets FILE`",
        "exit 2, nothing written: `" + scrub(lines[0], FILE=path) + "`",
    )


FIT_CASES = [
    ("unknown-path", "behaviours.littering.rate", "--fit behaviours.littering.rate: not a number"),
    ("not-a-number", "regime.name", "--fit regime.name: not a number in the regime"),
    ("bounds-reversed", FIT + "=0.1:0.01", "LOW must be below HIGH"),
    ("bounds-text", FIT + "=a:b", "bounds must be LOW:HIGH"),
    ("empty", ",", "--fit: name at least one parameter"),
]


@pytest.mark.parametrize(
    ("fit", "words"), [c[1:] for c in FIT_CASES], ids=[c[0] for c in FIT_CASES]
)
def test_bad_fit(tmp_path, monkeypatch, fit, words):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cal"
    lines = cli_errors(
        "calibrate", "press", "--targets", "national", "--fit", fit, *CALIBRATE, "-o", str(out)
    )
    assert len(lines) == 1 and words in lines[0], lines
    assert not out.exists()
    key = next(c[0] for c in FIT_CASES if c[1] == fit)
    LOG.add(
        f"fit/{key}",
        f"`--fit {fit}`",
        "`credsim calibrate press --targets national`",
        f"exit 2, nothing written: `{lines[0]}`",
    )


def test_unknown_shipped_targets_and_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = cli_errors("calibrate", "press", "--targets", "nosuch", "--fit", FIT, *CALIBRATE)
    assert lines == ["error: nosuch: no such targets file"]
    LOG.add(
        "targets/shipped-name",
        "`--targets nosuch` (no such shipped targets)",
        "`credsim calibrate press --targets nosuch`",
        f"exit 2: `{lines[0]}`",
    )
    lines = cli_errors(
        "calibrate", "press", "--targets", "national", "--only", "nosuch", "--fit", FIT, *CALIBRATE
    )
    assert lines == ["error: --only nosuch: no target uses these metrics"]
    LOG.add(
        "targets/only",
        "`--only nosuch`",
        "`credsim calibrate press --only nosuch`",
        f"exit 2: `{lines[0]}`",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- dashboard

WEB_CASES = [
    # (id, method, url, json body, status, words in the error)
    ("population-over-limit", "post", "/api/runs", {"population": 60_001}, 422, "at most 60,000"),
    ("population-huge", "post", "/api/runs", {"population": 10**15}, 422, "population"),
    ("population-tiny", "post", "/api/runs", {"population": 1}, 422, "population"),
    ("days-over-limit", "post", "/api/runs", {"days": 10**6}, 422, "days"),
    (
        "unknown-override",
        "post",
        "/api/runs",
        {"overrides": {"score.initial": 5}},
        422,
        "is not a control of preset 'press'",
    ),
    (
        "override-traversal",
        "post",
        "/api/runs",
        {"overrides": {"../../etc": 1}},
        422,
        "is not a control",
    ),
    (
        "override-bad-value",
        "post",
        "/api/runs",
        {"overrides": {"sanctions.blacklist.duration": "forever"}},
        422,
        "number",
    ),
    ("unknown-preset", "post", "/api/runs", {"preset": "nosuch"}, 422, "unknown preset"),
    ("preset-traversal", "post", "/api/runs", {"preset": "../press"}, 422, "preset"),
    ("bad-run-name", "post", "/api/runs", {"name": "My Run!"}, 422, "name: use 1 to 64"),
    ("run-name-traversal", "post", "/api/runs", {"name": "../evil"}, 422, "name: use 1 to 64"),
    ("run-name-too-long", "post", "/api/runs", {"name": "a" * 65}, 422, "name: use 1 to 64"),
    ("unknown-field", "post", "/api/runs", {"colour": "red"}, 422, "colour"),
    ("not-json", "post", "/api/runs", b"{not json", 422, ""),
    ("status-traversal", "get", "/api/runs/..%2F..%2Fetc/status", None, (400, 404), ""),
    ("dotdot-name", "get", "/api/runs/%2E%2E/metrics", None, (400, 404), ""),
    ("upper-case-name", "get", "/api/runs/UPPER/status", None, 400, "invalid run name"),
    ("unknown-run", "get", "/api/runs/nosuch/status", None, 404, "no run named 'nosuch'"),
    ("compare-traversal", "get", "/api/compare?a=../x&b=/etc/passwd", None, 400, "invalid run"),
    ("negative-citizen", "get", "/api/runs/nosuch/citizens/-1", None, 422, "citizen"),
    ("cancel-traversal", "post", "/api/runs/..%2Fx/cancel", None, (400, 404), ""),
]


def test_bad_dashboard_requests(tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from credsim.web.app import create_app

    runs = tmp_path / "runs"
    app_ = create_app(runs, max_population=60_000)
    with TestClient(
        app_, base_url="http://127.0.0.1", headers={"origin": "http://127.0.0.1"}
    ) as client:
        for key, method, url, body, status, words in WEB_CASES:
            if isinstance(body, bytes):
                r = client.post(url, content=body, headers={"content-type": "application/json"})
            elif method == "post":
                r = client.post(url, json=body)
            else:
                r = client.get(url)
            allowed = status if isinstance(status, tuple) else (status,)
            assert r.status_code in allowed, (key, r.status_code, r.text)
            error = r.json()["error"]
            assert isinstance(error, str) and error and "\n" not in error, (key, error)
            assert words in error, (key, error)
            assert "Traceback" not in r.text and "root:" not in r.text
            assert list(runs.iterdir()) == [], key
            assert client.get("/api/runs").json()["runs"] == [], key
            shown = (
                url
                if body is None
                else f"{url} {json.dumps(body) if not isinstance(body, bytes) else body.decode()}"
            )
            if len(shown) > 90:
                shown = shown[:87] + "..."
            LOG.add(
                f"web/{key}",
                f"`{method.upper()} {shown}`",
                "dashboard API (TestClient)",
                f"HTTP {r.status_code}, no run started: `{error}`",
            )


# --------------------------------------------------------------------------- fuzzing


@contextmanager
def bounded(seconds: float):
    """Fail instead of hanging: raise TimeoutError after ``seconds`` (main thread only)."""

    def alarm(*_):
        raise TimeoutError(f"a loader ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def regime_or_error(load) -> None:
    """``load()`` gives a Regime or a RegimeError of one-line messages, nothing else."""
    with bounded(10):
        try:
            r = load()
        except RegimeError as e:
            assert e.lines and all(isinstance(x, str) and x for x in e.lines)
            assert all("\n" not in x and "\r" not in x for x in e.lines), e.lines
            return
    assert isinstance(r, credsim.Regime)


FUZZ = settings(
    max_examples=120,
    derandomize=True,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)
LINES = PRESS.splitlines()
MUTATION = st.tuples(
    st.integers(0, len(LINES) - 1),
    st.sampled_from(["delete", "duplicate", "insert", "swap", "truncate"]),
    st.text(max_size=12),
)
TOKENS = ["behaviours", "rules", "sources", "tiers", "sanctions", "privileges", "score"]
TOKENS += ["regime", "adaptation", "green_lanes", "jaywalking", "camera", "blacklist"]
TOKENS += ["rate", "min", "max", "delta", "observes", "schedule", "rollout", "redress"]
TOKENS += ["spillover", "children", "name", "0", "1", "8", "99", "-1", "\u0663", "", " "]
VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["1", "-1", "0.5", "1e999", "nan", "[]", "{}", "[[1, 2]]", "'x'", "true"]),
    st.sampled_from(["{a = 1}", "[1,", "9" * 40, "2020-01-01", "[" * 2000, "'jaywalking'"]),
)
PATHS = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from([".", "[", "]", ""])),
    min_size=1,
    max_size=6,
).map(lambda parts: "".join(a + b for a, b in parts))


@FUZZ
@given(data=st.binary(max_size=3000))
def fuzz_bytes(folder: Path, data: bytes) -> None:
    path = folder / "fuzz.toml"
    path.write_bytes(data)
    regime_or_error(lambda: load_regime(path))


@FUZZ
@given(text=st.text(max_size=400))
def fuzz_text(folder: Path, text: str) -> None:
    path = folder / "fuzz.toml"
    path.write_text(text, "utf-8")
    regime_or_error(lambda: load_regime(path))


@FUZZ
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4))
def fuzz_mutated_preset(folder: Path, mutations) -> None:
    lines = list(LINES)
    for i, op, junk in mutations:
        if not lines:
            break
        i %= len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines[i] = lines[i][: len(lines[i]) // 2] + junk + lines[i][len(lines[i]) // 2 :]
        elif op == "swap":
            j = (i * 7 + 3) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines = lines[:i]
    path = folder / "fuzz.toml"
    path.write_text("\n".join(lines), "utf-8")
    regime_or_error(lambda: load_regime(path))


@FUZZ
@given(text=st.text(max_size=120))
def fuzz_override_text(text: str) -> None:
    regime_or_error(lambda: load_regime(copy.deepcopy(PRESS_DATA), (text,)))


@FUZZ
@given(path=PATHS, value=VALUES)
def fuzz_override_structured(path: str, value: str) -> None:
    regime_or_error(lambda: load_regime(copy.deepcopy(PRESS_DATA), (f"{path}={value}",)))


def test_fuzz_regime_files(tmp_path):
    fuzz_bytes(tmp_path)
    fuzz_text(tmp_path)
    fuzz_mutated_preset(tmp_path)
    LOG.add(
        "fuzz/regime-files",
        "arbitrary bytes; arbitrary text; the press preset with lines deleted, duplicated, "
        "swapped, cut or spliced with random text",
        "hypothesis: 3 x 120 examples, 2 s deadline each, 10 s alarm",
        "a valid Regime or a RegimeError of one-line messages every time; no other "
        "exception, no hang",
    )


def test_fuzz_overrides():
    fuzz_override_text()
    fuzz_override_structured()
    LOG.add(
        "fuzz/overrides",
        "arbitrary `--set` strings; `--set` paths built from regime words, indexes, "
        "brackets and dots with odd values",
        "hypothesis: 2 x 120 examples, 2 s deadline each, 10 s alarm",
        "a valid Regime or a RegimeError of one-line messages every time; no other "
        "exception, no hang",
    )


def test_faults_doc():
    LOG.check()
