"""An episode in memory: per-decision arrays, optional raw per-update arrays, root attributes.

Turning a run's game updates into decisions is the recorder's job (qwopkit.recorder.decisions);
here an episode is only held, and checked against the format before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qwopkit.dataset.attributes import check_meta
from qwopkit.dataset.errors import EpisodeError
from qwopkit.dataset.schema import DECISION_DATASETS, RAW_DATASETS, check_layout
from qwopkit.dataset.values import check_decision_values


@dataclass(eq=False)
class Episode:
    """One run: per-decision arrays, optional raw per-update arrays, and the root attributes."""

    meta: dict[str, Any]
    observations: np.ndarray  # (T+1, 71) float32
    actions: np.ndarray  # (T,) uint8
    rewards: np.ndarray  # (T,) float32
    terminations: np.ndarray  # (T,) bool
    truncations: np.ndarray  # (T,) bool
    mu: np.ndarray  # (T, 11) float32
    infos: dict[str, np.ndarray] = field(default_factory=dict)  # distance, hud_time: (T+1,)
    state: np.ndarray | None = None  # (N+1, 99) float64
    keys: np.ndarray | None = None  # (N,) uint8

    def __post_init__(self) -> None:
        # Cast once here so that the writer stores exactly the format's dtypes.
        for name, dtype in DECISION_DATASETS.items():
            if name.startswith("infos/"):
                key = name[len("infos/"):]
                if key in self.infos:
                    self.infos[key] = np.asarray(self.infos[key], dtype=dtype)
            else:
                setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))
        for name, dtype in RAW_DATASETS.items():
            if getattr(self, name) is not None:
                setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))

    @property
    def steps(self) -> int:
        """Number of decisions T."""
        return len(self.actions)

    @property
    def has_state(self) -> bool:
        return self.state is not None

    def arrays(self) -> dict[str, np.ndarray]:
        """Every dataset by its name in the file (`infos/distance` etc.)."""
        out = {name: getattr(self, name) for name in DECISION_DATASETS if not name.startswith("infos/")}
        out.update({f"infos/{k}": v for k, v in self.infos.items()})
        if self.state is not None:
            out["state"] = self.state
        if self.keys is not None:
            out["keys"] = self.keys
        return out

    def check(self, where: object = "episode") -> None:
        """Raise EpisodeError unless the arrays, values and attributes form a valid episode."""
        try:
            check_meta(self.meta)
            arrays = self.arrays()
            check_layout({k: v.shape for k, v in arrays.items()},
                         {k: v.dtype for k, v in arrays.items()}, self.meta)
            check_decision_values(self.meta, arrays)
        except ValueError as exc:
            raise EpisodeError(where, str(exc)) from None
