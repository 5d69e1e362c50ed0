"""ACER (rl/acer.py): Retrace and the trust region against cases worked by hand, the segment replay and
the demonstration store (rl/buffers.py), and the algorithm as an SB3 algorithm on real environments."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback, EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import SubprocVecEnv
from torch import nn

from qwopkit.rl.acer import (
    ACER,
    ACERWithDemos,
    PhaseScheduleCallback,
    retrace_targets,
    trust_region_projection,
)
from qwopkit.rl.acer.buffers import DemoStore, SegmentReplayBuffer, Segments
from qwopkit.rl.acer.policies import ACERPolicy, load_policy, save_policy
from qwopkit.rl.acer.schedules import Phase, PhaseSchedule, format_steps, parse_steps

SMALL = {"net_arch": [32, 32], "activation_fn": nn.Tanh}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread, as qwop-finetune trains: for networks this small, more threads only wait on each other."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


def t(rows):
    return np.array(rows, dtype=np.float32)


def tt(rows):
    return th.tensor(rows, dtype=th.float32)


# ----------------------------------------------------------------------------- Retrace
def test_retrace_without_episode_end():
    # gamma 0.5, one segment of two steps, bootstrap V(x_2) = 6.
    #   t=1: Q_ret = r_1 + gamma * 6 = 2 + 3 = 5;  R_1 = rho_bar_1 (Q_ret - Q_1) + V_1 = 1 * (5 - 4) + 5 = 6
    #   t=0: Q_ret = r_0 + gamma * R_1 = 1 + 3 = 4
    q_ret = retrace_targets(rewards=t([[1, 2]]), q_taken=t([[3, 4]]), values=t([[2, 5]]),
                            rho_bar=t([[0.5, 1.0]]), dones=np.array([[False, False]]),
                            end_values=t([[0, 0]]), bootstrap=t([6]), gamma=0.5)
    assert q_ret.tolist() == [[4.0, 5.0]]


def test_retrace_truncated_weights_cut_the_correction():
    # As above with rho_bar_1 = 0.5: R_1 = 0.5 * (5 - 4) + 5 = 5.5, Q_ret(0) = 1 + 0.5 * 5.5 = 3.75.
    # With rho_bar_1 = 0 the target falls back on V_1 alone: Q_ret(0) = 1 + 0.5 * 5 = 3.5.
    common = dict(rewards=t([[1, 2]]), q_taken=t([[3, 4]]), values=t([[2, 5]]),
                  dones=np.array([[False, False]]), end_values=t([[0, 0]]), bootstrap=t([6]), gamma=0.5)
    assert retrace_targets(rho_bar=t([[1.0, 0.5]]), **common).tolist() == [[3.75, 5.0]]
    assert retrace_targets(rho_bar=t([[1.0, 0.0]]), **common).tolist() == [[3.5, 5.0]]


def test_retrace_stops_at_a_fall_and_bootstraps_a_truncation():
    # Step 0 ends an episode. A fall (end value 0): Q_ret(0) = r_0 = 1, whatever follows.
    # A truncation with V(true last observation) = 8: Q_ret(0) = 1 + 0.5 * 8 = 5.
    # Step 1 starts the next episode: Q_ret(1) = 2 + 0.5 * 6 = 5 in both cases.
    common = dict(rewards=t([[1, 2]]), q_taken=t([[3, 4]]), values=t([[2, 5]]), rho_bar=t([[1.0, 1.0]]),
                  dones=np.array([[True, False]]), bootstrap=t([6]), gamma=0.5)
    assert retrace_targets(end_values=t([[0, 0]]), **common).tolist() == [[1.0, 5.0]]
    assert retrace_targets(end_values=t([[8, 0]]), **common).tolist() == [[5.0, 5.0]]


def test_retrace_is_the_discounted_return_on_policy_when_q_is_exact():
    # With rho_bar = 1 and Q = V the correction terms vanish: Q_ret(t) = sum_k gamma^k r_{t+k} + gamma^n V_n.
    rng = np.random.default_rng(0)
    rewards = rng.standard_normal((3, 5)).astype(np.float32)
    values = rng.standard_normal((3, 5)).astype(np.float32)
    boot = rng.standard_normal(3).astype(np.float32)
    q_ret = retrace_targets(rewards, values, values, np.ones((3, 5)), np.zeros((3, 5), bool),
                            np.zeros((3, 5)), boot, 0.9)
    for i in range(5):
        expected = sum(0.9 ** k * rewards[:, i + k] for k in range(5 - i)) + 0.9 ** (5 - i) * boot
        np.testing.assert_allclose(q_ret[:, i], expected, rtol=1e-5)


# ----------------------------------------------------------------------------- trust region
def test_trust_region_leaves_a_step_inside_the_region_alone():
    # pi = average = (0.5, 0.5): k = -average / pi = (-1, -1). g = (3, 1): k.g = -4 <= delta = 1, no change.
    grad, back = trust_region_projection(tt([[3, 1]]), tt([[0.5, 0.5]]), tt([[0.5, 0.5]]), delta=1.0)
    assert back.tolist() == [0.0]
    np.testing.assert_allclose(grad.numpy(), [[3, 1]], atol=1e-5)


def test_trust_region_projects_a_step_outside_the_region():
    # g = (-3, -1): k.g = 4 > 1, step back (4 - 1) / |k|^2 = 3 / 2 = 1.5, g' = g - 1.5 k = (-1.5, 0.5),
    # and then k.g' = 1.5 - 0.5 = 1 = delta: the step ends on the region's boundary.
    grad, back = trust_region_projection(tt([[-3, -1]]), tt([[0.5, 0.5]]), tt([[0.5, 0.5]]), delta=1.0)
    np.testing.assert_allclose(back.numpy(), [1.5], rtol=1e-5)
    np.testing.assert_allclose(grad.numpy(), [[-1.5, 0.5]], rtol=1e-5)
    k = -0.5 / 0.5
    assert float((grad * k).sum()) == pytest.approx(1.0, rel=1e-5)


def test_trust_region_uses_the_ratio_of_average_to_policy():
    # pi = (0.8, 0.2), average = (0.4, 0.6): k = (-0.5, -3). g = (0, -1): k.g = 3, |k|^2 = 9.25,
    # step back (3 - 1) / 9.25 = 0.21622, g' = (0, -1) - 0.21622 (-0.5, -3) = (0.10811, -0.35135).
    grad, back = trust_region_projection(tt([[0, -1]]), tt([[0.8, 0.2]]), tt([[0.4, 0.6]]), delta=1.0)
    np.testing.assert_allclose(back.numpy(), [2 / 9.25], rtol=1e-4)
    np.testing.assert_allclose(grad.numpy(), [[0.5 * 2 / 9.25, -1 + 3 * 2 / 9.25]], rtol=1e-4)


# ----------------------------------------------------------------------------- the replay
def _segments(b, n, d=3, a=4, start=0):
    """B segments whose every field encodes (segment id, step) so that rows can be traced."""
    ids = start + np.arange(b)
    obs = ids[:, None, None] * 100.0 + np.arange(n + 1)[None, :, None] + np.zeros((1, 1, d))
    mu = np.zeros((b, n, a), np.float32)
    mu[..., 0] = (ids[:, None] * 100 + np.arange(n)[None, :]) / 1e6
    mu[..., 1] = 1 - mu[..., 0]
    return Segments(observations=obs.astype(np.float32), actions=np.tile(np.arange(n) % a, (b, 1)),
                    rewards=(ids[:, None] * 100.0 + np.arange(n)).astype(np.float32), mu=mu,
                    dones=np.zeros((b, n), bool), terminations=np.zeros((b, n), bool),
                    final_observations=np.zeros((b, n, d), np.float32), demo=ids % 2 == 1)


def test_replay_returns_each_step_with_its_own_mu():
    replay = SegmentReplayBuffer(capacity=10, n_steps=5, obs_shape=(3,), n_actions=4)
    replay.add(_segments(4, 5))
    batch = replay.sample(64, np.random.default_rng(0))
    seg_id = (batch.observations[:, 0, 0] // 100).astype(int)
    assert set(seg_id) == {0, 1, 2, 3}
    for i, s in enumerate(seg_id):
        np.testing.assert_allclose(batch.mu[i, :, 0], (s * 100 + np.arange(5)) / 1e6, rtol=1e-6)
        np.testing.assert_allclose(batch.rewards[i], s * 100 + np.arange(5))
        assert batch.demo[i] == (s % 2 == 1)
        np.testing.assert_allclose(batch.mu[i].sum(-1), 1.0, rtol=1e-6)


def test_replay_is_a_ring_that_overwrites_the_oldest():
    replay = SegmentReplayBuffer(capacity=3, n_steps=2, obs_shape=(3,), n_actions=4)
    replay.add(_segments(2, 2, start=0))
    replay.add(_segments(2, 2, start=2))  # overwrites segment 0
    assert len(replay) == 3 and replay.steps == 6
    held = set((replay.sample(200, np.random.default_rng(1)).observations[:, 0, 0] // 100).astype(int))
    assert held == {1, 2, 3}
    assert replay.demo_share == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="3-step"):
        SegmentReplayBuffer(3, 3, (3,), 4).add(_segments(1, 2))


def _stream(lengths, truncated_last, d=2, a=3):
    """Episodes of the given lengths, one after another; observation = (episode, decision)."""
    obs, nxt, dones, terms = [], [], [], []
    pad = [0.0] * (d - 2)
    for e, (length, trunc) in enumerate(zip(lengths, truncated_last)):
        for i in range(length):
            obs.append([e, i, *pad])
            nxt.append([e, i + 1, *pad])
            dones.append(i == length - 1)
            terms.append(i == length - 1 and not trunc)
    m = len(obs)
    mu = np.full((m, a), 1 / a, np.float32)
    return DemoStore(np.array(obs, np.float32), np.array(nxt, np.float32), np.zeros(m, np.int64),
                     np.arange(m, dtype=np.float32), mu, np.array(dones), np.array(terms))


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(1, 12), min_size=1, max_size=6), data=st.data())
def test_demo_windows_never_cross_an_episode_boundary_unmarked(lengths, data):
    truncated = data.draw(st.lists(st.booleans(), min_size=len(lengths), max_size=len(lengths)))
    store = _stream(lengths, truncated)
    n = data.draw(st.integers(1, len(store)))
    seg = store.sample(16, n, np.random.default_rng(data.draw(st.integers(0, 99))))
    assert seg.observations.shape == (16, n + 1, 2) and seg.demo.all()
    for w in range(16):
        for s in range(n):
            episode, decision = seg.observations[w, s, :2]
            length = lengths[int(episode)]
            ends = decision == length - 1
            assert seg.dones[w, s] == ends
            if not ends:  # the next observation is the same episode's next decision
                assert tuple(seg.observations[w, s + 1]) == (episode, decision + 1)
            else:  # the boundary is marked, and a truncated episode keeps its true last observation
                assert seg.terminations[w, s] == (not truncated[int(episode)])
                if truncated[int(episode)]:
                    assert tuple(seg.final_observations[w, s]) == (episode, decision + 1)


def test_demo_store_refuses_what_it_cannot_cut():
    with pytest.raises(ValueError, match="end an episode"):
        DemoStore(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2, int), np.zeros(2), np.zeros((2, 3)),
                  np.array([True, False]), np.array([False, False]))
    with pytest.raises(ValueError, match="fewer than one segment"):
        _stream([3], [False]).sample(1, 4, np.random.default_rng(0))


# ----------------------------------------------------------------------------- schedules
def test_schedule_phases():
    schedule = PhaseSchedule.parse("self:2M, demos:1.5M,self:500k")
    assert schedule.phases == (Phase("self", 2_000_000), Phase("demos", 1_500_000), Phase("self", 500_000))
    assert schedule.total_steps == 4_000_000 and schedule.injects_demos
    assert schedule.phase_at(0) == (0, Phase("self", 2_000_000))
    assert schedule.phase_at(1_999_999)[0] == 0 and schedule.phase_at(2_000_000)[0] == 1
    assert schedule.phase_at(10_000_000)[0] == 2  # the last phase goes on
    assert str(schedule) == "self:2M,demos:1.5M,self:500k"
    assert parse_steps("1234") == 1234 and format_steps(1234) == "1234"
    for bad, what in (("self", "no length"), ("play:1M", "kind 'play'"), ("self:1X", "not a number"),
                      ("", "not a list of phases"), ("self:1M,,demos:1M", "not a list of phases"),
                      ("self:0", "at least one")):
        with pytest.raises(ValueError, match=what):
            PhaseSchedule.parse(bad)


# ----------------------------------------------------------------------------- the algorithm
def cartpole(n_envs=4, seed=0, max_steps=None, **kw):
    env_kwargs = {"max_episode_steps": max_steps} if max_steps else None
    return make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed, env_kwargs=env_kwargs, **kw)


def test_collected_segments_keep_mu_and_how_each_episode_ended():
    env = cartpole(n_envs=3, max_steps=7)  # the time limit truncates every episode that lasts 7 steps
    model = ACER("MlpPolicy", env, n_steps=10, seed=0, policy_kwargs=SMALL)
    model._setup_learn(100, None)
    assert model.collect_rollouts(model.env, model._init_callback(None))
    seg = model.rollout
    assert seg.observations.shape == (3, 11, 4) and seg.mu.shape == (3, 10, 2)
    np.testing.assert_allclose(seg.mu.sum(-1), 1.0, rtol=1e-5)
    # mu is what the policy gave at collection: recomputing it on the stored observations agrees.
    np.testing.assert_allclose(model.action_probabilities(seg.observations[:, :-1]), seg.mu, rtol=1e-5)
    assert seg.dones.any()
    assert not (seg.terminations & ~seg.dones).any()
    truncated = seg.dones & ~seg.terminations
    # Episodes ending at exactly 7 steps are truncations and keep their true last observation.
    assert truncated.any()
    assert (np.abs(seg.final_observations[truncated]).sum(-1) > 0).all()
    assert (seg.final_observations[~truncated] == 0).all()
    # After a done the next stored observation is the new episode's start (CartPole starts near 0).
    s, k = np.argwhere(seg.dones[:, :-1])[0]
    assert np.abs(seg.observations[s, k + 1]).max() < 0.06


def test_acer_learns_cartpole_a_little():
    # A smoke run (the 500k-step benchmark is python -m qwopkit.bench.acer cartpole): 80k steps
    # of ACER with SB2's settings play CartPole far longer than the untrained policy does.
    env = cartpole(n_envs=8)
    model = ACER("MlpPolicy", env, ent_coef=0.0, seed=0,
                 policy_kwargs={"net_arch": [64, 64], "activation_fn": nn.Tanh})
    eval_env = Monitor(gym.make("CartPole-v1"))
    before, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=False)
    model.learn(80_000)
    after, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=False)
    assert before < 50 and after > 3 * before, (before, after)


def test_learn_uses_its_own_torch_threads_and_gives_torchs_back(tmp_path):
    """The library sets the threads it needs (a user's script gets qwop-finetune's speed), and
    leaves the caller's setting as it found it, also when learn stops on an error."""
    seen = []

    class Threads(BaseCallback):
        def _on_step(self) -> bool:
            seen.append(th.get_num_threads())
            return True

    th.set_num_threads(2)
    ACER("MlpPolicy", cartpole(n_envs=2), n_steps=5, seed=0, policy_kwargs=SMALL).learn(20, Threads())
    assert set(seen) == {1} and th.get_num_threads() == 2
    seen.clear()
    ACER("MlpPolicy", cartpole(n_envs=2), n_steps=5, seed=0, policy_kwargs=SMALL,
         threads=None).learn(20, Threads())
    assert set(seen) == {2}
    model = ACER("MlpPolicy", cartpole(n_envs=2), n_steps=5, seed=0, policy_kwargs=SMALL, threads=3)
    model.save(tmp_path / "m.zip")
    assert ACER.load(tmp_path / "m.zip").threads == 3

    class Stop(BaseCallback):
        def _on_step(self) -> bool:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        model.learn(20, Stop())
    assert th.get_num_threads() == 2


