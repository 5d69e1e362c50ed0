"""The checks of an episode's values, run by every reader and writer.

`decision_problem` is cheap enough to run on every read (a few vectorised passes over the
per-decision arrays): finite observations and rewards, the seed's 71 features within
OBSERVATION_LIMIT of zero, actions in the action set, mu rows that
are probability distributions, end flags only on the last decision and agreeing with the
outcome, infos finite (NaN where unknown, in imports). `raw_problem` checks the raw per-update
data (finite states, 4-bit key masks); it decompresses `state`, so it runs on writes and
deep reads only. Each returns a one-line description of the first problem, or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from qwopkit.dataset.schema import (
    MAX_KEY_MASK,
    N_ACTIONS,
    OBSERVATION_FIELDS,
    TERMINAL_OUTCOMES,
    UNKNOWN_OUTCOME,
)

MU_TOLERANCE = 1e-4  # |sum of a mu row - 1|; float32 rows of 11 are within 1e-6
# The seed's features are angles (rad), speeds (units/s) and positions relative to the torso
# (units): the largest in the bundled examples and the seed's 100 recorded runs is 46 (a foot's
# speed; the physics caps a body's move per update), so a value beyond this is damage, not a run.
OBSERVATION_LIMIT = 1000.0


def _first_bad_row(ok: np.ndarray) -> int:
    """Index of the first row where `ok` (per element) fails."""
    rows = ok.reshape(len(ok), -1).all(1) if ok.ndim > 1 else ok
    return int(np.argmin(rows))


def _finite_problem(name: str, values: np.ndarray, *, nan_ok: bool = False) -> str | None:
    # Fast path for float32: their float64 sum cannot overflow, and is NaN or inf exactly when
    # some value is; the element-wise pass runs only to name the row (or for float64 data).
    if values.size == 0:
        return None
    if nan_ok:
        bad = np.isinf(values)
        if not bad.any():
            return None
        return f"infinite {name} (row {int(np.argmax(bad))})"
    if values.dtype == np.float32 and np.isfinite(values.sum(dtype=np.float64)):
        return None
    if values.dtype != np.float32 and np.isfinite(values).all():
        return None
    return f"non-finite {name} (row {_first_bad_row(np.isfinite(values))})"


def mu_problem(mu: np.ndarray) -> str | None:
    """Whether each row of mu (T, 11) is a probability distribution."""
    if mu.size:
        total = mu.sum(1, dtype=np.float64)
        if not (np.abs(total - 1.0).max() <= MU_TOLERANCE and mu.min() >= 0):  # NaN fails too
            ok = (np.abs(total - 1.0) <= MU_TOLERANCE) & (mu >= 0).all(1)
            return f"mu rows are not probability distributions (row {_first_bad_row(ok)})"
    return None


def decision_problem(meta: Mapping[str, Any], *, observations: np.ndarray, actions: np.ndarray,
                     rewards: np.ndarray, terminations: np.ndarray, truncations: np.ndarray,
                     mu: np.ndarray, infos: Mapping[str, np.ndarray] | None = None) -> str | None:
    """The first problem with an episode's per-decision values, or None (shapes already checked)."""
    problem = _finite_problem("observations", observations) or _finite_problem("rewards", rewards)
    if problem:
        return problem
    if (observations.size and tuple(meta["observation_fields"]) == OBSERVATION_FIELDS
            and not -OBSERVATION_LIMIT <= observations.min() <= observations.max() <= OBSERVATION_LIMIT):
        within = np.abs(observations) <= OBSERVATION_LIMIT  # (finite here) only to name the row
        return f"observations beyond ±{OBSERVATION_LIMIT:g} (row {_first_bad_row(within)})"
    if actions.size:
        top = int(actions.max())
        if top >= N_ACTIONS or int(actions.min()) < 0:
            bad = top if top >= N_ACTIONS else int(actions.min())
            return f"action {bad} outside the action set (0-{N_ACTIONS - 1})"
    problem = mu_problem(mu)
    if problem:
        return problem
    t = len(terminations)
    if t:
        early = terminations[:-1] | truncations[:-1]
        if early.any():
            return f"a termination or truncation before the last decision (decision {int(np.argmax(early))})"
        term, trunc = bool(terminations[-1]), bool(truncations[-1])
        outcome = meta["outcome"]
        if term and trunc:
            return "the last decision is both terminated and truncated"
        if outcome in TERMINAL_OUTCOMES and not term:
            return f"outcome {outcome!r} but the last decision is not a termination"
        if outcome == UNKNOWN_OUTCOME and not (term or trunc):
            return "the last decision is neither terminated nor truncated"
        if outcome not in TERMINAL_OUTCOMES and outcome != UNKNOWN_OUTCOME and not trunc:
            return f"outcome {outcome!r} but the last decision is not a truncation"
    for key, values in (infos or {}).items():
        problem = _finite_problem(f"infos/{key}", values, nan_ok=meta["imported"])
        if problem:
            return problem
    return None


def keys_problem(keys: np.ndarray) -> str | None:
    """Whether every key mask is 4-bit."""
    if keys.size and int(keys.max()) > MAX_KEY_MASK:
        return f"keys outside 0-{MAX_KEY_MASK} (update {int(np.argmax(keys > MAX_KEY_MASK))})"
    return None


def state_problem(state: np.ndarray) -> str | None:
    """Whether every raw state value is finite."""
    return _finite_problem("state", state)


def raw_problem(state: np.ndarray, keys: np.ndarray) -> str | None:
    """The first problem with the raw per-update data, or None."""
    return keys_problem(keys) or state_problem(state)


def check_decision_values(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Raise ValueError (one line) on the first problem with the per-decision arrays of `arrays`
    (named as in the file: observations, ..., infos/distance), and with state and keys if given."""
    infos = {name.split("/", 1)[1]: arr for name, arr in arrays.items() if name.startswith("infos/")}
    problem = decision_problem(meta, observations=arrays["observations"], actions=arrays["actions"],
                               rewards=arrays["rewards"], terminations=arrays["terminations"],
                               truncations=arrays["truncations"], mu=arrays["mu"], infos=infos)
    if problem is None and "state" in arrays and "keys" in arrays:
        problem = raw_problem(arrays["state"], arrays["keys"])
    if problem:
        raise ValueError(problem)
