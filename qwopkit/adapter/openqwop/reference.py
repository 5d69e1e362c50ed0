"""The engine against the original game, update by update.

The original QWOP's own JavaScript, run one update at a time in Chromium, gave reference
trajectories: every body's exact float64 state after every update under many key sequences
(an .npz: `NAME/keys`, `NAME/bodies` (T+1, 12, 6), `fell_at`, `finished_at`; docs/physics-core.md
says where it comes from; it is not shipped). `compare(path)` replays each sequence's keys in
openqwop and reports how far every body's x, y and angle are from the original's, and whether it
falls or finishes on the same update.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qwopkit.adapter.openqwop.engine import FELL, FINISHED, Engine
from qwopkit.adapter.openqwop.layout import BODY_BLOCK

THRESHOLDS = (1e-6, 1e-3, 1e-1)
CHECKED_UPDATES = 150  # 5 HUD seconds: the span the engine must match within 1e-6


@dataclass
class SequenceReport:
    name: str
    updates: int
    max_error: float  # largest |ours - original| of any body's x, y, angle, whole sequence
    max_error_checked: float  # the same over the first CHECKED_UPDATES updates
    first_past: dict[float, int | None]  # threshold -> first update whose error passes it
    fell: tuple[int, int]  # (original, ours): first state index with the fall, -1 if none
    finished: tuple[int, int]

    @property
    def same_ending(self) -> bool:
        return self.fell[0] == self.fell[1] and self.finished[0] == self.finished[1]


def default_reference() -> Path:
    """$QWOPKIT_ORIGINAL_TRAJECTORIES, else the project's shared reference beside the checkout."""
    env = os.environ.get("QWOPKIT_ORIGINAL_TRAJECTORIES")
    if env:
        return Path(env)
    shared = Path(__file__).resolve().parents[4] / "shared"
    return shared / "reference" / "original-game" / "trajectories-dev.npz"


def compare_sequence(name: str, keys: np.ndarray, bodies: np.ndarray, fell_at: int,
                     finished_at: int) -> SequenceReport:
    """Replay `keys` from the spawn and compare with the original's (T+1, 12, 6) `bodies`."""
    engine = Engine()
    errors = np.empty(len(keys) + 1)
    fell = finished = -1
    for t in range(len(keys) + 1):
        if t:
            status = engine.update(int(keys[t - 1]))
            if status == FELL and fell < 0:
                fell = t
            if status == FINISHED and finished < 0:
                finished = t
        ours = engine.state()[:BODY_BLOCK].reshape(12, 6)[:, :3]
        errors[t] = np.abs(ours - bodies[t, :, :3]).max()
    past = {th: (int(np.argmax(errors > th)) if (errors > th).any() else None) for th in THRESHOLDS}
    checked = float(errors[: CHECKED_UPDATES + 1].max())
    return SequenceReport(name, len(keys), float(errors.max()), checked, past, (fell_at, fell),
                          (finished_at, finished))


def compare(path: str | Path, names: list[str] | None = None) -> list[SequenceReport]:
    """Every sequence of a reference file (or those in `names`), compared with openqwop."""
    with np.load(path) as data:
        sequences = [str(s) for s in data["sequences"]]
        reports = []
        for i, name in enumerate(sequences):
            if names is not None and name not in names:
                continue
            reports.append(compare_sequence(name, data[f"{name}/keys"], data[f"{name}/bodies"],
                                            int(data["fell_at"][i]), int(data["finished_at"][i])))
    return reports


__all__ = ["SequenceReport", "compare", "compare_sequence", "default_reference", "THRESHOLDS",
           "CHECKED_UPDATES"]