def test_learn_without_a_logger_leaves_no_sb3_folder_and_still_prints(tmp_path, monkeypatch, capsys):
    """SB3's default logger makes an empty tmp/SB3-<date> folder on every learn()."""
    import tempfile

    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    ACER("MlpPolicy", cartpole(n_envs=2), n_steps=5, seed=0, policy_kwargs=SMALL).learn(40)
    ACER("MlpPolicy", cartpole(n_envs=2), n_steps=5, seed=0, policy_kwargs=SMALL, verbose=1).learn(
        40, log_interval=1)
    assert not list(tmp_path.glob("SB3-*"))
    assert "replay/" in capsys.readouterr().out  # verbose=1 still prints SB3's table


def test_replay_updates_follow_the_replay_ratio():
    env = cartpole(n_envs=2)
    model = ACER("MlpPolicy", env, n_steps=5, replay_start=20, replay_ratio=3.0, seed=1, policy_kwargs=SMALL)
    model.learn(2_000)  # 200 iterations; replay starts after 4 of them (20 steps per env)
    iterations = 2_000 // 10
    on_policy = iterations
    replays = model.n_updates - on_policy
    assert abs(replays / (iterations - 4) - 3.0) < 0.5, replays
    no_replay = ACER("MlpPolicy", cartpole(n_envs=2), n_steps=5, replay_ratio=0.0, seed=1,
                     policy_kwargs=SMALL)
    no_replay.learn(2_000)
    assert no_replay._n_updates == iterations


