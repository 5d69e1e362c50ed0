"""openqwop: the bundled QWOP re-creation (the compiled physics core, rules, real-time host, web page).

    from qwopkit.adapter.openqwop import Engine, run_keys, Q, W, O, P

The names are imported on first use: importing a light module of the package (physics.py's
constants, layout.py, page.py) does not load the physics core or the host.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"Engine": "engine", "run_keys": "engine", "RUNNING": "engine", "FELL": "engine",
            "FINISHED": "engine", "Q": "physics", "W": "physics", "O": "physics", "P": "physics"}
__all__ = ["Engine", "run_keys", "RUNNING", "FELL", "FINISHED", "Q", "W", "O", "P"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
