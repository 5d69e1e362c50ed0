"""How close an agent's running technique is to a player's: action statistics, measured.

    qwop-bench technique --demos data/kurodo --models runs/kuro/model.zip runs/acer.zip
        [--episodes 10] [--deterministic] [--out technique.json] [--plot technique.png]

Two statistics, on kept runs of the player (his recorded decisions) and on the runs of each
model in the bundled game:

- the share of each key combination: the decisions holding it, over all decisions, with the
  combinations that act alike merged (QW acts as Q, OP as O: 9 key states);
- the key phases: a phase is a stretch of consecutive decisions holding the same keys; its
  length is in HUD seconds (his decisions as long as the importer fitted them, about 3.4
  updates each; the environment's 3), so that different decision rates compare. Reported as the
  median phase, and per thigh key (Q, W, neither) and knee key (O, P, neither), since the
  technique is a swing of the thighs with the knees switched within it.

Closeness: the total-variation distance between the shares (0 = the same mix, 1 = nothing in
common) and the Wasserstein-1 distance between the distributions of phase lengths (seconds).

`--plot` draws the picture: the shares side by side, the keys held over three seconds of one run
of each (from 20 m on: the run's gait, not its start), and for each model a strip of its runner
through one second of that stretch, re-simulated from its keys (the player's recordings from the
original game keep no raw state to draw him from).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.console import HelpFormatter, run_console
from qwopkit.dataset.schema import UPDATES_PER_SECOND
from qwopkit.spaces import ACTION_NAMES

# Our action index -> its key state by effect (QW acts as Q, OP as O).
_EFFECT = {"QW": "Q", "OP": "O"}
KEY_STATES = tuple(n for n in ACTION_NAMES if n not in _EFFECT)
_STATE_OF = np.array([KEY_STATES.index(_EFFECT.get(n, n)) for n in ACTION_NAMES])
_THIGH = np.array([("Q" if "Q" in n else "W" if "W" in n else "-") for n in ACTION_NAMES])
_KNEE = np.array([("O" if "O" in n else "P" if "P" in n else "-") for n in ACTION_NAMES])


@dataclass
class Runs:
    """The decisions of some runs: each run's actions and how long each decision lasted (HUD s)."""

    name: str
    actions: list[np.ndarray]
    seconds: list[np.ndarray]
    results: list[Any] = field(default_factory=list)  # a model's evaluated runs (EpisodeResult)


def shares(runs: Runs) -> np.ndarray:
    """(9,) share of the decisions holding each key state (KEY_STATES order)."""
    all_actions = np.concatenate(runs.actions) if runs.actions else np.zeros(0, np.int64)
    counts = np.bincount(_STATE_OF[all_actions], minlength=len(KEY_STATES)).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def phases(runs: Runs, of: str = "keys") -> dict[str, np.ndarray]:
    """Phase lengths in HUD seconds, per value held: of "keys" (the key state), "thigh" or "knee"."""
    labels = {"keys": np.array(KEY_STATES)[_STATE_OF], "thigh": _THIGH, "knee": _KNEE}[of]
    out: dict[str, list[float]] = {}
    for actions, seconds in zip(runs.actions, runs.seconds):
        at = 0
        for value, group in itertools.groupby(labels[np.asarray(actions, dtype=np.int64)]):
            n = len(list(group))
            out.setdefault(str(value), []).append(float(np.sum(seconds[at:at + n])))
            at += n
    return {k: np.array(v) for k, v in out.items()}


def pooled_phases(runs: Runs, of: str = "keys") -> np.ndarray:
    """Every phase length of `phases(runs, of)` in one array, whatever the value held."""
    return np.concatenate(list(phases(runs, of).values()) or [np.zeros(0)])


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 distance between two samples (the area between their distribution functions)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    grid = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), grid[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * np.diff(grid)))


def statistics(runs: Runs) -> dict[str, Any]:
    """The technique of some runs as numbers (JSON-able)."""
    every = pooled_phases(runs)
    thigh, knee = phases(runs, "thigh"), phases(runs, "knee")
    return {
        "name": runs.name,
        "runs": len(runs.actions),
        "decisions": int(sum(len(a) for a in runs.actions)),
        "share": dict(zip(KEY_STATES, np.round(shares(runs), 4).tolist())),
        "median_phase_s": float(np.median(every)) if len(every) else None,
        "median_thigh_phase_s": {k: float(np.median(v)) for k, v in sorted(thigh.items())},
        "median_knee_phase_s": {k: float(np.median(v)) for k, v in sorted(knee.items())},
    }