def test_save_load_keeps_policy_average_and_optimizer(tmp_path):
    env = cartpole()
    model = ACER("MlpPolicy", env, seed=0, policy_kwargs=SMALL)
    model.learn(3_000)
    model.save(tmp_path / "acer.zip")
    loaded = ACER.load(tmp_path / "acer.zip", env=cartpole())
    for a, b in zip(model.policy.state_dict().values(), loaded.policy.state_dict().values()):
        assert th.equal(a, b)
    live, averaged = loaded.policy.averaged_pairs()
    assert any(not th.equal(x, y) for x, y in zip(live, averaged))  # the average lags the live weights
    assert loaded.policy.optimizer.state_dict()["state"]  # RMSProp's running averages came back
    assert loaded.num_timesteps == model.num_timesteps
    # The replay's sampler goes on where it was (it is not reseeded by loading).
    assert loaded._rng.bit_generator.state == model._rng.bit_generator.state
    obs = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])
    loaded.learn(500, reset_num_timesteps=False)
    assert loaded.num_timesteps > model.num_timesteps
    # qwop-eval's loader reads the zips of the algorithm too.
    assert isinstance(load_policy(tmp_path / "acer.zip"), ACERPolicy)


def test_starting_from_a_behaviour_clone_sets_the_average_to_it(tmp_path):
    env = cartpole()
    clone = ACERPolicy(env.observation_space, env.action_space, ACERPolicy._dummy_schedule, **SMALL)
    clone.set_normalization(np.array([1.0, 2, 3, 4]), np.array([2.0, 2, 2, 2]))
    save_policy(clone, tmp_path / "bc.zip")
    model = ACER("MlpPolicy", env, seed=5, policy_kwargs=SMALL)
    model.set_parameters(str(tmp_path / "bc.zip"), exact_match=False)
    assert th.equal(model.policy.obs_mean, th.tensor([1.0, 2, 3, 4]))
    for ours, theirs in zip(model.policy.trunk.parameters(), clone.trunk.parameters()):
        assert th.equal(ours, theirs)
    live, averaged = model.policy.averaged_pairs()
    assert all(th.equal(x, y) for x, y in zip(live, averaged))


