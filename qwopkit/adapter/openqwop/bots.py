"""Scripted players: open-loop key programs that play the bundled game unattended.

A key program is a list of (keys, updates) phases played once (the start) and then a list of
phases repeated until the run ends. Bots are named so that recorders and tests can ask for them:
`stride` finishes 100 m (found by `search.py`), `shuffle` scrapes along more slowly, `flail`
falls. Since the game is deterministic, a bot's run is the same every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qwopkit.adapter.openqwop.engine import RUNNING, Engine
from qwopkit.adapter.openqwop.physics import O, P, Q, W


@dataclass(frozen=True)
class KeyProgram:
    """An open-loop player: `start` phases once, then `cycle` phases forever."""

    cycle: tuple[tuple[int, int], ...]
    start: tuple[tuple[int, int], ...] = field(default=())

    def keys(self):
        """Yield the key mask for each game update, forever."""
        for keys, updates in self.start:
            for _ in range(updates):
                yield keys
        while True:
            for keys, updates in self.cycle:
                for _ in range(updates):
                    yield keys


@dataclass
class RunResult:
    status: str  # "finished", "fell" or "timeout"
    distance: float
    hud_time: float
    updates: int


def play(program: KeyProgram, max_updates: int = 3600, engine: Engine | None = None) -> RunResult:
    """Play one run headless from the spawn; stops at a fall, a finish or `max_updates`."""
    if engine is None:
        engine = Engine()
    else:
        engine.reset()
    status = RUNNING
    for keys, _ in zip(program.keys(), range(max_updates)):
        status = engine.update(keys)
        if status != RUNNING:
            break
    return RunResult("timeout" if status == RUNNING else status, engine.distance, engine.hud_time,
                     engine.updates)


BOTS: dict[str, KeyProgram] = {
    # Found by `qwop-bench bot-search --generations 40 --phases 6
    # --population 80 --elite 10 --seed 2 --max-updates 5400`: finishes 100 m.
    "stride": KeyProgram(cycle=((W | P, 4), (Q | P, 6), (W | P, 3), (W | O, 5), (W, 5), (W | P, 6))),
    # An early candidate of a shorter search (--phases 4 --seed 0): scrapes along, slower than
    # stride (past the 120 s time limit of the environment; finishes at ~128 s).
    "shuffle": KeyProgram(cycle=((Q | P, 7), (P, 13), (W | P, 7), (W, 7))),
    # A known bad pattern: falls within two seconds.
    "flail": KeyProgram(cycle=((Q | P, 12), (W | O, 12))),
}


def get_bot(name: str) -> KeyProgram:
    try:
        return BOTS[name]
    except KeyError:
        raise ValueError(f"unknown bot {name!r}; known bots: {', '.join(sorted(BOTS))}") from None


__all__ = ["KeyProgram", "RunResult", "play", "BOTS", "get_bot", "Q", "W", "O", "P"]
