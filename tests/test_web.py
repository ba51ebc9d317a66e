"""The dashboard's API: presets and controls, runs, cancellation, queue, limits and security;
named runs, reports to download, the shared palette and labels, and ``serve`` on a busy port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # newer starlette prefers httpx2 and says so on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from credsim import __version__
from credsim.labels import WINDOWS, tier_colors
from credsim.regime.load import load_regime
from credsim.web.app import create_app
from credsim.web.controls import controls

BASE = "http://127.0.0.1"
MAX_POPULATION = 60_000
FINAL = ("done", "failed", "cancelled")


def wait(client: TestClient, name: str, until=FINAL, timeout: float = 180.0) -> dict:
    """Poll a run's status until its state is one of ``until``."""
    t0 = time.monotonic()
    while True:
        s = client.get(f"/api/runs/{name}/status").json()
        if s["state"] in until:
            return s
        assert time.monotonic() - t0 < timeout, f"run {name} still {s['state']} after {timeout}s"
        time.sleep(0.1)


def start(client: TestClient, **body) -> dict:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 202, r.text
    return r.json()


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("web") / "runs"


@pytest.fixture(scope="module")
def client(runs_dir):
    app = create_app(runs_dir, max_population=MAX_POPULATION)
    with TestClient(app, base_url=BASE, headers={"origin": BASE}) as c:
        yield c


@pytest.fixture(scope="module")
def small_run(client) -> str:
    """A finished run of 2,000 citizens over 20 days with two settings changed."""
    body = {
        "preset": "press",
        "population": 2000,
        "days": 20,
        "seed": 3,
        "overrides": {"sanctions.blacklist.duration": 30, "adaptation.enabled": False},
    }
    name = start(client, **body)["name"]
    s = wait(client, name)
    assert s["state"] == "done", s
    return name


def test_presets_and_controls(client):
    r = client.get("/api/presets")
    assert r.status_code == 200
    names = [p["name"] for p in r.json()["presets"]]
    assert "press" in names and "national" in names
    assert all(p["description"] for p in r.json()["presets"])
    assert r.json()["limits"]["max_population"] == MAX_POPULATION

    r = client.get("/api/controls", params={"preset": "press"})
    assert r.status_code == 200
    items = {c["path"]: c for c in r.json()["controls"]}
    for path in (
        "population",
        "days",
        "seed",
        "regime.transparency",
        "sources.camera.false_match",
        "sanctions.blacklist.duration",
        "sanctions.defaulter.duration",
        "sanctions.blacklist.spillover",
        "rules.critical_post.redress.accept",
        "sanctions.blacklist.redress.accept",
        "adaptation.enabled",
        "rules.jaywalking.delta",
        "rules.critical_post.delta",
    ):
        assert path in items, path
        c = items[path]
        assert c["label"] and c["help"] and c["widget"] in ("slider", "switch", "select")
    press = load_regime("press")
    assert items["population"]["max"] == MAX_POPULATION
    assert items["sources.camera.false_match"]["default"] == press.sources[0].false_match
    assert items["sources.camera.false_match"]["help"].startswith("Probability that a record")
    assert items["sanctions.blacklist.duration"]["default"] == 365
    assert items["sanctions.blacklist.spillover"] == {
        **items["sanctions.blacklist.spillover"],
        "widget": "switch",
        "default": True,
    }
    assert items["regime.transparency"]["options"] == ["secret", "partial", "published"]
    assert items["regime.transparency"]["default"] == "secret"
    assert items["rules.jaywalking.delta"]["default"] == -5
    for c in items.values():
        if c["widget"] == "slider":
            assert c["min"] <= c["default"] <= c["max"]

    # every preset has controls whose defaults load
    for name in names:
        assert client.get("/api/controls", params={"preset": name}).status_code == 200
        assert controls(name)
    r = client.get("/api/controls", params={"preset": "nosuch"})
    assert r.status_code == 404 and "unknown preset" in r.json()["error"]


