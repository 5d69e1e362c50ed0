"""qwopkit.imitation: behaviour cloning of recorded runs into the ACER policy network.

    from qwopkit.imitation import load_demos, train_bc, bc_classifier_factory

`qwop-pretrain` is the command (cli.py); docs/imitation.md describes both. The names below are
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
