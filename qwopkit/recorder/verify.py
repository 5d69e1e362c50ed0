"""Checks of recorded episodes that need the game: re-simulation and the features.

`resimulate(path)` replays a file's keys in the engine (qwopkit.adapter.resim) and reports the
largest deviation from its stored states; `features_problem(ep)` says whether its observations
are exactly the features of its stored states. `qwop-data replay` and `validate --deep` get
both from the console script (qwopkit/commands/data.py); the dataset library itself cannot run the
engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qwopkit.adapter.features import seed_observation
from qwopkit.adapter.openqwop.engine import PHYSICS
from qwopkit.adapter.openqwop.layout import STATE_FIELDS
from qwopkit.adapter.resim import replay_deviation
from qwopkit.dataset import EpisodeFile, decision_bounds, open_episode
from qwopkit.dataset.schema import GAME_OPENQWOP, NO_SEED, OBSERVATION_FIELDS


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


def _not_replayable(ep: EpisodeFile) -> str | None:
    if not ep.has_state:
        return "no raw state (an imported episode)"
    if ep.meta["game"] != GAME_OPENQWOP:
        return f"game {ep.meta['game']!r} is not the bundled one"
    if ep.meta["physics"] != PHYSICS:
        return (f"recorded with physics {ep.meta['physics']!r}; this qwopkit replays {PHYSICS!r} only "
                "(a recording is checked only against the physics it was made with)")
    if ep.meta["state_fields"] != list(STATE_FIELDS):
        return "state fields differ from this engine's"
    return None


def resimulate(path: str | Path) -> ResimReport:
    """Replay the file's `keys` from its seed and report the largest |replayed - stored| state
    value. The file goes through the dataset's read path, raw data included (EpisodeError)."""
    with open_episode(path, marks=False, deep=True) as ep:
        reason = _not_replayable(ep)
        if reason:
            return ResimReport(ep.path, ep.updates or 0, None, reason=reason)
        keys, stored, seed = ep.read("keys"), ep.read("state"), ep.meta["seed"]
        where = ep.path
    deviation = replay_deviation(keys, stored, None if seed == NO_SEED else seed)
    return ResimReport(where, len(keys), deviation.max_deviation, deviation.worst_update,
                       deviation.worst_field)


def features_problem(ep: EpisodeFile) -> str | None:
    """Whether the observations are exactly the seed features of the stored states (episodes
    with the seed's observation columns and this engine's state layout; others pass)."""
    if not ep.has_state or ep.meta["observation_fields"] != list(OBSERVATION_FIELDS) \
            or ep.meta["state_fields"] != list(STATE_FIELDS):
        return None
    b = decision_bounds(ep.updates or 0, ep.meta["frame_skip"])
    if not np.array_equal(seed_observation(ep.read("state")[b]), ep.read("observations")):
        return "observations differ from the features of the stored states"
    return None
