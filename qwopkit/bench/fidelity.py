"""How close the bundled game is to the original, measured on the seed's real recordings.

The seed's top-player files (kuro_try*.npz) were recorded in the original QWOP at ~10 decisions
per second. For each run whose first observation is the spawn pose, we (a) compare our spawn
observation with it, and (b) replay the recorded actions from the spawn with frame_skip 3 and
compare the 24 body-position columns (x relative to the torso, y) at a given decision.
The original ran in real time, so its updates per decision jitter around 3: an exact match is
not expected, only a small error.

(c) covers whole runs, not only their first seconds: the runner is set to each recorded state
of every run (recorded.py rebuilds the raw state from the features), holds the recorded action
for one decision and is compared with the next recorded state (the teacher-forced one-step
error), against a constant-velocity prediction over the same time as the baseline; with every
decision 3 updates long, and with each decision's own length fitted from the features.

    python -m qwopkit.bench.fidelity [SEED_DEMOS_DIR [FIGURE.png]]
    qwop-bench fidelity [--plot FIGURE.png]
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qwopkit.adapter.features import (
    ACTION_KEYS,
    SEED_OBS_FIELDS,
    SEED_POSITION_COLUMNS,
    SEED_TO_ACTION,
    seed_observation,
)
from qwopkit.adapter.openqwop.engine import Engine
from qwopkit.adapter.openqwop.physics import dominant_keys
from qwopkit.adapter.openqwop.recorded import (
    constant_velocity,
    decision_starts,
    decision_updates,
    predict_decision,
    states_from_features,
    whole_updates,
)
from qwopkit.errors import InputError

SPAWN_TOLERANCE = 1e-4
_X_COLUMNS = [i for i, name in enumerate(SEED_OBS_FIELDS) if name.endswith(".x")]
_TORSO_X = SEED_OBS_FIELDS.index("torso.x")


@dataclass
class RecordedRun:
    source: str
    observations: np.ndarray  # (T, 71), seed layout, x relative to the torso
    actions: np.ndarray  # (T,), seed action indices


def spawn_observation() -> np.ndarray:
    return seed_observation(Engine().state()).astype(np.float64)


def recorded_runs(folder: str | Path, pattern: str = "kuro_try*.npz") -> list[RecordedRun]:
    """Every recorded run of the files matching `pattern` (their x made relative to the torso)."""
    runs = []
    for path in sorted(Path(folder).glob(pattern)):
        data = np.load(path)
        obs, actions = data["obs"].astype(np.float64), data["actions"].reshape(-1)
        obs[:, _X_COLUMNS] -= obs[:, [_TORSO_X]]  # a no-op on the kuro files (their torso x is 0)
        starts = list(np.flatnonzero(data["episode_starts"])) + [len(obs)]
        for begin, end in zip(starts[:-1], starts[1:]):
            runs.append(RecordedRun(f"{path.name}@{begin}", obs[begin:end], actions[begin:end]))
    return runs


def spawn_runs(folder: str | Path, pattern: str = "kuro_try*.npz") -> list[RecordedRun]:
    """The recorded runs (from files matching `pattern`) that start at the spawn pose."""
    spawn = spawn_observation()
    return [run for run in recorded_runs(folder, pattern)
            if np.abs(run.observations[0] - spawn).max() <= SPAWN_TOLERANCE]


def spawn_error(runs: list[RecordedRun]) -> float:
    """Largest absolute difference between our spawn observation and the runs' first ones."""
    spawn = spawn_observation()
    return max(float(np.abs(run.observations[0] - spawn).max()) for run in runs)


def replay_observations(actions: np.ndarray, decisions: int, frame_skip: int = 3) -> np.ndarray:
    """Our seed observations after 0..decisions of the recorded (seed-indexed) actions."""
    engine = Engine()
    out = [seed_observation(engine.state())]
    for seed_action in actions[:decisions]:
        keys = int(ACTION_KEYS[SEED_TO_ACTION[int(seed_action)]])
        for _ in range(frame_skip):
            engine.update(keys)
        out.append(seed_observation(engine.state()))
    return np.array(out, dtype=np.float64)


