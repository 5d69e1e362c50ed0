"""qwopkit.imitation: behaviour cloning of recorded runs into the ACER policy network. Floor: algorithms.

    from qwopkit.imitation import load_demos, train_bc, bc_classifier_factory
    from qwopkit.imitation.pretrain import pretrain      # what qwop-pretrain does, as a function

It may import the library and qwopkit.rl (the ACER policy it clones into); nothing of the
applications. `qwop-pretrain` is the command (qwopkit/training/pretrain_cli.py); docs/imitation.md
describes both. The names below are
imported on first use, so that importing a submodule (the command's --help, BCConfig) does not
import torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BCClassifier", "BCConfig", "BCResult", "Demos", "bc_classifier_factory", "load_demos", "train_bc"]


def __getattr__(name: str) -> Any:
    if name == "BCConfig":
        from qwopkit.imitation.config import BCConfig

        return BCConfig
    if name in __all__:
        from qwopkit.imitation import bc

        return getattr(bc, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
