"""The ACER policy network (rl/policies.py), its SB3 zips, evaluation and qwop-eval (rl/evaluate.py).

Policies here are real networks: fresh ones, or ones whose `pi` head is set by hand to always
prefer one action (a fixed key combination is a real, if poor, player).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

import qwopkit  # noqa: F401
from qwopkit.adapter.features import ACTION_NAMES
from qwopkit.adapter.openqwop.layout import STATE_INDEX
from qwopkit.rl.acer.policies import ACERPolicy, ModelFileError, load_policy, save_policy
from qwopkit.rl.common.evaluation import (
    EpisodeResult,
    EvalReport,
    episode_keys,
    episode_states,
    evaluate,
)
from qwopkit.training.eval_cli import main as eval_main
from qwopkit.training.watch import watch

OBS = spaces.Box(-np.inf, np.inf, (71,), np.float32)
ACTIONS = spaces.Discrete(11)


def fixed_policy(action: str, seed: int = 0) -> ACERPolicy:
    """A network whose most likely action is always `action` (its pi weights zero, one bias high)."""
    th.manual_seed(seed)
    policy = ACERPolicy(OBS, ACTIONS, lambda _: 1e-3)
    with th.no_grad():
        policy.pi.weight.zero_()
        policy.pi.bias.fill_(-5.0)
        policy.pi.bias[ACTION_NAMES.index(action)] = 5.0
    return policy


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = eval_main(args)
    return code, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------------------- the network
def test_policy_is_the_seeds_network() -> None:
    policy = ACERPolicy(OBS, ACTIONS, lambda _: 7e-4)
    linear = [m for m in policy.trunk if isinstance(m, th.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(71, 256), (256, 128)]
    assert sum(isinstance(m, th.nn.ReLU) for m in policy.trunk) == 2
    logits, q = policy(th.zeros(5, 71))
    assert logits.shape == q.shape == (5, 11)
    # One shared trunk feeds both heads.
    assert policy.pi.in_features == policy.q.in_features == 128
    assert isinstance(policy.optimizer, th.optim.RMSprop)
    assert policy.optimizer.defaults["alpha"] == 0.99 and policy.optimizer.defaults["eps"] == 1e-5
    probs = policy.action_probabilities(np.zeros((3, 71), np.float32))
    assert probs.shape == (3, 11) and np.allclose(probs.sum(1), 1.0, atol=1e-6)


def test_input_standardisation_is_part_of_the_weights(tmp_path: Path) -> None:
    policy = ACERPolicy(OBS, ACTIONS, lambda _: 7e-4)
    obs = np.random.default_rng(0).normal(3.0, 2.0, (8, 71)).astype(np.float32)
    before = policy(th.as_tensor(obs))[0]
    scale = np.full(71, 2.0)
    scale[0] = 0.0  # a constant column (the torso's relative x) is left unscaled
    policy.set_normalization(np.full(71, 3.0), scale)
    assert isinstance(policy.obs_scale, th.Tensor) and policy.obs_scale[0] == 1.0
    after = policy(th.as_tensor(obs))[0]
    assert not th.allclose(before, after)
    loaded = load_policy(save_policy(policy, tmp_path / "p.zip"))
    for name in ("obs_mean", "obs_scale"):  # buffers of the network, saved with its weights
        a, b = getattr(loaded, name), getattr(policy, name)
        assert isinstance(a, th.Tensor) and isinstance(b, th.Tensor) and th.equal(a, b)
    assert th.allclose(loaded(th.as_tensor(obs))[0], after)


def test_save_and_load_round_trip_in_sb3_zip_format(tmp_path: Path) -> None:
    policy = fixed_policy("WP", seed=3)
    path = save_policy(policy, tmp_path / "sub" / "model", info={"note": "hello"})
    assert path == tmp_path / "sub" / "model.zip"
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        data = json.loads(z.read("data"))
    assert {"data", "policy.pth", "_stable_baselines3_version", "system_info.txt"} <= names
    assert {"policy_class", "policy_kwargs", "observation_space", "action_space"} <= set(data)
    loaded = load_policy(path)
    obs = th.randn(4, 71)
    for a, b in zip(policy(obs), loaded(obs)):
        assert th.equal(a, b)
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file was renamed into place


class _OffPolicyProbe(OffPolicyAlgorithm):
    """The smallest SB3 off-policy algorithm: collects into replay and trains nothing.

    It stands where the ACER learner will: built on OffPolicyAlgorithm with ACERPolicy.
    """

    def __init__(self, policy, env, _init_setup_model: bool = True, **kwargs) -> None:
        super().__init__(policy, env, learning_rate=7e-4, buffer_size=500, learning_starts=10, batch_size=16,
                         train_freq=20, gradient_steps=1, sde_support=False,
                         supported_action_spaces=(spaces.Discrete,), **kwargs)
        if _init_setup_model:
            self._setup_model()

    def train(self, gradient_steps: int, batch_size: int = 16) -> None:
        assert self.replay_buffer is not None
        self.replay_buffer.sample(batch_size)  # what a learner would train on


def test_an_sb3_off_policy_algorithm_starts_from_a_saved_policy(tmp_path: Path) -> None:
    saved = save_policy(fixed_policy("QP", seed=1), tmp_path / "bc.zip")
    env = gym.make("qwopkit/QWOP-v0", time_limit=3.0)
    model = _OffPolicyProbe(ACERPolicy, env, seed=0)
    model.set_parameters(str(saved), exact_match=False)  # the policy's weights, not an optimizer
    bc = load_policy(saved)
    obs = th.randn(6, 71)
    assert th.equal(model.policy(obs)[0], bc(obs)[0])
    model.learn(total_timesteps=60)
    assert model.replay_buffer is not None and model.replay_buffer.size() == 60
    # The algorithm's own zip is read by load_policy (so qwop-eval evaluates it), and by SB3's load.
    model.save(tmp_path / "probe.zip")
    again = load_policy(tmp_path / "probe.zip")
    assert th.equal(again(obs)[0], model.policy(obs)[0])
    assert isinstance(_OffPolicyProbe.load(tmp_path / "probe.zip", env=env).policy, ACERPolicy)


@pytest.mark.parametrize("case", ["missing", "folder", "text", "zip-without-model", "wrong-spaces"])
def test_load_policy_refuses_what_is_not_a_model(case: str, tmp_path: Path) -> None:
    path = tmp_path / "m.zip"
    if case == "folder":
        path.mkdir()
    elif case == "text":
        path.write_text("hello")
    elif case == "zip-without-model":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("data", "{}")
    elif case == "wrong-spaces":
        save_policy(ACERPolicy(spaces.Box(-1, 1, (5,), np.float32), ACTIONS, lambda _: 0.0), path)
        code, _, err = _run([str(path), "--episodes", "1"])
        assert code == 1 and err.count("\n") == 1 and "observation space" in err and str(path) in err
        return
    with pytest.raises(ModelFileError, match=str(path)):
        load_policy(path)
    code, _, err = _run([str(path)])
    assert code == 1 and err.startswith(f"qwop-eval: error: {path}: ") and err.count("\n") == 1


# ----------------------------------------------------------------------------- evaluation
def test_evaluate_a_policy_that_holds_o_falls_every_time() -> None:
    report = evaluate(fixed_policy("O"), episodes=3, deterministic=True)
    summary = report.summary()
    assert summary["falls"] == 3 and summary["finish_rate"] == 0.0 and summary["best_time"] is None
    # The same run as holding O in the environment directly.
    env = gym.make("qwopkit/QWOP-v0")
    env.reset()
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(ACTION_NAMES.index("O"))
        steps += 1
        if terminated or truncated:
            break
    assert info["outcome"] == "fell"
    assert all(e.distance == info["distance"] and e.steps == steps for e in report.episodes)
    assert np.all(report.episodes[0].actions == ACTION_NAMES.index("O"))


def test_sampled_evaluation_is_seeded() -> None:
    policy = ACERPolicy(OBS, ACTIONS, lambda _: 0.0)  # untrained: near-uniform pi
    a = evaluate(policy, episodes=2, seed=5, time_limit=2.0)
    b = evaluate(policy, episodes=2, seed=5, time_limit=2.0)
    c = evaluate(policy, episodes=2, seed=6, time_limit=2.0)
    assert [e.actions.tolist() for e in a.episodes] == [e.actions.tolist() for e in b.episodes]
    assert [e.actions.tolist() for e in a.episodes] != [e.actions.tolist() for e in c.episodes]
    assert a.episodes[0].actions.tolist() != a.episodes[1].actions.tolist()


def test_summary_figures() -> None:
    def run(outcome: str, distance: float, t: float) -> EpisodeResult:
        return EpisodeResult(outcome, distance, t, 10, 30, np.zeros(10, np.uint8))

    report = EvalReport([run("finished", 100.2, 70.0), run("fell", 12.0, 9.0), run("finished", 100.4, 60.0),
                         run("timeout", 80.0, 120.0), run("finished", 100.1, 90.0)], False, 0)
    s = report.summary()
    assert s["finish_rate"] == pytest.approx(0.6)
    assert s["mean_distance"] == pytest.approx((100.2 + 12 + 100.4 + 80 + 100.1) / 5)
    assert s["best_distance"] == 100.4 and s["best_time"] == 60.0 and s["median_time"] == 70.0
    assert s["falls"] == 1 and s["timeouts"] == 1


def test_replayed_states_are_the_evaluated_run() -> None:
    report = evaluate(fixed_policy("WP"), episodes=1, deterministic=True, time_limit=2.0)
    run = report.episodes[0]
    keys = episode_keys(run)
    assert len(keys) == run.updates == 60
    states = episode_states(run, settle=0)
    assert states[-1][STATE_INDEX["distance"]] == run.distance
    assert states[-1][STATE_INDEX["hud_time"]] == run.hud_time


def test_qwop_eval_reports_and_writes_json(tmp_path: Path) -> None:
    model = save_policy(fixed_policy("O"), tmp_path / "o.zip")
    args = [str(model), "--episodes", "2", "--json", str(tmp_path / "r.json")]
    code, out, err = _run(args)
    assert code == 0, err
    assert "finish rate" in out and "falls" in out
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["summary"]["falls"] == 2 and len(result["runs"]) == 2
    assert result["runs"][0]["outcome"] == "fell"
    assert "distance is the torso's" not in out  # said only beside finished runs
    assert out.splitlines()[-1] == f"next: qwop-eval {model} --watch    # its runs in the game page"


def test_qwop_eval_deterministic_plays_one_run_and_says_why(tmp_path: Path) -> None:
    model = save_policy(fixed_policy("O"), tmp_path / "o.zip")
    json_file = tmp_path / "r.json"
    code, out, err = _run([str(model), "--episodes", "3", "--deterministic", "--json", str(json_file)])
    assert code == 0, err
    assert "qwop-eval: --deterministic runs are all the same run (the game has no randomness): playing 1, " \
           "not 3" in out
    assert len(json.loads(json_file.read_text())["runs"]) == 1


def test_qwop_eval_explains_the_distance_of_a_finished_run(capsys) -> None:
    from rich.console import Console

    from qwopkit.training.eval_cli import print_report

    finished = EpisodeResult("finished", 99.4, 48.0, 480, 1440, np.zeros(480, np.uint8))
    print_report(EvalReport([finished], True, 0), Console(width=120))
    out = capsys.readouterr().out
    assert "99.4 m" in out
    assert "distance is the torso's; a run finishes when a foot lands past 100 m" in out


@pytest.mark.parametrize("args,where", [(["--episodes", "0"], "--episodes"),
                                       (["--time-limit", "-1"], "--time-limit")])
def test_qwop_eval_bad_flags(args: list[str], where: str, tmp_path: Path) -> None:
    model = save_policy(fixed_policy("O"), tmp_path / "o.zip")
    code, _, err = _run([str(model), *args])
    assert code == 1 and err.startswith(f"qwop-eval: error: {where}") and err.count("\n") == 1


def test_qwop_eval_watch_without_a_display_is_one_line(tmp_path: Path, monkeypatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("display detection is for Linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    model = save_policy(fixed_policy("O"), tmp_path / "o.zip")
    code, _, err = _run([str(model), "--watch"])
    assert code == 1 and err.startswith("qwop-eval: error: --watch: no display")


# ----------------------------------------------------------------------------- watching
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _need_browser() -> None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.skip(f"{path} is missing")


@pytest.mark.browser
def test_watch_shows_the_evaluated_run_in_the_page() -> None:
    _need_browser()
    report = evaluate(fixed_policy("O"), episodes=1, deterministic=True)
    run = report.episodes[0]
    shown = watch(report.episodes, headless=True, log=lambda _: None)
    assert len(shown) == 1
    states = episode_states(run)
    assert shown[0]["status"] == "fell"
    assert shown[0]["state"] == states[-1].tolist()  # the page played exactly the re-simulated run
    assert shown[0]["updates"] == len(states) - 1


@pytest.mark.browser
def test_qwop_eval_watch_in_a_real_window(tmp_path: Path, x_display: str) -> None:
    _need_browser()
    model = save_policy(fixed_policy("O"), tmp_path / "o.zip")
    proc = subprocess.run([sys.executable, "-m", "qwopkit.training.eval_cli", str(model), "--episodes", "1",
                           "--deterministic", "--watch"], env={**os.environ, "DISPLAY": x_display},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "qwop-eval: watching run 1/1: fell" in proc.stdout
