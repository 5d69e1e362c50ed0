"""Behaviour-policy estimates: smoothed, cross-fitted behaviour cloning, atomic write-back."""

from __future__ import annotations

import numpy as np
import pytest

from qwopkit.bench.synthetic import synthetic_episode
from qwopkit.dataset import (
    EpisodeError,
    SoftmaxRegression,
    crossfit_mu,
    estimate_mu,
    read_episode,
    rewrite_episode,
    smoothed_mu,
    validate_file,
    write_episode,
)


def test_smoothed_mu():
    mu = smoothed_mu(np.array([0, 3, 10]), eps=0.2)
    assert mu.dtype == np.float32 and mu.shape == (3, 11)
    np.testing.assert_allclose(mu.sum(1), 1, rtol=1e-6)
    assert mu[1, 3] == pytest.approx(0.8) and mu[1, 0] == pytest.approx(0.02)
    with pytest.raises(EpisodeError, match="eps: must be in"):
        smoothed_mu(np.array([0]), eps=1.0)


class _Spy:
    """A classifier that remembers which episodes it was trained on and asked about."""

    log: list[tuple[set[int], set[int]]] = []

    def __init__(self, obs, actions):
        self.trained = set(obs[:, 0].astype(int).tolist())
        _Spy.log.append((self.trained, set()))

    def predict_proba(self, obs):
        _Spy.log[-1][1].update(obs[:, 0].astype(int).tolist())
        p = np.zeros((len(obs), 11))
        p[:, 4] = 1.0  # a one-hot guess: the floor must keep every action possible
        return p


def _episodes(n, rng, steps=20):
    """(obs, actions) pairs whose column 0 holds the episode number."""
    out = []
    for i in range(n):
        obs = rng.standard_normal((steps, 71))
        obs[:, 0] = i
        out.append((obs, rng.integers(0, 11, steps)))
    return out


def test_crossfit_never_scores_an_episode_with_a_model_that_saw_it():
    _Spy.log = []
    data = _episodes(7, np.random.default_rng(0))
    mus, folds = crossfit_mu(data, k=3, seed=0, floor=1e-3, factory=_Spy)
    assert len(_Spy.log) == 3 and sorted(np.bincount(folds)) == [2, 2, 3]
    scored = []
    for trained, asked in _Spy.log:
        assert not trained & asked  # the point of cross-fitting
        assert trained | asked == set(range(7))
        scored += asked
    assert sorted(scored) == list(range(7))
    for mu in mus:
        np.testing.assert_allclose(mu.sum(1), 1, rtol=1e-6)
        assert mu.min() == pytest.approx(1e-3 / (1 + 10e-3))  # floored, then renormalised
        assert mu[:, 4].min() > 0.98


def test_crossfit_is_seeded():
    data = _episodes(6, np.random.default_rng(1))
    a, fa = crossfit_mu(data, k=3, seed=5)
    b, fb = crossfit_mu(data, k=3, seed=5)
    _, fc = crossfit_mu(data, k=3, seed=6)
    assert (fa == fb).all() and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not (fa == fc).all()


def test_default_classifier_learns_a_learnable_policy():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((71, 11))
    data = []
    for _ in range(6):
        obs = rng.standard_normal((300, 71))
        data.append((obs, np.argmax(obs @ w, axis=1)))
    mus, _ = crossfit_mu(data, k=3, seed=0)
    acts = np.concatenate([a for _, a in data])
    mu = np.concatenate(mus)
    assert (mu.argmax(1) == acts).mean() > 0.6  # chance is 1/11; these are episodes it never saw
    assert np.log(mu[np.arange(len(acts)), acts]).mean() > np.log(1 / 11) + 1.0


def test_softmax_regression_probabilities():
    rng = np.random.default_rng(3)
    obs = rng.standard_normal((50, 5))
    obs[:, 2] = 7.0  # a constant column must not break the standardisation
    p = SoftmaxRegression(epochs=20).fit(obs, rng.integers(0, 11, 50)).predict_proba(obs)
    assert p.shape == (50, 11) and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(1), 1)


def test_crossfit_needs_two_episodes():
    with pytest.raises(EpisodeError, match="at least 2 episodes"):
        crossfit_mu(_episodes(1, np.random.default_rng(0)))


def _files(folder, n=5):
    rng = np.random.default_rng(4)
    return [write_episode(synthetic_episode(rng, player="p", session="s", index=i, steps=30), folder)
            for i in range(n)]


def test_estimate_mu_writes_back_method_and_parameters(tmp_path):
    paths = _files(tmp_path)
    before = [read_episode(p) for p in paths]
    estimate_mu(tmp_path, "bc-crossfit", k=5, seed=7, floor=0.01)
    for path, old in zip(paths, before, strict=True):
        new = read_episode(path)
        assert new.meta["mu_method"] == "bc-crossfit"
        params = new.meta["mu_params"]
        assert {k: params[k] for k in ("k", "seed", "floor", "classifier", "episodes")} == {
            "k": 5, "seed": 7, "floor": 0.01, "classifier": "softmax-regression", "episodes": 5}
        assert 0 <= params["fold"] < 5
        assert not np.array_equal(new.mu, old.mu) and new.mu.min() >= 0.01 / 1.1 - 1e-7
        for name in ("observations", "actions", "rewards", "state", "keys"):
            np.testing.assert_array_equal(getattr(new, name), getattr(old, name))
        validate_file(path, deep=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    estimate_mu(tmp_path, "smoothed", eps=0.3)
    ep = read_episode(paths[0])
    assert ep.meta["mu_method"] == "smoothed" and ep.meta["mu_params"] == {"eps": 0.3}
    np.testing.assert_array_equal(ep.mu, smoothed_mu(ep.actions, 0.3))


def test_failed_rewrite_leaves_the_file_as_it_was(tmp_path):
    path = _files(tmp_path, 1)[0]
    before = path.read_bytes()
    with pytest.raises(EpisodeError, match="length mismatch: mu"):
        rewrite_episode(path, datasets={"mu": np.zeros((3, 11), np.float32)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_progress_off_a_terminal_is_a_plain_line_every_few_seconds(capsys):
    import time

    from qwopkit.dataset.progress import track

    def slow():
        for i in range(3):
            time.sleep(0.25)
            yield i

    assert list(track(slow(), "folds", total=3, every=0.1)) == [0, 1, 2]
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 4 and all(line.startswith("folds: ") for line in lines)
    assert any(line.startswith("folds: 1/3 after ") for line in lines)
    assert lines[-1].startswith("folds: 3/3 after ") and lines[-1].endswith(" s: done")
    assert list(track(range(3), "quick", every=5)) == [0, 1, 2]  # sooner than a line: silent
    assert capsys.readouterr().err == ""
    with pytest.raises(ZeroDivisionError):  # an error ends the lines without "done"
        for i in track(slow(), "broken", every=0.1):
            1 / (1 - i)
    assert not capsys.readouterr().err.rstrip().endswith("done")
