"""How close the bundled game is to the original, measured on the seed's real recordings.

The seed's top-player files (kuro_try*.npz) were recorded in the original QWOP at ~10 decisions
per second. For each run whose first observation is the spawn pose, we (a) compare our spawn
observation with it, and (b) replay the recorded actions from the spawn with frame_skip 3 and
compare the 24 body-position columns (x relative to the torso, y) at a given decision.
The original ran in real time, so its updates per decision jitter around 3: an exact match is
not expected, only a small error.

    python -m qwopkit.adapter.openqwop.fidelity [SEED_DEMOS_DIR]
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..features import ACTION_KEYS, SEED_POSITION_COLUMNS, SEED_TO_ACTION, seed_observation
from .engine import Engine

SPAWN_TOLERANCE = 1e-4


@dataclass
class RecordedRun:
    source: str
    observations: np.ndarray  # (T, 71), seed layout, x relative to the torso
    actions: np.ndarray  # (T,), seed action indices


def spawn_observation() -> np.ndarray:
    return seed_observation(Engine().state()).astype(np.float64)


def spawn_runs(folder: str | Path, pattern: str = "kuro_try*.npz") -> list[RecordedRun]:
    """The recorded runs (from files matching `pattern`) that start at the spawn pose."""
    spawn = spawn_observation()
    runs = []
    for path in sorted(Path(folder).glob(pattern)):
        data = np.load(path)
        obs, actions = data["obs"], data["actions"].reshape(-1)
        starts = list(np.flatnonzero(data["episode_starts"])) + [len(obs)]
        for begin, end in zip(starts[:-1], starts[1:]):
            if np.abs(obs[begin] - spawn).max() <= SPAWN_TOLERANCE:
                runs.append(RecordedRun(f"{path.name}@{begin}", obs[begin:end], actions[begin:end]))
    return runs


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


def report(folder: str | Path) -> dict[str, float]:
    runs = spawn_runs(folder)
    if not runs:
        raise SystemExit(f"fidelity: error: {folder}: no kuro_try*.npz run starts at the spawn pose")
    errors = position_error_at(runs, 10)
    worst_spawn = spawn_error(runs)
    print(f"runs starting at the spawn pose: {len(runs)}")
    print(f"(a) largest spawn observation error: {worst_spawn:.2e}   (goal <= 1e-4)")
    print(f"(b) body-position MAE at decision 10 (1 s), mean over runs: {np.mean(errors):.3f} units"
          f"   (goal <= 0.40; per run min {min(errors):.3f}, max {max(errors):.3f})")
    for decision in (5, 20, 30):
        print(f"    at decision {decision:2d}: {np.mean(position_error_at(runs, decision)):.3f} units")
    return {"runs": len(runs), "spawn_error": worst_spawn, "mae_at_10": float(np.mean(errors))}


def default_seed_demos() -> Path:
    """$QWOPKIT_SEED_DEMOS, else the project's shared/data/seed-demos beside the checkout."""
    env = os.environ.get("QWOPKIT_SEED_DEMOS")
    return Path(env) if env else Path(__file__).resolve().parents[4] / "shared" / "data" / "seed-demos"


def main(argv: list[str] | None = None) -> int:
    import argparse

    from ...console import HelpFormatter, run_console
    from ...errors import InputError

    parser = argparse.ArgumentParser(prog="python -m qwopkit.adapter.openqwop.fidelity",
                                     description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=None,
                        help="folder of the seed's kuro_try*.npz recordings (default: QWOPKIT_SEED_DEMOS, "
                             "else shared/data/seed-demos beside the checkout; docs/seed-system.md)")
    args = parser.parse_args(argv)
    folder = args.folder or default_seed_demos()

    def run() -> int:
        if not list(folder.glob("kuro_try*.npz")):
            raise InputError(folder, "no kuro_try*.npz recordings here (docs/seed-system.md says where "
                                     "they come from)")
        report(folder)
        return 0

    return run_console("fidelity", run)


if __name__ == "__main__":
    sys.exit(main())
