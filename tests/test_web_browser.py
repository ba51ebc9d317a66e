"""The dashboard in a real browser: set a parameter, run, read charts, a dossier, a comparison;
the layout on a phone (390 px) and a tablet (768 px): no sideways scroll, no panel over a chart.

Needs Playwright (the Python package only) and a Chromium binary, by default Debian's
/usr/bin/chromium (or the path in CREDSIM_CHROMIUM); the tests are skipped without them.
Screenshots go to CREDSIM_SCREENSHOTS if set, else to a temporary folder; their paths are
printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CREDSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)

from credsim.web.app import create_app  # noqa: E402

expect = sync_api.expect


def serving(app):
    """Serve an app with uvicorn in a thread, on a free loopback port; yields its address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not srv.started:
        assert thread.is_alive() and time.monotonic() - t0 < 30, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(30)
    sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard served by uvicorn in a thread, on a free loopback port."""
    yield from serving(
        create_app(tmp_path_factory.mktemp("browser") / "runs", max_population=200_000)
    )


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("CREDSIM_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_dashboard_end_to_end(server, chromium, shots):
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    outside: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    saved: list[Path] = []

    def shot(name: str, full: bool = False) -> None:
        path = shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=full)
        saved.append(path)
        print(f"screenshot: {path}")

    # the page loads with the press regime and its controls
    page.goto(server + "/")
    expect(page.get_by_role("heading", name=re.compile("^credsim"))).to_be_visible()
    expect(page.locator("#preset")).to_have_value("press")
    expect(page.locator("#preset-description")).to_contain_text("press")
    camera = page.locator(".control[data-path='sources.camera.false_match']")
    expect(camera).to_be_visible()
    expect(camera.locator(".help")).to_contain_text("lookalike")
    expect(page.locator("#results-empty")).to_be_visible()
    shot("01-start")

    # change parameters, then run
    page.locator("input.num[data-path='population']").fill("20000")
    page.locator("input.num[data-path='days']").fill("365")
    expect(page.locator("input.num[data-path='replicates']")).to_have_value("3")
    page.locator("input.num[data-path='replicates']").fill("2")
    page.locator("input.num[data-path='sources.camera.false_match']").fill("0.02")
    expect(camera).to_have_class(re.compile(r"\bchanged\b"))
    page.get_by_role("button", name="Run simulation").click()
    expect(page.locator("#chart-score .main-svg").first).to_be_visible(timeout=60_000)
    expect(page.locator("#chart-restricted .main-svg").first).to_be_visible()
    expect(page.locator("#chart-restricted")).to_contain_text("wrongfully restricted")
    expect(page.locator("#run-params")).to_contain_text("Camera: false matches: 0.02")
    expect(page.locator("#run-params")).to_contain_text("20,000 citizens")
    expect(page.locator("#run-params")).to_contain_text("seeds 1 to 2 · 2 replicates")
    restricted = page.locator("#cards .stat[data-key='restricted']")
    expect(restricted).to_be_visible()
    expect(restricted.locator(".value")).to_have_text(re.compile(r"^\d[\d,]*"))
    first_title = page.locator("#run-title").inner_text()
    first = first_title.removeprefix("Run ")
    shot("02-results", full=True)

    # look up a citizen: an example chip if there is one, else a number
    page.get_by_role("tab", name="Look up a citizen").click()
    chips = page.locator("#examples .chip[data-kind='banned']")
    if chips.count():
        chips.first.click()
        expect(page.locator("#dossier-text")).to_contain_text("Listings:")
    else:
        page.locator("#citizen-id").fill("12")
        page.get_by_role("button", name="Show dossier").click()
    expect(page.locator("#dossier-text")).to_contain_text(re.compile(r"Citizen \d+ \(synthetic\)"))
    expect(page.locator("#dossier-text")).to_contain_text("Timeline")
    expect(page.locator("#dossier-facts")).to_contain_text("Score")
    shot("03-citizen")

    # a second run with the rules published and no family punishment, then compare
    page.locator("select[data-path='regime.transparency']").select_option("published")
    page.locator(".control[data-path='sanctions.blacklist.spillover'] .switch").click()
    page.get_by_role("button", name="Run simulation").click()
    expect(page.locator("#run-title")).not_to_have_text(first_title, timeout=60_000)
    expect(page.locator("#chart-score .main-svg").first).to_be_visible(timeout=60_000)
    expect(page.locator("#run-params")).to_contain_text("How open the rules are: Published")
    second = page.locator("#run-title").inner_text().removeprefix("Run ")
    assert second != first

    page.get_by_role("tab", name="Compare two runs").click()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#compare-a")).to_have_value(first)
    expect(page.locator("#compare-b")).to_have_value(second)
    expect(page.locator("#pairing")).to_contain_text("Paired")
    expect(page.locator("#compare-params")).to_contain_text(f"A: {first}")
    expect(page.locator("#compare-params")).to_contain_text(f"B: {second}")
    expect(page.locator("#compare-table tr[data-key='restricted']")).to_be_visible()
    expect(page.locator("#compare-table")).to_contain_text("Wrongfully restricted")
    expect(page.locator("#chart-compare .main-svg").first).to_be_visible()
    shot("04-compare", full=True)

    page.get_by_role("tab", name="All runs").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(2)
    expect(page.locator("#runs-table .state.done")).to_have_count(2)
    shot("05-runs")

    assert outside == [], f"requests left this computer: {outside}"
    assert errors == [], f"errors in the page: {errors}"
    assert all(p.stat().st_size > 10_000 for p in saved)
    context.close()


def test_page_asks_for_a_token(tmp_path, chromium):
    """With a token set, the page asks for it, and then works."""
    token = "browser-test-token-123456"
    app = create_app(tmp_path / "runs", token=token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not srv.started:
        assert time.monotonic() - t0 < 30
        time.sleep(0.05)
    try:
        page = chromium.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        expect(page.locator("#token-box")).to_be_visible()
        page.locator("#token-input").fill(token)
        page.get_by_role("button", name="Use key").click()
        expect(page.locator("#token-box")).to_be_hidden()
        expect(page.locator("#preset")).to_have_value("press")
        # a link carrying the token opens straight away, and the token leaves the address bar
        page.goto(f"http://127.0.0.1:{port}/?token={token}")
        expect(page.locator("#preset")).to_have_value("press")
        assert "token" not in page.url
        page.close()
    finally:
        srv.should_exit = True
        thread.join(30)
        sock.close()


WIDTHS = {"phone": 390, "tablet": 768}
CAPTION = (
    "Synthetic citizens · regime press · 5,000 citizens · 120 days · seeds 1 to 3 · "
    "3 replicates · credsim "
)

# boxes of the settings panel and of every chart drawn, in page coordinates
BOXES = """() => {
  const box = (e) => { const b = e.getBoundingClientRect();
    return { id: e.id, left: b.left + scrollX, top: b.top + scrollY,
             right: b.right + scrollX, bottom: b.bottom + scrollY }; };
  return { panel: box(document.querySelector(".panel")),
           charts: [...document.querySelectorAll(".chart")].filter((e) => e.offsetParent)
             .map(box) };
}"""


def no_sideways_scroll(page, where: str) -> None:
    sw, cw = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter((e) => e.offsetParent
             && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
           .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`
             + ` ${Math.round(e.getBoundingClientRect().right)} px`)"""
    )
    assert sw <= cw, f"{where}: the page scrolls sideways ({sw} > {cw} px): {wide}"


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory):
    """A dashboard of its own, with no run yet."""
    yield from serving(create_app(tmp_path_factory.mktemp("layout") / "runs"))


