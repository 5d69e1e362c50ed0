"""openqwop: the bundled QWOP re-creation (Box2D engine, rules, real-time host, web page)."""

from .engine import FELL, FINISHED, RUNNING, Engine, run_keys
from .physics import O, P, Q, W

__all__ = ["Engine", "run_keys", "RUNNING", "FELL", "FINISHED", "Q", "W", "O", "P"]
