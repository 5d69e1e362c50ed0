"""Re-simulation: replay a run's keys in the bundled engine and compare with recorded states.

The openqwop engine is deterministic on one build, so a recorded run replays bit-identically:
a non-zero deviation means the keys and states disagree (edited or damaged data, or a
different engine build). Arrays in, figures out: reading episode files is the recorder's
(qwopkit.recorder.verify).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qwopkit.adapter.openqwop.engine import run_keys
from qwopkit.adapter.openqwop.layout import STATE_FIELDS


@dataclass
class Deviation:
    """The largest |replayed - stored| value, where it is (state row, 0 = spawn, and field)."""

    max_deviation: float
    worst_update: int
    worst_field: str


def replay_deviation(keys: np.ndarray, stored: np.ndarray, seed: int | None) -> Deviation:
    """Replay `keys` (N,) from the spawn with `seed` and compare with `stored` states (N+1, S)."""
    stored = np.asarray(stored, dtype=np.float64)
    if stored.shape != (len(keys) + 1, len(STATE_FIELDS)):
        raise ValueError(f"states have shape {stored.shape}, expected ({len(keys) + 1}, {len(STATE_FIELDS)})")
    replayed = run_keys(np.asarray(keys, dtype=np.uint8), seed)
    diff = np.abs(replayed - stored)
    # NaN anywhere (a damaged file) must count as a deviation, not vanish in max().
    diff[np.isnan(diff)] = np.inf
    flat = int(np.argmax(diff))
    row, col = divmod(flat, diff.shape[1])
    return Deviation(float(diff.flat[flat]), row, STATE_FIELDS[col])