def test_small_run_metrics_and_dossier(client, runs_dir, small_run):
    name = small_run
    s = client.get(f"/api/runs/{name}/status").json()
    assert s == {**s, "state": "done", "fraction": 1.0, "days_done": 20, "days": 20}

    d = client.get(f"/api/runs/{name}").json()
    assert d["regime"] == "press" and d["population"] == 2000 and d["seed"] == 3
    assert d["overrides"] == {"sanctions.blacklist.duration": 30, "adaptation.enabled": False}
    keys = {row["key"]: row for row in d["summary"]}
    assert keys["citizens"]["value"] == 2000
    assert keys["wrongful"]["explain"]
    assert set(d["examples"]) == {
        "wrongful",
        "ever_wrongful",
        "escaped",
        "banned",
        "spillover",
        "permanent",
    }

    # the overrides reached the run
    regime = load_regime(runs_dir / name / "regime.toml")
    assert regime.sanctions[regime.index("sanctions", "blacklist")].duration == 30
    assert regime.adaptation.enabled is False
    manifest = json.loads((runs_dir / name / "manifest.json").read_text())
    assert manifest["status"] == "complete"

    m = client.get(f"/api/runs/{name}/metrics").json()
    assert m["complete"] is True and m["day"] == list(range(20))
    for col in ("restricted", "wrongful", "spillover_only", "score_mean", "score_p95"):
        assert len(m["series"][col]) == 20
    assert m["series"]["score_mean"][0] > 0
    assert "denied_flight_cumulative" in m["series"]

    m = client.get(f"/api/runs/{name}/metrics", params={"columns": "restricted,citizens"}).json()
    assert set(m["series"]) == {"restricted", "citizens"}
    assert m["series"]["citizens"] == [2000] * 20
    r = client.get(f"/api/runs/{name}/metrics", params={"columns": "restricted,nosuch"})
    assert r.status_code == 422 and "nosuch" in r.json()["error"]

    r = client.get(f"/api/runs/{name}/citizens/7")
    assert r.status_code == 200
    body = r.json()
    assert body["dossier"]["citizen"] == 7
    assert body["text"].startswith("Citizen 7 (synthetic)")
    assert "Score" in body["text"]
    r = client.get(f"/api/runs/{name}/citizens/2000")
    assert r.status_code == 404 and "does not exist" in r.json()["error"]
    r = client.get(f"/api/runs/{name}/citizens/-1")
    assert r.status_code == 422

    listed = {x["name"]: x for x in client.get("/api/runs").json()["runs"]}
    assert listed[name]["state"] == "done" and listed[name]["population"] == 2000


def test_compare_two_runs(client, small_run):
    other = start(
        client,
        preset="press",
        population=2000,
        days=20,
        seed=3,
        overrides={"rules.jaywalking.delta": -200},
    )["name"]
    assert wait(client, other)["state"] == "done"
    r = client.get("/api/compare", params={"a": small_run, "b": other})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["paired"] is True and c["pairing"].startswith("paired")
    rows = {row["key"]: row for row in c["rows"]}
    assert rows["citizens"]["a"] == rows["citizens"]["b"] == 2000
    assert rows["restricted"]["difference"] == rows["restricted"]["b"] - rows["restricted"]["a"]
    assert len(c["series"]["a"]["restricted"]) == 20

    third = start(client, preset="press", population=2000, days=10, seed=4)["name"]
    assert wait(client, third)["state"] == "done"
    c = client.get("/api/compare", params={"a": small_run, "b": third}).json()
    assert c["paired"] is False and "seed differs" in c["pairing"]

    r = client.get("/api/compare", params={"a": small_run, "b": small_run})
    assert r.status_code == 422 and "two different runs" in r.json()["error"]
    r = client.get("/api/compare", params={"a": small_run, "b": "nosuch-run"})
    assert r.status_code == 404


