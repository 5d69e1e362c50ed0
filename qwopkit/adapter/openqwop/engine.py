"""The openqwop engine: QWOP's rules on a Box2D world, one game update at a time.

    engine = Engine()
    engine.reset(seed=0)
    engine.update(keys=Q | O)     # one game update (1/30 s of real time, dt 0.04 simulated)
    engine.state()                # float64 vector, fields in layout.STATE_FIELDS
    engine.status                 # "running", "fell" or "finished"

The game has no randomness: the seed is accepted (and stored by recorders) so that a future
variant with perturbed spawns stays reproducible, but today every reset is the same spawn.
A fresh Box2D world per reset is what makes runs bit-identical: reusing a world would carry
contact warm-starting caches from the previous run.
"""

from __future__ import annotations

import Box2D
import numpy as np

from . import physics as ph
from .bodyview import ANGLE, FIELDS, X, Y, make_body_view
from .layout import BODY_BLOCK, BODY_FIELDS, STATE_SIZE

RUNNING, FELL, FINISHED = "running", "fell", "finished"


# How far a part's centre can be from its lowest point.
_HALF_DIAGONAL = {b.name: 0.5 * (b.width**2 + b.height**2) ** 0.5 for b in ph.BODIES}
_NEAR = 1.0  # generous: a part that touched during a step may have moved up a little since
_FINISH_WATCH = 40.0


def _ground_fixtures() -> list[Box2D.b2FixtureDef]:
    """The track's static boxes (ground row and start block), built once per process."""
    w, h = ph.GROUND_BOX
    boxes = []
    x = ph.GROUND_START_X + w / 2
    while x - w / 2 < ph.GROUND_END_X:
        boxes.append((w, h, x, ph.GROUND_TOP_Y + h / 2))
        x += w
    boxes.append(ph.START_BLOCK)
    return [
        Box2D.b2FixtureDef(shape=Box2D.b2PolygonShape(box=(bw / 2, bh / 2, (bx, by), 0.0)),
                           friction=ph.GROUND_FRICTION, categoryBits=ph.GROUND_CATEGORY)
        for bw, bh, bx, by in boxes
    ]


_GROUND_FIXTURES = _ground_fixtures()


def _runner_defs() -> list[tuple[str, Box2D.b2BodyDef, Box2D.b2FixtureDef]]:
    """(name, body def, fixture def) of each runner part in the original's creation order."""
    specs = {b.name: b for b in ph.BODIES}
    defs = []
    for name in ph.CREATION_ORDER:
        s = specs[name]
        # The original re-wakes the runner every update (it sets motor speeds each update, and
        # its Box2D's SetAwake resets the sleep timer), so the runner never sleeps.
        body_def = Box2D.b2BodyDef(type=Box2D.b2_dynamicBody, position=(s.x, s.y), angle=s.angle,
                                   userData=name, allowSleep=False)
        fixture_def = Box2D.b2FixtureDef(
            shape=Box2D.b2PolygonShape(box=(s.width / 2, s.height / 2)), density=s.density,
            friction=s.friction, restitution=0.0, categoryBits=ph.RUNNER_CATEGORY,
            maskBits=ph.RUNNER_MASK)
        defs.append((name, body_def, fixture_def))
    return defs


_RUNNER_DEFS = _runner_defs()
_JOINT_DEFS: list[Box2D.b2RevoluteJointDef] = []


def _joint_defs() -> list[Box2D.b2RevoluteJointDef]:
    """Joint defs with local anchors computed once from the spawn pose (which never changes)."""
    if not _JOINT_DEFS:
        scratch = Box2D.b2World()
        parts = {name: scratch.CreateBody(body_def) for name, body_def, _ in _RUNNER_DEFS}
        for j in ph.JOINTS:
            jd = Box2D.b2RevoluteJointDef()
            jd.Initialize(parts[j.body_a], parts[j.body_b], j.anchor)
            jd.referenceAngle = j.reference
            jd.lowerAngle, jd.upperAngle = j.lower, j.upper
            jd.enableLimit = True
            jd.enableMotor = j.motor
            jd.maxMotorTorque = j.max_torque
            jd.motorSpeed = 0.0  # a full-torque speed-0 motor is a brake that holds the pose
            _JOINT_DEFS.append(jd)
    return _JOINT_DEFS