def closeness(runs: Runs, reference: Runs) -> dict[str, float]:
    """How far `runs` are from `reference`: shares (total variation) and phases (Wasserstein-1, s)."""
    tv = 0.5 * float(np.abs(shares(runs) - shares(reference)).sum())

    return {"share_tv": tv,
            "phase_w1_s": wasserstein(pooled_phases(runs, "keys"), pooled_phases(reference, "keys")),
            "thigh_phase_w1_s": wasserstein(pooled_phases(runs, "thigh"), pooled_phases(reference, "thigh"))}


def player_runs(specs: Sequence[str], name: str = "player") -> Runs:
    """The kept episodes' decisions, each as long as its HUD times say (`infos/hud_time`; the
    importer fits them for runs from the original game), else `frame_skip` updates."""
    from qwopkit.dataset import iter_episodes

    actions, seconds = [], []
    for episode in iter_episodes(specs):
        if episode.meta["kept"] and episode.steps:
            actions.append(episode.read("actions").astype(np.int64))
            hud = np.asarray(episode.read("infos/hud_time"), dtype=np.float64)
            if np.isfinite(hud).all() and len(hud) == episode.steps + 1:
                seconds.append(np.diff(hud))
            else:
                seconds.append(np.full(episode.steps, episode.meta["frame_skip"] / UPDATES_PER_SECOND))
    return Runs(name, actions, seconds)


def model_runs(model: str, episodes: int, deterministic: bool, seed: int = 0) -> tuple[Runs, dict[str, Any]]:
    """A model's runs in the bundled game (qwopkit.rl.common.evaluation), and their summary; the
    evaluation's runs are kept on the Runs (`results`) for the picture."""
    from qwopkit.rl.common.evaluation import evaluate
    from qwopkit.rl.common.seed_models import load_model  # an SB3 zip, or the seed's own agents' SB2 zips

    report = evaluate(load_model(model), episodes, deterministic=deterministic, seed=seed)
    runs = Runs(model, [e.actions.astype(np.int64) for e in report.episodes],
                [np.full(e.steps, e.frame_skip / UPDATES_PER_SECOND) for e in report.episodes])
    runs.results = list(report.episodes)
    return runs, report.summary()


