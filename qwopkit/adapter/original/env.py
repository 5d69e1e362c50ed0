"""The Gymnasium environment `qwopkit/QWOP-original-v0`: QWOP-v0 on the original game.

    env = gym.make("qwopkit/QWOP-original-v0", qwop="~/qwop")   # the user's own copy

The same action and observation spaces, observation, reward, frame skip and time limit as
QWOP-v0 (adapter/env.py): only the game differs. One step is one page round trip. Close the
environment (`env.close()`) to end its browser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from qwopkit.adapter.env import QWOPEnv
from qwopkit.adapter.openqwop.physics import TIME_LIMIT
from qwopkit.adapter.original.game import OriginalGame


class OriginalQWOPEnv(QWOPEnv):
    """QWOP-v0's environment on the original game (see QWOPEnv for the parameters).

    :param qwop: the user's copy of the game: its folder or its .js file.
    :param headless: False shows the page in a window (watching an agent).
    :param reset: how an episode starts: "game" (the game's own reset with the fresh page's broad
        phase put back, ~10 ms) or "reload" (the page loaded afresh, ~1-2 s); both exact
        (OriginalGame.reset).
    """

    metadata = {"render_modes": [], "render_fps": QWOPEnv.metadata["render_fps"]}

    def __init__(self, qwop: str | Path, frame_skip: int = 3, observation: str = "seed",
                 reward_fn: Callable[[np.ndarray, np.ndarray], float] | None = None,
                 time_limit: float = TIME_LIMIT, render_mode: str | None = None,
                 headless: bool = True, reset: str = "game") -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode must be None (watch with headless=False), got {render_mode!r}")
        super().__init__(frame_skip=frame_skip, observation=observation, reward_fn=reward_fn,
                         time_limit=time_limit)
        self.game = OriginalGame(qwop, headless=headless, reset=reset)
        # QWOPEnv steps self.engine through Engine's interface, which OriginalGame has.
        self.engine = self.game  # type: ignore[assignment]
        self._state = self.engine.state()

    def render(self):
        return None

    def close(self) -> None:
        self.game.close()
        super().close()


__all__ = ["OriginalQWOPEnv"]