def _touches_ground(body: Box2D.b2Body) -> bool:
    for edge in body.contacts:
        if edge.contact.touching and edge.other.userData == "ground":
            return True
    return False


def _joint_indices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """State positions of (angle, omega) of each joint's bodies B and A, and the offsets."""
    def at(body: str, field: str) -> int:
        return ph.BODY_NAMES.index(body) * len(BODY_FIELDS) + BODY_FIELDS.index(field)

    from_b = [at(j.body_b, f) for j in ph.JOINTS for f in ("angle", "omega")]
    from_a = [at(j.body_a, f) for j in ph.JOINTS for f in ("angle", "omega")]
    offsets = [v for j in ph.JOINTS for v in (j.reference, 0.0)]
    return np.array(from_b), np.array(from_a), np.array(offsets)


_JOINT_FROM_B, _JOINT_FROM_A, _JOINT_OFFSETS = _joint_indices()


class Engine:
    """One QWOP game: a Box2D world, the runner, the track and the rules of a run."""

    def __init__(self, seed: int | None = None) -> None:
        self.world: Box2D.b2World | None = None
        self.reset(seed)

    # ------------------------------------------------------------------ building the world
    def reset(self, seed: int | None = None) -> None:
        """Start a new run at the spawn pose. `seed` has no effect on the physics (see module doc)."""
        self.seed = seed
        world = Box2D.b2World(gravity=ph.GRAVITY, doSleep=True)
        world.warmStarting = True
        world.continuousPhysics = False
        self.world = world
        self._build_track(world)
        self.bodies = self._build_runner(world)
        self._body_list = [self.bodies[name] for name in ph.BODY_NAMES]
        self.joints = self._build_joints(world)
        self._key_joints = [self.joints[name] for name in ph.KEY_JOINTS]
        self._head = self.bodies["head"]
        self._torso = self.bodies["torso"]
        self._feet = [self.bodies[name] for name in ph.FEET]
        self._fall_parts = [(self.bodies[name], _HALF_DIAGONAL[name]) for name in ph.FALL_PARTS]
        # What `_judge` watches: each fall part's centre y (it can only touch the ground once
        # lower than its limit), then the torso's x (a finish is only possible near the line).
        limits = [ph.GROUND_TOP_Y - _NEAR - reach for _, reach in self._fall_parts]
        limits.append(ph.FINISH_X - _FINISH_WATCH)
        self._view = make_body_view(world, self._body_list)
        where = [-1] * len(limits)  # where each watched value lives in the view's memory
        if self._view is not None:
            y, x = FIELDS.index(Y), FIELDS.index(X)
            where = [self._view.locate(ph.BODY_NAMES.index(b.userData), y) for b, _ in self._fall_parts]
            where.append(self._view.locate(ph.BODY_NAMES.index("torso"), x))
            self._head_angle_at = self._view.locate(ph.BODY_NAMES.index("head"), FIELDS.index(ANGLE))
        self._watch = list(zip(where, limits))
        self.updates = 0
        self.keys = 0
        # The key mask whose motor speeds and hip limits are set: a new world's motors hold speed
        # 0 with the spawn limits, exactly what no keys would set.
        self._keys_applied = 0
        self.status = RUNNING

    def _build_track(self, world: Box2D.b2World) -> None:
        # One static body holds every ground box and the start block: static boxes do not move,
        # so this collides exactly like separate bodies and builds much faster at each reset.
        ground = world.CreateStaticBody(userData="ground")
        for fixture in _GROUND_FIXTURES:
            ground.CreateFixture(fixture)

        w, h, x, y = ph.HURDLE_BASE
        base = world.CreateDynamicBody(position=(x, y), awake=False, userData="hurdleBase")
        base.CreatePolygonFixture(box=(w / 2, h / 2), density=1.0, friction=0.2,
                                  categoryBits=ph.HURDLE_BASE_CATEGORY,
                                  maskBits=ph.HURDLE_BASE_MASK)
        w, h, x, y = ph.HURDLE_BAR
        bar = world.CreateDynamicBody(position=(x, y), awake=False, userData="hurdleBar")
        bar.CreatePolygonFixture(box=(w / 2, h / 2), density=1.0, friction=0.2)
        world.CreateRevoluteJoint(bodyA=base, bodyB=bar, anchor=(ph.HURDLE_BASE[2], ph.HURDLE_BASE[3]),
                                  enableLimit=True, lowerAngle=0.0, upperAngle=0.0)
        self.hurdle = (base, bar)

    def _build_runner(self, world: Box2D.b2World) -> dict[str, Box2D.b2Body]:
        bodies = {}
        for name, body_def, fixture_def in _RUNNER_DEFS:
            bodies[name] = body = world.CreateBody(body_def)
            body.CreateFixture(fixture_def)
        return bodies

    def _build_joints(self, world: Box2D.b2World) -> dict[str, Box2D.b2RevoluteJoint]:
        joints = {}
        for spec, joint_def in zip(ph.JOINTS, _joint_defs()):
            joint_def.bodyA = self.bodies[spec.body_a]
            joint_def.bodyB = self.bodies[spec.body_b]
            joints[spec.name] = world.CreateJoint(joint_def)
        return joints

    def set_state(self, state: np.ndarray, *, knee_keys: int | None = None) -> None:
        """Put the runner in a raw state (layout.STATE_FIELDS): a fresh world, then every body
        placed with its position, angle and velocities; the update count from the HUD time, the
        keys held and the fallen flag from the state's tail.

        The hip limits depend on the last knee key pressed (O and P switch them, releasing both
        keeps them), which a state does not hold: `knee_keys` gives it (O, P, or 0 for the spawn
        limits); by default the state's own held keys say it when they hold O or P, else 0.
        What a state cannot carry either: Box2D's contact caches (warm starting) start empty,
        so a placed runner does not continue bit-identically from where a played one would
        (docs/game.md). Joint angles and speeds in the state are not read: they follow from the
        bodies.
        """
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (STATE_SIZE,) or not np.isfinite(state).all():
            raise ValueError(f"state: expected {STATE_SIZE} finite values, got shape {state.shape}")
        self.reset(self.seed)
        for body, (x, y, angle, vx, vy, omega) in zip(self._body_list, state[:BODY_BLOCK].reshape(-1, 6)):
            body.transform = ((x, y), angle)
            body.linearVelocity = (vx, vy)
            body.angularVelocity = omega
        self.updates = int(round(state[-4] * ph.UPDATES_PER_SECOND))
        keys = int(state[-3]) & 0xF
        if knee_keys is None:
            knee_keys = ph.dominant_keys(keys)[1]
        knee = ph.dominant_keys(int(knee_keys))[1]
        if knee:  # switches the hip limits (and the knee motors, which `keys` then sets)
            self._apply_keys(knee)
        self._apply_keys(keys)
        self.keys = keys
        if state[-2]:
            self.status = FELL
            for joint in self._key_joints:
                joint.motorEnabled = False
                joint.limitEnabled = False

    # ------------------------------------------------------------------ one update
    def update(self, keys: int) -> str:
        """Advance one game update with `keys` (Q=1 W=2 O=4 P=8) held. Returns the run status."""
        return self.advance(keys, 1)

    def advance(self, keys: int, updates: int, limit: int | None = None) -> str:
        """Hold `keys` for up to `updates` game updates, stopping early when the run ends or the
        update count reaches `limit`. Returns the run status. (One call for a whole decision
        keeps the per-update Python work small: this loop is the hot path of training.)"""
        keys = int(keys) & 0xF
        self.keys = keys
        assert self.world is not None  # made by reset(), which __init__ calls
        step = self.world.Step
        head = self._head
        view = self._view
        for _ in range(updates):
            status = self.status
            if status != FELL:
                angle = view.scalars[self._head_angle_at] if view is not None else head.angle
                head.ApplyTorque(ph.HEAD_TORQUE_GAIN * (angle + ph.HEAD_TORQUE_OFFSET), True)
                if keys != self._keys_applied:
                    self._apply_keys(keys)
            step(ph.TIME_STEP, ph.VELOCITY_ITERATIONS, ph.POSITION_ITERATIONS)
            self.updates += 1
            if status == RUNNING:
                self._judge()
                if self.status != RUNNING:
                    break
            if limit is not None and self.updates >= limit:
                break
        return self.status

    def _apply_keys(self, keys: int) -> None:
        # Setting a speed that is already set changes nothing (the runner never sleeps), so only
        # the keys that act differently from the last ones touch Box2D: an update stays cheap.
        thigh, knee = ph.dominant_keys(keys)
        old_thigh, old_knee = ph.dominant_keys(self._keys_applied)
        self._keys_applied = keys
        j = self.joints
        if thigh != old_thigh:
            speeds = ph.THIGH_SPEEDS.get(thigh)
            for name in ("rightHip", "leftHip", "rightShoulder", "leftShoulder"):
                j[name].motorSpeed = speeds[name] if speeds else 0.0
        if knee != old_knee:
            speeds = ph.KNEE_SPEEDS.get(knee)
            for name in ("rightKnee", "leftKnee"):
                j[name].motorSpeed = speeds[name] if speeds else 0.0
            for name, (lo, hi) in ph.HIP_LIMITS.get(knee, {}).items():
                j[name].SetLimits(lo, hi)

    def _judge(self) -> None:
        # A Python contact listener would cost more than the whole step (SWIG calls back into
        # Python for every contact, every step), so contacts are read after the step instead.
        # Box2D updates `touching` once per step, before solving, exactly when a listener's
        # BeginContact would fire, so this sees the same touches. Contacts are only read for
        # parts low enough to touch (or when the torso is near the finish line), which is rare.
        if self._view is not None:
            values = self._view.scalars
            for at, limit in self._watch:  # the common case: nothing is near, a plain loop is cheapest
                if values[at] > limit:
                    break
            else:
                return
            flags = [values[at] > limit for at, limit in self._watch]
        else:
            flags = [b.position.y > limit for (b, _), (_, limit) in zip(self._fall_parts, self._watch)]
            flags.append(self._torso.position.x > self._watch[-1][1])
            if not any(flags):
                return
        for (body, _), low in zip(self._fall_parts, flags):
            if low and _touches_ground(body):
                self.status = FELL
                for joint in self._key_joints:  # the ragdoll goes limp
                    joint.motorEnabled = False
                    joint.limitEnabled = False
                return
        if flags[-1]:
            for foot in self._feet:
                if foot.position.x > ph.FINISH_X and _touches_ground(foot):
                    self.status = FINISHED
                    return

    # ------------------------------------------------------------------ reading the game
    @property
    def distance(self) -> float:
        """Distance in metres: the torso centre's x / 10."""
        return self._torso.position[0] / ph.UNITS_PER_METRE

    @property
    def hud_time(self) -> float:
        return self.updates / ph.UPDATES_PER_SECOND

    def state(self) -> np.ndarray:
        """The raw state vector (layout.STATE_FIELDS)."""
        out = np.empty(STATE_SIZE)
        if self._view is not None:
            self._view.read_into(out[:BODY_BLOCK])
        else:
            out[:BODY_BLOCK].reshape(-1, 6)[:] = [
                (b.position.x, b.position.y, b.angle, b.linearVelocity.x, b.linearVelocity.y,
                 b.angularVelocity) for b in self._body_list]
        # Box2D's joint angle and speed, from the two bodies as Box2D computes them:
        # angle(B) - angle(A) - reference, omega(B) - omega(A).
        joints = out[BODY_BLOCK:-5]
        np.subtract(out[_JOINT_FROM_B], out[_JOINT_FROM_A], out=joints)
        joints -= _JOINT_OFFSETS
        out[-5:] = (out[0] / ph.UNITS_PER_METRE, self.hud_time, self.keys,
                    self.status == FELL, self.status == FINISHED)
        return out

    def poses(self) -> list[tuple[float, float, float]]:
        """(x, y, angle) of every body in physics.BODY_NAMES order, for drawing."""
        return [(b.position[0], b.position[1], b.angle) for b in self._body_list]

    def hurdle_poses(self) -> list[tuple[float, float, float]]:
        return [(b.position[0], b.position[1], b.angle) for b in self.hurdle]


def run_keys(keys, seed: int | None = None) -> np.ndarray:
    """Replay a per-update key sequence from the spawn; returns the (N+1, S) state sequence."""
    engine = Engine(seed)
    states = [engine.state()]
    for k in keys:
        engine.update(int(k))
        states.append(engine.state())
    return np.array(states)


__all__ = ["Engine", "run_keys", "RUNNING", "FELL", "FINISHED"]
