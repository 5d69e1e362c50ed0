"""Training runs side by side: the table and the learning curves of docs/kuro.md.

    qwop-bench recipe --run "PPO=runs/bench/ppo.report.json" \\
        --run "ACER, his runs in replay=runs/kuro/report.json" ... [--plot curves.png] [--title T]

Reads training reports (`qwop-finetune`'s report.json, `qwop-bench acer qwop`'s
*.report.json: both are qwopkit.training.report's), prints for each run its steps per second, its
first 100 m finish (environment steps and wall-clock minutes), its best HUD time (and when) and
its last evaluation, and draws all their curves in one figure (rl.report.plot_curves).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qwopkit.console import HelpFormatter, run_console
from qwopkit.errors import InputError


def read_report(path: str | Path) -> dict[str, Any]:
    """A training report; InputError naming the file when it is not one."""
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, f"not a readable report ({str(exc).splitlines()[0]})") from None
    if not isinstance(report, dict) or "training" not in report or "curve" not in report:
        raise InputError(path, "not a training report (no training figures or curve)")
    return report


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run that the table shows (JSON-able)."""
    t = report["training"]
    last = report["evaluation"].get("last") or {}
    return {
        "steps": report["steps"], "minutes": report["seconds"] / 60,
        "steps_per_second": report["steps_per_second"],
        "first_finish_step": t["first_finish_step"],
        "first_finish_minutes": None if t["first_finish_seconds"] is None else t["first_finish_seconds"] / 60,
        "best_time": t["best_time"], "best_time_step": t["best_time_step"],
        "finished_episodes": t["finished"], "episodes": t["episodes"],
        "last_eval_finish_rate": last.get("finish_rate"), "last_eval_distance": last.get("mean_distance"),
        "last_eval_best_time": last.get("best_time"),
    }


def table(runs: dict[str, dict[str, Any]]) -> str:
    """A markdown table of the runs."""
    lines = ["| run | steps (steps/s) | first 100 m finish | best HUD time (at step) | finished episodes | "
             "last evaluation: finish rate, distance, best |", "|---|---|---|---|---|---|"]
    for label, report in runs.items():
        s = summary(report)
        first = ("-" if s["first_finish_step"] is None
                 else f"step {s['first_finish_step']:,} ({s['first_finish_minutes']:.2f} min)")
        best = "-" if s["best_time"] is None else f"{s['best_time']:.2f} s ({s['best_time_step']:,})"
        rate = s["last_eval_finish_rate"]
        last = ("-" if rate is None else
                f"{100 * rate:.0f}%, {s['last_eval_distance']:.1f} m, "
                + ("-" if s["last_eval_best_time"] is None else f"{s['last_eval_best_time']:.2f} s"))
        lines.append(f"| {label} | {s['steps']:,} ({s['steps_per_second']:,.0f}) | {first} | {best} | "
                     f"{s['finished_episodes']:,} of {s['episodes']:,} | {last} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="qwop-bench recipe",
                                description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--run", action="append", required=True, metavar="LABEL=REPORT",
                   help="a run's label and its report.json (repeat)")
    p.add_argument("--plot", default=None, metavar="PNG", help="draw the runs' curves here")
    p.add_argument("--title", default=None, help="the figure's title")
    args = p.parse_args(argv)
    return run_console("recipe", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    runs = {}
    for item in args.run:
        label, sep, path = item.partition("=")
        if not sep or not label or not path:
            raise InputError("--run", f"expected LABEL=REPORT, got {item!r}")
        runs[label] = read_report(path)
    print(table(runs))
    if args.plot:
        from qwopkit.training.report import plot_curves

        print(f"curves: {plot_curves(runs, args.plot, title=args.title)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
