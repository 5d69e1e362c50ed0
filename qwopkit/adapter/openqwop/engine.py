"""The openqwop engine: the original QWOP's world and rules, one game update at a time.

    engine = Engine()
    engine.reset(seed=0)
    engine.update(keys=Q | O)     # one game update (1/30 s of real time, dt 0.04 simulated)
    engine.state()                # float64 vector, fields in layout.STATE_FIELDS
    engine.status                 # "running", "fell" or "finished"
    snap = engine.snapshot()      # the whole world, bit for bit (contact caches included)
    engine.restore(snap)

The physics is a compiled core of our own (csrc/, docs/physics-core.md) that computes what the
original game's Box2D port computes, in its order and in float64, so a key sequence gives the
original's states to the last bit. `Worlds` steps many worlds in one call (the vector env).

The game has no randomness: the seed is accepted (and stored by recorders) so that a future
variant with perturbed spawns stays reproducible, but today every reset is the same spawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from qwopkit.adapter.openqwop import _physics  # the compiled core (csrc/, built by setup.py)
from qwopkit.adapter.openqwop import physics as ph
from qwopkit.adapter.openqwop.layout import STATE_SIZE

RUNNING, FELL, FINISHED = "running", "fell", "finished"
STATUS = (RUNNING, FELL, FINISHED)  # the core's status codes 0, 1, 2
# The physics a recording was made with (an episode attribute). openqwop-1 was the Box2D 2.3
# re-creation of 2026-11; openqwop-2 is this core, update for update the original's.
PHYSICS = "openqwop-2"
WORLD_SIZE = _physics.WORLD_SIZE


@dataclass(frozen=True)
class JointView:
    """A runner joint's motor and limit settings, as the game's keys and rules set them."""

    motorSpeed: float  # noqa: N815 (Box2D's names, as the tests and docs use them)
    limits: tuple[float, float]
    motorEnabled: bool  # noqa: N815
    limitEnabled: bool  # noqa: N815


class _Joints:
    """engine.joints["leftHip"]: a read-only view of one joint's settings."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getitem__(self, name: str) -> JointView:
        speed, lower, upper, motor, limit = _physics.joint(self._engine._world, 0, ph.JOINT_NAMES.index(name))
        return JointView(speed, (lower, upper), bool(motor), bool(limit))


