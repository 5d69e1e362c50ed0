"""Re-simulation: replay an episode's keys in the bundled engine and compare with its states.

The openqwop engine is deterministic on one build, so a recorded run replays bit-identically:
a non-zero deviation means the file's keys and states disagree (edited or damaged data, or a
different engine build: compare `game_version`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qwopkit.adapter.openqwop.engine import run_keys
from qwopkit.adapter.openqwop.layout import STATE_FIELDS

from .reader import open_episode
from .schema import GAME_OPENQWOP, NO_SEED


@dataclass
class ResimReport:
    """What replaying one episode found. `max_deviation` is None when it could not be replayed."""

    path: Path
    updates: int
    max_deviation: float | None
    worst_update: int | None = None  # state row (0 = spawn) with the largest deviation
    worst_field: str | None = None
    reason: str = ""  # why it was not replayed ("no raw state", another game)

    @property
    def replayed(self) -> bool:
        return self.max_deviation is not None

    def line(self) -> str:
        """One line for a terminal."""
        if not self.replayed:
            return f"{self.path}: not replayed: {self.reason}"
        where = f" (update {self.worst_update}, {self.worst_field})" if self.max_deviation else ""
        return f"{self.path}: {self.updates} updates, max deviation {self.max_deviation:.3g}{where}"


def resimulate(path: str | Path) -> ResimReport:
    """Replay the file's `keys` from its seed and report the largest |replayed - stored| state value."""
    with open_episode(path, marks=False) as ep:
        meta = ep.meta
        if not ep.has_state:
            return ResimReport(ep.path, 0, None, reason="no raw state (an imported episode)")
        if meta["game"] != GAME_OPENQWOP:
            return ResimReport(ep.path, ep.updates or 0, None,
                               reason=f"game {meta['game']!r} is not the bundled one")
        if meta["state_fields"] != list(STATE_FIELDS):
            return ResimReport(ep.path, ep.updates or 0, None,
                               reason="state fields differ from this engine's")
        keys, stored = ep.read("keys"), ep.read("state")
    seed = None if meta["seed"] == NO_SEED else meta["seed"]
    replayed = run_keys(keys, seed)
    diff = np.abs(replayed - stored)
    # NaN anywhere (a damaged file) must count as a deviation, not vanish in max().
    diff[np.isnan(diff)] = np.inf
    flat = int(np.argmax(diff))
    row, col = divmod(flat, diff.shape[1])
    return ResimReport(Path(path), len(keys), float(diff.flat[flat]), row, STATE_FIELDS[col])
