"""Behaviour cloning (qwopkit.imitation, qwop-pretrain) on real episodes of the stride bot.

The episodes are real runs of the bundled engine under the stride bot's key program, with a
little seeded timing jitter per episode (as key presses in real time have), written with the
dataset library's writer. Training runs are real and small (a second or two each).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qwopkit.adapter.openqwop.bots import get_bot
from qwopkit.bench.synthetic import engine_episode
from qwopkit.dataset import crossfit_mu, estimate_mu, make_split, mark, open_episode, write_episode
from qwopkit.imitation import BCConfig, bc_classifier_factory, load_demos, train_bc
from qwopkit.imitation.bc import confusion, cross_entropy
from qwopkit.rl.acer.policies import ACERPolicy, load_policy, read_model_info
from qwopkit.training.pretrain_cli import main as pretrain_main

UPDATES = 450  # 15 s of game, 150 decisions per episode
FAST = BCConfig(max_epochs=150, patience=15)


def stride_keys(rng: np.random.Generator, updates: int, jitter: float) -> np.ndarray:
    """The stride bot's keys, each phase made one update longer or shorter with probability `jitter`."""
    keys: list[int] = []
    while len(keys) < updates:
        for k, n in get_bot("stride").cycle:
            keys += [k] * (n + int(rng.choice([-1, 0, 1], p=[jitter / 2, 1 - jitter, jitter / 2])))
    return np.array(keys[:updates], np.uint8)


def write_stride_episodes(folder: Path, n: int, updates: int = UPDATES, jitter: float = 0.1,
                          player: str = "bot:stride") -> list[Path]:
    return [write_episode(engine_episode(stride_keys(np.random.default_rng(i), updates, jitter if i else 0.0),
                                         player=player, session="t", episode_index=i), folder)
            for i in range(n)]


@pytest.fixture(scope="module")
def demos_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demos")
    write_stride_episodes(folder, 5)
    return folder


@pytest.fixture(scope="module")
def pretrained(demos_dir: Path, tmp_path_factory) -> tuple[Path, int, str, str]:
    out = tmp_path_factory.mktemp("models") / "bc.zip"
    args = ["--demos", str(demos_dir / "*.h5"), "--out", str(out), "--epochs", "150", "--patience", "15",
            "--quiet"]
    return out, *_run(pretrain_main, args)


def _run(main, args: list[str], capsys=None) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------------------- the trainer
def test_train_bc_clones_the_stride_bot_and_keeps_the_best_epoch(demos_dir: Path) -> None:
    demos = load_demos(demos_dir)
    result = train_bc(demos.train_obs, demos.train_actions, demos.valid_obs, demos.valid_actions, FAST)
    loss, acc = cross_entropy(result.policy, demos.valid_obs, demos.valid_actions)
    assert acc > 0.85  # a 4-action rhythm, inferred from the runner's pose alone
    # The weights returned are those of the epoch with the lowest validation loss.
    best = min(h["valid_loss"] for h in result.history)
    assert result.history[result.best_epoch - 1]["valid_loss"] == best
    assert loss == pytest.approx(best, rel=1e-5)
    # The input standardisation was set from the training observations.
    assert np.allclose(result.policy.obs_mean.numpy(), demos.train_obs.mean(0), atol=1e-4)


def test_early_stopping_stops_patience_epochs_after_the_best(demos_dir: Path) -> None:
    demos = load_demos(demos_dir)
    config = BCConfig(lr=1e-2, max_epochs=300, patience=4)
    result = train_bc(demos.train_obs, demos.train_actions, demos.valid_obs, demos.valid_actions, config)
    assert result.stopped_early
    assert len(result.history) == result.best_epoch + config.patience < config.max_epochs


def test_training_is_reproducible_with_a_seed(demos_dir: Path) -> None:
    demos = load_demos(demos_dir)
    config = BCConfig(max_epochs=5)
    a, b = (train_bc(demos.train_obs, demos.train_actions, demos.valid_obs, demos.valid_actions, config)
            for _ in range(2))
    assert [h["valid_loss"] for h in a.history] == [h["valid_loss"] for h in b.history]