def test_layout_on_a_phone_and_a_tablet(layout_server, chromium, shots):
    """At 390 and 768 px: one column, no sideways scroll, the settings never over a chart;
    the run is named on the page, its report downloads, every chart carries its caption."""
    from credsim.labels import tier_colors
    from credsim.web.controls import preset_data

    server = layout_server
    errors: list[str] = []
    for device, width in WIDTHS.items():
        context = chromium.new_context(viewport={"width": width, "height": 844})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(  # refused requests are expected below (a bad name, a name taken)
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.goto(server + "/")
        expect(page.locator("#preset")).to_have_value("press")

        no_sideways_scroll(page, f"{device}: start")
        if device == "phone":
            # a name that breaks the rules is refused in one line; a good one is used
            page.locator("#run-name").fill("Bad Name")
            page.get_by_role("button", name="Run simulation").click()
            expect(page.locator("#banner-text")).to_contain_text("name: use 1 to 64 lowercase")
            page.locator("#banner-close").click()
            page.locator("input.num[data-path='population']").fill("5000")
            page.locator("input.num[data-path='days']").fill("120")
            page.locator("#run-name").fill("phone-run")
            page.get_by_role("button", name="Run simulation").click()
            expect(page.locator("#run-title")).to_have_text("Run phone-run", timeout=120_000)
            # the same name again is refused: two runs never share a folder
            page.locator("#run-name").fill("phone-run")
            page.get_by_role("button", name="Run simulation").click()
            expect(page.locator("#banner-text")).to_contain_text("exists already")
            page.locator("#banner-close").click()
        else:
            page.get_by_role("tab", name="All runs").click()
            no_sideways_scroll(page, f"{device}: all runs")
            page.locator("#runs-table tr[data-name='phone-run'] button").click()
            expect(page.locator("#run-title")).to_have_text("Run phone-run")
        for cid in ("restricted", "score", "burden", "tiers"):
            expect(page.locator(f"#chart-{cid} .main-svg").first).to_be_visible()
        page.wait_for_function(  # every chart drawn to the width of its card
            """() => [...document.querySelectorAll('.chart')].filter((e) => e.offsetParent)
              .every((e) => { const svg = e.querySelector('.main-svg');
                return !svg || svg.getBoundingClientRect().width <= e.clientWidth + 1; })"""
        )
        no_sideways_scroll(page, f"{device}: results")

        boxes = page.evaluate(BOXES)
        assert len(boxes["charts"]) >= 5
        for chart in boxes["charts"]:
            assert not overlap(boxes["panel"], chart), (device, chart["id"], boxes["panel"])
            assert chart["right"] <= width, (device, chart["id"])
        # scrolled to the middle of the charts, the panel is still not over them
        page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
        visible = page.evaluate(BOXES)
        for chart in visible["charts"]:
            assert not overlap(visible["panel"], chart), (device, "scrolled", chart["id"])

        # captions under every chart, a window on every headline figure
        for caption in page.locator("#results .chart-card:not([hidden]) .caption").all():
            expect(caption).to_have_text(re.compile("^" + CAPTION))
        for card in page.locator("#cards .stat").all():
            expect(card.locator(".window")).to_have_text(
                re.compile("^(last day|whole run|last 30 days)$")
            )
        # the default: 3 replicates, so every card has its interval and the lines their bands
        for card in page.locator("#cards .stat").all():
            expect(card.locator(".interval")).to_have_text(
                re.compile(r"^95% interval .+ to .+ \(mean of 3 replicates\)$")
            )
        bands = page.evaluate(
            "document.getElementById('chart-restricted').data"
            ".filter((t) => t.fill === 'tonexty').map((t) => t.name)"
        )
        assert "restricted (own sanction): 95% interval" in bands, bands
        # the tiers in the colours of the report (credsim.labels)
        drawn = page.evaluate(
            "document.getElementById('chart-tiers').data"
            ".filter((t) => !t.fill && t.showlegend !== false).map((t) => [t.name, t.line.color])"
        )
        colors = tier_colors(preset_data("press"))
        assert drawn and all(colors[name] == color for name, color in drawn), drawn

        # the report downloads from the page
        with page.expect_download() as info:
            page.locator("#report-link").click()
        download = info.value
        assert download.suggested_filename == "phone-run-report.html"
        saved = shots / f"report-{device}.html"
        download.save_as(saved)
        assert saved.read_text("utf-8").startswith("<!DOCTYPE html>")

        path = shots / f"layout-{device}-{width}.png"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        for tab in ("Look up a citizen", "Compare two runs", "All runs"):
            page.get_by_role("tab", name=tab).click()
            no_sideways_scroll(page, f"{device}: {tab}")
        context.close()
    assert errors == [], f"errors in the page: {errors}"