def test_one_at_a_time_queue_and_cancel(tmp_path):
    runs = tmp_path / "runs"
    app = create_app(runs, max_population=MAX_POPULATION)
    with TestClient(app, base_url=BASE, headers={"origin": BASE}) as client:
        long = {"preset": "press", "population": MAX_POPULATION, "days": 3650, "seed": 1}
        first = start(client, **long)["name"]
        second = start(client, **long)
        assert second["state"] == "queued" and second["queue_position"] >= 1
        third = start(client, **{**long, "seed": 2})
        assert third["queue_position"] == second["queue_position"] + 1

        s = wait(client, first, until=("running",))
        t0 = time.monotonic()
        while s["days_done"] == 0 and time.monotonic() - t0 < 120:
            time.sleep(0.1)
            s = client.get(f"/api/runs/{first}/status").json()
        assert s["state"] == "running" and 0 < s["fraction"] < 1

        states = {x["name"]: x["state"] for x in client.get("/api/runs").json()["runs"]}
        assert states[first] == "running"
        assert states[second["name"]] == states[third["name"]] == "queued"
        assert sum(v == "running" for v in states.values()) == 1

        # a queued run is dropped at once, the running one stops after its current day
        r = client.post(f"/api/runs/{third['name']}/cancel")
        assert r.status_code == 200 and r.json()["state"] == "cancelled"
        assert client.post(f"/api/runs/{first}/cancel").status_code == 200
        s = wait(client, first, timeout=60)
        assert s["state"] == "cancelled" and s["fraction"] < 1
        manifest = json.loads((runs / first / "manifest.json").read_text())
        assert manifest["status"] == "incomplete"
        board = json.loads((runs / first / "dashboard.json").read_text())
        assert board["state"] == "cancelled"

        # the queue moves on: the second run starts, and is cancelled in turn
        wait(client, second["name"], until=("running",) + FINAL)
        assert client.post(f"/api/runs/{second['name']}/cancel").status_code == 200
        assert wait(client, second["name"])["state"] == "cancelled"

        r = client.post(f"/api/runs/{first}/cancel")
        assert r.status_code == 409 and "nothing to cancel" in r.json()["error"]
        m = client.get(f"/api/runs/{first}/metrics").json()
        assert m["complete"] is False and m["series"] == {}
        r = client.get(f"/api/runs/{first}/citizens/1")
        assert r.status_code == 409 and "cancelled" in r.json()["error"]

    # a new server reads the states back from the folders
    app = create_app(runs)
    with TestClient(app, base_url=BASE, headers={"origin": BASE}) as client:
        states = {x["name"]: x["state"] for x in client.get("/api/runs").json()["runs"]}
        assert states[first] == "cancelled"


def test_traversal_rejected(client, runs_dir, small_run, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "manifest.json").write_text(json.dumps({"status": "complete", "days": 1}))
    (outside / "secret.txt").write_text("top secret")
    (runs_dir / "escape").symlink_to(outside, target_is_directory=True)
    inner = runs_dir / "inner"
    inner.mkdir()
    (inner / "manifest.json").write_text(json.dumps({"status": "complete", "days": 1}))
    (inner / "metrics.parquet").symlink_to(outside / "secret.txt")

    urls = [
        "/api/runs/../status",
        "/api/runs/..%2F..%2Fetc/status",
        "/api/runs/%2E%2E/status",
        "/api/runs/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd/metrics",
        "/api/runs/..%5C..%5Cetc/status",
        "/api/runs/%2Fetc%2Fpasswd/status",
        "/api/runs//etc/passwd/status",
        "/api/runs/.hidden/status",
        "/api/runs/UPPER/status",
        f"/api/runs/{'a' * 65}/status",
        "/api/runs/escape/status",
        "/api/runs/escape/metrics",
        "/api/runs/inner/metrics",
        "/api/runs/inner/citizens/0",
        "/api/compare?a=../x&b=" + small_run,
        "/api/compare?a=/etc/passwd&b=" + small_run,
        "/api/compare?a=%2E%2E%2F" + small_run + "&b=" + small_run,
        "/api/compare?a=escape&b=" + small_run,
    ]
    for url in urls:
        r = client.get(url)
        assert r.status_code in (400, 404, 422), (url, r.status_code, r.text)
        assert "error" in r.json(), url
        assert "top secret" not in r.text and "root:" not in r.text
    assert client.get("/api/runs/escape/status").status_code == 400
    assert "outside the runs folder" in client.get("/api/runs/inner/metrics").json()["error"]
    r = client.post("/api/runs/..%2Fx/cancel")
    assert r.status_code in (400, 404)
    r = client.post("/api/runs", json={"population": 2000, "days": 2, "name": "../evil"})
    assert r.status_code == 422 and "name" in r.json()["error"]
    listed = [x["name"] for x in client.get("/api/runs").json()["runs"]]
    assert "escape" not in listed and "inner" not in listed