def test_confusion_counts() -> None:
    cm = confusion(np.array([0, 0, 3, 3, 3]), np.array([0, 3, 3, 3, 1]))
    assert cm.shape == (11, 11) and cm[0, 0] == 1 and cm[0, 3] == 1 and cm[3, 3] == 2 and cm[3, 1] == 1
    assert cm.sum() == 5


# ----------------------------------------------------------------------------- the data
def test_demos_are_kept_episodes_split_by_episode(tmp_path: Path) -> None:
    paths = write_stride_episodes(tmp_path, 6, updates=90)
    mark([paths[2]], kept=False, exclude_reason="test")
    demos = load_demos(tmp_path, valid_fraction=0.4, seed=3)
    train, valid = set(demos.train_episodes), set(demos.valid_episodes)
    assert not train & valid
    assert train | valid == {str(p) for i, p in enumerate(paths) if i != 2}
    assert len(valid) == 2  # round(0.4 * 5)
    assert len(demos.train_actions) == 30 * len(train) and len(demos.valid_actions) == 30 * len(valid)
    # The valid part holds exactly those episodes' decisions, in file order.
    expected = np.concatenate([open_episode(p).read("actions") for p in sorted(valid)])
    assert np.array_equal(demos.valid_actions, expected)
    # Seeded: the same seed gives the same split; other seeds give others.
    assert load_demos(tmp_path, valid_fraction=0.4, seed=3).valid_episodes == demos.valid_episodes
    assert any(load_demos(tmp_path, valid_fraction=0.4, seed=s).valid_episodes != demos.valid_episodes
               for s in range(4, 8))


def test_demos_use_a_named_split(tmp_path: Path) -> None:
    write_stride_episodes(tmp_path, 4, updates=60)
    split = make_split(tmp_path, "mine", by="episode", valid_fraction=0.5, seed=1)
    demos = load_demos(tmp_path / "*.h5", split="mine")
    assert sorted(Path(p).name for p in demos.valid_episodes) == split["valid"]
    assert sorted(Path(p).name for p in demos.train_episodes) == split["train"]
    assert demos.split["name"] == "mine"


# ----------------------------------------------------------------------------- qwop-pretrain
def test_pretrain_writes_a_model_and_its_report(pretrained, demos_dir: Path) -> None:
    out, code, stdout, stderr = pretrained
    assert code == 0, stderr
    assert "validation confusion" in stdout and "valid" in stdout
    report = json.loads(out.with_name("bc.report.json").read_text())
    assert len(report["episodes"]["train"]) == 4 and len(report["episodes"]["valid"]) == 1
    assert report["train"]["transitions"] + report["valid"]["transitions"] == 5 * 150
    assert np.array(report["valid"]["confusion"]).sum() == report["valid"]["transitions"]
    assert report["valid"]["accuracy"] > 0.85
    assert [a["action"] for a in report["per_action"]][:3] == ["none", "Q", "W"]
    # SB3's zip layout, and the model predicts what the report measured.
    with zipfile.ZipFile(out) as z:
        assert {"data", "policy.pth", "_stable_baselines3_version"} <= set(z.namelist())
    policy = load_policy(out)
    assert isinstance(policy, ACERPolicy)
    demos = load_demos(demos_dir)
    _, acc = cross_entropy(policy, demos.valid_obs, demos.valid_actions)
    assert acc == pytest.approx(report["valid"]["accuracy"], abs=1e-6)
    assert read_model_info(out)["accuracy"]["valid"] == pytest.approx(acc, abs=1e-6)


