"""The report's figures written as plain plotly JSON: what plotly itself accepts and encodes, a
script element no chart text can close, and plotly's figure classes never loaded."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import credsim
from credsim.report.charts import Chart, Series, _array, figure_dict, figure_html, page

go = pytest.importorskip("plotly.graph_objects")
plotly_utils = pytest.importorskip("_plotly_utils.utils")


@pytest.fixture(scope="module")
def press_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures") / "run"
    return credsim.Sim("press", population=3_000, days=60, seed=2, out=out).run()


def embedded(fragment: str) -> dict:
    """The figure a chart's HTML fragment hands to Plotly.newPlot."""
    m = re.search(r"Plotly\.newPlot\(\"[^\"]+\", (\{.*\})\)\}</script>", fragment, re.S)
    assert m, fragment[:200]
    return json.loads(m.group(1))


def test_every_report_chart_is_a_figure_plotly_accepts_unchanged(press_run):
    from credsim.report import charts

    drawn = [c for c in charts(press_run) if not c.empty]
    assert len(drawn) >= 8
    for chart in drawn:
        fig = embedded(figure_html(chart))
        assert fig["config"] == {"displaylogo": False, "responsive": True}
        fig.pop("config")
        # plotly validates every property (an unknown or misspelt one raises); its own
        # encoding of the figure is the JSON the page embeds
        ours = json.loads(json.dumps(fig, sort_keys=True))
        theirs = json.loads(go.Figure(fig).to_json())
        assert json.loads(json.dumps(theirs, sort_keys=True)) == ours, chart.id
        assert len(fig["data"]) == sum(2 if s.kind == "band" else 1 for s in chart.series)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(365, dtype=np.int64),  # narrowed to int16
        np.array([-3, 100], dtype=np.int64),  # int8
        np.array([0, 2**40], dtype=np.int64),  # too wide for plotly.js: a list
        np.array([0, 70_000], dtype=np.uint64),  # uint32
        np.array([0.5, np.nan, 2.0]),  # float64, NaN kept in the typed array
        np.arange(3, dtype=np.int32),
        np.array([], dtype=float),
    ],
)
def test_arrays_are_packed_as_plotly_packs_them(values):
    theirs = plotly_utils.to_typed_array_spec(values)
    ours = _array(values)
    if isinstance(theirs, np.ndarray):
        assert ours == theirs.tolist()
    else:
        assert ours == theirs


def test_text_in_a_chart_cannot_close_its_script():
    chart = Chart(
        "chart-x",
        "a </script><b>title",
        "about",
        "day",
        "n",
        [Series("</script>", [0, 1], [1, 2], hover=["</script>", "b"], kind="bar")],
    )
    fragment = figure_html(chart)
    assert fragment.count("</script>") == 1 and fragment.endswith("</script></div>")
    fig = embedded(fragment)
    assert fig["layout"]["title"]["text"] == "a </script><b>title"
    assert fig["data"][0]["hovertext"] == ["</script>", "b"]


def test_log_axis_and_error_bars():
    chart = Chart(
        "chart-y",
        "t",
        "a",
        "x",
        "y",
        [Series("s", ["a", "b"], [1.0, 2.0], kind="bar", error=[0.1, float("nan")])],
        logy=True,
    )
    fig = figure_dict(chart)
    assert fig["layout"]["yaxis"] == {"title": {"text": "y"}, "type": "log"}
    assert fig["data"][0]["error_y"] == {"type": "data", "array": [0.1, None]}
    assert fig["data"][0]["x"] == ["a", "b"]
    assert fig["layout"]["hovermode"] == "closest"
    go.Figure(fig)  # valid


def test_the_page_embeds_the_installed_plotly_js():
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs() in page("t", "<p>x</p>")


def test_writing_a_report_loads_no_plotly_figure_classes(press_run):
    code = (
        "import sys\nfrom credsim.report import write_report\n"
        f"write_report({str(press_run.path)!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('plotly', '_plotly_utils'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
