"""ACER's rollouts on Ray (rl/ray_rollouts.py): a real local Ray with 2 CPUs, real rollout workers
(Ray actors running CartPole or the bundled game), workers killed with kill -9 and stalled with
SIGSTOP, `qwop-finetune --ray` killed with kill -9 and resumed. Nothing is left behind: every Ray
process ends, Ray's session files stay in pytest's temporary folder, and no token lands in ~/.ray.
(The learning bar, >= 475 on CartPole within 500k steps, and the scale figures are benchmarks:
python -m qwopkit.bench.ray; docs/ray.md.)"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]'; "
                                        ".ci/run installs it)")

from finetune_runs import finetune, running_until_checkpoint  # noqa: E402
from ray import cloudpickle  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.logger import configure  # noqa: E402
from torch import nn  # noqa: E402

from qwopkit.rl.acer import ACER  # noqa: E402
from qwopkit.rl.acer.buffers import Segments  # noqa: E402
from qwopkit.training.ray_rollouts import RayRollouts, RolloutWorker, acting_weights  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
STRIDE = sorted(EXAMPLES.glob("bot_stride-*.h5"))
HOME_TOKEN = Path.home() / ".ray" / "auth_token"
QUICK = ["--eval-every", "2000", "--eval-episodes", "1", "--checkpoint-every", "1000",
         "--replay-start", "100", "--workers", "2", "--envs-per-worker", "2"]


def ray_processes(marker: str) -> list[psutil.Process]:
    """Processes of a Ray whose session files are under `marker` (its servers name the folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return [p for p in found if p.pid != os.getpid()]


def wait_gone(procs: list[psutil.Process], seconds: float = 30.0) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(procs, timeout=seconds)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """A local Ray with 2 CPUs whose session files go to pytest's temporary folder; at the end,
    every process it started (servers and workers) must be gone."""
    had_token = HOME_TOKEN.exists()
    temp = tmp_path_factory.mktemp("ray")
    old = os.environ.get("RAY_AUTH_TOKEN")
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(16)  # else Ray writes one into ~/.ray
    ray.init(num_cpus=2, _temp_dir=str(temp), include_dashboard=False, logging_level="WARNING")
    yield temp
    # The servers name the session folder; the workers are their children.
    servers = ray_processes(str(temp))
    procs = servers + [c for s in servers for c in _children(s)]
    ray.shutdown()
    if old is None:
        os.environ.pop("RAY_AUTH_TOKEN", None)
    else:
        os.environ["RAY_AUTH_TOKEN"] = old
    assert servers, "no Ray server process was found to check"
    assert not wait_gone(procs), "Ray processes are still running after ray.shutdown()"
    assert not ray_processes(str(temp))
    assert HOME_TOKEN.exists() == had_token, "Ray wrote a token into ~/.ray"
    assert all(p.resolve().is_relative_to(temp.resolve()) for p in temp.rglob("*") if not p.is_symlink())


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def cartpole_acer(n_envs: int, tmp_path: Path, **kwargs) -> ACER:
    model = ACER("MlpPolicy", make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), ent_coef=0.0, seed=0,
                 replay_start=50, policy_kwargs={"net_arch": [32, 32], "activation_fn": nn.Tanh}, **kwargs)
    model.set_logger(configure(str(tmp_path / "logs"), ["csv"]))
    return model


