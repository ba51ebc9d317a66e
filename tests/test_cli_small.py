"""Small things a user meets first: query formats and empty SQL, integer sums, help texts,
the progress line's estimate."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from credsim.cli import Progress, app
from credsim.sim import Sim

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return Sim("press", 3000, 60, 1, out=tmp_path_factory.mktemp("q") / "run", workers=1).run()


@pytest.mark.parametrize(
    "args, message",
    [
        (["SELECT 1", "--format", "xml"], "unknown format 'xml'"),
        (["   "], "SQL is empty"),
        (["SET threads = 1; SELECT nope FROM nowhere"], "SQL:"),
    ],
)
def test_query_bad_input_is_one_line(run, args, message):
    result = runner.invoke(app, ["query", str(run.path), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_sums_of_counts_are_integers(run):
    result = runner.invoke(
        app, ["query", str(run.path), "SELECT sum(acts_jaywalking) AS n FROM metrics"]
    )
    assert result.exit_code == 0, result.output
    value = result.stdout.split()[-1]
    assert value.isdigit(), result.stdout
    df = run.query("SELECT sum(acts_jaywalking) AS n, avg(restricted) AS m FROM metrics")
    assert str(df["n"].dtype) == "int64" and str(df["m"].dtype) == "float64"


def test_run_options_have_help_texts():
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    for option in ("--days", "--seed", "--population", "--out"):
        line = next(x for x in result.stdout.splitlines() if option in x)
        assert len(line.split(option, 1)[1].strip()) > 12, line


def test_the_first_estimate_waits_for_a_pace(monkeypatch, capsys):
    clock = iter([0.0, 5.0, 6.0, 7.0])
    monkeypatch.setattr("credsim.cli.time.perf_counter", lambda: next(clock))
    p = Progress("press")  # t0 = 0; start-up takes 5 s before the first report
    p.tty = False
    p(1, 100)  # 1% after 5 s: no estimate from that alone
    p(20, 100)  # 20% after 6 s: 19% in 1 s, so 80% take about 4.2 s
    p(100, 100)
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("eta estimating")
    assert err[1].endswith("eta 4.2s")
    assert err[2].endswith("eta 0.0s")


def test_a_short_run_prints_no_progress_lines(monkeypatch, capsys):
    clock = iter([0.0, *(0.9 + k / 1000 for k in range(365))])
    monkeypatch.setattr("credsim.cli.time.perf_counter", lambda: next(clock))
    p = Progress("ref1")
    p.tty = False
    for day in range(1, 366):
        p(day, 365)
    assert capsys.readouterr().err == ""


def test_a_long_run_prints_lines_once_it_has_lasted(monkeypatch, capsys):
    # start-up 1 s, then 0.1 s a day: the first line comes at 2 s (day 10), then every 10%
    clock = iter([0.0, *(1.0 + 0.1 * k for k in range(1, 101))])
    monkeypatch.setattr("credsim.cli.time.perf_counter", lambda: next(clock))
    p = Progress("press")
    p.tty = False
    for day in range(1, 101):
        p(day, 100)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("press:  10.0% (10/100 shard-days) elapsed 2.0s")
    assert err[0].endswith("eta 9.0s")  # 9% in 0.9 s since the first day: 90% left take 9 s
    assert [line.split("%")[0].split()[-1] for line in err] == [
        f"{f:.1f}" for f in range(10, 101, 10)
    ]
    assert err[-1].endswith("eta 0.0s")


def test_a_busy_port_is_one_line_before_any_link(tmp_path):
    import socket

    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--runs", str(tmp_path)])
    assert result.exit_code == 2
    assert f"error: port {port} is in use" in result.output
    assert "open http" not in result.output
    assert "Traceback" not in result.output