def test_pretrain_never_replaces_a_model_without_force_and_says_what_comes_next(pretrained, demos_dir,
                                                                               tmp_path) -> None:
    out, code, stdout, _ = pretrained
    assert stdout.splitlines()[-2:] == [f"next: qwop-eval {out}",
                                        f"next: qwop-finetune --demos '{demos_dir / '*.h5'}' --init {out}"]
    model = tmp_path / "bc.zip"
    model.write_bytes(b"an earlier model")
    (tmp_path / "bc.report.json").write_text("its report")
    args = ["--demos", str(demos_dir), "--out", str(model), "--epochs", "2", "--quiet"]
    code, stdout, stderr = _run(pretrain_main, args)
    assert code == 1 and stderr == (f"qwop-pretrain: error: {model}: a model is there already "
                                    "(not replaced; --force replaces it)\n")
    assert model.read_bytes() == b"an earlier model" and "valid" not in stdout  # refused before training
    code, _, stderr = _run(pretrain_main, [*args, "--force"])
    assert code == 0, stderr
    assert load_policy(model) is not None and (tmp_path / "bc.report.json").read_text() != "its report"


def test_the_preset_is_chosen_from_the_episodes_printed_and_kept_with_the_model(tmp_path: Path) -> None:
    """A person's runs get the settings that make his clone run (docs/kuro.md), a bot's are cloned
    as recorded; --preset chooses, and a flag given replaces one setting of it."""
    people, bots = tmp_path / "people", tmp_path / "bots"
    write_stride_episodes(people, 2, updates=60, player="ann")  # recorded from a person
    write_stride_episodes(bots, 2, updates=60)  # bot:stride

    def pretrain(demos: Path, *flags: str) -> tuple[str, dict]:
        out = tmp_path / f"m{len(list(tmp_path.glob('*.zip')))}.zip"
        code, stdout, stderr = _run(pretrain_main, ["--demos", str(demos), "--out", str(out), "--epochs", "2",
                                                    "--quiet", *flags])
        assert code == 0, stderr
        [line] = [line for line in stdout.splitlines() if line.startswith("qwop-pretrain: preset ")]
        report = json.loads(out.with_name(out.stem + ".report.json").read_text())
        assert read_model_info(out)["preset"] == report["preset"]
        return line, report

    line, report = pretrain(people)
    assert line == ("qwop-pretrain: preset human (the episodes: 2 recorded from a person): "
                    "--drop-settling --recovery 2 --recovery-depth 1")
    assert report["preset"]["used"] == {"drop_settling": True, "recovery": 2, "recovery_depth": 1}
    assert report["shaping"]["recovery_decisions"] > 0
    line, report = pretrain(bots)
    assert line == ("qwop-pretrain: preset bot (the episodes: 2 recorded from a bot): "
                    "--no-drop-settling --recovery 0 --recovery-depth 1")
    assert report["shaping"] == {}
    line, report = pretrain(bots, "--preset", "human", "--recovery", "0")
    assert line == ("qwop-pretrain: preset human (--preset): --drop-settling --recovery 0 "
                    "--recovery-depth 1; given on the command line: recovery")
    assert report["shaping"]["recovery_decisions"] == 0 and report["shaping"]["settling_dropped"] >= 0


def test_a_clone_of_mostly_falls_or_below_a_sane_accuracy_is_a_loud_warning(pretrained, tmp_path) -> None:
    # The card's own form on the bundled runs: the stride and shuffle runs with the three flail falls.
    examples = Path(__file__).resolve().parents[1] / "examples" / "data"
    out = tmp_path / "all.zip"
    code, stdout, stderr = _run(pretrain_main, ["--demos", str(examples / "*.h5"), "--out", str(out),
                                                "--epochs", "40", "--quiet"])
    assert code == 0, stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("qwop-pretrain: WARNING: ")]
    assert len(warnings) == 2, stderr
    assert "3 of the 6 kept episodes end in a fall" in warnings[0] and "--outcome finished" in warnings[0]
    report = json.loads(out.with_name("all.report.json").read_text())
    assert report["valid"]["accuracy"] < 0.5 and warnings[1].startswith(
        f"qwop-pretrain: WARNING: validation accuracy {report['valid']['accuracy']:.1%}")
    assert report["warnings"] == [w.removeprefix("qwop-pretrain: WARNING: ") for w in warnings]
    assert read_model_info(out)["warnings"] == report["warnings"]
    # A clone of the stride runs (97%) gets none.
    _, _, _, stderr = pretrained
    assert "WARNING" not in stderr
    assert json.loads(pretrained[0].with_name("bc.report.json").read_text())["warnings"] == []


