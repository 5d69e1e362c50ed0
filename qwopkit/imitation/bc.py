"""Behaviour cloning: fit the ACER policy's `pi` head to recorded decisions.

    data = load_demos("data/*.h5")                       # kept episodes, split by episode
    result = train_bc(data.train_obs, data.train_actions, data.valid_obs, data.valid_actions)
    result.policy                                         # an ACERPolicy (rl/acer/policies.py)

The loss is the cross-entropy of the recorded actions under pi minus `ent_coef` times pi's
entropy (the bonus keeps the clone from becoming certain where the data is ambiguous). Adam on
minibatches; after every epoch the validation cross-entropy is measured and training stops
when it has not improved for `patience` epochs; the weights of the best epoch are kept. The
network's input standardisation is set from the training observations first. The Q head is
not trained here (the fine-tuner learns it).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from torch.nn import functional as F  # noqa: N812 (torch's convention)
from tqdm import tqdm

from qwopkit.dataset import read_splits, to_transitions
from qwopkit.dataset.splits import common_folder
from qwopkit.errors import ParameterError
from qwopkit.imitation.config import BCConfig
from qwopkit.rl.acer.policies import SEED_NET_ARCH, ACERPolicy
from qwopkit.spaces import N_ACTIONS


@dataclass
class BCResult:
    """A trained policy and how training went (one dict per epoch in `history`)."""

    policy: ACERPolicy
    history: list[dict[str, float]]
    best_epoch: int
    stopped_early: bool


def make_policy(obs_dim: int, net_arch: Sequence[int] = SEED_NET_ARCH) -> ACERPolicy:
    """A fresh ACERPolicy for `obs_dim`-dimensional observations and the 11 actions."""
    obs_space = spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
    return ACERPolicy(obs_space, spaces.Discrete(N_ACTIONS), ACERPolicy._dummy_schedule,
                      net_arch=list(net_arch))


def _loss(policy: ACERPolicy, obs: th.Tensor, actions: th.Tensor, ent_coef: float,
          weights: th.Tensor | None = None) -> tuple[th.Tensor, th.Tensor]:
    """(loss to minimise, unweighted cross-entropy) on one batch."""
    logits = policy.pi(policy.latent(obs))
    ce_each = F.cross_entropy(logits, actions, reduction="none")
    ce = ce_each.mean()
    fit = ce if weights is None else (ce_each * weights).mean()
    entropy = -(F.softmax(logits, -1) * F.log_softmax(logits, -1)).sum(-1).mean()
    return fit - ent_coef * entropy, ce


def class_weights(actions: np.ndarray, power: float, n: int = N_ACTIONS) -> np.ndarray:
    """(n,) loss weight of each action: count^-power, scaled so the decisions' mean weight is 1
    (actions never recorded get weight 0: they have no decisions to weigh)."""
    counts = np.bincount(np.asarray(actions, dtype=np.int64), minlength=n).astype(np.float64)
    weights = np.where(counts > 0, np.maximum(counts, 1.0) ** -power, 0.0)
    mean = (weights * counts).sum() / max(counts.sum(), 1.0)
    return weights / mean if mean > 0 else weights


@th.no_grad()
def predict_logits(policy: ACERPolicy, obs: np.ndarray, batch: int = 8192) -> np.ndarray:
    """pi's logits for many observations, in batches."""
    policy.set_training_mode(False)
    out = [policy.pi(policy.latent(th.as_tensor(obs[i:i + batch], dtype=th.float32)))
           for i in range(0, len(obs), batch)]
    return th.cat(out).numpy() if out else np.zeros((0, N_ACTIONS), np.float32)


