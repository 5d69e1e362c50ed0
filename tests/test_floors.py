"""Issue 19's promises: the move changed no result, old zips and old import paths still work, and
the floors hold at run time as well as in import-linter's static graph."""

from __future__ import annotations

import ast
import csv
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def _short_finetune(out: Path) -> tuple[dict, list[dict[str, str]]]:
    """The fine-tune whose logged figures tests/data/finetune-before-issue19.json holds (written by
    the same configuration on the layout before the move): demonstrations in the replay for 2k
    steps, then 2k steps of self-play, with replay updates and an evaluation."""
    from qwopkit.training.finetune import FinetuneConfig, run_finetune

    config = FinetuneConfig(out=str(out), demos=[str(ROOT / "examples/data/bot_stride-*.h5")], init="scratch",
                            schedule="demos:2k,self:2k", n_envs=2, seed=3, eval_every=3000, eval_episodes=1,
                            checkpoint_every=10**9, time_limit=20.0,
                            acer={"replay_start": 100, "buffer_size": 400, "n_steps": 10})
    result = run_finetune(config, log=lambda line: None)
    with open(out / "logs" / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return result.report, rows


@pytest.mark.slow
def test_the_same_seed_gives_the_same_learning_curve_as_before_the_move(tmp_path):
    before = json.loads((DATA / "finetune-before-issue19.json").read_text())
    report, rows = _short_finetune(tmp_path / "run")
    assert len(rows) == len(before["rows"])
    for row, old in zip(rows, before["rows"]):
        for column, value in zip(before["columns"], old):
            got = row.get(column, "")
            if value == "" or got == "":
                assert got == value, column
            else:  # (floats through CSV text; torch's CPU kernels may differ in the last bits elsewhere)
                assert float(got) == pytest.approx(float(value), rel=1e-4, abs=1e-6), column
    # The steps and outcomes of the evaluations are the same too (their wall-clock seconds are not).
    keep = ("step", "finish_rate", "mean_distance", "best_distance", "falls")
    assert [{k: e[k] for k in keep} for e in report["evaluation"]["history"]] == \
        pytest.approx([{k: e[k] for k in keep} for e in before["evaluations"]["history"]], rel=1e-6)


def test_zips_written_before_the_move_still_load():
    from qwopkit.rl.acer import ACER, load_policy

    figures = json.loads((DATA / "zips-before-issue19.json").read_text())
    obs = np.asarray(figures["observations"], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our loaders read the old class path without a warning
        model = ACER.load(DATA / "acer-before-issue19.zip", device="cpu")
        clone = load_policy(DATA / "bc-before-issue19.zip")
    assert type(model.policy).__module__ == "qwopkit.rl.acer.policies"
    np.testing.assert_allclose(model.action_probabilities(obs), figures["acer_probs"], atol=1e-5)
    np.testing.assert_allclose(clone.action_probabilities(obs), figures["bc_probs"], atol=1e-5)  # type: ignore[attr-defined]


def _run(code: str) -> list[str]:
    return subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True,
                          check=True).stdout.splitlines()


def test_old_import_paths_work_for_a_release_with_a_deprecation_warning():
    code = ("import warnings; warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    from qwopkit.rl.policies import ACERPolicy\n"
            "    from qwopkit.rl.policy import ACERPolicy as Again\n"
            "    from qwopkit.rl.finetune import run_finetune\n"
            "    from qwopkit.rl import FinetuneConfig\n"
            "    from qwopkit.rl import ACER\n"
            "print(ACERPolicy.__module__, Again is ACERPolicy, run_finetune.__module__)\n"
            "for w in caught: print(w.category.__name__, str(w.message).split(';')[0])\n")
    lines = _run(code)
    assert lines[0] == "qwopkit.rl.acer.policies True qwopkit.training.finetune"
    assert lines[1:] == ["DeprecationWarning qwopkit.rl.policies moved to qwopkit.rl.acer.policies",
                         "DeprecationWarning qwopkit.rl.policy moved to qwopkit.rl.acer.policies",
                         "DeprecationWarning qwopkit.rl.finetune moved to qwopkit.training.finetune",
                         "DeprecationWarning qwopkit.rl.FinetuneConfig moved to qwopkit.training.finetune."
                         "FinetuneConfig"]  # and none for ACER, which is where it was


def test_the_floors_hold_at_run_time():
    light = ("'gymnasium', 'torch', 'stable_baselines3', 'Box2D', 'selenium', 'websockets', "
             "'qwopkit.adapter', 'qwopkit.rl', 'qwopkit.training'")
    dataset, = _run(f"import sys, qwopkit.dataset; print([m for m in ({light}) if m in sys.modules])")
    assert dataset == "[]"
    # The app shows runs without the learners, the physics engine or the game's host.
    app, = _run("import sys, qwopkit.app.data, qwopkit.app.replay, qwopkit.app.overview; print([m for m in "
                "('torch', 'stable_baselines3', 'qwopkit.rl', 'qwopkit.imitation', 'websockets', "
                "'qwopkit.adapter.openqwop.engine', 'qwopkit.adapter.openqwop._physics', "
                "'qwopkit.adapter.openqwop.host') if m in sys.modules])")
    assert app == "[]"
    # The algorithm imports without any application.
    acer, = _run("import sys, qwopkit.rl.acer; print(sorted({m.split('.')[1] for m in sys.modules "
                 "if m.startswith('qwopkit.')}))")
    assert set(eval(acer)) <= {"rl", "errors", "atomic", "version", "spaces", "adapter", "dataset", "console"}
    # The environments are still registered by `import qwopkit`, in either order with gymnasium.
    first, = _run("import qwopkit, gymnasium as gym; print(gym.spec('qwopkit/QWOP-v0').id)")
    then, = _run("import gymnasium as gym, qwopkit; print(gym.spec('qwopkit/QWOP-original-v0').id)")
    assert (first, then) == ("qwopkit/QWOP-v0", "qwopkit/QWOP-original-v0")


def _prints_or_exits(path: Path) -> list[str]:
    """print() calls, sys.exit() calls, SystemExit raised and argparse imported, in `path`'s code."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            found.append(f"print() at line {node.lineno}")
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "sys.exit":
            found.append(f"sys.exit() at line {node.lineno}")
        elif isinstance(node, ast.Raise) and node.exc is not None and "SystemExit" in ast.unparse(node.exc):
            found.append(f"raise SystemExit at line {node.lineno}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and "argparse" in ast.unparse(node):
            found.append(f"import argparse at line {node.lineno}")
    return found


def test_no_library_or_algorithm_module_prints_or_exits():
    """Only commands print or exit: the library and the algorithms raise errors naming parameters."""
    allowed = {
        "qwopkit/dataset/cli.py",  # qwop-data's own command: the dataset's top layer (its contract)
        # Progress on stderr while a long operation runs, switched on by the caller (as tqdm is).
        "qwopkit/dataset/progress.py",
    }
    offenders = []
    for folder in ("adapter", "dataset", "rl", "imitation"):
        for path in sorted((ROOT / "qwopkit" / folder).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if name not in allowed:
                offenders += [f"{name}: {what}" for what in _prints_or_exits(path)]
    assert offenders == []
    # The check can fail: a command module is caught.
    assert _prints_or_exits(ROOT / "qwopkit/training/pretrain_cli.py")


def test_moved_modules_still_find_what_lies_beside_them(monkeypatch, tmp_path):
    """Paths computed from a module's own place (the seed's data beside the checkout, the app's
    script) moved with the modules: each still names the same place."""
    from qwopkit.bench.app import SCRIPT
    from qwopkit.bench.fidelity import default_seed_demos
    from qwopkit.rl.common.seed_models import default_seed_models

    monkeypatch.delenv("QWOPKIT_SEED_DEMOS", raising=False)
    monkeypatch.delenv("QWOPKIT_SEED_MODELS", raising=False)
    monkeypatch.chdir(tmp_path)  # no data/seed-demos here
    assert default_seed_demos() == ROOT.resolve().parent / "shared" / "data" / "seed-demos"
    assert default_seed_models() == ROOT.resolve().parent / "shared" / "data" / "seed-models"
    assert SCRIPT == ROOT / "qwopkit" / "app" / "streamlit_app.py" and SCRIPT.is_file()