def test_limits_and_overrides_rejected(client):
    def error(body: dict, status: int = 422) -> str:
        r = client.post("/api/runs", json=body)
        assert r.status_code == status, (body, r.text)
        text = r.json()["error"]
        assert "\n" not in text
        return text

    assert "at most 60,000" in error({"population": MAX_POPULATION + 1})
    assert "population" in error({"population": 10**12})
    assert "population" in error({"population": 10})
    assert "days" in error({"days": 3651})
    assert "days" in error({"days": 0})
    assert "seed" in error({"seed": -1})
    assert "unknown preset" in error({"preset": "nosuch"})
    assert "preset" in error({"preset": "../press"})
    text = error({"overrides": {"score.initial": 5}})
    assert "'score.initial' is not a control of preset 'press'" in text
    assert "not a control" in error({"overrides": {"sanctions.nosuch.duration": 3}})
    assert "population" in error({"overrides": {"population": 3}})
    assert "between" in error({"overrides": {"sources.camera.false_match": 0.9}})
    assert "whole number" in error({"overrides": {"sanctions.blacklist.duration": 1.5}})
    assert "true or false" in error({"overrides": {"adaptation.enabled": "yes"}})
    assert "one of" in error({"overrides": {"regime.transparency": "open"}})
    assert "number" in error({"overrides": {"rules.jaywalking.delta": "-5; rm"}})
    assert "extra" in error({"colour": "red"}).lower()
    many = {f"x{i}": 1 for i in range(101)}
    assert "overrides" in error({"overrides": many})
    r = client.post(
        "/api/runs",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    r = client.post("/api/runs", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "error" in r.json()


def test_token_required_when_configured(tmp_path):
    token = "t0ken-for-the-tests-only"
    app = create_app(tmp_path / "runs", token=token)
    with TestClient(
        app,
        base_url="http://dashboard.example:8000",
        headers={"origin": "http://dashboard.example:8000"},
    ) as client:
        r = client.get("/api/presets")
        assert r.status_code == 401 and r.json() == {"error": "missing or wrong token"}
        assert client.get("/api/runs").status_code == 401
        assert client.post("/api/runs", json={}).status_code == 401
        bad = {"Authorization": "Bearer " + token[:-1] + "x"}
        assert client.get("/api/presets", headers=bad).status_code == 401
        assert client.get("/api/presets", params={"token": "wrong"}).status_code == 401
        good = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/presets", headers=good).status_code == 200
        assert client.get("/api/presets", params={"token": token}).status_code == 200
        assert client.get("/api/runs", headers=good).json() == {"runs": []}
        # the page itself holds no data and loads without the token
        assert client.get("/").status_code == 200


def test_loopback_host_and_same_origin_without_token(client, small_run):
    r = client.get("/api/presets", headers={"host": "attacker.example"})
    assert r.status_code == 400 and "localhost" in r.json()["error"]
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/api/presets", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/api/presets", headers={"host": "[::1]:8000"}).status_code == 200
    r = client.post(f"/api/runs/{small_run}/cancel", headers={"origin": "http://attacker.example"})
    assert r.status_code == 403


def test_page_is_self_contained(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    page = r.text
    assert '<script src="/static/plotly.js"' in page and '<script src="/static/app.js"' in page
    for attr in ('src="http', "src='http", 'href="http', "href='http", "//cdn"):
        assert attr not in page
    assert "default-src 'self'" in r.headers["content-security-policy"]
    js = client.get("/static/plotly.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert len(js.content) > 1_000_000
    assert (
        client.get("/static/plotly.js", headers={"if-none-match": js.headers["etag"]}).status_code
        == 304
    )
    app_js = client.get("/static/app.js").text
    assert "fetch(" in app_js and "http://" not in app_js and "https://" not in app_js
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/docs").status_code == 404


def test_serve_requires_token_off_loopback(monkeypatch, tmp_path):
    import credsim.web.app as web_app
    from credsim.web import cli

    served, made = {}, {}
    original = web_app.create_app

    def spy(runs_dir, token=None, max_population=2_000_000):
        made.update(token=token, runs=runs_dir)
        return original(runs_dir, token=token, max_population=max_population)

    def bound(host, port):
        served.update(host=host, port=port)
        return socket.socket()  # never listens: run_server is replaced too

    monkeypatch.setattr(cli, "listen", bound)
    monkeypatch.setattr(cli, "run_server", lambda app, sock: served.update(app=app))
    monkeypatch.setattr(web_app, "create_app", spy)  # serve imports it when called
    cli.serve(host="0.0.0.0", port=8123, runs=tmp_path / "r", token=None)
    assert made["token"] and len(made["token"]) >= 24 and served["port"] == 8123
    cli.serve(host="127.0.0.1", port=8124, runs=tmp_path / "r", token=None)
    assert made["token"] is None and served["app"] is not None
    assert cli.is_loopback("127.0.0.1") and cli.is_loopback("::1") and cli.is_loopback("localhost")
    assert not cli.is_loopback("0.0.0.0") and not cli.is_loopback("192.0.2.1")


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path):
    """The port is bound before anything is printed: one error line, exit 2, no "open" line."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        r = subprocess.run(
            [sys.executable, "-m", "credsim.web", "--port", str(port), "--runs", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        busy.close()
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: port {port} is in use: "), r.stderr
    assert "Traceback" not in r.stderr and "open http" not in r.stderr


def test_run_names_are_checked_and_reserved_once(tmp_path):
    runs = tmp_path / "runs"
    app = create_app(runs, max_population=MAX_POPULATION)
    tiny = {"preset": "ref1", "population": 100, "days": 1, "seed": 1}
    with TestClient(app, base_url=BASE, headers={"origin": BASE}) as client:
        for bad in ("My Run", "../x", "-x", "a" * 65, "run/1", ""):
            r = client.post("/api/runs", json={**tiny, "name": bad})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["error"].startswith("name: "), r.text
        (runs / "taken").mkdir()
        r = client.post("/api/runs", json={**tiny, "name": "taken"})
        assert r.status_code == 409 and "exists already" in r.json()["error"]

        # the same name asked for at once by several requests: one run gets it
        answers: list = []

        def post(body: dict) -> None:
            answers.append(client.post("/api/runs", json=body))

        threads = [
            threading.Thread(target=post, args=({**tiny, "name": "same"},)) for _ in range(5)
        ]
        threads += [threading.Thread(target=post, args=(tiny,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        named = [a for a in answers if a.request.content and b'"same"' in a.request.content]
        assert sorted(a.status_code for a in named) == [202, 409, 409, 409, 409]
        unnamed = [a for a in answers if a not in named]
        assert [a.status_code for a in unnamed] == [202] * 3
        names = [a.json()["name"] for a in answers if a.status_code == 202]
        assert len(set(names)) == len(names) == 4 and "same" in names
        for name in names:
            assert (runs / name).is_dir()
            assert wait(client, name)["state"] == "done"
        board = json.loads((runs / "same" / "dashboard.json").read_text())
        assert board["name"] == "same" and board["state"] == "done"


def test_report_of_a_finished_run_is_downloadable(client, runs_dir, small_run, tmp_path):
    folder = runs_dir / small_run
    assert (folder / "report.html").is_file()  # written by the dashboard when the run ended
    d = client.get(f"/api/runs/{small_run}").json()
    assert d["report"] == f"/api/runs/{small_run}/report"
    r = client.get(d["report"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-disposition"] == f'attachment; filename="{small_run}-report.html"'
    assert r.text.startswith("<!DOCTYPE html>") and f"credsim run: {small_run}" in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    # a report that went missing is written again when asked for
    (folder / "report.html").unlink()
    r = client.get(d["report"])
    assert r.status_code == 200 and (folder / "report.html").is_file()
    # the checks of every other route
    for url in (
        "/api/runs/..%2F..%2Fetc/report",
        "/api/runs/UPPER/report",
        "/api/runs/nosuch/report",
        "/api/runs/escape/report",
    ):
        r = client.get(url)
        assert r.status_code in (400, 404), (url, r.text)
        assert "error" in r.json()
    assert client.get(d["report"], headers={"host": "attacker.example"}).status_code == 400
    # a report.html that is a link is refused
    linked = runs_dir / "linked"
    linked.mkdir()
    for f in ("manifest.json", "metrics.parquet", "metrics_groups.parquet", "regime.toml"):
        (linked / f).write_bytes((folder / f).read_bytes())
    secret = tmp_path / "secret.html"
    secret.write_text("top secret")
    (linked / "report.html").symlink_to(secret)
    r = client.get("/api/runs/linked/report")
    assert r.status_code == 400 and "top secret" not in r.text

    token = "t0ken-for-the-tests-only"
    guarded = create_app(runs_dir, token=token)
    with TestClient(
        guarded,
        base_url="http://dashboard.example:8000",
        headers={"origin": "http://dashboard.example:8000"},
    ) as other:
        assert other.get(d["report"]).status_code == 401
        assert other.get(d["report"], params={"token": token}).status_code == 200


def test_headline_figures_say_which_days_and_charts_carry_a_caption(client, small_run):
    d = client.get(f"/api/runs/{small_run}").json()
    rows = {row["key"]: row for row in d["summary"]}
    for row in d["summary"]:
        assert row["window"] in WINDOWS and row["window_label"] == WINDOWS[row["window"]]
        assert row["label"] and "_" not in row["label"]
    assert rows["restricted"]["window"] == "last_day"
    assert rows["misattributed_records"]["window"] == "whole_run"
    assert rows["posts_vs_baseline"]["window"] == "whole_run"
    assert rows["posts_vs_baseline_last_30_days"]["window"] == "last_30_days"
    assert rows["denied_private_school"]["label"] == "Refused attempts: private school"
    assert d["caption"] == (
        f"Synthetic citizens · regime press · 2,000 citizens · 20 days · seed 3 · 1 replicate · "
        f"credsim {__version__}"
    )
    c = client.get("/api/compare", params={"a": small_run, "b": small_run + "-x"})
    assert c.status_code == 404


def test_one_palette_across_report_png_and_dashboard(client, runs_dir, small_run):
    """The dashboard's colours and labels are the report's and the PNGs'."""
    from matplotlib.colors import to_hex

    from credsim.report import charts, regime_of
    from credsim.report.charts import png_figure
    from credsim.run import Run

    run = Run(runs_dir / small_run)
    style = client.get(f"/api/runs/{small_run}").json()["style"]
    regime = regime_of(run)[1]
    assert {k: v["color"] for k, v in style["tiers"].items()} == tier_colors(regime)
    assert style["tiers"]["untrustworthy"] == {"label": "untrustworthy", "color": "#c92a2a"}
    assert style["privileges"]["private_school"]["label"] == "private school"
    assert style["start_tier"] == "normal"

    found = {c.id: c for c in charts(run)}
    html = (runs_dir / small_run / "report.html").read_text("utf-8")
    assert not found["chart-tiers"].empty
    for cid, kind in (("chart-tiers", "tiers"), ("chart-denied", "privileges")):
        chart = found[cid]
        drawn = {s.name: s.color for s in chart.series}
        assert drawn == {v["label"]: v["color"] for v in style[kind].values()}, cid
        block = html[html.index(f'id="{cid}"') :]
        block = block[: block.index("</section>")]
        for label, color in drawn.items():
            if not chart.empty:  # an empty chart is a note in the report
                assert f'"name":"{label}"' in block and f'"color":"{color}"' in block, cid
        lines = png_figure(chart).axes[0].get_lines()
        assert {ln.get_label(): to_hex(ln.get_color()) for ln in lines} == drawn, cid
    wrongful = found["chart-wrongful"].series
    assert wrongful[0].color == style["series"]["wrongful"]["color"]
    assert wrongful[0].name == style["series"]["wrongful"]["label"]


def test_causes_panel_is_fed_by_its_route(client, small_run):
    r = client.get(f"/api/runs/{small_run}/causes")
    assert r.status_code == 200
    d = r.json()
    assert d["name"] == small_run and d["days"] == 20
    assert isinstance(d["causes"], list)
    for row in d["causes"]:
        assert set(row) >= {"sanction", "rule", "listings", "restricted_now", "share_of_restricted"}
    assert client.get("/api/runs/nosuchrun/causes").status_code == 404
    assert 'id="causes-table"' in client.get("/").text


def test_replicates_through_the_api(client):
    """A run of 3 replicates: seeds, means with their intervals, and charts served as plotly
    figures (credsim.report's specifications) with a 95% band under each line."""
    controls_ = {c["path"]: c for c in client.get("/api/controls").json()["controls"]}
    assert controls_["replicates"]["default"] == 3 and controls_["population"]["default"] <= 20_000
    # seeds 7 to 9 at this size restrict someone in two replicates of three
    name = start(client, preset="press", population=2000, days=60, seed=7, replicates=3)["name"]
    assert wait(client, name)["state"] == "done"
    d = client.get(f"/api/runs/{name}").json()
    assert d["replicates"] == 3 and d["seeds"] == [7, 8, 9]
    assert "seeds 7 to 9 · 3 replicates" in d["caption"]
    from credsim.run import Run

    run = Run(client.app.state.runs_dir / name)
    for f in d["summary"]:
        if f["key"] in run.intervals:
            iv = run.intervals[f["key"]]
            assert f["ci_low"] == pytest.approx(iv["ci_low"]) and f["replicates"] == 3
            assert f["interval_text"] and " to " in f["interval_text"]
    c = client.get(f"/api/runs/{name}/charts", params={"dimension": "sex"}).json()
    # press has ties: their chart follows the six of every regime
    assert set(c["charts"]) == {"restricted", "score", "burden", "tiers", "denied", "posts", "ties"}
    restricted = c["charts"]["restricted"]
    assert restricted["caption"] == d["caption"]
    assert "means over 3 replicates" in restricted["about"]
    traces = restricted["figure"]["data"]
    assert any(t.get("fill") == "tonexty" for t in traces)
    line = next(t for t in traces if t.get("name") == "restricted (own sanction)")
    assert line["x"] == run.metrics["day"].tolist()
    assert line["y"] == pytest.approx(run.metrics["restricted"].tolist())
    assert max(line["y"]) > 0
    assert c["charts"]["burden"]["id"] == "chart-burden-sex"
    assert client.get(f"/api/runs/{name}/charts", params={"dimension": "nope"}).status_code == 422
    # explain reads the first replicate and says so
    r = client.get(f"/api/runs/{name}/citizens/3").json()
    assert r["dossier"]["replicate"] == "replicate 1 of 3 (seed 7)"
    too_many = client.post("/api/runs", json={"preset": "ref1", "replicates": 11})
    assert too_many.status_code == 422 and "replicates" in too_many.json()["error"]


def test_app_js_draws_the_servers_charts_and_has_no_chart_logic_of_its_own():
    """The page draws figures as served; it builds no trace of its own."""
    from credsim.web.app import STATIC

    js = (STATIC / "app.js").read_text("utf-8")
    assert "/charts?dimension=" in js and "Plotly.newPlot(node, spec.figure.data" in js
    for own in ('type: "scatter"', 'type: "bar"', 'fill: "tonexty"', "fillcolor"):
        assert own not in js, own


def test_comparing_runs_with_replicates_gives_intervals(client):
    """Two runs of 2 replicates on the same seeds: a paired difference and its interval."""
    body = {"preset": "press", "population": 2000, "days": 30, "seed": 11, "replicates": 2}
    a = start(client, **body)["name"]
    b = start(client, **body, overrides={"sources.camera.false_match": 0.05})["name"]
    assert wait(client, a)["state"] == wait(client, b)["state"] == "done"
    r = client.get("/api/compare", params={"a": a, "b": b}).json()
    assert r["paired"]
    row = next(x for x in r["rows"] if x["key"] == "misattributed_records")
    assert row["replicates"] == 2 and row["ci_low"] <= row["difference"] <= row["ci_high"]
    assert r["chart"]["id"] == "chart-compare" and "2 replicates" in r["chart"]["caption"]
