"""`qwop-bench fidelity --original PATH`: openqwop against the original game itself, side by side
on the same key sequences (the original's states read from the game, in Chromium).

- open-loop error at 0.5, 1, 2 and 5 HUD s: both games play the same keys from the spawn; the
  mean absolute error of the 24 body-position columns (x relative to the torso, y), averaged
  over the sequences;
- teacher-forced error: openqwop set to each of the original's states (Engine.set_state), then
  1 or 3 updates with the original's keys, against the original's state after them (up to each
  sequence's fall in the original);
- the update of each sequence's fall in both games;
- the bots' HUD times (finish, fall or time limit) in both games.
Random sequences are drawn as the reference's `rnd_*` ones: an action of the 11 held 1-6 updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qwopkit.adapter.features import ACTION_KEYS
from qwopkit.adapter.openqwop import RUNNING, Engine, run_keys
from qwopkit.adapter.openqwop.bots import BOTS, KeyProgram
from qwopkit.adapter.openqwop.layout import BODY_BLOCK, STATE_INDEX
from qwopkit.adapter.openqwop.physics import UPDATES_PER_SECOND, dominant_keys
from qwopkit.adapter.original.game import OriginalGame

HORIZONS = (0.5, 1.0, 2.0, 5.0)  # HUD seconds
_X = np.arange(0, BODY_BLOCK, 6)
_Y = _X + 1
_FALLEN = STATE_INDEX["fallen"]


def random_keys(seed: int, updates: int) -> np.ndarray:
    """Per-update keys: actions of the 11 drawn uniformly, each held 1-6 updates (numpy seed)."""
    rng = np.random.default_rng(seed)
    keys: list[int] = []
    while len(keys) < updates:
        keys += [int(ACTION_KEYS[rng.integers(0, 11)])] * int(rng.integers(1, 7))
    return np.array(keys[:updates], dtype=np.uint8)


def position_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute error of the 24 body positions (x relative to the torso, y), per row."""
    def columns(s: np.ndarray) -> np.ndarray:
        return np.concatenate([s[..., _X] - s[..., :1], s[..., _Y]], axis=-1)

    return np.abs(columns(a) - columns(b)).mean(axis=-1)


def play_original(game: OriginalGame, keys: np.ndarray) -> np.ndarray:
    game.reset()
    states = [game.state()]
    for k in keys:
        game.update(int(k))
        states.append(game.state())
    return np.array(states)


def knee_keys_before(keys: np.ndarray) -> np.ndarray:
    """For each update t, the last knee key (O or P) held before it: the hip limits it set."""
    out = np.zeros(len(keys) + 1, dtype=np.uint8)
    knee = 0
    for t, k in enumerate(keys):
        out[t] = knee
        knee = dominant_keys(int(k))[1] or knee
    out[len(keys)] = knee
    return out


def teacher_forced(original: np.ndarray, keys: np.ndarray, horizon: int, end: int,
                   engine: Engine) -> np.ndarray:
    """openqwop set to the original's state t, `horizon` updates of its keys, against state t+h."""
    knees = knee_keys_before(keys)
    errors = []
    for t in range(0, max(end - horizon, 0) + 1):
        if t + horizon > len(keys):
            break
        engine.set_state(original[t], knee_keys=int(knees[t]))
        for k in keys[t:t + horizon]:
            engine.update(int(k))
        errors.append(position_error(engine.state(), original[t + horizon]))
    return np.array(errors)


def first_fall(states: np.ndarray) -> int:
    fell = np.nonzero(states[:, _FALLEN] > 0)[0]
    return int(fell[0]) if len(fell) else -1


@dataclass
class BotTimes:
    name: str
    openqwop: tuple[str, float]
    original: tuple[str, float]


def bot_run_original(game: OriginalGame, program: KeyProgram, max_updates: int) -> tuple[str, float]:
    """A key program in the original: one round trip per phase of the program."""
    game.reset()
    phases = list(program.start) + list(program.cycle) * (max_updates + 1)
    for keys, n in phases:
        status = game.advance(keys, n, limit=max_updates)
        if status != RUNNING or game.updates >= max_updates:
            break
    outcome = "timeout" if game.status == RUNNING else game.status
    return outcome, game.hud_time


def bot_run_openqwop(program: KeyProgram, max_updates: int) -> tuple[str, float]:
    engine = Engine()
    for keys, _ in zip(program.keys(), range(max_updates)):
        if engine.update(keys) != RUNNING:
            break
    outcome = "timeout" if engine.status == RUNNING else engine.status
    return outcome, engine.hud_time


def compare(qwop: str | Path, sequences: int = 20, seconds: float = 5.0, bot_limit: float = 180.0,
            log=print) -> dict[str, object]:
    """Play everything in both games and print the figures; returns them."""
    updates = int(round(seconds * UPDATES_PER_SECOND))
    horizons = [int(round(h * UPDATES_PER_SECOND)) for h in HORIZONS if h <= seconds]
    open_loop: dict[int, list[float]] = {h: [] for h in horizons}
    one: list[np.ndarray] = []
    three: list[np.ndarray] = []
    falls: list[tuple[int, int]] = []
    engine = Engine()
    with OriginalGame(qwop) as game:
        for seed in range(sequences):
            keys = random_keys(100 + seed, updates)
            original = play_original(game, keys)
            ours = run_keys(keys)
            error = position_error(ours, original)
            for h in horizons:
                open_loop[h].append(error[h])
            fell = first_fall(original)
            end = fell if fell >= 0 else len(keys)
            one.append(teacher_forced(original, keys, 1, end, engine))
            three.append(teacher_forced(original, keys, 3, end, engine))
            falls.append((first_fall(ours), fell))
        limit = int(round(bot_limit * UPDATES_PER_SECOND))
        bots = [BotTimes(name, bot_run_openqwop(program, limit), bot_run_original(game, program, limit))
                for name, program in BOTS.items()]
    log(f"openqwop against the original game ({sequences} random key sequences of {seconds:g} s, "
        f"actions held 1-6 updates):")
    for h in horizons:
        log(f"  open-loop error at {h / UPDATES_PER_SECOND:4.1f} s: {np.mean(open_loop[h]):.3f} units "
            f"(body positions, x relative to the torso)")
    one_all, three_all = np.concatenate(one), np.concatenate(three)
    log(f"  teacher-forced error, 1 update:  {one_all.mean():.5f} units ({len(one_all)} starts)")
    log(f"  teacher-forced error, 3 updates: {three_all.mean():.5f} units ({len(three_all)} starts)")
    both = [(a, b) for a, b in falls if a >= 0 and b >= 0]
    gap = f" (mean |difference| {np.mean([abs(a - b) for a, b in both]):.1f} updates)" if both else ""
    log(f"  falls: original {sum(b >= 0 for _, b in falls)}/{sequences}, openqwop "
        f"{sum(a >= 0 for a, _ in falls)}/{sequences}; same update in {sum(a == b for a, b in both)} "
        f"of the {len(both)} that fell in both{gap}")
    log("  bots (HUD time at the end of the run):")
    for bot in bots:
        log(f"    {bot.name:8s} openqwop {bot.openqwop[0]:8s} {bot.openqwop[1]:7.2f} s   "
            f"original {bot.original[0]:8s} {bot.original[1]:7.2f} s")
    return {"open_loop": {h: float(np.mean(v)) for h, v in open_loop.items()},
            "one_update": float(one_all.mean()), "three_updates": float(three_all.mean()),
            "falls": falls, "bots": bots}


__all__ = ["compare", "random_keys", "position_error", "teacher_forced", "knee_keys_before"]
