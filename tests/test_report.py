"""Reports: self-contained HTML, one element per chart, notes for empty charts, PNGs, compare;
a caption on every chart and the days each headline figure covers."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import credsim
from credsim.labels import WINDOWS, caption, figure
from credsim.report import burden, charts, headline, write_report
from credsim.report.charts import png_figure
from credsim.report.compare import compare, compare_charts, compare_text

CHARTS = [
    "chart-score",
    "chart-tiers",
    "chart-sanctions",
    "chart-denied",
    "chart-wrongful",
    "chart-burden-sex",
    "chart-burden-age_band",
    "chart-burden-region",
    "chart-burden-province",
    "chart-burden-group",
    "chart-redress",
    "chart-adaptation",
]
COMPARE_CHARTS = [
    "chart-restricted",
    "chart-wrongful",
    "chart-denied",
    "chart-score",
    "chart-posts",
]


class Page(HTMLParser):
    """Collects tags, attributes, script bodies and text of an HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._script: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = []

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None

    def handle_data(self, data):
        (self._script if self._script is not None else self.text).append(data)

    def count(self, tag: str) -> int:
        return sum(t == tag for t, _ in self.tags)

    def ids(self, tag: str = "div") -> dict[str, dict[str, str | None]]:
        return {a["id"]: a for t, a in self.tags if t == tag and a.get("id")}


def check_self_contained(text: str) -> Page:
    from plotly.offline import get_plotlyjs

    page = Page(text)
    assert page.count("html") == 1 and page.count("body") == 1
    for tag, attrs in page.tags:
        assert not (tag == "script" and attrs.get("src")), "a script is loaded from elsewhere"
        if tag in ("link", "img", "iframe", "source", "embed", "object"):
            for key in ("href", "src", "data"):
                value = attrs.get(key) or ""
                assert not value.startswith(("http:", "https:", "//")), (tag, value)
    plotly = [s for s in page.scripts if len(s) > 1_000_000]
    assert len(plotly) == 1, "plotly.js must be embedded exactly once"
    assert plotly[0] == get_plotlyjs()
    # plotly.js itself names map-tile CDNs for map traces it never draws here; everything
    # else on the page must not mention any CDN or remote address.
    rest = text.replace(plotly[0], "")
    assert "cdn." not in rest.lower()
    assert "http://" not in rest and "https://" not in rest
    return page


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "ref1-small"
    return credsim.Sim("ref1", population=5_000, days=60, seed=1, out=folder).run()


@pytest.fixture(autouse=True)
def _mpl(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))


def test_report_is_self_contained_with_every_chart(run):
    path = write_report(run)
    assert path == run.path / "report.html"
    page = check_self_contained(path.read_text("utf-8"))
    divs = page.ids()
    for cid in CHARTS:
        assert cid in divs, cid
    assert "regime" in page.ids("pre")
    text = " ".join(page.text)
    for key in run.summary:
        assert figure(key).label in text
    assert page.count("table") >= 2


def test_zero_charts_become_notes(run):
    page = Page(write_report(run).read_text("utf-8"))
    divs = page.ids()
    for c in charts(run):
        cls = divs[c.id].get("class") or ""
        if c.empty:
            assert "empty" in cls and "plotly-graph-div" not in cls, c.id
        else:
            assert "plotly-graph-div" in cls, c.id
    # ref1 has no false matches and no spillover: that chart is a note, the score chart is not
    assert "empty" in (divs["chart-wrongful"].get("class") or "")
    assert "plotly-graph-div" in (divs["chart-score"].get("class") or "")


def test_report_from_path_to_html_file(run, tmp_path):
    out = write_report(str(run.path), out=tmp_path / "elsewhere" / "r.html")
    assert out == tmp_path / "elsewhere" / "r.html" and out.exists()
    assert write_report(run.path, out=tmp_path / "dir") == tmp_path / "dir" / "report.html"


def test_published_figures_are_overlaid(run):
    denied = {c.id: c for c in charts(run, published={"flight": [(30, 2.0), (10, 1.0)]})}
    ref = [s for s in denied["chart-denied"].series if s.reference]
    assert len(ref) == 1 and list(ref[0].x) == [10, 30]


