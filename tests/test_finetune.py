"""`qwop-finetune` and its parts on the bundled game and the bundled recordings: demonstrations with
recomputed rewards (rl/demos.py), a whole run with its report, errors, and a run killed with
kill -9 then resumed from its checkpoint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from finetune_runs import finetune, running_until_checkpoint

from qwopkit.adapter.env import forward_velocity_reward_from_features
from qwopkit.dataset import import_npz, mark, read_episode, write_episode
from qwopkit.rl.common.demos import load_demonstrations

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
STRIDE = sorted(EXAMPLES.glob("bot_stride-*.h5"))
QUICK = ["--n-envs", "2", "--eval-every", "2000", "--eval-episodes", "1", "--checkpoint-every", "2000",
         "--replay-start", "100"]


def copy_examples(folder: Path, paths=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for p in paths or sorted(EXAMPLES.glob("*.h5")):
        shutil.copy(p, folder / p.name)
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, but the dataset library's attribute caches (sidecars it may always refresh)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".qwopkit-cache.json"}


# ----------------------------------------------------------------------------- demonstrations
def test_demo_rewards_are_the_environments_own(tmp_path):
    demos = load_demonstrations(STRIDE, observation_shape=(71,), n_actions=11)
    stored = np.concatenate([read_episode(p).rewards for p in STRIDE])
    # Recorded with the same reward function: recomputing from the raw states gives the same values.
    np.testing.assert_allclose(demos.rewards, stored, atol=1e-5)
    assert demos.episodes == 2 and len(demos) == len(stored)
    # Another reward function changes them all: the rewards come from it, not from the files.
    other = load_demonstrations(STRIDE, observation_shape=(71,), n_actions=11,
                                reward_fn=lambda prev, state: float(state[0] - prev[0]))
    assert not np.allclose(other.rewards, stored)


def test_demos_without_raw_state_get_their_rewards_from_the_features(tmp_path):
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((30, 71))
    obs[:, 69] = 0
    starts = np.zeros(30, bool)
    starts[[0, 12]] = True
    np.savez(tmp_path / "kuro_try9.npz", obs=obs, actions=rng.integers(0, 11, (30, 1)),
             rewards=np.full(30, 7.0), episode_returns=np.zeros(2), episode_starts=starts)
    files = import_npz(tmp_path / "kuro_try9.npz", tmp_path / "imported")
    demos = load_demonstrations(files, observation_shape=(71,), n_actions=11)
    expected = np.concatenate([forward_velocity_reward_from_features(e.observations[:-1], e.observations[1:])
                               for e in map(read_episode, files)])
    np.testing.assert_allclose(demos.rewards, expected, rtol=1e-6)
    assert not np.allclose(demos.rewards, 7.0)
    with pytest.raises(ValueError, match="no raw state"):
        load_demonstrations(files, observation_shape=(71,), n_actions=11, features_reward_fn=None)


def test_demos_honour_curation_marks(tmp_path):
    folder = copy_examples(tmp_path / "data")
    everything = load_demonstrations(folder, observation_shape=(71,), n_actions=11)
    mark([folder / "bot_flail-example-0000.h5"], kept=False)
    kept = load_demonstrations(folder, observation_shape=(71,), n_actions=11)
    assert everything.episodes == 6 and kept.episodes == 5
    assert not any("flail-example-0000" in s for s in kept.sources)


# ----------------------------------------------------------------------------- the command
def test_a_short_run_writes_model_report_and_curves(tmp_path):
    out = tmp_path / "run"
    r = finetune("--demos", *STRIDE, "--schedule", "demos:6k", "--out", out, *QUICK)
    assert r.returncode == 0, r.stderr
    for name in ("run.json", "bc.zip", "bc.report.json", "model.zip", "report.json", "curves.png"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "qwopkit-training-report" and report["steps"] >= 6000
    assert report["config"]["init"] == "bc" and report["config"]["schedule"] == "demos:6k"
    # --init bc clones with the preset the demos call for (the bundled bots': as recorded).
    assert json.loads((out / "bc.report.json").read_text())["preset"]["name"] == "bot"
    assert "qwop-finetune: pretraining: preset bot (the episodes: 2 recorded from a bot)" in r.stdout
    assert len(report["evaluation"]["history"]) >= 3  # every 2000 steps and at the end
    assert report["training"]["episodes"] == sum(report["curve"]["episodes"]) > 0
    assert list((out / "logs").glob("events.out.tfevents.*")) and (out / "logs" / "progress.csv").exists()
    assert "qwop-finetune: model " in r.stdout and "demonstrations: 3388 decisions in 2 episodes" in r.stdout
    assert "step 0: phase 1/1 demos:6k" in r.stdout
    # It ends with the next command (its pretraining step prints none of its own).
    assert [line for line in r.stdout.splitlines() if line.startswith("next:")] == [
        r.stdout.splitlines()[-1]] == [f"next: qwop-eval {out / 'model.zip'}"]
    assert "phase 1/1 demos:6k" in (out / "logs" / "log.txt").read_text()
    # qwop-eval reads the fine-tuned model.
    e = subprocess.run([sys.executable, "-m", "qwopkit.training.eval_cli", out / "model.zip",
                        "--episodes", "1",
                        "--deterministic"], capture_output=True, text=True, timeout=120)
    assert e.returncode == 0 and "finish rate" in e.stdout, e.stderr


def _zip_of_another_env(path: Path) -> Path:
    from stable_baselines3 import PPO

    PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16).save(path)
    return path


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    data = copy_examples(tmp_path / "data", STRIDE)
    foreign = read_episode(STRIDE[0])
    foreign.meta["observation_fields"] = [f"other{i}" for i in range(71)]
    foreign.meta["episode_index"] = 7
    write_episode(foreign, tmp_path / "foreign")
    cases = [
        (["--demos", tmp_path / "none-*.h5"], f"{tmp_path / 'none-*.h5'}: no episode files match"),
        (["--demos", data, "--schedule", "self:1X"], "--schedule: '1X' is not a number of steps"),
        (["--demos", data, "--init", tmp_path / "missing.zip"], f"{tmp_path / 'missing.zip'}: no such file"),
        (["--demos", data, "--init", _zip_of_another_env(tmp_path / "cartpole.zip")],
         "cartpole.zip: its spaces are not QWOP-v0's"),
        (["--demos", tmp_path / "foreign"], "--demos: no kept decisions"),  # after a warning naming it
        (["--demos", data, "--demo-rate", "-1"], "--demo-rate: bad value -1.0"),
        (["--demos", data, "--n-steps", "0"], "--n-steps: bad value 0"),
        (["--schedule", "demos:1M"], "--schedule: 'demos:1M' has a demos phase, but no demos were given"),
        (["--resume", tmp_path / "nothing"], "--resume: "),
    ]
    before = tree(tmp_path)
    for args, what in cases:
        r = finetune(*args, "--out", tmp_path / "out", timeout=120)
        assert r.returncode == 1, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("qwop-finetune: error: ")]
        assert len(errors) == 1 and what in errors[0], (args, lines)
        # Anything else is a one-line warning about a file skipped (here the foreign episode).
        assert all(line.startswith("qwop-finetune: warning: ") for line in lines if line not in errors)
        assert "Traceback" not in r.stderr
        assert not (tmp_path / "out").exists()
    assert tree(tmp_path) == before


def test_an_existing_run_is_never_written_over(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text('{"kind": "qwopkit-finetune-run"}')
    (out / "model.zip").write_bytes(b"precious")
    before = tree(out)
    r = finetune("--demos", *STRIDE, "--out", out)
    assert r.returncode == 1
    assert r.stderr.startswith(f"qwop-finetune: error: --out: {out} already holds a run")
    assert tree(out) == before


def test_a_run_killed_with_kill_9_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "run"
    args = ["--demos", *STRIDE, "--out", out, "--schedule", "self:4k,demos:30k", "--init", "scratch", *QUICK]
    with running_until_checkpoint(args, out, 6000, log=tmp_path / "killed.log"):
        pass  # killed with kill -9 on leaving
    latest = out / "checkpoints" / "latest.json"
    killed_at = json.loads(latest.read_text())["step"]
    assert not (out / "model.zip").exists()
    folder = out / "checkpoints" / json.loads(latest.read_text())["folder"]
    state = json.loads((folder / "state.json").read_text())
    episodes_before = len(state["progress"]["episodes"]["step"])

    r = finetune("--resume", out)
    assert r.returncode == 0, r.stderr
    assert f"resuming {out} at step {killed_at:,}" in r.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["steps"] >= 34_000
    assert report["training"]["episodes"] >= episodes_before
    history = report["evaluation"]["history"]
    assert [row["step"] for row in history] == sorted(row["step"] for row in history)
    assert any(row["step"] <= killed_at for row in history) and history[-1]["step"] >= 34_000
    assert report["config"]["schedule"] == "self:4k,demos:30k"
    # The tail of the run had its demos phase (the resumed run reloaded the demonstrations).
    csv = (out / "logs" / "progress.csv").read_text().splitlines()
    header = csv[0].split(",")
    share = [row.split(",")[header.index("replay/demo_share")] for row in csv[1:]]
    assert any(v and float(v) > 0 for v in share)
    # The figures logged before the kill are kept beside the resumed run's (SB3 starts its files afresh).
    earlier = (out / "logs" / f"progress.before-{killed_at}.csv").read_text().splitlines()
    column = earlier[0].split(",").index("time/total_timesteps")
    assert min(int(row.split(",")[column]) for row in earlier[1:]) <= killed_at
    assert (out / "logs" / f"log.before-{killed_at}.txt").stat().st_size > 0



def test_report_curve_and_best_time_at_a_wall_clock_mark():
    from qwopkit.rl.common.callbacks import EpisodeRecord, RunProgressCallback
    from qwopkit.training.report import best_time_by, build_report

    progress = RunProgressCallback()
    runs = [("fell", 5, 3), ("finished", 100, 90), ("timeout", 60, 120), ("finished", 100, 70),
            ("finished", 100, 80)]
    progress.episodes = [EpisodeRecord(step=100 * i, seconds=30.0 * i, outcome=o, distance=d, hud_time=h,
                                       reward=0.0) for i, (o, d, h) in enumerate(runs, start=1)]
    progress.seconds_before = 150.0
    report = build_report(config={}, progress=progress, evals=[], steps=500)
    assert report["training"]["first_finish_step"] == 200 and report["training"]["best_time"] == 70
    assert report["training"]["best_time_step"] == 400
    assert report["steps_per_second"] == pytest.approx(500 / 150, abs=0.05)
    curve = report["curve"]
    assert curve["step"] == [100, 200, 300, 400, 500] and curve["best_time"] == [None, 90, 90, 70, 70]
    assert best_time_by(report, 0.5) is None  # the first finish came at 60 s
    assert best_time_by(report, 1.0) == 90 and best_time_by(report, 2.0) == 70