def test_seeded_runs_repeat_and_seeds_differ():
    def run(seed):
        model = ACER("MlpPolicy", cartpole(seed=seed), n_steps=5, replay_start=10, seed=seed,
                     policy_kwargs=SMALL)
        model.learn(1_000)
        return th.cat([p.flatten() for p in model.policy.parameters()])

    assert th.equal(run(3), run(3))
    assert not th.equal(run(3), run(4))


def test_sb3_callbacks_logger_and_subprocess_envs(tmp_path):
    env = cartpole(n_envs=2, vec_env_cls=SubprocVecEnv)
    try:
        model = ACER("MlpPolicy", env, n_steps=5, seed=0, policy_kwargs=SMALL,
                     tensorboard_log=str(tmp_path / "tb"))
        evaluation = EvalCallback(cartpole(n_envs=1), eval_freq=200, n_eval_episodes=2,
                                  log_path=str(tmp_path / "eval"))
        checkpoints = CheckpointCallback(save_freq=300, save_path=str(tmp_path / "ckpt"),
                                         save_replay_buffer=True)
        model.learn(1_500, callback=[evaluation, checkpoints], progress_bar=True, log_interval=10)
    finally:
        env.close()
    assert len(np.load(tmp_path / "eval" / "evaluations.npz")["timesteps"]) >= 3
    zips = sorted((tmp_path / "ckpt").glob("rl_model_*_steps.zip"))
    replays = sorted((tmp_path / "ckpt").glob("rl_model_replay_buffer_*_steps.pkl"))
    assert zips and replays
    restored = ACER.load(zips[-1], env=cartpole())
    restored.load_replay_buffer(replays[-1])
    assert len(restored.replay_buffer) > 0
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))


