"""The report of a training run (JSON) and its learning curves (PNG).

    report = build_report(config=..., progress=progress_callback, evals=eval_callback.history, steps=n)
    plot_curves(report, "runs/x/curves.png")                  # one run
    plot_curves({"PPO": a, "ACER": b}, "docs/img/x.png")      # several runs on the same axes

The curves are the training episodes binned along the steps (at most 200 points): the mean
distance of the episodes in each bin, the share that finished 100 m, and the best finishing HUD
time so far; plus the periodic evaluations (sampled runs of the policy at that moment). Each is
drawn against environment steps and against wall-clock minutes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.rl.common.callbacks import RunProgressCallback

BINS = 200
CURVE_COLUMNS = ("step", "seconds", "mean_distance", "finish_rate", "best_time", "episodes")


def training_curve(progress: RunProgressCallback, bins: int = BINS) -> dict[str, list]:
    """The training episodes binned along the steps (JSON-able columns)."""
    episodes = progress.episodes
    curve: dict[str, list] = {k: [] for k in CURVE_COLUMNS}
    if not episodes:
        return curve
    steps = np.array([e.step for e in episodes])
    edges = np.unique(np.linspace(0, len(episodes), min(bins, len(episodes)) + 1).astype(int))
    best = math.inf
    for a, b in zip(edges[:-1], edges[1:]):
        chunk = episodes[a:b]
        finished = [e.hud_time for e in chunk if e.outcome == "finished"]
        best = min([best, *finished])
        distances = [e.distance for e in chunk if not math.isnan(e.distance)]
        curve["step"].append(int(steps[b - 1]))
        curve["seconds"].append(float(chunk[-1].seconds))
        curve["mean_distance"].append(float(np.mean(distances)) if distances else None)
        curve["finish_rate"].append(len(finished) / len(chunk))
        curve["best_time"].append(None if math.isinf(best) else float(best))
        curve["episodes"].append(len(chunk))
    return curve


def build_report(*, config: dict[str, Any], progress: RunProgressCallback, evals: list[dict[str, Any]],
                 steps: int, algorithm: str = "ACER") -> dict[str, Any]:
    """Everything about one training run, JSON-able."""
    episodes = progress.episodes
    finishes = [e for e in episodes if e.outcome == "finished"]
    best = min(finishes, key=lambda e: e.hud_time) if finishes else None
    first = finishes[0] if finishes else None
    seconds = progress.seconds_before or progress.seconds
    eval_times = [row["best_time"] for row in evals if row.get("best_time") is not None]
    return {
        "kind": "qwopkit-training-report",
        "algorithm": algorithm,
        "config": config,
        "steps": int(steps),
        "seconds": round(seconds, 1),
        "steps_per_second": round(steps / seconds, 1) if seconds > 0 else None,
        "training": {
            "episodes": len(episodes),
            "finished": len(finishes),
            "first_finish_step": first.step if first else None,
            "first_finish_seconds": first.seconds if first else None,
            "best_time": best.hud_time if best else None,
            "best_time_step": best.step if best else None,
            "mean_distance_last_100": progress.mean_distance() if episodes else None,
        },
        "evaluation": {
            "last": evals[-1] if evals else None,
            "best_time": min(eval_times) if eval_times else None,
            "history": evals,
        },
        "curve": training_curve(progress),
    }


def best_time_by(report: dict[str, Any], minutes: float) -> float | None:
    """The best finishing HUD time of the training episodes within the first `minutes` of wall-clock."""
    curve = report["curve"]
    best = [b for b, sec in zip(curve["best_time"], curve["seconds"])
            if b is not None and sec <= minutes * 60]
    return min(best) if best else None


def plot_curves(reports: dict[str, dict[str, Any]] | dict[str, Any], path: str | Path,
                title: str | None = None) -> Path:
    """Distance and best HUD time against steps and against minutes, one line per run; a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs: dict[str, dict[str, Any]] = ({str(reports.get("algorithm", "run")): reports} if "kind" in reports
                                       else reports)  # one report, or several by label
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    for label, report in runs.items():
        curve = report["curve"]
        x_steps = np.array(curve["step"], float)
        x_minutes = np.array(curve["seconds"], float) / 60
        distance = np.array([np.nan if v is None else v for v in curve["mean_distance"]], float)
        best = np.array([np.nan if v is None else v for v in curve["best_time"]], float)
        for col, x in ((0, x_steps), (1, x_minutes)):
            (line,) = axes[0, col].plot(x, distance, label=f"{label} (training episodes)", lw=1.2)
            axes[1, col].step(x, best, where="post", color=line.get_color(), label=label, lw=1.5)
            history = report["evaluation"]["history"]
            if history:
                ex = [row["step"] if col == 0 else (row["seconds"] or 0) / 60 for row in history]
                axes[0, col].plot(ex, [row["mean_distance"] for row in history], "o", ms=3,
                                  color=line.get_color(), label=f"{label} (evaluation)")
    for col, name in ((0, "environment steps"), (1, "wall-clock minutes")):
        axes[0, col].set_ylabel("distance (m)")
        axes[0, col].axhline(100, color="grey", lw=0.8, ls="--")
        axes[1, col].set_ylabel("best finishing HUD time (s)")
        for row in (0, 1):
            axes[row, col].set_xlabel(name)
            axes[row, col].grid(alpha=0.3)
        axes[0, col].legend(fontsize=7)
        axes[1, col].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