class Engine:
    """One QWOP game: the world, the runner, the track and the rules of a run."""

    def __init__(self, seed: int | None = None) -> None:
        self._world = bytearray(WORLD_SIZE)
        self._state = np.empty(STATE_SIZE)
        self.joints = _Joints(self)
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Start a new run at the spawn pose. `seed` has no effect on the physics (see module doc)."""
        self.seed = seed
        _physics.reset(self._world, 0)
        self.keys = 0

    # ------------------------------------------------------------------ one update
    def update(self, keys: int) -> str:
        """Advance one game update with `keys` (Q=1 W=2 O=4 P=8) held. Returns the run status."""
        return self.advance(keys, 1)

    def advance(self, keys: int, updates: int, limit: int | None = None) -> str:
        """Hold `keys` for up to `updates` game updates, stopping early when the run ends or the
        update count reaches `limit`. Returns the run status. (One call per decision: the loop
        over updates runs in the compiled core.)"""
        self.keys = int(keys) & 0xF
        stop = -1 if limit is None else int(limit)
        return STATUS[_physics.advance(self._world, 0, self.keys, int(updates), stop)]

    # ------------------------------------------------------------------ placing and restoring
    def set_state(self, state: np.ndarray, *, knee_keys: int | None = None, head_torque: float = 0.0) -> None:
        """Put the runner in a raw state (layout.STATE_FIELDS): a fresh world, then every body
        placed with its position, angle and velocities; the clock from the HUD time, the keys
        held and the fallen flag from the state's tail.

        The hip limits depend on the last knee key pressed (O and P switch them, releasing both
        keeps them), which a state does not hold: `knee_keys` gives it (O, P, or 0 for the spawn
        limits); by default the state's own held keys say it when they hold O or P, else 0.
        The original never clears the head's torque: it is the running sum of every update's
        -4 (head angle + 0.2), which a state does not hold either: `head_torque` gives it.
        A raw state carries no contact or joint caches (warm starting), so a placed runner does
        not continue bit-identically from where a played one would: `snapshot` / `restore` do.
        Joint angles and speeds in the state are not read: they follow from the bodies.
        """
        state = np.ascontiguousarray(state, dtype=np.float64)
        if state.shape != (STATE_SIZE,) or not np.isfinite(state).all():
            raise ValueError(f"state: expected {STATE_SIZE} finite values, got shape {state.shape}")
        _physics.place(self._world, 0, state, float(head_torque))
        keys = int(state[-3]) & 0xF
        if knee_keys is None:
            knee_keys = ph.dominant_keys(keys)[1]
        knee = ph.dominant_keys(int(knee_keys))[1]
        if knee:  # switches the hip limits (and the knee motors, which `keys` then sets)
            _physics.apply_keys(self._world, 0, knee)
        _physics.apply_keys(self._world, 0, keys)
        self.keys = keys

    def snapshot(self) -> bytes:
        """The whole world as bytes: restoring it continues bit for bit (same build)."""
        return bytes(self._world)

    def restore(self, snapshot: bytes) -> None:
        """Return to a snapshot taken by `snapshot` on this build."""
        if len(snapshot) != WORLD_SIZE:
            raise ValueError(f"snapshot: expected {WORLD_SIZE} bytes from Engine.snapshot(), "
                             f"got {len(snapshot)}")
        self._world[:] = snapshot
        self.keys = int(self.state()[-3])

    # ------------------------------------------------------------------ reading the game
    @property
    def status(self) -> str:
        return STATUS[_physics.counts(self._world, 0)[1]]

    @property
    def updates(self) -> int:
        return _physics.counts(self._world, 0)[0]

    @property
    def distance(self) -> float:
        """Distance in metres: the torso centre's x / 10."""
        return float(self.state()[0] / ph.UNITS_PER_METRE)

    @property
    def hud_time(self) -> float:
        """The HUD clock in seconds: updates / 30, stopped when the run ended."""
        return float(self.state()[-4])

    @property
    def score(self) -> float:
        """What the game's HUD shows: the torso's x rounded to 0.1 m, or the landing point."""
        return float(_physics.info(self._world, 0)["score"])

    def state(self) -> np.ndarray:
        """The raw state vector (layout.STATE_FIELDS), a new array."""
        out = np.empty(STATE_SIZE)
        _physics.state(self._world, 0, out)
        return out

    def poses(self) -> list[tuple[float, float, float]]:
        """(x, y, angle) of every body in physics.BODY_NAMES order, for drawing."""
        bodies = self.state()[: 6 * len(ph.BODY_NAMES)].reshape(-1, 6)
        return [(float(x), float(y), float(a)) for x, y, a in bodies[:, :3]]

    def hurdle_poses(self) -> list[tuple[float, float, float]]:
        return [tuple(p) for p in _physics.info(self._world, 0)["hurdle"]]


class Worlds:
    """N games stepped together: one compiled call holds each world's keys for a decision.

    `step(keys, updates)` returns the (N, STATE_SIZE) states and the statuses (0 running, 1
    fell, 2 finished); a world whose run has ended stays as it ended until `reset(i)`.
    """

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"n: need at least one world, got {n}")
        self.n = n
        self._worlds = bytearray(WORLD_SIZE * n)
        self.states = np.empty((n, STATE_SIZE))
        self.status = np.zeros(n, dtype=np.uint8)
        for i in range(n):
            self.reset(i)

    def reset(self, i: int) -> np.ndarray:
        _physics.reset(self._worlds, i)
        _physics.state(self._worlds, i, self.states[i])
        self.status[i] = 0
        return self.states[i]

    def step(self, keys: np.ndarray, updates: int) -> tuple[np.ndarray, np.ndarray]:
        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        if keys.shape != (self.n,):
            raise ValueError(f"keys: expected {self.n} key masks, got shape {keys.shape}")
        _physics.step_batch(self._worlds, keys, int(updates), self.states, self.status)
        return self.states, self.status


def run_keys(keys: Iterable[int], seed: int | None = None) -> np.ndarray:
    """Replay a per-update key sequence from the spawn; returns the (N+1, S) state sequence."""
    engine = Engine(seed)
    states = [engine.state()]
    for k in keys:
        engine.update(int(k))
        states.append(engine.state())
    return np.array(states)


__all__ = ["Engine", "Worlds", "run_keys", "RUNNING", "FELL", "FINISHED", "PHYSICS"]