class StepCounter(BaseCallback):
    """Counts what the callbacks are shown: steps, and episode ends with their infos."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.episodes: list[dict] = []

    def _on_step(self) -> bool:
        self.calls += 1
        for i in np.flatnonzero(self.locals["dones"]):
            self.episodes.append(self.locals["infos"][i])
        return True


# ----------------------------------------------------------------------------- the command
# (first in the file: these start their own Ray, in the command's process, before the shared one starts)
def command_env(tmp_path_factory) -> tuple[dict[str, str], Path]:
    """The command's environment: Ray's session files in a temporary folder of a short name (its
    sockets' paths must stay within 107 bytes), a token in the environment rather than ~/.ray."""
    temp = tmp_path_factory.mktemp("r")
    return dict(os.environ, RAY_TMPDIR=str(temp), RAY_AUTH_TOKEN=secrets.token_hex(16)), temp


def test_bad_ray_settings_are_one_line_naming_the_flag(tmp_path, capsys, monkeypatch):
    # In this process: each is refused before the run's folder is made, so before Ray would start.
    from qwopkit.training.finetune_cli import main

    cases = [
        (["--ray", "--workers", "0"], "--workers: bad value 0"),
        (["--ray", "--envs-per-worker", "0"], "--envs-per-worker: bad value 0"),
        (["--ray", "--sync-every", "0"], "--sync-every: bad value 0"),
        (["--ray", "127.0.0.1:1"], "--ray: cannot reach Ray at 127.0.0.1:1: Connection refused"),
    ]
    base = ["--schedule", "self:2k", "--init", "scratch", "--out", str(tmp_path / "out")]
    for args, what in cases:
        assert main([*base, *args]) == 1, args
        assert capsys.readouterr().err == f"qwop-finetune: error: {what}\n", args
        assert not (tmp_path / "out").exists()
    # Without the extra: the same one line.
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main([*base, "--ray"]) == 1
    needs = ("qwop-finetune: error: --ray: needs the ray package: pip install -e '.[ray]' "
             "(from the checkout)\n")
    assert capsys.readouterr().err == needs
    assert not (tmp_path / "out").exists()


def test_a_ray_run_killed_with_kill_9_resumes_from_its_checkpoint(tmp_path, tmp_path_factory):
    env, ray_temp = command_env(tmp_path_factory)
    out = tmp_path / "run"
    args = ["--demos", *STRIDE, "--out", out, "--schedule", "self:2k,demos:4k", "--init", "scratch", "--ray",
            *QUICK]
    with running_until_checkpoint(args, out, 2000, log=tmp_path / "killed.log", env=env, seconds=180):
        started = ray_processes(str(ray_temp))
        assert started, "the run started no Ray of its own"
    latest = out / "checkpoints" / "latest.json"
    # The learner's Ray (servers and workers, in process groups of their own) ends with it.
    assert not wait_gone(started)
    killed_at = json.loads(latest.read_text())["step"]
    assert not (out / "model.zip").exists()
    assert json.loads((out / "run.json").read_text())["ray"] == "local"

    r = finetune("--resume", out, env=env, timeout=240)
    assert r.returncode == 0, r.stderr
    assert f"resuming {out} at step {killed_at:,}" in r.stdout
    assert "rollouts: 2 Ray workers x 2 envs" in r.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["steps"] >= 6000
    history = report["evaluation"]["history"]
    assert any(row["step"] <= killed_at for row in history) and history[-1]["step"] >= 6000
    csv = (out / "logs" / "progress.csv").read_text().splitlines()
    header = csv[0].split(",")
    lags = [float(row.split(",")[header.index("ray/policy_lag")]) for row in csv[1:]
            if row.split(",")[header.index("ray/policy_lag")]]
    share = [row.split(",")[header.index("replay/demo_share")] for row in csv[1:]]
    assert lags and all(0 <= lag < 10 for lag in lags)
    assert any(v and float(v) > 0 for v in share)  # the resumed tail had its demos phase
    assert not ray_processes(str(ray_temp))


# ----------------------------------------------------------------------------- the library
def test_a_worker_keeps_the_mu_and_version_of_the_policy_it_acted_with(local_ray, tmp_path):
    model = cartpole_acer(4, tmp_path)
    policy = cloudpickle.dumps((model.policy_class, model.policy_kwargs))
    worker = ray.remote(num_cpus=1)(RolloutWorker).remote("CartPole-v1", None, 3, 5, policy, model.n_steps)
    try:
        for version in (4, 9):
            weights = acting_weights(model)
            assert not any(k.startswith(("q.", "trunk_average.", "pi_average.")) for k in weights)
            ray.get(worker.set_weights.remote(weights, version))
            got = ray.get(worker.collect.remote())
            seg = got.segments
            assert got.version == version and len(seg) == 3 and seg.n_steps == model.n_steps
            # mu is the probabilities of the weights it was given, at every step it took.
            np.testing.assert_allclose(seg.mu, model.action_probabilities(seg.observations[:, :-1]),
                                       atol=1e-5)
            assert np.all(seg.mu[np.arange(3)[:, None], np.arange(model.n_steps), seg.actions] > 0)
            # A fallen pole ends its episode without bootstrap; its info came along, without the observation.
            assert [(t, i) for t, i, _ in got.episode_infos] == list(zip(*np.nonzero(seg.dones.T)))
            infos = [info for *_, info in got.episode_infos]
            assert all("episode" in info and "terminal_observation" not in info for info in infos)
            assert np.array_equal(seg.terminations, seg.dones)
            model.train_on(Segments.concatenate([seg]))  # (a writable copy) the learner moves on
    finally:
        ray.kill(worker)


def test_acer_learns_from_two_ray_workers_and_saves_as_without_ray(local_ray, tmp_path):
    model = cartpole_acer(4, tmp_path)
    counter = StepCounter()
    with RayRollouts("CartPole-v1", workers=2, envs_per_worker=2, seed=3) as rollouts:
        rollouts.start(model)
        assert model.segment_source is rollouts
        model.learn(6000, callback=counter, log_interval=10)
        stats = rollouts.stats
    assert model.segment_source is None  # closed: the model collects from its own env again
    assert model.num_timesteps >= 6000 and counter.calls * 2 >= 6000
    assert set(stats.arrivals) == {0, 1} and min(stats.arrivals.values()) > 10
    assert model.n_updates > 6000 // (4 * model.n_steps)  # on-policy ones and replay ones
    assert len(model.replay_buffer) * model.n_steps >= 6000 - 4 * model.n_steps
    # The learner never waits, so a worker the machine holds back lags a few versions; most
    # segments come from the newest policy or the one before it.
    assert stats.published > 10 and max(stats.lags) < 10 and np.median(stats.lags) <= 1
    assert len(counter.episodes) > 50 and all("episode" in e for e in counter.episodes)
    assert len(model.ep_info_buffer) == 100
    rows = (tmp_path / "logs" / "progress.csv").read_text().splitlines()
    header = rows[0].split(",")
    lag = [float(r.split(",")[header.index("ray/policy_lag")]) for r in rows[1:]]
    assert lag and all(0 <= v < 10 for v in lag)
    # The learner is an ordinary ACER: its zip loads, and the rollouts are not in it.
    model.save(tmp_path / "model.zip")
    loaded = ACER.load(tmp_path / "model.zip")
    assert loaded.segment_source is None and loaded.num_timesteps == model.num_timesteps
    obs = model.replay_buffer.sample(2, np.random.default_rng(0)).observations[:, 0]
    np.testing.assert_allclose(loaded.action_probabilities(obs), model.action_probabilities(obs), atol=1e-6)


def test_a_worker_killed_with_kill_9_is_replaced_and_training_goes_on(local_ray, tmp_path):
    model = cartpole_acer(4, tmp_path)
    with RayRollouts("CartPole-v1", workers=2, envs_per_worker=2) as rollouts:
        rollouts.start(model)
        model.learn(1000)
        pids = rollouts.worker_pids()
        os.kill(pids[0], signal.SIGKILL)
        before = dict(rollouts.stats.arrivals)
        # The learner goes on with the other worker while the replacement starts (a new process).
        deadline = time.monotonic() + 180  # a loaded machine starts Ray workers slowly
        while rollouts.stats.arrivals[0] <= before[0] + 2 and time.monotonic() < deadline:
            model.learn(1000, reset_num_timesteps=False)
        new_pids = rollouts.worker_pids()
        stats = rollouts.stats
    assert stats.replaced == 1
    assert new_pids[1] == pids[1] and new_pids[0] != pids[0]
    assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == psutil.STATUS_ZOMBIE
    assert stats.arrivals[0] > before[0] + 2  # the replacement delivers


def test_the_learner_does_not_wait_for_a_stalled_worker(local_ray, tmp_path):
    model = cartpole_acer(4, tmp_path)
    with RayRollouts("CartPole-v1", workers=2, envs_per_worker=2, patience=60) as rollouts:
        rollouts.start(model)
        model.learn(1000)
        slow = rollouts.worker_pids()[1]
        os.kill(slow, signal.SIGSTOP)  # a worker that stops answering (a stalled machine)
        try:
            before = dict(rollouts.stats.arrivals)
            model.learn(3000, reset_num_timesteps=False)
            during = dict(rollouts.stats.arrivals)
        finally:
            os.kill(slow, signal.SIGCONT)
        lags_before = len(rollouts.stats.lags)
        model.learn(3000, reset_num_timesteps=False)
        after = dict(rollouts.stats.arrivals)
        late = list(rollouts.stats.lags)[lags_before:]
    assert model.num_timesteps >= 7000
    # While it was stopped, the other worker fed the learner (at most the one collection the
    # stopped worker had already finished arrived from it).
    assert during[1] - before[1] <= 1 and during[0] - before[0] >= 3000 // 40 - 2
    # Back, it delivers again; its first segments were collected by a policy many versions old.
    assert after[1] > during[1]
    assert max(late) >= 5
