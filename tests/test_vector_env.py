"""QWOP-v0 batched: the vector env and the SB3 VecEnv give what QWOP-v0 gives, game by game."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import qwopkit  # noqa: F401  (registers qwopkit/QWOP-v0 and its vector entry point)
from qwopkit.adapter.env import QWOPEnv
from qwopkit.adapter.vector_env import QWOPVectorEnv


def test_make_vec_gives_the_batched_env_with_qwop_v0s_spaces():
    envs = gym.make_vec("qwopkit/QWOP-v0", num_envs=3, vectorization_mode="vector_entry_point")
    single = QWOPEnv()
    assert isinstance(envs, QWOPVectorEnv)
    assert envs.single_observation_space == single.observation_space
    assert envs.single_action_space == single.action_space
    obs, info = envs.reset(seed=0)
    assert obs.shape == (3, 71) and obs.dtype == np.float32
    assert list(info["outcome"]) == ["running"] * 3


def test_each_game_of_the_batch_is_qwop_v0():
    rng = np.random.default_rng(4)
    n = 3
    envs = QWOPVectorEnv(n, time_limit=2.0)
    singles = [QWOPEnv(time_limit=2.0) for _ in range(n)]
    obs, _ = envs.reset(seed=0)
    for i, env in enumerate(singles):
        assert np.array_equal(env.reset(seed=0)[0], obs[i])
    ended = 0
    for _ in range(150):
        actions = rng.integers(0, 11, size=n)
        obs, rewards, terms, truncs, info = envs.step(actions)
        for i, env in enumerate(singles):
            o, r, te, tr, inf = env.step(int(actions[i]))
            assert r == pytest.approx(rewards[i], abs=1e-12)
            assert (te, tr) == (terms[i], truncs[i])
            if te or tr:
                ended += 1
                assert np.array_equal(info["final_obs"][i], o)
                assert info["final_info"]["outcome"][i] == inf["outcome"]
                o, _ = env.reset()
            assert np.array_equal(obs[i], o)
    assert ended >= n  # episodes of 2 s end within 150 steps, by time limit or falls


def test_sb3_vec_env_reports_terminal_observations():
    from qwopkit.rl.common.vec_env import QWOPVecEnv

    env = QWOPVecEnv(2, time_limit=1.0)
    env.seed(0)
    obs = env.reset()
    assert obs.shape == (2, 71)
    done_infos = []
    for _ in range(20):
        env.step_async(np.array([0, 0]))
        obs, rewards, dones, infos = env.step_wait()
        done_infos += [info for info, done in zip(infos, dones) if done]
    assert done_infos and all("terminal_observation" in i for i in done_infos)
    assert all(i["TimeLimit.truncated"] for i in done_infos if i["outcome"] == "timeout")
