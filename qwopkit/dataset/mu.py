"""Behaviour-policy estimates mu(a|s) for recorded decisions.

- `smoothed` (record time): the action taken gets 1 - eps, the other ten share eps equally.
- `bc-crossfit`: the episodes are split into k folds; each episode's mu is predicted by a
  behaviour-cloning classifier trained on the other folds only, so no estimate has seen the
  decisions it scores (a classifier scoring its own training data is overconfident, which
  makes importance weights pi/mu too small). Probabilities are floored at `floor` and
  renormalised so that no weight pi/mu explodes.

The classifier is pluggable: any callable `factory(obs, actions)` returning an object with
`predict_proba(obs) -> (n, 11)`. The default, `SoftmaxRegression`, is a seeded multinomial
logistic regression in numpy; the behaviour-cloning trainer of `qwopkit.imitation` can be
plugged in the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qwopkit.dataset.episodes import iter_episodes
from qwopkit.dataset.errors import DatasetParameterError, EpisodeError
from qwopkit.dataset.paths import PathSpec
from qwopkit.dataset.progress import track
from qwopkit.dataset.schema import N_ACTIONS
from qwopkit.dataset.values import mu_problem
from qwopkit.dataset.writer import rewrite_episode

DEFAULT_EPS = 0.1
DEFAULT_FOLDS = 5
DEFAULT_FLOOR = 1e-3


def smoothed_mu(actions: np.ndarray, eps: float = DEFAULT_EPS, n_actions: int = N_ACTIONS) -> np.ndarray:
    """(T, n_actions) float32: 1 - eps on the action taken, eps / (n_actions - 1) on each other."""
    if not 0.0 <= eps < 1.0:
        raise DatasetParameterError("eps", f"must be in [0, 1), got {eps}")
    actions = np.asarray(actions, dtype=np.int64)
    mu = np.full((len(actions), n_actions), eps / (n_actions - 1), dtype=np.float64)
    mu[np.arange(len(actions)), actions] = 1.0 - eps
    return mu.astype(np.float32)


class Classifier(Protocol):
    def predict_proba(self, obs: np.ndarray) -> np.ndarray: ...


ClassifierFactory = Callable[[np.ndarray, np.ndarray], Classifier]


@dataclass
class SoftmaxRegression:
    """Multinomial logistic regression on standardised features, trained by full-batch Adam.

    Small and deterministic (the seed sets the initial weights), fast enough for a few hundred
    thousand decisions on a CPU; L2 regularisation keeps rare actions from getting extreme logits.
    """

    n_classes: int = N_ACTIONS
    epochs: int = 300
    lr: float = 0.05
    l2: float = 1e-3
    seed: int = 0

    def fit(self, obs: np.ndarray, actions: np.ndarray) -> SoftmaxRegression:
        x = np.asarray(obs, dtype=np.float64)
        y = np.asarray(actions, dtype=np.int64)
        self.mean_ = x.mean(0)
        self.scale_ = x.std(0) + 1e-8  # constant columns (e.g. the torso's relative x) stay 0
        x = np.hstack([(x - self.mean_) / self.scale_, np.ones((len(x), 1))])
        rng = np.random.default_rng(self.seed)
        w = rng.normal(0.0, 0.01, (x.shape[1], self.n_classes))
        onehot = np.eye(self.n_classes)[y]
        m = np.zeros_like(w)
        v = np.zeros_like(w)
        for step in range(1, self.epochs + 1):
            p = _softmax(x @ w)
            grad = x.T @ (p - onehot) / len(x) + self.l2 * w
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad**2
            w -= self.lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        self.w_ = w
        return self

    def predict_proba(self, obs: np.ndarray) -> np.ndarray:
        x = (np.asarray(obs, dtype=np.float64) - self.mean_) / self.scale_
        return _softmax(np.hstack([x, np.ones((len(x), 1))]) @ self.w_)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def softmax_regression_factory(seed: int = 0, **params: Any) -> ClassifierFactory:
    """The default classifier factory: fits a SoftmaxRegression(seed=seed, **params)."""
    return lambda obs, actions: SoftmaxRegression(seed=seed, **params).fit(obs, actions)


def floor_and_normalise(p: np.ndarray, floor: float) -> np.ndarray:
    """Raise every probability to at least `floor`, then rescale rows to sum to 1."""
    p = np.maximum(np.asarray(p, dtype=np.float64), floor)
    return p / p.sum(1, keepdims=True)


def assign_folds(n_episodes: int, k: int, seed: int) -> np.ndarray:
    """A seeded fold number per episode, folds as equal in size as possible."""
    folds = np.arange(n_episodes) % k
    np.random.default_rng(seed).shuffle(folds)
    return folds


def crossfit_mu(episodes: Sequence[tuple[np.ndarray, np.ndarray]], *, k: int = DEFAULT_FOLDS, seed: int = 0,
                floor: float = DEFAULT_FLOOR, factory: ClassifierFactory | None = None,
                progress: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
    """Cross-fitted mu for each episode, given as (decision observations (T, D), actions (T,)).

    Returns the (T, 11) float32 estimates and each episode's fold. With fewer episodes than
    `k`, each episode is its own fold (leave-one-out).
    """
    if len(episodes) < 2:
        raise DatasetParameterError("episodes", f"bc-crossfit needs at least 2 episodes, got {len(episodes)}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise DatasetParameterError("k", f"must be an integer of at least 2, got {k!r}")
    if not 0 < floor < 1 / N_ACTIONS:
        raise DatasetParameterError("floor", f"must be in (0, {1 / N_ACTIONS:.4f}), got {floor}")
    factory = factory or softmax_regression_factory(seed)
    k = min(k, len(episodes))
    folds = assign_folds(len(episodes), k, seed)
    out: list[np.ndarray] = [np.zeros((0, N_ACTIONS), np.float32)] * len(episodes)
    for fold in track(range(k), "bc-crossfit folds", total=k, enabled=progress):
        train = [i for i in range(len(episodes)) if folds[i] != fold]
        obs = np.concatenate([episodes[i][0] for i in train])
        actions = np.concatenate([episodes[i][1] for i in train])
        if len(actions) == 0:
            raise DatasetParameterError("episodes", f"fold {fold}: the other folds have no decisions "
                                        "to learn from")
        model = factory(obs, actions)
        for i in (int(i) for i in np.flatnonzero(folds == fold)):
            if len(episodes[i][1]) == 0:
                continue
            p = np.asarray(model.predict_proba(episodes[i][0]))
            if p.shape != (len(episodes[i][1]), N_ACTIONS):
                raise DatasetParameterError("factory", f"the classifier returned shape {p.shape}, "
                                            f"expected ({len(episodes[i][1])}, {N_ACTIONS})")
            out[i] = floor_and_normalise(p, floor).astype(np.float32)
    return out, folds


def _check_estimate(path: Path, mu: np.ndarray) -> None:
    """Refuse an estimate that is not a distribution per decision before anything is written."""
    problem = mu_problem(np.asarray(mu))
    if problem:
        raise EpisodeError(path, f"estimated mu not written: {problem}")


def estimate_mu(specs: PathSpec, method: str = "bc-crossfit", *, eps: float = DEFAULT_EPS,
                k: int = DEFAULT_FOLDS, seed: int = 0, floor: float = DEFAULT_FLOOR,
                factory: ClassifierFactory | None = None, classifier_name: str | None = None,
                progress: bool = False) -> list[Path]:
    """Re-estimate mu for every episode the specs name and write it back (atomically, per file).

    Episodes are read through the read path with their raw data checked too: a bad file is
    skipped with a warning and neither trains the classifier nor is rewritten. Every estimate
    is checked (a distribution per decision) before any file is written. The method and its
    parameters go into the `mu_method` / `mu_params` attributes. Returns the files rewritten.
    """
    if method not in ("smoothed", "bc-crossfit"):
        raise DatasetParameterError("method", f"unknown method {method!r} (smoothed, bc-crossfit)")
    if method == "smoothed":
        smoothed_mu(np.zeros(0, np.int64), eps)  # refuse a bad eps before reading anything
    paths: list[Path] = []
    data: list[tuple[np.ndarray, np.ndarray]] = []
    for ep in track(iter_episodes(specs, marks=False, deep=True), "reading episodes", enabled=progress):
        paths.append(ep.path)
        data.append((ep.read("observations")[:-1], ep.read("actions")))

    if method == "smoothed":
        estimates = [smoothed_mu(a, eps) for _, a in data]
        params: list[dict[str, Any]] = [{"eps": eps}] * len(paths)
    else:
        estimates, folds = crossfit_mu(data, k=k, seed=seed, floor=floor, factory=factory, progress=progress)
        default_name = "softmax-regression" if factory is None else getattr(factory, "__name__", "custom")
        name = classifier_name or default_name
        k_used = min(k, len(paths))
        params = [{"k": k_used, "seed": seed, "floor": floor, "classifier": name, "fold": int(f),
                   "episodes": len(paths)} for f in folds]
    for path, mu, p in zip(paths, estimates, params, strict=True):
        _check_estimate(path, mu)
        try:
            json.dumps(p, allow_nan=False)
        except (TypeError, ValueError):
            raise DatasetParameterError("seed", f"parameters {p!r} are not JSON-serialisable") from None
    jobs = list(zip(paths, estimates, params, strict=True))
    for path, mu, p in track(jobs, "writing mu", enabled=progress):
        rewrite_episode(path, datasets={"mu": mu}, attrs={"mu_method": method, "mu_params": p})
    return paths
