"""QWOP's physics as data: bodies, joints, track and key effects.

Every number here is one of the published facts of the HTML5 QWOP (docs/original-game.md
writes them out). Units are Box2D units (1 unit = 20 px, 10 units = 1 displayed metre); +y points down.
The physics core (csrc/physics.c) builds the world from the same facts at full precision (and
from what they leave out: both anchors of every joint, the order of creation); the tables here
name the parts for the state layout, the features, the page and the tests, which check that the
two agree (tests/test_engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass

GRAVITY = (0.0, 10.0)
TIME_STEP = 0.04
VELOCITY_ITERATIONS = 5
POSITION_ITERATIONS = 5
UPDATES_PER_SECOND = 30  # the original's fixed real-time loop; HUD time = updates / 30
# Default time limit of a run (HUD seconds) for the env, recorder, evaluation and learners. The
# original has none; the seed stopped runs at 120 s, but on the original's physics the bundled
# open-loop bots need 148-155 s for 100 m, so the toolkit's runs may last 3 minutes.
TIME_LIMIT = 180.0
UNITS_PER_METRE = 10.0
FINISH_X = 1000.0  # a foot touching the ground past this ends the run as a finish (100 m)
SAND_PIT_X = 989.0  # past this the original shows the jump into the sand pit (cosmetic only)
# Printed beside distances of finished runs, which read just under 100 m.
DISTANCE_NOTE = "distance is the torso's; a run finishes when a foot lands past 100 m"

# Collision filtering: runner parts never collide with each other.
RUNNER_CATEGORY = 0x0002
RUNNER_MASK = 0xFFFD
GROUND_CATEGORY = 0x0001


@dataclass(frozen=True)
class BodySpec:
    name: str
    width: float
    height: float
    x: float
    y: float
    angle: float
    density: float = 1.0
    friction: float = 0.2


@dataclass(frozen=True)
class JointSpec:
    name: str
    body_a: str  # the distal part
    body_b: str
    anchor: tuple[float, float]  # world anchor at spawn
    lower: float
    upper: float
    motor: bool
    max_torque: float
    reference: float


# In the reference table's order (this is also the order of bodies in the raw state vector).
BODIES: tuple[BodySpec, ...] = (
    BodySpec("torso", 6.55, 2.85, 2.5111726, -1.8709518, -1.2514497),
    BodySpec("head", 2.15, 2.65, 3.8881303, -5.6218029, 0.0644842),
    BodySpec("leftArm", 3.70, 1.25, 4.4178610, -2.8065636, 0.9040096),
    BodySpec("leftForearm", 3.50, 1.10, 5.8300086, -2.8733540, -1.2049773),
    BodySpec("leftThigh", 5.05, 2.00, 2.5648988, 1.6480907, -2.0177234),
    BodySpec("leftCalf", 5.00, 1.50, 3.1258573, 5.5255117, -1.5903972),
    BodySpec("leftFoot", 2.70, 1.35, 3.9269218, 8.0888403, 0.1202752, density=3.0, friction=1.5),
    BodySpec("rightArm", 3.90, 1.50, 1.1812304, -3.5000257, -0.5222217),
    BodySpec("rightForearm", 4.45, 1.35, 0.4078206, -1.0599953, -1.7553358),
    BodySpec("rightThigh", 5.30, 2.00, 1.6120186, 2.0615321, 1.4849423),
    BodySpec("rightCalf", 5.00, 1.50, -0.0725391, 5.3478819, -0.7588860),
    BodySpec("rightFoot", 2.70, 1.45, -1.1254743, 7.5671932, 0.5897605, density=3.0, friction=1.5),
)
BODY_NAMES: tuple[str, ...] = tuple(b.name for b in BODIES)

# The original creates bodies in this order; Box2D's solver results depend on it.
CREATION_ORDER: tuple[str, ...] = (
    "torso", "head", "leftForearm", "leftThigh", "leftArm", "leftCalf", "leftFoot",
    "rightForearm", "rightArm", "rightCalf", "rightFoot", "rightThigh",
)

JOINTS: tuple[JointSpec, ...] = (
    JointSpec("neck", "head", "torso", (3.5885, -4.5262), -0.5, 0.0, False, 0.0, -1.308996406363529),
    JointSpec("rightShoulder", "rightArm", "torso", (2.2285, -4.0865), -0.5, 1.5, True, 1000.0,
              -0.7853907065463961),
    JointSpec("leftShoulder", "leftArm", "torso", (3.6242, -3.5335), -2.0, 0.0, True, 1000.0,
              -2.09438311816829),
    JointSpec("leftHip", "leftThigh", "torso", (2.0030, 0.2374), -1.5, 0.5, True, 6000.0, 0.7258477508944043),
    JointSpec("rightHip", "rightThigh", "torso", (1.2476, -0.0110), -1.3, 0.7, True, 6000.0,
              -2.719359381718199),
    JointSpec("leftElbow", "leftForearm", "leftArm", (5.5254, -1.6386), -0.1, 0.5, False, 0.0,
              2.09438311816829),
    JointSpec("rightElbow", "rightForearm", "rightArm", (-0.0061, -2.8005), -0.1, 0.5, False, 0.0,
              1.2968199012274688),
    JointSpec("leftKnee", "leftCalf", "leftThigh", (3.3843, 3.5169), -1.6, 0.0, True, 3000.0,
              -0.3953113764119829),
    JointSpec("rightKnee", "rightCalf", "rightThigh", (1.4982, 4.1756), -1.3, 0.3, True, 3000.0,
              2.2893406247158676),
    JointSpec("leftAnkle", "leftFoot", "leftCalf", (3.3123, 7.9477), -0.5, 0.5, False, 0.0,
              -1.7244327585010226),
    JointSpec("rightAnkle", "rightFoot", "rightCalf", (-1.6563, 6.9615), -0.5, 0.5, False, 0.0,
              -1.5708045825942758),
)
JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in JOINTS)

# Parts whose touching the ground is a fall; feet touching past FINISH_X is a finish.
FALL_PARTS = frozenset({"head", "leftArm", "rightArm", "leftForearm", "rightForearm"})
FEET = frozenset({"leftFoot", "rightFoot"})

# The head's only spring: torque = HEAD_TORQUE_GAIN * (head.angle + HEAD_TORQUE_OFFSET).
HEAD_TORQUE_GAIN = -4.0
HEAD_TORQUE_OFFSET = 0.2

# Keys as a 4-bit mask.
Q, W, O, P = 1, 2, 4, 8  # noqa: E741 (the game's key names)

# Motor speeds per key; Q beats W and O beats P when both are held.
THIGH_SPEEDS = {  # joint -> speed, for Q and for W
    Q: {"rightHip": 2.5, "leftHip": -2.5, "rightShoulder": -2.0, "leftShoulder": 2.0},
    W: {"rightHip": -2.5, "leftHip": 2.5, "rightShoulder": 2.0, "leftShoulder": -2.0},
}
KNEE_SPEEDS = {
    O: {"rightKnee": 2.5, "leftKnee": -2.5},
    P: {"rightKnee": -2.5, "leftKnee": 2.5},
}
# O and P also switch the hip limits; releasing both does NOT restore them.
HIP_LIMITS = {
    O: {"leftHip": (-1.0, 1.0), "rightHip": (-1.3, 0.7)},
    P: {"leftHip": (-1.5, 0.5), "rightHip": (-0.8, 1.2)},
}
KEY_JOINTS = ("rightHip", "leftHip", "rightShoulder", "leftShoulder", "rightKnee", "leftKnee")


def dominant_keys(keys: int) -> tuple[int, int]:
    """The keys that act: (Q, W or 0) for the thighs and (O, P or 0) for the knees."""
    thigh = Q if keys & Q else (W if keys & W else 0)
    knee = O if keys & O else (P if keys & P else 0)
    return thigh, knee

# Track: a row of static ground boxes and a block behind the start.
GROUND_BOX = (32.0, 3.2)
GROUND_TOP_Y = 9.14275
GROUND_FRICTION = 0.2
GROUND_START_X = -80.0  # first box's left edge; the row reaches past the sand pit
GROUND_END_X = 1120.0
START_BLOCK = (12.55, 14.95, -39.996, 2.106)  # w, h, centre x, centre y

# Hurdle at 50 m: a base the runner passes through and a top bar that collides with it.
HURDLE_BASE = (3.35, 0.6, 500.0, 8.775)
HURDLE_BASE_CATEGORY = 0x0004
HURDLE_BASE_MASK = 0xFFF9
HURDLE_BAR = (1.075, 7.3, 500.865, 5.0575)