def test_demos_are_injected_in_demos_phases_only():
    store = _stream([30, 40], [False, True], d=4, a=2)
    env = cartpole(n_envs=2)
    model = ACERWithDemos("MlpPolicy", env, n_steps=5, demos=store, demo_rate=1.0, replay_start=10_000,
                          seed=0, policy_kwargs=SMALL)
    phases = PhaseScheduleCallback("self:100,demos:100,self:100")
    shares = []

    def after_each_iteration(_locals, _globals):
        held = model.replay_buffer._store.demo[:len(model.replay_buffer)]
        shares.append((model.num_timesteps, int(held.sum())))

    model.learn(300, callback=[phases, _EveryRollout(after_each_iteration)])
    injected = dict(shares)
    # 10 steps per iteration; the counts are read at the start of the next iteration's rollout.
    assert injected[100] == 0  # 10 self-play iterations
    assert injected[200] == 2 * 10  # 10 demos iterations, one segment per environment each
    assert injected[290] == 20  # none in the last self phase
    assert phases._phase_index == 2 and model.inject_demos is False


def test_policy_mu_is_the_policy_at_injection():
    store = _stream([50], [False], d=4, a=2)
    model = ACERWithDemos("MlpPolicy", cartpole(n_envs=1), n_steps=5, demos=store, demo_mu="policy",
                          replay_start=10_000, seed=0, policy_kwargs=SMALL)
    model._setup_learn(10, None)
    assert model._inject() == 1
    stored = model.replay_buffer.sample(1, np.random.default_rng(0))
    np.testing.assert_allclose(stored.mu[0], model.action_probabilities(stored.observations[0, :-1]),
                               rtol=1e-5)
    assert not np.allclose(stored.mu[0], 1 / 2)  # not the stream's own mu


