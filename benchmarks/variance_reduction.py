"""How much pairing narrows a comparison: sd of paired against unpaired differences.

For each comparison (press against press with the court defaulter listing shortened, press
against national, and a stress setting where camera errors list citizens wrongly), runs R
seeds of each side; the paired difference of a figure uses the same seed on both sides, the
unpaired one a seed R apart on side B. Prints, and writes as a Markdown page, the sd of each
over the R replicates and their ratio (goal: paired sd at most half the unpaired sd for
restricted, denied attempts and wrongful listings).

    python benchmarks/variance_reduction.py                  # 20 replicates, 20,000 citizens
    python benchmarks/variance_reduction.py --smoke          # 3 replicates, 2,000 citizens
    python benchmarks/variance_reduction.py --write docs/variance-reduction.md
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from credsim import __version__  # noqa: E402
from credsim.experiments.paired import _one, figure_unit  # noqa: E402

COMPARISONS = [
    (
        "press, court defaulter listing 180 days",
        "press",
        (),
        "press",
        ("sanctions[1].duration=180",),
    ),
    ("press against national", "press", (), "national", ()),
    (
        "press with jaywalking at -200 points: false matches 3% against 6%",
        "press",
        ("rules.jaywalking.delta=-200", "sources.camera.false_match=0.03"),
        "press",
        ("rules.jaywalking.delta=-200", "sources.camera.false_match=0.06"),
    ),
]
GOAL = ("restricted", "wrongful", "denied_")  # figures the goal names (denied_* all)


def run_side(regime, overrides, population, days, seeds, workers):
    jobs = [(regime, overrides, population, days, s, None) for s in seeds]
    if workers == 1:
        return [_one(j) for j in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_one, jobs))


def table(label, a, b_paired, b_unpaired):
    rows = []
    for name in a[0]:
        if name in ("citizens", "days") or any(
            name not in s for s in (*a, *b_paired, *b_unpaired)
        ):  # a figure some runs leave out (a reach per listing with no listing)
            continue
        x = np.array([s[name] for s in a], dtype=float)
        yp = np.array([s[name] for s in b_paired], dtype=float)
        yu = np.array([s[name] for s in b_unpaired], dtype=float)
        sd_p = float(np.std(yp - x, ddof=1))
        sd_u = float(np.std(yu - x, ddof=1))
        ratio = sd_p / sd_u if sd_u > 0 else math.nan
        rows.append(
            {
                "comparison": label,
                "figure": name,
                "unit": " ".join(figure_unit(name)),
                "mean_a": float(x.mean()),
                "mean_b": float(yp.mean()),
                "sd_paired": sd_p,
                "sd_unpaired": sd_u,
                "ratio": ratio,
                "goal": name.startswith(GOAL),
            }
        )
    return rows


def markdown(rows, args, seconds):
    out = [
        "# Variance reduction by pairing",
        "",
        "Written by `python benchmarks/variance_reduction.py --write docs/variance-reduction.md`"
        " from real runs; do not edit by hand.",
        "",
        f"{args.replicates} replicates of {args.population:,} synthetic citizens for "
        f"{args.days} days per side; paired: the same seed on both sides; unpaired: side B "
        f"with a seed {args.replicates} apart. credsim {__version__}, {date.today()}, "
        f"{platform.machine()}, {seconds:.0f} s. sd: standard deviation of the difference "
        "B - A over the replicates; ratio: paired sd over unpaired sd (0 = the difference is "
        "the same on every seed; the goal is at most 0.5 for restricted, wrongful listings and "
        "denied attempts).",
        "",
    ]
    for label in dict.fromkeys(r["comparison"] for r in rows):
        out += [
            f"## {label}",
            "",
            "| figure | unit (window) | mean A | mean B | sd paired | sd unpaired | ratio |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in rows:
            if r["comparison"] != label:
                continue
            ratio = "" if math.isnan(r["ratio"]) else f"{r['ratio']:.2f}"
            mark = " **" if r["goal"] and not math.isnan(r["ratio"]) and r["ratio"] > 0.5 else ""
            out.append(
                f"| {r['figure']} | {r['unit']} | {r['mean_a']:.4g} | {r['mean_b']:.4g} | "
                f"{r['sd_paired']:.3g} | {r['sd_unpaired']:.3g} | {ratio}{mark} |"
            )
        out.append("")
    out.append("A ratio marked ** misses the goal of 0.5.")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--population", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="3 replicates of 2,000 for 60 days")
    ap.add_argument("--write", type=Path, help="write the Markdown page here")
    ap.add_argument("--json", type=Path, help="write the rows as JSON here")
    args = ap.parse_args()
    if args.smoke:
        args.replicates, args.population, args.days = 3, 2000, 60
    t0 = time.perf_counter()
    seeds = list(range(1, args.replicates + 1))
    other = [s + args.replicates for s in seeds]
    rows = []
    cache = {}
    for label, ra, oa, rb, ob in COMPARISONS:
        key = (ra, oa)
        if key not in cache:
            cache[key] = run_side(ra, oa, args.population, args.days, seeds, args.workers)
        a = cache[key]
        bp = run_side(rb, ob, args.population, args.days, seeds, args.workers)
        bu = run_side(rb, ob, args.population, args.days, other, args.workers)
        rows += table(label, a, bp, bu)
    seconds = time.perf_counter() - t0
    page = markdown(rows, args, seconds)
    print(page)
    if args.write:
        args.write.write_text(page)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