def position_error_at(runs: list[RecordedRun], decision: int = 10, frame_skip: int = 3) -> list[float]:
    """Per run: mean absolute error of the 24 body-position columns at `decision`."""
    errors = []
    for run in runs:
        ours = replay_observations(run.actions, decision, frame_skip)[decision]
        theirs = run.observations[decision]
        errors.append(float(np.abs(ours[SEED_POSITION_COLUMNS] - theirs[SEED_POSITION_COLUMNS]).mean()))
    return errors


@dataclass
class OneStepErrors:
    """Teacher-forced one-step errors of one run: per decision, the mean absolute error of the
    24 body-position columns of the engine's prediction and of the constant-velocity baseline."""

    source: str
    engine: np.ndarray
    baseline: np.ndarray


def teacher_forced(run: RecordedRun, timing: str = "fitted", engine: Engine | None = None) -> OneStepErrors:
    """The engine against one recorded run, one decision at a time (the module's (c)).

    :param timing: "fitted" (each decision as long as the features say, rounded to whole updates,
        1-8) or a whole number of updates for every decision ("3" is the nominal frame skip).
    """
    engine = engine or Engine()
    obs = run.observations
    keys = ACTION_KEYS[SEED_TO_ACTION[run.actions]].astype(np.int64)
    fitted = decision_updates(obs)
    updates = whole_updates(fitted) if timing == "fitted" else np.full(len(fitted), int(timing))
    states, knees = decision_starts(obs, keys, fitted)
    cols = SEED_POSITION_COLUMNS
    ours = np.array([predict_decision(engine, states[t], int(keys[t]), int(updates[t]), int(knees[t]))
                     for t in range(len(obs) - 1)]).reshape(-1, obs.shape[1])
    base = constant_velocity(obs[:-1], updates) if len(obs) > 1 else np.zeros((0, obs.shape[1]))
    return OneStepErrors(run.source, np.abs(ours[:, cols] - obs[1:, cols]).mean(1),
                         np.abs(base[:, cols] - obs[1:, cols]).mean(1))


def own_floor(decisions: int = 1000, frame_skip: int = 3) -> float:
    """The same measure on the engine's own run of the `stride` bot: the error that setting the
    runner to a state costs by itself (Box2D's contact and joint caches start empty)."""
    from qwopkit.adapter.openqwop.bots import get_bot

    keys = np.fromiter(get_bot("stride").keys(), dtype=np.int64, count=decisions * frame_skip)
    engine = Engine()
    states = [engine.state()]
    for k in keys:
        engine.update(int(k))
        states.append(engine.state())
    at = np.array(states)[::frame_skip]
    obs = seed_observation(at).astype(np.float64)
    errors = []
    knee = 0
    for t in range(len(obs) - 1):
        state = states_from_features(obs[t], at[t, 0])[0]
        state[-3] = keys[t * frame_skip - 1] if t else 0
        predicted = predict_decision(engine, state, int(keys[t * frame_skip]), frame_skip, knee)
        errors.append(np.abs(predicted[SEED_POSITION_COLUMNS] - obs[t + 1, SEED_POSITION_COLUMNS]).mean())
        for k in keys[t * frame_skip:(t + 1) * frame_skip]:
            knee = dominant_keys(int(k))[1] or knee
    return float(np.mean(errors))