def test_a_demos_phase_without_demos_fails_before_training():
    model = ACERWithDemos("MlpPolicy", cartpole(n_envs=1), seed=0, policy_kwargs=SMALL)
    with pytest.raises(ValueError, match="has a demos phase, but no demonstrations"):
        model.learn(100, callback=PhaseScheduleCallback("demos:1k"))
    assert model.num_timesteps == 0
    # Phases are ACERWithDemos' alone: plain ACER has no demonstrations to switch.
    with pytest.raises(ValueError, match="^schedule: .*must be an ACERWithDemos"):
        ACER("MlpPolicy", cartpole(n_envs=1), seed=0, policy_kwargs=SMALL).learn(
            100, callback=PhaseScheduleCallback("self:1k"))


def test_bad_arguments_name_the_parameter():
    for kwargs, name in ((dict(n_steps=0), "n_steps"), (dict(delta=0), "delta"),
                         (dict(demo_mu="x"), "demo_mu"), (dict(buffer_size=5, n_steps=20), "buffer_size"),
                         (dict(alpha=1.0), "alpha"), (dict(threads=0), "threads"),
                         (dict(demo_rate=-1), "demo_rate")):
        with pytest.raises(ValueError, match=f"^{name}: "):
            ACERWithDemos("MlpPolicy", cartpole(n_envs=1), **kwargs)
    with pytest.raises(TypeError, match="demo_mu"):
        ACER("MlpPolicy", cartpole(n_envs=1), demo_mu="policy")  # ACER itself knows no demonstrations


