"""Watching runs in the original game: each run's keys replayed in a visible Chromium window at
the game's own pace (30 updates per second), drawn by the game itself.

The game is deterministic, so a replay of a run's keys from the spawn is that run, update for
update: what is watched is what was measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qwopkit.adapter.original.game import OriginalGame

SETTLE_UPDATES = 45  # shown after the run's end (1.5 s of ragdoll)


def replay_runs(qwop: str | Path, runs: Sequence[np.ndarray], *, fps: float = 30.0,
                headless: bool = False, log: Callable[[str], object] = print) -> list[np.ndarray]:
    """Replay each run's per-update keys in the original game; returns each run's last state.
    Stops early (with what was shown) when the window is closed."""
    shown: list[np.ndarray] = []
    with OriginalGame(qwop, headless=headless) as game:
        for i, keys in enumerate(runs):
            log(f"watching run {i + 1}/{len(runs)} in the original game ({len(keys) / fps:.0f} s)")
            try:
                game.reset()
                start = time.monotonic()
                for n, k in enumerate(np.concatenate([keys, np.zeros(SETTLE_UPDATES, np.uint8)])):
                    game.update(int(k))
                    delay = start + (n + 1) / fps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            except Exception as exc:  # the window was closed: the page or the browser is gone
                if game.driver is None or not _alive(game):
                    break
                raise exc
            shown.append(game.state())
    return shown


def _alive(game: OriginalGame) -> bool:
    try:
        game.driver.title  # noqa: B018 (a round trip: does the window still exist?)
        return True
    except Exception:
        return False


__all__ = ["replay_runs", "SETTLE_UPDATES"]
