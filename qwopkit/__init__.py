"""qwopkit: learn to run QWOP from human demonstrations.

`import qwopkit` registers the Gymnasium environments `qwopkit/QWOP-v0` (the bundled game) and
`qwopkit/QWOP-original-v0` (the user's copy of the original) with Gymnasium's registry: at once
if Gymnasium is loaded already, otherwise the moment it is first imported. So
`import qwopkit; import gymnasium as gym; gym.make("qwopkit/QWOP-v0")` works in either order,
while `import qwopkit.dataset` (and the app) never pay for loading Gymnasium.

The package is a house of three floors (docs/decisions.md): the library (adapter: the games and
their environments; dataset; the shared leaves errors, console, atomic, spaces, version), the
algorithms (rl, imitation), and the applications (training, recorder, app, commands, bench).
Each imports only from its own floor's part and the floors below; import-linter enforces it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from qwopkit.version import __version__

__all__ = ["__version__", "register_environments"]


def register_environments() -> None:
    """Register qwopkit's environments with Gymnasium (again: a no-op)."""
    from gymnasium.envs.registration import register, registry

    if "qwopkit/QWOP-v0" not in registry:
        register(id="qwopkit/QWOP-v0", entry_point="qwopkit.adapter.env:QWOPEnv",
                 vector_entry_point="qwopkit.adapter.vector_env:QWOPVectorEnv")
    # The original game, from the user's own copy: gym.make("qwopkit/QWOP-original-v0", qwop=PATH).
    if "qwopkit/QWOP-original-v0" not in registry:
        register(id="qwopkit/QWOP-original-v0", entry_point="qwopkit.adapter.original.env:OriginalQWOPEnv")


class _RegisterWhenGymnasiumLoads(importlib.abc.MetaPathFinder):
    """Finds `gymnasium` as the other finders do, and registers qwopkit's environments right after
    Gymnasium's own module has run (Gymnasium 1.x has no plugin entry points to do it for us)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)  # once; and the lookup below must not find this finder again
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _ThenRegister(spec.loader)
        return spec


class _ThenRegister(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps Gymnasium's own loader (its resources are found through it).
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        register_environments()


if "gymnasium" in sys.modules:
    register_environments()
elif not any(isinstance(f, _RegisterWhenGymnasiumLoads) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterWhenGymnasiumLoads())
