"""The Gymnasium environment qwopkit/QWOP-v0."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv

import qwopkit  # noqa: F401  (registers the environment)
from qwopkit.adapter.env import QWOPEnv
from qwopkit.adapter.features import ACTION_NAMES, ACTION_TO_SEED, SEED_TO_ACTION
from qwopkit.adapter.openqwop.layout import STATE_INDEX, STATE_SIZE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"


def test_passes_gymnasium_and_sb3_checkers():
    env = gym.make("qwopkit/QWOP-v0")
    gym_check_env(env.unwrapped)
    sb3_check_env(QWOPEnv(), warn=False)


def test_spaces_and_observation_options():
    env = gym.make("qwopkit/QWOP-v0")
    assert env.action_space == gym.spaces.Discrete(11)
    obs, info = env.reset(seed=1)
    assert obs.shape == (71,) and obs.dtype == np.float32
    assert set(info) >= {"distance", "hud_time", "outcome"}
    raw = gym.make("qwopkit/QWOP-v0", observation="raw")
    state, _ = raw.reset(seed=1)
    assert state.shape == (STATE_SIZE,) and state.dtype == np.float64
    assert obs[0] == pytest.approx(state[STATE_INDEX["head.angle"]], abs=1e-6)


def test_action_sets_map_by_keys_not_index():
    assert ACTION_NAMES[0] == "none" and ACTION_NAMES[10] == "OP"
    # The seed's 0 is QW and its 10 is none.
    assert ACTION_NAMES[SEED_TO_ACTION[0]] == "QW" and ACTION_NAMES[SEED_TO_ACTION[10]] == "none"
    assert all(SEED_TO_ACTION[ACTION_TO_SEED[a]] == a for a in range(11))


def test_frame_skip_sets_updates_per_action():
    for skip in (1, 3, 5):
        env = gym.make("qwopkit/QWOP-v0", frame_skip=skip)
        env.reset()
        _, _, _, _, info = env.step(0)
        assert info["hud_time"] == pytest.approx(skip / 30)


def test_fall_terminates_with_outcome():
    env = gym.make("qwopkit/QWOP-v0")
    env.reset()
    qp, wo = ACTION_NAMES.index("QP"), ACTION_NAMES.index("WO")
    for step in range(200):
        _, _, terminated, truncated, info = env.step(qp if (step // 4) % 2 == 0 else wo)
        if terminated or truncated:
            break
    assert terminated and not truncated and info["outcome"] == "fell"


def test_time_limit_truncates():
    env = gym.make("qwopkit/QWOP-v0", time_limit=1.0)
    env.reset()
    steps = 0
    while steps < 100:
        _, _, terminated, truncated, info = env.step(0)
        steps += 1
        if terminated or truncated:
            break
    assert truncated and not terminated and info["outcome"] == "timeout"
    assert steps == 10 and info["hud_time"] == pytest.approx(1.0)


def test_reward_is_pluggable_and_sees_raw_states():
    seen = []

    def reward(prev, state):
        seen.append((prev.shape, state[STATE_INDEX["hud_time"]] - prev[STATE_INDEX["hud_time"]]))
        return 42.0

    env = gym.make("qwopkit/QWOP-v0", reward_fn=reward)
    env.reset()
    _, r, *_ = env.step(1)
    assert r == 42.0 and seen == [((STATE_SIZE,), pytest.approx(0.1))]


def test_default_reward_rewards_moving_forward():
    from qwopkit.adapter.env import LOW_TORSO_PENALTY, LOW_TORSO_Y
    from qwopkit.dataset import read_episode

    env = gym.make("qwopkit/QWOP-v0", observation="raw")
    env.reset()
    _, standing, *_ = env.step(0)
    assert standing == pytest.approx(0.0, abs=0.05)  # standing still earns about nothing
    # The stride bot's recorded decisions run forward: each reward is the torso's forward speed
    # (metres per HUD second) less the low-torso penalty, so running earns, on average.
    x, y, hud = (STATE_INDEX[name] for name in ("torso.x", "torso.y", "hud_time"))
    actions = read_episode(EXAMPLES / "bot_stride-example-0000.h5").actions[:300]
    prev, _ = env.reset()
    rewards = []
    for action in actions:
        state, reward, terminated, truncated, info = env.step(int(action))
        speed = (state[x] - prev[x]) / 10 / (state[hud] - prev[hud])
        assert reward == pytest.approx(speed - LOW_TORSO_PENALTY * max(state[y] - LOW_TORSO_Y, 0.0))
        assert not (terminated or truncated)
        rewards.append(reward)
        prev = state
    assert info["distance"] > 15 and np.mean(rewards) > 0.2
    assert sum(r > 0.3 for r in rewards) > len(rewards) / 3  # many decisions move it forward fast


def test_renders_rgb_frames_of_the_runner():
    env = gym.make("qwopkit/QWOP-v0", render_mode="rgb_array")
    env.reset()
    frame = env.render()
    assert frame.shape == (400, 640, 3) and frame.dtype == np.uint8
    runner = np.all(frame == (214, 170, 130), axis=-1).sum()
    assert runner > 1000  # the runner's boxes cover a visible area


def test_works_under_subproc_vec_env():
    # "module:id" makes each worker import qwopkit (which registers the id) before making it.
    vec = make_vec_env("qwopkit:qwopkit/QWOP-v0", n_envs=2, vec_env_cls=SubprocVecEnv, seed=0)
    try:
        obs = vec.reset()
        assert obs.shape == (2, 71)
        for _ in range(5):
            obs, rewards, dones, infos = vec.step(np.array([1, 3]))
        assert obs.shape == (2, 71) and len(infos) == 2 and "distance" in infos[0]
    finally:
        vec.close()


def test_every_key_mask_maps_to_an_action_with_the_same_effect():
    from qwopkit.adapter.features import ACTION_KEYS, action_of_keys
    from qwopkit.adapter.openqwop import Engine

    for mask in range(16):
        action = action_of_keys(mask)
        a, b = Engine(), Engine()
        for _ in range(6):
            a.update(mask)
            b.update(int(ACTION_KEYS[action]))
        assert np.array_equal(a.state()[:-5], b.state()[:-5]), mask
