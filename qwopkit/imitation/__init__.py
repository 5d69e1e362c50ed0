"""qwopkit.imitation: behaviour cloning of recorded runs into the ACER policy network.

    from qwopkit.imitation import load_demos, train_bc, bc_classifier_factory

`qwop-pretrain` is the command (cli.py); docs/imitation.md describes both.
"""

from .bc import BCClassifier, BCConfig, BCResult, Demos, bc_classifier_factory, load_demos, train_bc

__all__ = ["BCClassifier", "BCConfig", "BCResult", "Demos", "bc_classifier_factory", "load_demos", "train_bc"]
