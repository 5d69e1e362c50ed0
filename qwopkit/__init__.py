"""qwopkit: learn to run QWOP from human demonstrations.

Importing the package registers the Gymnasium environment `qwopkit/QWOP-v0` (the bundled game);
nothing heavy is imported until the environment is made.
"""

from gymnasium.envs.registration import register, registry

from .version import __version__

__all__ = ["__version__"]

if "qwopkit/QWOP-v0" not in registry:
    register(id="qwopkit/QWOP-v0", entry_point="qwopkit.adapter.env:QWOPEnv",
             vector_entry_point="qwopkit.adapter.vector_env:QWOPVectorEnv")