def cross_entropy(policy: ACERPolicy, obs: np.ndarray, actions: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the policy on recorded decisions."""
    logits = th.as_tensor(predict_logits(policy, obs))
    y = th.as_tensor(actions, dtype=th.long)
    return float(F.cross_entropy(logits, y)), float((logits.argmax(-1) == y).float().mean())


def train_bc(train_obs: np.ndarray, train_actions: np.ndarray, valid_obs: np.ndarray | None = None,
             valid_actions: np.ndarray | None = None, config: BCConfig | None = None,
             progress: bool = False) -> BCResult:
    """Clone (obs, action) pairs into a new ACERPolicy; early stopping needs a validation set.

    Without one, training runs `max_epochs` and keeps the last weights.
    """
    config = config or BCConfig()
    if len(train_actions) == 0:
        raise ParameterError("train_actions", "no decisions to learn from")
    for name, obs, actions in (("train", train_obs, train_actions), ("valid", valid_obs, valid_actions)):
        problem = _data_problem(obs, actions)
        if problem:
            raise ParameterError(f"{name}_obs", problem)
    threads = th.get_num_threads()
    th.set_num_threads(config.threads)
    try:
        return _train(train_obs, train_actions, valid_obs, valid_actions, config, progress)
    finally:
        th.set_num_threads(threads)


def _data_problem(obs: np.ndarray | None, actions: np.ndarray | None) -> str | None:
    """Nothing non-finite or outside the action set may reach the network."""
    if obs is None or actions is None:
        return None
    obs, actions = np.asarray(obs), np.asarray(actions)
    if obs.ndim != 2 or len(obs) != len(actions):
        return f"observations of shape {obs.shape} for {len(actions)} actions"
    if obs.size and not np.isfinite(obs).all():
        return "non-finite observations"
    if actions.size and (actions.min() < 0 or actions.max() >= N_ACTIONS):
        return f"actions outside the action set (0-{N_ACTIONS - 1})"
    return None


def _train(train_obs: np.ndarray, train_actions: np.ndarray, valid_obs: np.ndarray | None,
           valid_actions: np.ndarray | None, config: BCConfig, progress: bool) -> BCResult:
    th.manual_seed(config.seed)
    policy = make_policy(train_obs.shape[1], config.net_arch or SEED_NET_ARCH)
    policy.set_normalization(train_obs.mean(0), train_obs.std(0))
    optimizer = th.optim.Adam(policy.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    obs = th.as_tensor(train_obs, dtype=th.float32)
    actions = th.as_tensor(train_actions, dtype=th.long)
    weight_of = (th.as_tensor(class_weights(train_actions, config.class_balance), dtype=th.float32)
                 if config.class_balance else None)
    # Noise in standard deviations of each feature, so it is in the units the trunk sees.
    noise_scale = config.obs_noise * policy.obs_scale if config.obs_noise else None
    has_valid = valid_obs is not None and valid_actions is not None and len(valid_actions) > 0
    generator = th.Generator().manual_seed(config.seed)

    history: list[dict[str, float]] = []
    best = (np.inf, 0, copy.deepcopy(policy.state_dict()))
    bar = tqdm(range(1, config.max_epochs + 1), desc="behaviour cloning", unit="epoch",
               disable=None if progress else True, leave=False)
    stopped_early = False
    for epoch in bar:
        policy.set_training_mode(True)
        order = th.randperm(len(actions), generator=generator)
        total, n = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            idx = order[start:start + config.batch_size]
            batch = obs[idx]
            if noise_scale is not None:
                batch = batch + th.randn(batch.shape, generator=generator) * noise_scale
            loss, ce = _loss(policy, batch, actions[idx], config.ent_coef,
                             None if weight_of is None else weight_of[actions[idx]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += ce.item() * len(idx)
            n += len(idx)
        row = {"epoch": epoch, "train_loss": total / n}
        if not np.isfinite(row["train_loss"]):
            # A diverged network must not be returned (and then saved) as if it were a policy.
            raise ParameterError("lr", f"training diverged (loss {row['train_loss']} at epoch {epoch}); "
                                 "try a lower learning rate")
        if has_valid and valid_obs is not None and valid_actions is not None:
            row["valid_loss"], row["valid_accuracy"] = cross_entropy(policy, valid_obs, valid_actions)
            if row["valid_loss"] < best[0]:
                best = (row["valid_loss"], epoch, copy.deepcopy(policy.state_dict()))
            bar.set_postfix(valid_loss=f"{row['valid_loss']:.3f}", valid_acc=f"{row['valid_accuracy']:.3f}")
        history.append(row)
        if has_valid and epoch - best[1] >= config.patience:
            stopped_early = True
            break
    bar.close()
    if has_valid:
        policy.load_state_dict(best[2])
    policy.set_training_mode(False)
    return BCResult(policy, history, best[1] if has_valid else len(history), stopped_early)


# ----------------------------------------------------------------------------- demonstrations
@dataclass
class Demos:
    """Kept decisions split by episode into train and valid parts."""

    train_obs: np.ndarray
    train_actions: np.ndarray
    valid_obs: np.ndarray
    valid_actions: np.ndarray
    train_episodes: list[str] = field(default_factory=list)
    valid_episodes: list[str] = field(default_factory=list)
    split: dict[str, Any] = field(default_factory=dict)  # how the split was made
    # Per decision, its episode's index into train_episodes / valid_episodes.
    train_groups: np.ndarray | None = None
    valid_groups: np.ndarray | None = None
    # How the decisions were shaped after loading (imitation/recovery.py: shape_demos); the
    # recorded training decisions come first in train_obs, `train_recorded` of them.
    shaping: dict[str, Any] = field(default_factory=dict)
    train_recorded: int | None = None


def _n_valid(n: int, fraction: float) -> int:
    """Episodes for validation: the rounded fraction, at least one and leaving one for training."""
    return min(max(int(round(fraction * n)), 1), n - 1)


def load_demos(specs: str | Path | Sequence[str | Path], *, split: str | None = None,
               valid_fraction: float = 0.2, seed: int = 0) -> Demos:
    """Load the kept episodes' decisions and split them by episode.

    :param split: a named split of the episodes' splits.json (`qwop-data split`); without one a
        seeded split by episode is made in memory (nothing is written into the data folder).
    """
    if split is not None:
        train = to_transitions(specs, split=split, part="train", raw=True)
        valid = to_transitions(specs, split=split, part="valid", raw=True)
        if len(train) == 0:
            raise ParameterError("split", f"{split!r}: no kept decisions in its train part")
        if len(valid) == 0:
            raise ParameterError("split", f"{split!r}: no kept decisions in its valid part")
        folder = common_folder(train.paths + valid.paths)
        how = {"name": split, **{k: v for k, v in read_splits(folder).get(split, {}).items()
                                 if k in ("by", "seed", "valid_fraction")}}
        return Demos(train.observations, train.actions, valid.observations, valid.actions,
                     [str(p) for p in train.paths], [str(p) for p in valid.paths], how,
                     train.episode.astype(np.int64), valid.episode.astype(np.int64))

    if not 0 < valid_fraction < 1:
        raise ParameterError("valid_fraction", f"must be in (0, 1), got {valid_fraction}")
    data = to_transitions(specs, raw=True)  # raw: the learners' one rule for damaged demos
    n = len(data.paths)
    if n < 2:
        raise ParameterError("specs", f"needs at least 2 kept episodes with decisions (train and valid "
                             f"by episode), found {n}")
    order = sorted(range(n), key=lambda i: str(data.paths[i]))
    perm = np.random.default_rng(seed).permutation(n)
    valid_ids = sorted(order[i] for i in perm[:_n_valid(n, valid_fraction)])
    in_valid = np.isin(data.episode, valid_ids)
    train_ids = [i for i in range(n) if i not in valid_ids]
    renumber = np.full(n, -1, np.int64)
    renumber[train_ids] = np.arange(len(train_ids))
    renumber[valid_ids] = np.arange(len(valid_ids))
    groups = renumber[data.episode]
    return Demos(
        data.observations[~in_valid], data.actions[~in_valid],
        data.observations[in_valid], data.actions[in_valid],
        [str(data.paths[i]) for i in train_ids],
        [str(data.paths[i]) for i in valid_ids],
        {"name": None, "by": "episode", "seed": seed, "valid_fraction": valid_fraction},
        groups[~in_valid], groups[in_valid],
    )


def confusion(actions: np.ndarray, predicted: np.ndarray, n: int = N_ACTIONS) -> np.ndarray:
    """(n, n) counts: row = recorded action, column = predicted action."""
    return np.bincount(np.asarray(actions) * n + np.asarray(predicted), minlength=n * n).reshape(n, n)


def config_dict(config: BCConfig) -> dict[str, Any]:
    out = asdict(config)
    out["net_arch"] = list(config.net_arch or SEED_NET_ARCH)
    return out


# ----------------------------------------------------------------------------- mu (bc-crossfit)
@dataclass
class BCClassifier:
    """A cloned policy as a classifier with `predict_proba`, for `qwopkit.dataset.crossfit_mu`."""

    policy: ACERPolicy

    def predict_proba(self, obs: np.ndarray) -> np.ndarray:
        logits = predict_logits(self.policy, np.asarray(obs, dtype=np.float32))
        return th.softmax(th.as_tensor(logits, dtype=th.float64), -1).numpy()


def bc_classifier_factory(config: BCConfig | None = None, holdout: float = 0.1):
    """A `factory(obs, actions) -> BCClassifier` for `crossfit_mu` / `estimate_mu`.

    Each call trains a fresh clone on the decisions it is given. The factory is not told where
    episodes begin, so early stopping uses a seeded random `holdout` fraction of the decisions.
    """
    config = config or BCConfig()

    def factory(obs: np.ndarray, actions: np.ndarray) -> BCClassifier:
        obs = np.asarray(obs, dtype=np.float32)
        actions = np.asarray(actions, dtype=np.int64)
        rng = np.random.default_rng(config.seed)
        held = rng.random(len(actions)) < holdout if len(actions) >= 20 else np.zeros(len(actions), bool)
        result = train_bc(obs[~held], actions[~held], obs[held], actions[held], config)
        return BCClassifier(result.policy)

    factory.__name__ = "bc-mlp"
    return factory