def plot_one_step(results: dict[str, list[OneStepErrors]], path: str | Path, title: str = "") -> Path:
    """The figure of (c): the distribution of the per-decision errors, and their mean along the runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (hist, along) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    bins = np.linspace(0, 0.6, 61)
    fitted = results["fitted"]
    series = {"engine, fitted decision lengths": np.concatenate([r.engine for r in fitted]),
              "engine, 3 updates each": np.concatenate([r.engine for r in results["3"]]),
              "constant velocity, fitted lengths": np.concatenate([r.baseline for r in fitted])}
    for (label, values), color in zip(series.items(), ("tab:blue", "tab:cyan", "tab:grey")):
        hist.hist(values, bins=bins, histtype="step", lw=1.5, color=color,
                  label=f"{label} (mean {values.mean():.3f})")
    hist.set_xlabel("body-position MAE one decision ahead (units; 10 = 1 m)")
    hist.set_ylabel("decisions")
    hist.legend(fontsize=8)
    width = 25
    longest = max(len(r.engine) for r in fitted)
    edges = np.arange(0, longest + width, width)
    for attr, label, color in (("engine", "engine, fitted lengths", "tab:blue"),
                               ("baseline", "constant velocity", "tab:grey")):
        in_bins = [np.concatenate([getattr(r, attr)[a:a + width] for r in fitted]) for a in edges[:-1]]
        keep = [i for i, v in enumerate(in_bins) if len(v) >= 50]
        along.plot(edges[keep] + width / 2, [in_bins[i].mean() for i in keep], color=color, label=label)
    along.set_xlabel(f"decision of the run ({width}-decision bins with >= 50 decisions)")
    along.set_ylabel("mean body-position MAE (units)")
    along.set_ylim(bottom=0)
    along.legend(fontsize=8)
    fig.suptitle(title or "openqwop against the top player's recorded runs, one decision ahead", fontsize=10)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def report(folder: str | Path, plot: str | Path | None = None) -> dict[str, float]:
    runs = spawn_runs(folder)
    if not runs:
        raise InputError(folder, "no kuro_try*.npz run starts at the spawn pose")
    errors = position_error_at(runs, 10)
    worst_spawn = spawn_error(runs)
    print(f"runs starting at the spawn pose: {len(runs)}")
    print(f"(a) largest spawn observation error: {worst_spawn:.2e}   (goal <= 1e-4)")
    print(f"(b) body-position MAE at decision 10 (1 s), mean over runs: {np.mean(errors):.3f} units"
          f"   (goal <= 0.40; per run min {min(errors):.3f}, max {max(errors):.3f})")
    for decision in (5, 20, 30):
        print(f"    at decision {decision:2d}: {np.mean(position_error_at(runs, decision)):.3f} units")
    every = recorded_runs(folder)
    print(f"(c) teacher-forced one-step error over whole runs ({len(every)} runs, "
          f"{sum(len(r.actions) - 1 for r in every):,} decisions), body-position MAE:")
    out = {"runs": len(runs), "spawn_error": worst_spawn, "mae_at_10": float(np.mean(errors))}
    results = {}
    for timing in ("3", "fitted"):
        results[timing] = [teacher_forced(run, timing) for run in every]
        ours = np.concatenate([r.engine for r in results[timing]])
        base = np.concatenate([r.baseline for r in results[timing]])
        label = "every decision 3 updates" if timing == "3" else "each decision's fitted length"
        print(f"    {label}: engine {ours.mean():.3f} (median {np.median(ours):.3f}), constant velocity "
              f"{base.mean():.3f} (median {np.median(base):.3f}): "
              f"{ours.mean() / base.mean():.2f} of the baseline")
        out[f"one_step_{timing}"] = float(ours.mean())
        out[f"baseline_{timing}"] = float(base.mean())
    floor = own_floor()
    print(f"    the method's own floor (the engine's stride run, set to its own states): {floor:.3f}")
    out["own_floor"] = floor
    if plot is not None:
        print(f"    figure: {plot_one_step(results, plot)}")
    return out


def default_seed_demos() -> Path:
    """$QWOPKIT_SEED_DEMOS; else data/seed-demos of the current folder, where `qwop-data fetch-seed`
    puts them, if they are there; else the project's shared/data/seed-demos beside the checkout."""
    env = os.environ.get("QWOPKIT_SEED_DEMOS")
    if env:
        return Path(env)
    fetched = Path("data") / "seed-demos"  # qwopkit.dataset.seed.FOLDER
    if (fetched / "kuro_try1.npz").is_file():
        return fetched
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "seed-demos"


def main(argv: list[str] | None = None) -> int:
    import argparse

    from qwopkit.console import HelpFormatter, run_console

    parser = argparse.ArgumentParser(prog="python -m qwopkit.bench.fidelity",
                                     description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=None,
                        help="folder of the seed's kuro_try*.npz recordings (default: QWOPKIT_SEED_DEMOS, "
                             "else shared/data/seed-demos beside the checkout; docs/seed-system.md)")
    parser.add_argument("--plot", metavar="PNG", type=Path, default=None,
                        help="also draw the one-step errors over whole runs into this figure")
    args = parser.parse_args(argv)
    folder = args.folder or default_seed_demos()

    def run() -> int:
        if not list(folder.glob("kuro_try*.npz")):
            raise InputError(folder, "no kuro_try*.npz recordings here (docs/seed-system.md says where "
                                     "they come from)")
        report(folder, plot=args.plot)
        return 0

    return run_console("fidelity", run)


if __name__ == "__main__":
    sys.exit(main())