def test_pngs(run, tmp_path):
    pytest.importorskip("matplotlib")
    write_report(run, out=tmp_path, png_dir=tmp_path / "png")
    made = sorted(p.name for p in (tmp_path / "png").iterdir())
    expected = sorted(f"{c.name}.png" for c in charts(run) if not c.empty)
    assert made == expected and "score.png" in made
    for name in made:
        assert (tmp_path / "png" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_burden_ratio_averages_to_one(run):
    b = burden(run.groups)
    assert set(b["dimension"]) == {"sex", "age_band", "region", "province", "group"}
    for _, d in b.groupby("dimension"):
        assert d["population"].sum() == run.summary["citizens"]
        if d["restricted"].sum() > 0:
            mean = (d["population"] * d["restricted_ratio"]).sum() / d["population"].sum()
            assert mean == pytest.approx(1.0)
            per_1000 = 1000 * d["restricted"] / d["population"]
            assert np.allclose(d["restricted_per_1000"], per_1000)


def test_compare_run_with_itself(run, tmp_path):
    df, path = compare([run, run.path], out=tmp_path)
    assert path == tmp_path / "compare.html"
    assert list(df.columns) == ["ref1-small", "ref1-small (2)"]
    assert list(df.index) == list(run.summary)
    assert (df.iloc[:, 1] - df.iloc[:, 0]).eq(0).all()
    assert df.attrs["paired"] and df.attrs["pairing"].startswith("paired")
    page = check_self_contained(path.read_text("utf-8"))
    for cid in COMPARE_CHARTS:
        assert cid in page.ids(), cid
    assert "paired (common random numbers" in " ".join(page.text)
    text = compare_text(df)
    assert text.startswith("paired") and "Δ ref1-small (2)" in text and "score_mean" in text


def test_compare_unpaired_without_html(run, tmp_path):
    other = credsim.Sim("ref1", population=2_000, days=30, seed=2, out=tmp_path / "b").run()
    df, path = compare([run, other])
    assert path is None
    assert not df.attrs["paired"] and df.attrs["pairing"].startswith("unpaired")
    assert "unpaired" in compare_text(df)


def test_report_needs_metrics(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"status": "incomplete"}))
    with pytest.raises(FileNotFoundError, match="metrics.parquet"):
        write_report(tmp_path)


@pytest.mark.parametrize("preset", ["press", "national"])
def test_richer_presets(preset, tmp_path):
    if preset not in credsim.presets():
        pytest.skip(f"no {preset} preset")
    r = credsim.Sim(preset, population=5_000, days=60, seed=1, out=tmp_path / preset).run()
    page = check_self_contained(Path(write_report(r)).read_text("utf-8"))
    for cid in CHARTS:
        assert cid in page.ids(), cid


def test_python_api_plot_compare_sweep(tmp_path):
    """A notebook user gets figures and DataFrames without the command line."""
    import credsim

    a = credsim.Sim("press", population=3000, days=20, seed=1, out=tmp_path / "a").run()
    b = credsim.Sim(
        "press",
        population=3000,
        days=20,
        seed=1,
        out=tmp_path / "b",
        overrides=("rules.critical_post.redress.accept=0.9",),
    ).run()
    fig = a.plot("score")
    assert fig.data and fig.layout.title.text
    df, _ = credsim.compare([a, b])
    assert list(df.columns) == ["a", "b"] and df.attrs["paired"]
    s = credsim.sweep(
        "press",
        vary={"sources.camera.false_match": [0.0, 0.1]},
        population=2000,
        days=10,
        out=tmp_path / "sw",
        workers=1,
    )
    assert len(s.runs) == 2


def test_every_chart_carries_the_caption(run, tmp_path):
    """Synthetic citizens, regime, population, days, seed and version: in the HTML and PNGs."""
    line = caption(run.manifest)
    assert line == (
        f"Synthetic citizens · regime ref1 · 5,000 citizens · 60 days · seed 1 · 1 replicate · "
        f"credsim {credsim.__version__}"
    )
    found = charts(run)
    assert all(c.caption_text == line for c in found)
    text = write_report(run, out=tmp_path).read_text("utf-8")
    for c in found:
        block = text[text.index(f'id="{c.id}"') :]
        block = block[: block.index("</section>")]
        if c.empty:
            assert f'<p class="caption">{line}</p>' in block, c.id
        else:
            subtitle = block[block.index('"subtitle":') :]
            assert f'"text":{json.dumps(line)}' in subtitle[: subtitle.index("}}") + 300], c.id
        fig = png_figure(c)
        assert line in [t.get_text() for t in fig.texts], c.id
    compared = compare_charts([run, run])
    assert all(
        "Synthetic citizens" in c.caption_text and "seed 1" in c.caption_text for c in compared
    )


def test_every_headline_figure_says_which_days(tmp_path):
    """Each figure is of the last day, the whole run or the last 30 days, in the report too."""
    r = credsim.Sim("press", population=5_000, days=60, seed=1, out=tmp_path / "press").run()
    rows = headline(r)
    assert [f["key"] for f in rows if not f["key"].endswith("_last_30_days")] == list(r.summary)
    assert all(f["window"] in WINDOWS for f in rows)
    by_key = {f["key"]: f for f in rows}
    assert by_key["posts_vs_baseline"]["window"] == "whole_run"
    recent = by_key["posts_vs_baseline_last_30_days"]
    assert recent["window"] == "last_30_days"
    df = r.metrics.tail(7)
    assert recent["value"] == round(
        df["acts_critical_post"].sum() / df["baseline_acts_critical_post"].sum(), 4
    )
    page = Page(write_report(r).read_text("utf-8"))
    text = " ".join(page.text)
    assert "figures on the last day" not in text.lower()
    assert "days covered" in text
    for f in rows:
        assert f["label"] in text and f["window_label"] in text
