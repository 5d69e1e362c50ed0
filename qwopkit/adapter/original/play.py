"""The original game played in real time (mode "play"): its log turned into the host's Ticks,
and a key program played by real key events on the page (for `qwop-record --game original
--bot NAME` and the benchmark)."""

from __future__ import annotations

import time
from typing import Any

from qwopkit.adapter.openqwop.host import Tick

KEYS = (("q", 1), ("w", 2), ("o", 4), ("p", 8))


class TickFeed:
    """Turns the page's log into the host's Ticks (runs numbered from 1, as the session's
    RunRecorder(first_run=1) expects)."""

    def __init__(self) -> None:
        self.run = 0
        self.update = 0

    def ticks(self, entries: list[tuple[int, float, int, Any, str]]) -> list[Tick]:
        out = []
        for kind, when, keys, state, status in entries:
            if kind == 0:
                self.run += 1
                self.update = 0
                out.append(Tick(self.run, 0, 0, state, "running", when))
            else:
                self.update += 1
                out.append(Tick(self.run, self.update, keys, state, status, when))
        return out


class PageBot:
    """A key program played by real key events on the page, in step with the updates read:
    after update n of a run it holds what the program wants for update n + 1 (the game reads
    its flags when an update starts). After a run's end it lets go, waits `pause` s, presses R."""

    def __init__(self, game: Any, program: Any, pause: float = 0.5) -> None:
        self.game, self.program, self.pause = game, program, pause
        self.held = 0
        self.want = 0
        self._run: int | None = None
        self._keys: Any = None
        self._restart_at: float | None = None

    def on_tick(self, tick: Tick) -> None:
        if tick.run != self._run:  # a new run: the program starts again
            self._run, self._keys, self._restart_at = tick.run, self.program.keys(), None
        if self._restart_at is not None:
            return  # the ragdoll settling after the end of a run
        if tick.status != "running":
            self.want = 0
            self._restart_at = time.monotonic() + self.pause
            return
        self.want = next(self._keys)

    def act(self) -> None:
        """Send the key events that make the held keys what the program wants (and R when due)."""
        # Releases first: an update falling between the events then sees fewer keys, not more.
        for name, bit in KEYS:
            if self.held & bit and not self.want & bit:
                self.game.key("up", name)
        for name, bit in KEYS:
            if self.want & bit and not self.held & bit:
                self.game.key("down", name)
        self.held = self.want
        if self._restart_at is not None and time.monotonic() >= self._restart_at:
            self._restart_at = float("inf")  # once per run
            tap(self.game, "r")


def tap(game: Any, name: str) -> None:
    game.key("down", name)
    game.key("up", name)


__all__ = ["TickFeed", "PageBot", "tap"]