@pytest.mark.parametrize("case", ["empty-glob", "missing-file", "not-hdf5", "one-episode", "bad-out",
                                  "bad-lr", "no-such-split"])
def test_pretrain_bad_input_is_one_line(case: str, tmp_path: Path) -> None:
    demos = tmp_path / "d"
    demos.mkdir()
    write_stride_episodes(demos, 2, updates=30)
    args = {
        "empty-glob": ["--demos", str(tmp_path / "nothing" / "*.h5")],
        "missing-file": ["--demos", str(tmp_path / "gone.h5")],
        "not-hdf5": ["--demos", str(tmp_path / "x.h5")],
        "one-episode": ["--demos", str(next(demos.glob("*.h5")))],
        "bad-out": ["--demos", str(demos), "--out", str(tmp_path / "model.pt")],
        "bad-lr": ["--demos", str(demos), "--lr", "0"],
        "no-such-split": ["--demos", str(demos), "--split", "nope"],
    }[case]
    (tmp_path / "x.h5").write_text("not an episode")
    code, _, stderr = _run(pretrain_main, [*args, "--out", str(tmp_path / "m.zip"), "--quiet"]
                           if "--out" not in args else [*args, "--quiet"])
    assert code == 1
    errors = [line for line in stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("qwop-pretrain: error: ")
    assert "Traceback" not in stderr
    where = {"empty-glob": "nothing", "missing-file": "gone.h5", "not-hdf5": "--demos",
             "one-episode": "--demos", "bad-out": "--out", "bad-lr": "--lr", "no-such-split": "nope"}[case]
    assert where in errors[0]
    if case == "not-hdf5":  # the skipped file is named by a one-line warning before the error
        assert "qwop-pretrain: warning: " in stderr and "x.h5: not a readable HDF5 file" in stderr
    assert not (tmp_path / "m.zip").exists()


# ----------------------------------------------------------------------------- mu (bc-crossfit)
def test_bc_classifier_plugs_into_crossfit_mu(demos_dir: Path) -> None:
    episodes = []
    for path in sorted(demos_dir.glob("*.h5")):
        with open_episode(path) as ep:
            episodes.append((ep.read("observations")[:-1], ep.read("actions")))
    factory = bc_classifier_factory(BCConfig(max_epochs=60, patience=10))
    mu, folds = crossfit_mu(episodes, k=2, seed=0, floor=1e-3, factory=factory)
    assert sorted(set(folds.tolist())) == [0, 1]
    for (_, actions), m in zip(episodes, mu):
        assert m.shape == (len(actions), 11)
        assert np.allclose(m.sum(1), 1.0, atol=1e-5) and m.min() >= 1e-3 * 0.99
        # Predicted by a clone that never saw this episode, yet it knows the rhythm.
        assert m[np.arange(len(actions)), actions].mean() > 0.6


def test_estimate_mu_with_the_bc_classifier_writes_its_name(tmp_path: Path) -> None:
    paths = write_stride_episodes(tmp_path, 3, updates=120)
    factory = bc_classifier_factory(BCConfig(max_epochs=20, patience=5))
    estimate_mu(tmp_path, "bc-crossfit", k=3, factory=factory)
    for path in paths:
        with open_episode(path) as ep:
            assert ep.meta["mu_method"] == "bc-crossfit"
            assert ep.meta["mu_params"]["classifier"] == "bc-mlp"
            assert ep.read("mu").shape == (40, 11)


def test_qwop_data_estimate_mu_uses_the_bc_trainer_by_default(tmp_path: Path) -> None:
    import subprocess
    import sys

    paths = write_stride_episodes(tmp_path, 3, updates=90)
    proc = subprocess.run([sys.executable, "-m", "qwopkit.commands.data", "estimate-mu", str(tmp_path),
                           "--k", "3"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for path in paths:
        with open_episode(path) as ep:
            assert ep.meta["mu_params"]["classifier"] == "bc-mlp"