def plot_technique(player: Runs, models: list[Runs], path: str | Path, seconds: float = 3.0) -> Path:
    """Shares, a key raster of `seconds` of one run each, and a strip of each model's runner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qwopkit.adapter.openqwop import Engine
    from qwopkit.adapter.render import draw_frame
    from qwopkit.rl.common.evaluation import episode_keys

    everyone = [player, *models]
    # Where each one's stretch begins: the player's recording 10 s in (past his start), a model's
    # run at the update it passes 20 m (re-simulated once, for the raster and the strip).
    passed = [_first_update_past(m.results[0], 20.0) for m in models]
    starts = [min(10.0, float(np.sum(player.seconds[0])) / 2) if player.seconds else 0.0,
              *(u / UPDATES_PER_SECOND for u in passed)]
    fig = plt.figure(figsize=(13, 3.2 + 2.2 * len(models)), constrained_layout=True)
    grid = fig.add_gridspec(1 + len(models), 2, height_ratios=[1.4] + [1.0] * len(models))
    bars = fig.add_subplot(grid[0, 0])
    width = 0.8 / len(everyone)
    for i, runs in enumerate(everyone):
        bars.bar(np.arange(len(KEY_STATES)) + i * width, shares(runs), width, label=_short(runs.name))
    bars.set_xticks(np.arange(len(KEY_STATES)) + 0.4 - width / 2, KEY_STATES)
    bars.set_ylabel("share of decisions")
    bars.set_title("keys held (QW counted as Q, OP as O)", fontsize=9)
    bars.legend(fontsize=7)
    raster = fig.add_subplot(grid[0, 1])
    for row, runs in enumerate(everyone):
        if not runs.actions:
            continue
        actions, durations = runs.actions[0], runs.seconds[0]
        t = np.concatenate([[0.0], np.cumsum(durations)])
        start = starts[row]
        for k, key in enumerate("QWOP"):
            held = np.array([key in ACTION_NAMES[a] for a in actions])
            for a, b, on in zip(t[:-1], t[1:], held):
                if on and start <= a < start + seconds:
                    raster.broken_barh([(a - start, b - a)], (row * 5 + k, 0.8), color=f"C{k}")
    raster.set_yticks([row * 5 + 2 for row in range(len(everyone))], [_short(r.name) for r in everyone],
                      fontsize=7)
    raster.set_xlabel("HUD seconds (from 20 m on for the models, 10 s in for the player)")
    raster.set_title("keys held over time: Q (blue), W (orange), O (green), P (red)", fontsize=9)
    for row, runs in enumerate(models, start=1):
        ax = fig.add_subplot(grid[row, :])
        result = runs.results[0]
        start_update = passed[row - 1]
        where = "from 20 m on" if start_update else "from the start (this run never reached 20 m)"
        engine = Engine()
        frames = {}
        for update, mask in enumerate(episode_keys(result)[:start_update + 30]):
            engine.update(int(mask))
            if update >= start_update and (update - start_update) % 5 == 0:
                frames[update] = draw_frame(engine)[90:365, 170:470]  # the runner and the ground
        strip = np.concatenate([frames[k] for k in sorted(frames)], axis=1) if frames else np.zeros((2, 2, 3))
        ax.imshow(strip)
        ax.set_axis_off()
        ax.set_title(f"{_short(runs.name)}: one second {where}, a frame every 5 updates "
                     f"(this run: {result.outcome}, {result.distance:.0f} m in {result.hud_time:.1f} s)",
                     fontsize=9)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return Path(path)


def _first_update_past(result: Any, metres: float) -> int:
    """The first game update of an evaluated run at or past `metres` (re-simulated from its keys)."""
    from qwopkit.adapter.openqwop import Engine
    from qwopkit.rl.common.evaluation import episode_keys

    engine = Engine()
    for update, mask in enumerate(episode_keys(result)):
        engine.update(int(mask))
        if engine.distance >= metres:
            return update
    return 0


def _short(name: str) -> str:
    return name if len(name) <= 40 else "..." + name[-37:]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="qwop-bench technique",
                                description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--demos", nargs="+", required=True, metavar="SPEC", help="the player's episodes")
    p.add_argument("--models", nargs="+", required=True, metavar="ZIP", help="models to compare with him")
    p.add_argument("--episodes", type=int, default=10, help="runs of each model")
    p.add_argument("--deterministic", action="store_true", help="the models' most likely actions")
    p.add_argument("--out", default=None, help="also write the figures to this JSON file")
    p.add_argument("--plot", default=None, metavar="PNG", help="also draw the picture (see above)")
    args = p.parse_args(argv)
    return run_console("technique", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    player = player_runs(args.demos)
    rows = [{**statistics(player), "closeness": closeness(player, player)}]
    models = []
    for model in args.models:
        runs, summary = model_runs(model, args.episodes, args.deterministic)
        models.append(runs)
        rows.append({**statistics(runs), "closeness": closeness(runs, player), "evaluation": summary})
    header = (f"{'':34} {'TV shares':>9} {'W1 phases':>9} {'W1 thigh':>9} {'median phase':>12}  shares "
              + " ".join(KEY_STATES))
    print(header)
    for row in rows:
        c = row["closeness"]
        share = " ".join(f"{row['share'][k]:.2f}" for k in KEY_STATES)
        print(f"{row['name'][-34:]:34} {c['share_tv']:9.3f} {c['phase_w1_s']:8.3f}s "
              f"{c['thigh_phase_w1_s']:8.3f}s "
              f"{row['median_phase_s'] or 0:11.3f}s  {share}")
    if args.out:
        from qwopkit.atomic import write_json_atomic

        write_json_atomic(args.out, {"kind": "qwopkit-technique", "rows": rows})
    if args.plot:
        print(f"picture: {plot_technique(player, models, args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
