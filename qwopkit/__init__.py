"""qwopkit: learn to run QWOP from human demonstrations.

Importing the package registers the Gymnasium environments `qwopkit/QWOP-v0` (the bundled game)
and `qwopkit/QWOP-original-v0` (the user's copy of the original);
nothing heavy is imported until the environment is made.
"""

from gymnasium.envs.registration import register, registry

from .version import __version__

__all__ = ["__version__"]

if "qwopkit/QWOP-v0" not in registry:
    register(id="qwopkit/QWOP-v0", entry_point="qwopkit.adapter.env:QWOPEnv",
             vector_entry_point="qwopkit.adapter.vector_env:QWOPVectorEnv")
# The original game, from the user's own copy: gym.make("qwopkit/QWOP-original-v0", qwop=PATH).
if "qwopkit/QWOP-original-v0" not in registry:
    register(id="qwopkit/QWOP-original-v0", entry_point="qwopkit.adapter.original.env:OriginalQWOPEnv")
