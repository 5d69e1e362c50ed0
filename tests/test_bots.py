"""Scripted players and the main job's command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qwopkit.adapter.openqwop.bots import BOTS, KeyProgram, get_bot, play
from qwopkit.adapter.openqwop.physics import O, P


def test_stride_finishes_100_m_without_falling():
    result = play(get_bot("stride"), max_updates=5400)
    assert result.status == "finished"
    assert result.distance > 98.0  # the torso is just short of the line when a foot lands past it
    assert result.hud_time < 160.0  # 155.00 s, as in the original (tests/test_physics_exact.py)


def test_flail_falls_quickly():
    result = play(get_bot("flail"))
    assert result.status == "fell" and result.hud_time < 5.0


def test_bots_are_deterministic():
    assert play(get_bot("shuffle"), 900) == play(get_bot("shuffle"), 900)


def test_key_program_plays_start_then_cycle():
    program = KeyProgram(start=((O, 2),), cycle=((P, 1), (0, 2)))
    keys = program.keys()
    assert [next(keys) for _ in range(8)] == [O, O, P, 0, 0, P, 0, 0]


def test_unknown_bot_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown bot 'nobody'; known bots: flail, shuffle, stride"):
        get_bot("nobody")
    assert set(BOTS) >= {"stride", "shuffle", "flail"}


def test_qwop_run_prints_the_run():
    out = subprocess.run([sys.executable, "-m", "qwopkit.commands.run", "--bot-only"], capture_output=True,
                         text=True, check=True).stdout
    assert "bot stride: finished" in out and "HUD time" in out
    # The finish is a foot's and the distance the torso's: a finished run reads just under 100 m.
    assert "(distance is the torso's; a run finishes when a foot lands past 100 m)" in out


def test_qwop_run_clones_the_bundled_recordings_and_evaluates(tmp_path):
    examples = Path(__file__).resolve().parents[1] / "examples" / "data"
    earlier = tmp_path / "runs" / "qwop-run-20260101-000000"  # a run before: left alone
    earlier.mkdir(parents=True)
    (earlier / "bc.zip").write_bytes(b"an earlier clone")
    proc = subprocess.run([sys.executable, "-m", "qwopkit.commands.run", "--demos",
                           str(examples / "bot_stride-*.h5"),
                           "--finetune-minutes", "0.15"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert all(f"{i}/4" in proc.stdout for i in range(1, 5))
    runs = sorted((tmp_path / "runs").glob("qwop-run-*"))
    assert len(runs) == 2 and runs[0] == earlier and (earlier / "bc.zip").read_bytes() == b"an earlier clone"
    run = runs[1]
    assert (run / "bc.zip").exists() and (run / "bc.report.json").exists() and (run / "model.zip").exists()
    assert (run / "report.json").exists() and (run / "curves.png").exists()
    assert f"model runs/{run.name}/model.zip" in proc.stdout and "mean distance" in proc.stdout
    # It ends with what to run next, and says it once (not after each of its steps).
    lines = proc.stdout.splitlines()
    assert [line for line in lines if line.startswith("next: ")] == lines[-2:]
    assert lines[-2] == f"next: qwop-eval runs/{run.name}/model.zip --watch    # its runs in the game page"
    assert lines[-1].startswith("next: qwop-finetune --demos ")


def test_each_run_gets_a_new_folder(tmp_path):
    from qwopkit.console import new_folder

    made = [new_folder(tmp_path / "runs", "x") for _ in range(3)]  # within a second or two
    assert len(set(made)) == 3 and all(Path(m).is_dir() and not any(Path(m).iterdir()) for m in made)


def test_qwop_run_without_demos_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "qwopkit.commands.run"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "--demos: no episode files match" in proc.stderr


def test_qwop_run_bad_flag_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "qwopkit.commands.run", "--bot", "nobody"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "--bot: unknown bot 'nobody'" in proc.stderr and "Traceback" not in proc.stderr
