"""The hyperparameters of behaviour cloning, apart from the trainer so that `qwop-pretrain --help`
and the dataset's command line can read the defaults without importing torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BCConfig:
    """Hyperparameters of behaviour cloning (docs/imitation.md says how they were chosen)."""

    lr: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 500
    patience: int = 40
    ent_coef: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    net_arch: tuple[int, ...] | None = None  # None: the seed's network (rl.policies.SEED_NET_ARCH)
    threads: int = 1  # torch threads while training: one is fastest for a net this small
    # Each recorded action's weight in the loss is (its count)^-class_balance, normalised to a
    # mean of 1 over the training decisions: 0 weighs every decision alike, 1 every action alike.
    class_balance: float = 0.0
    # Gaussian noise added to the standardised training inputs of every minibatch (in standard
    # deviations of each feature): the clone sees states a little off the recorded ones.
    obs_noise: float = 0.0