class _EveryRollout(BaseCallback):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def _on_rollout_start(self) -> None:
        self.fn(self.locals, self.globals)

    def _on_step(self) -> bool:
        return True


def test_learning_rate_decays_linearly_to_zero():
    model = ACER("MlpPolicy", cartpole(n_envs=1), n_steps=5, seed=0, policy_kwargs=SMALL)
    assert model.lr_schedule(1.0) == pytest.approx(7e-4) and model.lr_schedule(0.5) == pytest.approx(3.5e-4)
    assert model.lr_schedule(0.0) == 0.0
    constant = ACER("MlpPolicy", cartpole(n_envs=1), lr_decay="constant", seed=0, policy_kwargs=SMALL)
    assert constant.lr_schedule(0.1) == pytest.approx(7e-4)
    assert math.isclose(model.policy.optimizer.defaults["eps"], 1e-5)
    assert type(model.policy.optimizer).__name__ == "RMSpropTFLike"


def test_q_warmup_trains_only_the_q_head():
    model = ACER("MlpPolicy", cartpole(n_envs=2), n_steps=5, replay_start=10, q_warmup=600, seed=0,
                 policy_kwargs=SMALL)
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(500)
    after = model.policy.state_dict()
    assert all(th.equal(before[k], after[k]) for k in after if k.startswith(("trunk", "pi")))
    assert not th.equal(before["q.weight"], after["q.weight"])
    model.learn(500, reset_num_timesteps=False)  # past the warm-up everything learns
    assert not th.equal(before["trunk.0.weight"], model.policy.state_dict()["trunk.0.weight"])


def test_the_package_exports_load_on_first_use():
    import importlib
    import subprocess
    import sys

    rl = importlib.import_module("qwopkit.rl")
    assert rl.ACER is ACER and rl.DemoStore is DemoStore and "ACER" in rl.__all__
    # Importing a command's module for its --help does not load torch.
    code = "import sys, qwopkit.training.finetune_cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_speed_benchmark_runs_the_learners_asked_for(tmp_path, capsys):
    # bench_acer speed --learners: the batched vector env and DQN at 8 envs, in the order given,
    # each with a measured rate, and the ACER/DQN ratio at equal environments printed.
    import json

    from qwopkit.bench.acer import main

    args = ["speed", "--seconds", "1", "--learners", "acer8-batched", "dqn8", "--out", str(tmp_path)]
    assert main(args) == 0
    rates = json.loads((tmp_path / "speed.json").read_text())["rates"]
    assert list(rates) == ["ACER, 8 envs, batched (QWOPVecEnv)", "DQN (SB3 defaults), 8 envs"]
    assert all(r > 0 for r in rates.values())
    assert "ACER, 8 envs, batched (QWOPVecEnv) / DQN (SB3 defaults), 8 envs:" in capsys.readouterr().out
