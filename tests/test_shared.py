"""The shared pieces: the one atomic writer, leftovers, the error funnel, one-way imports."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from qwopkit.atomic import (
    atomic_open,
    atomic_write,
    clean_leftovers,
    folder_lock,
    leftovers,
    temp_path,
    temp_writer_pid,
    write_json_atomic,
)
from qwopkit.bench.synthetic import engine_episode, random_keys, synthetic_episode
from qwopkit.commands.data import main as qwop_data_main
from qwopkit.console import run_console
from qwopkit.dataset import DatasetParameterError, EpisodeError, EpisodeWarning, smoothed_mu, write_episode
from qwopkit.errors import InputError, ParameterError


def test_atomic_write_publishes_whole_files_or_nothing(tmp_path):
    target = tmp_path / "sub" / "model.zip"
    with atomic_write(target) as tmp:
        assert tmp.parent == target.parent
        assert tmp.name.startswith(".model.") and tmp.name.endswith(".zip.tmp")
        assert temp_writer_pid(tmp) == os.getpid()
        tmp.write_bytes(b"first")
        assert not target.exists()  # nobody sees it before it is complete
    assert target.read_bytes() == b"first"
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash while writing")
    assert target.read_bytes() == b"first" and os.listdir(target.parent) == ["model.zip"]
    with pytest.raises(FileExistsError), atomic_write(target, overwrite=False) as tmp:
        tmp.write_bytes(b"other")
    assert target.read_bytes() == b"first" and os.listdir(target.parent) == ["model.zip"]
    with atomic_open(tmp_path / "r.json", "w") as fh:
        fh.write("{}")
    write_json_atomic(tmp_path / "s.json", {"b": 1, "a": [1, 2]})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": [1, 2], "b": 1}
    assert sorted(os.listdir(tmp_path)) == ["r.json", "s.json", "sub"]


def test_leftovers_are_those_of_writers_that_are_gone(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    crashed = tmp_path / f".run-s-0003.{dead_pid}-0123abcd.h5.tmp"
    crashed.write_bytes(b"cut short")
    live = temp_path(tmp_path / "run-s-0004.h5")  # this process: still writing it
    live.write_bytes(b"in progress")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        theirs = tmp_path / f".marks.{other.pid}-89abcdef.json.tmp"
        theirs.write_text("{")
        unrelated = tmp_path / ".notes.tmp"
        unrelated.write_text("x")
        assert leftovers(tmp_path) == [crashed]
        assert clean_leftovers(tmp_path) == [crashed]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, theirs.name, unrelated.name])
    finally:
        other.kill()
        other.wait()
    assert clean_leftovers(tmp_path) == [theirs]  # its writer is gone now


def test_validate_clean_and_the_recorder_remove_leftovers(tmp_path):
    from qwopkit.recorder.session import RunRecorder

    episode = synthetic_episode(np.random.default_rng(0), player="p", session="s", index=0, steps=3)
    path = write_episode(episode, tmp_path, fsync=False)
    dead = tmp_path / f".p-s-0001.{_dead_pid()}-00000000.h5.tmp"
    dead.write_bytes(b"x")
    code, out, _ = _qwop_data("validate", "--clean", tmp_path)
    assert code == 0
    assert out.splitlines() == [f"removed {dead} (left by a writer that is gone)", "1 valid, 0 invalid"]
    dead.write_bytes(b"x")
    recorder = RunRecorder(tmp_path, "p", "s")
    assert recorder.removed == [dead] and not dead.exists() and path.exists()


def _dead_pid() -> int:
    r = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                       text=True, check=True)
    return int(r.stdout)


def test_folder_lock_serialises(tmp_path):
    with folder_lock(tmp_path, "marks.json"):
        assert (tmp_path / ".marks.json.lock").exists()
        with pytest.raises(TimeoutError), folder_lock(tmp_path, "marks.json", timeout=0.1):
            pass


def _qwop_data(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        code = qwop_data_main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def test_the_funnel_names_flags_files_and_parameters(tmp_path, capsys):
    def fails(exc):
        def body():
            raise exc
        return body

    assert run_console("x", fails(ParameterError("eps", "must be small")), flags={"eps": "--eps"}) == 1
    assert capsys.readouterr().err == "x: error: --eps: must be small\n"
    assert run_console("x", fails(InputError("a.h5", "broken"))) == 1
    assert capsys.readouterr().err == "x: error: a.h5: broken\n"
    assert run_console("x", fails(FileNotFoundError(2, "No such file or directory", "m.zip"))) == 1
    assert capsys.readouterr().err == "x: error: m.zip: No such file or directory\n"
    assert run_console("x", fails(ValueError("bad\nsecond line")), where="cmd") == 1
    assert capsys.readouterr().err == "x: error: cmd: bad\n"
    assert run_console("x", fails(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "x: interrupted\n"

    def warns():
        warnings.warn("f.h5: skipped", EpisodeWarning, stacklevel=1)
        return 0

    assert run_console("x", warns) == 0
    assert capsys.readouterr().err == "x: warning: f.h5: skipped\n"
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        run_console("x", fails(ZeroDivisionError()))


def test_an_exists_error_names_the_flag_that_replaces(capsys):
    from qwopkit.errors import ExistsError

    def body():
        raise ExistsError("data/splits.json", "split 's1' exists")

    assert str(ExistsError("f.h5")) == "f.h5: already exists (not replaced)"  # a library's words
    assert run_console("qwop-data", body, flags={"overwrite": "--force"}) == 1
    assert capsys.readouterr().err == ("qwop-data: error: data/splits.json: split 's1' exists "
                                       "(not replaced; --force replaces it)\n")
    assert run_console("qwop-x", body) == 1  # a command without such a flag says no more
    assert capsys.readouterr().err == "qwop-x: error: data/splits.json: split 's1' exists (not replaced)\n"


def test_command_output_does_not_colour_digits_inside_names(monkeypatch):
    from qwopkit.console import output_console

    monkeypatch.setenv("FORCE_COLOR", "1")  # as on a terminal
    console = output_console()
    assert console.is_terminal
    with console.capture() as captured:
        console.print("train episodes: bot_flail-example-0000.h5, runs/qwop-run-20261201/model.zip")
    assert captured.get() == "train episodes: bot_flail-example-0000.h5, runs/qwop-run-20261201/model.zip\n"


def test_library_errors_name_parameters_and_clis_name_flags(tmp_path):
    with pytest.raises(DatasetParameterError) as info:
        smoothed_mu(np.zeros(2, np.int64), eps=1.5)
    assert info.value.where == "eps" and isinstance(info.value, EpisodeError)  # still an EpisodeError
    write_episode(engine_episode(random_keys(np.random.default_rng(0), 30)), tmp_path)
    code, _, err = _qwop_data("estimate-mu", tmp_path, "--method", "smoothed", "--eps", "1.5")
    assert code == 1 and err == "qwop-data: error: --eps: must be in [0, 1), got 1.5\n"
    code, _, err = _qwop_data("ls", tmp_path, "--query", "steps >")
    assert code == 1 and err.startswith("qwop-data: error: --query: bad expression")
    code, _, err = _qwop_data("split", "s", tmp_path, "--valid", "1.5")
    assert code == 1 and err.startswith("qwop-data: error: --valid: must be in [0, 1)")


def test_replay_is_a_gate(tmp_path):
    recorded = write_episode(engine_episode(random_keys(np.random.default_rng(1), 60)), tmp_path)
    imported = synthetic_episode(np.random.default_rng(0), player="imp", session="s", index=0, steps=4,
                                 with_state=False)
    imported.meta.update(imported=True, game="qwop-original", outcome="unknown")
    code, out, _ = _qwop_data("replay", recorded)
    assert code == 0 and "max deviation 0" in out
    path = write_episode(imported, tmp_path)
    code, out, _ = _qwop_data("replay", tmp_path)
    assert code == 1 and f"{path}: not replayed: no raw state" in out
    assert out.strip().endswith("1 replayed (max deviation 0), 1 not replayed")


def test_the_dataset_library_loads_no_game_and_no_learner():
    code = ("import sys, qwopkit.dataset as d; d.to_transitions; "
            "bad = [m for m in ('Box2D', 'torch', 'stable_baselines3', 'selenium', 'qwopkit.adapter', "
            "'qwopkit.recorder', 'qwopkit.imitation', 'qwopkit.rl', 'minari') if m in sys.modules]; "
            "print(bad); print(hasattr(d, 'resimulate'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # (resimulate lives in qwopkit.recorder.verify: the dataset's alias of it went with issue 19)
    assert r.stdout.splitlines() == ["[]", "False"]


def test_import_contracts_hold():
    import shutil
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    beside = Path(sys.executable).parent / "lint-imports"
    lint = str(beside) if beside.exists() else shutil.which("lint-imports")
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    r = subprocess.run([lint, "--no-cache"], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:]
    contracts = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"{len(contracts)} kept, 0 broken" in r.stdout
