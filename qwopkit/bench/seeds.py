"""Several seeds of several methods: the statistics a reviewer in RL expects, and one figure.

    qwop-bench seeds --run "PPO=runs/ppo-s*/ppo.report.json" --run "ACER=runs/scratch-s*/report.json" \\
        [--eval "PPO=runs/ppo-s*/eval.json" ...] [--marks 1 5 10 20] [--plot seeds.png] [--json out.json]

Each --run names one method and a glob of its training reports (one per seed: `qwop-finetune`'s
report.json or `qwop-bench acer qwop`'s; qwopkit.training.report writes both). Each --eval names
a method and a glob of `qwop-eval MODEL --episodes 20 --json FILE` outputs of its final policies.

Per method: the best HUD time of a training episode within 1, 5, 10 and 20 wall-clock minutes,
and the first 100 m finish (steps and minutes), each as the median and the range over seeds,
and as the interquartile mean (IQM) with a 95% percentile-bootstrap confidence interval over the
seeds, as Agarwal et al. 2021 recommend and their `rliable` package computes (computed here:
rliable 1.2.0 installs from PyPI but does not import beside pandas 3, its `arch` dependency
failing; with 3 seeds the interval is wide, and says so). A seed that has not finished by a mark counts as the
time limit (180 s) there, so that no seed drops out of the statistics. The figure: the best
time so far against minutes, the median over seeds as a line and the range as a band.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.bench.recipe import read_report
from qwopkit.console import HelpFormatter, run_console
from qwopkit.errors import InputError
from qwopkit.training.report import best_time_by as report_best_time_by

UNFINISHED = 180.0  # HUD seconds standing for "no finish yet" (the time limit)


def _pairs(values: Sequence[str], flag: str) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for value in values:
        label, sep, pattern = value.partition("=")
        if not sep or not label or not pattern:
            raise InputError(flag, f"{value!r} is not LABEL=GLOB")
        paths = sorted(Path(p) for p in glob.glob(pattern))
        if not paths:
            raise InputError(flag, f"{pattern!r} matches no file")
        out.setdefault(label, []).extend(paths)
    return out


def best_time_by(report: dict[str, Any], minutes: float) -> float:
    """The best HUD time of a training episode within `minutes` of wall-clock (UNFINISHED if none)."""
    best = report_best_time_by(report, minutes)
    return UNFINISHED if best is None else best


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """The interquartile mean as rliable computes it (scipy's trim_mean with 25% cut): the mean of
    the values left after int(n / 4) are cut from each end of the sorted values."""
    x = np.sort(np.asarray(values, float))
    cut = int(0.25 * len(x))
    return float(np.mean(x[cut:len(x) - cut]))


def iqm_interval(values: Sequence[float], reps: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """IQM and its 95% percentile-bootstrap interval over seeds (what rliable computes for one
    task: runs resampled with replacement, `reps` times)."""
    x = np.asarray(values, float)
    rng = np.random.default_rng(seed)
    boot = [iqm(x[rng.integers(0, len(x), len(x))]) for _ in range(reps)]
    return iqm(x), float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    known = [float(v) for v in values if v is not None]
    if not known:
        return {"values": list(values), "median": None, "min": None, "max": None, "iqm": None}
    iqm = iqm_interval(known) if len(known) == len(values) else None
    return {"values": list(values), "median": float(np.median(known)), "min": min(known), "max": max(known),
            "iqm": None if iqm is None else {"point": iqm[0], "low": iqm[1], "high": iqm[2]}}


def method_figures(reports: list[dict[str, Any]], evals: list[dict[str, Any]],
                   marks: Sequence[float]) -> dict[str, Any]:
    t = [r["training"] for r in reports]
    figures: dict[str, Any] = {
        "seeds": [r["config"].get("seed") for r in reports],
        "steps": spread([r["steps"] for r in reports]),
        "best_time_by_minutes": {str(m): spread([best_time_by(r, m) for r in reports]) for m in marks},
        "first_finish_step": spread([x["first_finish_step"] for x in t]),
        "first_finish_minutes": spread([None if x["first_finish_seconds"] is None
                                        else x["first_finish_seconds"] / 60 for x in t]),
    }
    if evals:
        s = [e["summary"] for e in evals]
        figures["final_evaluation"] = {
            "episodes": [x["episodes"] for x in s],
            "finish_rate": spread([x["finish_rate"] for x in s]),
            "best_time": spread([x["best_time"] for x in s]),
            "median_time": spread([x["median_time"] for x in s]),
            "mean_distance": spread([x["mean_distance"] for x in s]),
        }
    return figures


def _cell(s: dict[str, Any], fmt: str = "{:.2f}") -> str:
    if s["median"] is None:
        return "-"
    text = f"{fmt.format(s['median'])} [{fmt.format(s['min'])}-{fmt.format(s['max'])}]"
    if s["iqm"] is not None and len(s["values"]) > 1:
        i = s["iqm"]
        text += f" IQM {fmt.format(i['point'])} ({fmt.format(i['low'])}-{fmt.format(i['high'])})"
    return text


def table(figures: dict[str, dict[str, Any]], marks: Sequence[float]) -> str:
    head = "| method | seeds | " + " | ".join(f"best @{m:g} min" for m in marks) + \
        " | first finish (min) | final: finish rate | final: best | final: median |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for label, f in figures.items():
        ev = f.get("final_evaluation")
        finals = (["-"] * 3 if ev is None else
                  [_cell(ev["finish_rate"], "{:.2f}"), _cell(ev["best_time"]), _cell(ev["median_time"])])
        lines.append(f"| {label} | {len(f['seeds'])} | "
                     + " | ".join(_cell(f["best_time_by_minutes"][str(m)]) for m in marks)
                     + f" | {_cell(f['first_finish_minutes'])} | " + " | ".join(finals) + " |")
    return "\n".join(lines)


def plot(runs: dict[str, list[dict[str, Any]]], path: str | Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), constrained_layout=True)
    for label, reports in runs.items():
        end = max(r["seconds"] for r in reports) / 60
        grid = np.linspace(0, end, 400)
        curves = np.array([[best_time_by(r, m) for m in grid] for r in reports])
        curves[curves >= UNFINISHED] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # (minutes where no seed has finished yet)
            median, low, high = (np.nanmedian(curves, axis=0), np.nanmin(curves, axis=0),
                                 np.nanmax(curves, axis=0))
        (line,) = ax.step(grid, median, where="post", label=f"{label} (median of {len(reports)})")
        ax.fill_between(grid, low, high, step="post", color=line.get_color(), alpha=0.2)
    ax.set_xlabel("wall-clock minutes (one core each)")
    ax.set_ylabel("best HUD time of a training episode so far (s)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="qwop-bench seeds", formatter_class=HelpFormatter,
                                description="Several seeds of several methods: best HUD time at wall-clock "
                                            "marks, first finish, final evaluations (median, range, IQM).")
    p.add_argument("--run", action="append", required=True, metavar="LABEL=GLOB",
                   help="a method and the glob of its training reports, one per seed")
    p.add_argument("--eval", action="append", default=[], metavar="LABEL=GLOB",
                   help="a method and the glob of its final policies' qwop-eval --json outputs")
    p.add_argument("--marks", type=float, nargs="+", default=[1, 5, 10, 20], help="wall-clock minutes")
    p.add_argument("--plot", metavar="PNG", help="draw the best time so far (median and range)")
    p.add_argument("--title", default="best HUD time so far, median and range over seeds")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)

    def body() -> int:
        runs = {label: [read_report(path) for path in paths]
                for label, paths in _pairs(args.run, "--run").items()}
        evals: dict[str, list[dict[str, Any]]] = {}
        for label, paths in _pairs(args.eval, "--eval").items():
            if label not in runs:
                raise InputError("--eval", f"{label!r} is not a --run label")
            evals[label] = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
        figures = {label: method_figures(reports, evals.get(label, []), args.marks)
                   for label, reports in runs.items()}
        print(table(figures, args.marks))
        print("cells: median [min-max] IQM (95% bootstrap interval) over seeds; "
              f"no finish by a mark counts as {UNFINISHED:g} s")
        if args.json:
            from qwopkit.atomic import write_json_atomic

            write_json_atomic(args.json, figures)
        if args.plot:
            print(f"curves: {plot(runs, args.plot, args.title)}")
        return 0

    return run_console("qwop-bench seeds", body)


if __name__ == "__main__":
    sys.exit(main())
