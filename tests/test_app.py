"""The Streamlit app's logic through Streamlit's AppTest: filters, marking, undo, splits, export,
bad files, and the data folder's boundary. Real episode files in a temporary folder; the app's
script runs exactly as `streamlit run app.py -- --data DIR` runs it (AppTest executes the script).
The real server in a real browser is tests/test_app_browser.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from qwopkit.app import marking
from qwopkit.app.folder import DataFolder, UnsafePathError
from qwopkit.app.overview import Filters, apply_filters
from qwopkit.bench.synthetic import engine_episode, random_keys, synthetic_episode
from qwopkit.dataset import EpisodeError, read_episode, read_marks, read_splits, write_episode

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"


def write_folder(folder: Path) -> dict[str, Path]:
    """Five episodes (two players, a bot, an imported run), a damaged file and a link outside."""
    rng = np.random.default_rng(0)
    out = {}
    for i, (player, n) in enumerate((("ann", 150), ("ann", 400), ("bob", 250), ("bot-stride", 300))):
        ep = engine_episode(random_keys(rng, n), player=player, session="s1", episode_index=i)
        out[player + str(i)] = write_episode(ep, folder, fsync=False)
    imported = synthetic_episode(rng, player="kuro", session="try1", index=0, steps=40, with_state=False)
    imported.meta.update(imported=True, outcome="unknown", game="qwop-original", start_time="")
    out["kuro"] = write_episode(imported, folder, fsync=False)
    (folder / "damaged.h5").write_bytes(b"not an HDF5 file at all")
    outside = folder.parent / f"{folder.name}-outside"
    outside.mkdir()
    secret = write_episode(engine_episode(random_keys(rng, 60), player="eve", session="x", episode_index=0),
                           outside, fsync=False)
    (folder / "link-outside.h5").symlink_to(secret)
    out["secret"] = secret
    return out


@pytest.fixture
def folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    files = write_folder(data)
    return data, files


@pytest.fixture
def app(folder, monkeypatch):
    """The app on the folder; AppTest runs the script in this process, with these arguments."""
    data, _ = folder
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(data)])
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest):
    return at.dataframe(key="table").value


def tick(at: AppTest, files: list[str]) -> None:
    """Tick rows of the overview's table (as a click on their boxes does) and rerun."""
    shown = table(at)["file"].tolist()
    at.session_state["table"] = {"selection": {"rows": [shown.index(f) for f in files], "columns": [],
                                               "cells": []}}
    at.run()


def show(at: AppTest, view: str) -> None:
    at.radio(key="view").set_value(view).run()
    assert not at.exception, at.exception


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# ----------------------------------------------------------------------------- overview
def test_overview_lists_every_file_and_bad_ones_are_error_rows(app, folder):
    df = table(app)
    assert len(df) == 7
    by_file = df.set_index("file")
    assert "not a readable HDF5 file" in by_file.loc["damaged.h5", "error"]
    assert "outside the data folder" in by_file.loc["link-outside.h5", "error"]
    good = df[df["error"] == ""]
    assert sorted(good["player"]) == ["ann", "ann", "bob", "bot-stride", "kuro"]
    assert dict(zip(good["player"], good["source"])) == {"ann": "recorded", "bob": "recorded",
                                                         "bot-stride": "bot", "kuro": "imported"}
    assert not errors(app)
    assert any("7 of 7 files shown; 5 episodes, 2 files that cannot be read" in c.value for c in app.caption)


def test_filters_and_search(app):
    app.multiselect(key="f:player").set_value(["ann"]).run()
    assert sorted(table(app)["player"]) == ["ann", "ann"]  # error rows have no player: filtered out
    app.multiselect(key="f:player").set_value([]).run()
    app.multiselect(key="f:source").set_value(["bot", "imported"]).run()
    assert sorted(table(app)["player"]) == ["bot-stride", "kuro"]
    app.multiselect(key="f:source").set_value([]).run()
    app.multiselect(key="f:outcome").set_value(["error"]).run()
    assert sorted(table(app)["file"]) == ["damaged.h5", "link-outside.h5"]
    app.multiselect(key="f:outcome").set_value([]).run()
    app.text_input(key="f:search").input("BOB").run()
    assert table(app)["player"].tolist() == ["bob"]
    app.text_input(key="f:search").input("signature").run()  # searches the error text too
    assert table(app)["file"].tolist() == ["damaged.h5"]
    app.text_input(key="f:search").input("").run()
    times = table(app)["hud_time"].dropna()
    low = float(np.floor(times.median()))
    app.slider(key="f:hud_time").set_range(low, 120.0).run()
    expected = int((times >= low).sum())
    assert 0 < expected < 7 and len(table(app)) == expected and (table(app)["hud_time"] >= low).all()
    # Filters keep their values while another view is shown.
    show(app, "Curate")
    show(app, "Overview")
    assert app.slider(key="f:hud_time").value == (low, 120.0) and len(table(app)) == expected


def test_apply_filters_distance_range_and_tags(folder):
    import pandas as pd

    df = pd.DataFrame({"file": ["a", "b", "c", "x"], "player": ["p", "p", "q", ""],
                       "outcome": ["fell", "finished", "unknown", ""], "kept": [True, False, True, None],
                       "tags": [["clean"], [], ["clean", "odd"], []], "distance": [1.0, 99.0, np.nan, np.nan],
                       "hud_time": [2.0, 100.0, np.nan, np.nan],
                       "source": ["bot", "recorded", "imported", ""],
                       "session": "s", "exclude_reason": "", "note": "", "mu_method": "smoothed",
                       "error": ["", "", "", "broken"]})
    assert apply_filters(df, Filters())["file"].tolist() == ["a", "b", "c", "x"]
    assert apply_filters(df, Filters(distance=(0.0, 50.0)))["file"].tolist() == ["a"]
    assert apply_filters(df, Filters(tags=["odd", "missing"]))["file"].tolist() == ["c"]
    assert apply_filters(df, Filters(kept="excluded"))["file"].tolist() == ["b"]
    assert apply_filters(df, Filters(outcomes=["fell", "error"]))["file"].tolist() == ["a", "x"]
    assert apply_filters(df, Filters(split_part={"b", "c"}))["file"].tolist() == ["b", "c"]


# ----------------------------------------------------------------------------- marking and undo
def test_marking_a_selection_writes_marks_and_undo_restores_them(app, folder):
    data, files = folder
    ann = [files["ann0"].name, files["ann1"].name]
    tick(app, ann)
    assert app.session_state["selection"] == ann
    app.text_input(key="overview:reason").input("wobbly start")
    app.button(key="overview:exclude").click().run()
    assert not app.exception and not errors(app)
    marks = read_marks(data)
    assert {n: (marks[n]["kept"], marks[n]["exclude_reason"]) for n in ann} == \
        {n: (False, "wobbly start") for n in ann}
    assert table(app).set_index("file").loc[ann, "kept"].tolist() == [False, False]  # shown at once

    app.text_input(key="overview:tags").input("short, ann")
    app.button(key="overview:add").click().run()
    app.selectbox(key="overview:rating").set_value(4)
    app.button(key="overview:rate").click().run()
    marks = read_marks(data)
    assert [marks[n]["tags"] for n in ann] == [["short", "ann"]] * 2 and marks[ann[0]]["rating"] == 4
    for name in ann:  # the episode files themselves are never written
        assert read_episode(data / name, marks=False).meta["kept"] is True

    # Undo, one change at a time, newest first: rating, then tags, then the exclusion.
    assert app.button(key="sidebar:undo").label.startswith("Undo: rated 4")
    app.button(key="sidebar:undo").click().run()
    assert read_marks(data)[ann[0]]["rating"] == 0 and read_marks(data)[ann[0]]["tags"] == ["short", "ann"]
    app.button(key="sidebar:undo").click().run()
    app.button(key="sidebar:undo").click().run()
    marks = read_marks(data)
    assert all(marks[n]["kept"] and marks[n]["exclude_reason"] == "" and marks[n]["tags"] == [] for n in ann)
    assert app.button(key="sidebar:undo").disabled
    assert not errors(app)


def test_marking_from_the_episode_view_and_a_bad_rating_is_one_line(app, folder):
    data, files = folder
    name = files["bob2"].name
    app.session_state["episode"] = name
    show(app, "Episode")
    key = f"episode:{name}"
    app.text_input(key=f"{key}:note").input("good arm swing")
    app.button(key=f"{key}:setnote").click().run()
    assert read_marks(data)[name]["note"] == "good arm swing"
    app.button(key=f"{key}:exclude").click().run()
    assert read_marks(data)[name]["kept"] is False
    assert any(m.value == "excluded" for m in app.metric)
    # Marking fails as one line when the file cannot be checked; nothing is written for it.
    with pytest.raises(EpisodeError):
        marking.apply(DataFolder(data), ["damaged.h5"], kept=True)
    assert "damaged.h5" not in read_marks(data)


def test_undo_groups_files_and_restores_each_ones_own_marks(folder):
    data, files = folder
    df = DataFolder(data)
    a, b, c = files["ann0"].name, files["ann1"].name, files["bob2"].name
    marking.apply(df, [a], add_tags=["x"], rating=2)
    marking.apply(df, [b], exclude_reason="late start", note="n")
    change = marking.apply(df, [a, b, c], add_tags=["batch"], kept=True, rating=5, note="")
    marks = read_marks(data)
    assert all(marks[n]["rating"] == 5 and "batch" in marks[n]["tags"] and marks[n]["kept"]
               for n in (a, b, c))
    marking.undo(df, change)
    marks = read_marks(data)
    assert (marks[a]["tags"], marks[a]["rating"], marks[a]["kept"]) == (["x"], 2, True)
    assert (marks[b]["kept"], marks[b]["exclude_reason"], marks[b]["note"], marks[b]["tags"]) == \
        (False, "late start", "n", [])
    assert (marks[c]["tags"], marks[c]["rating"]) == ([], 0)


# ----------------------------------------------------------------------------- the folder's boundary
def test_names_outside_the_data_folder_are_refused(folder, tmp_path):
    data, files = folder
    df = DataFolder(data)
    (tmp_path / "secret.h5").write_bytes(b"x")
    (data / "sub").mkdir()
    (data / "linkdir").symlink_to(tmp_path)
    for name in ("../secret.h5", str(tmp_path / "secret.h5"), "/etc/passwd", "sub/../../secret.h5",
                 "link-outside.h5", "linkdir/secret.h5", "..", "", "a\x00b", "C:\\secret.h5"):
        with pytest.raises(EpisodeError):
            df.episode(name)
    for name in ("../elsewhere", "/tmp/export", "linkdir", "linkdir/x", "exports/../../x"):
        with pytest.raises(UnsafePathError):
            df.inside(name)
    assert df.inside("exports/today") == data / "exports" / "today"
    assert df.episode(files["bob2"].name) == data / files["bob2"].name


def test_the_address_cannot_open_a_file_outside_the_folder(folder, monkeypatch):
    data, files = folder
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(data)])
    for name in ("../data-outside/" + files["secret"].name, str(files["secret"]), "link-outside.h5"):
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.query_params["view"] = "Episode"
        at.query_params["episode"] = name
        at.run()
        assert not at.exception
        assert any("episode from the address" in e for e in errors(at)), errors(at)
        assert at.selectbox(key="episode").value != name  # the view shows one of the folder's own


def test_exports_stay_inside_the_folder(app, folder):
    data, files = folder
    names = [files["ann0"].name, files["bob2"].name]
    tick(app, names)
    show(app, "Curate")
    app.radio(key="curate:target").set_value(app.radio(key="curate:target").options[0]).run()
    app.text_input(key="export:copy").input("../escaped")
    app.button(key="FormSubmitter:curate:copy-form-Copy 2 episodes").click().run()
    assert any("'..' is not allowed" in e for e in errors(app))
    assert not (data.parent / "escaped").exists()
    app.text_input(key="export:copy").input("exports/two")
    app.button(key="FormSubmitter:curate:copy-form-Copy 2 episodes").click().run()
    assert not errors(app), errors(app)
    assert sorted(p.name for p in (data / "exports" / "two").glob("*.h5")) == sorted(names)
    app.text_input(key="export:minari-root").input("minari")
    app.button(key="FormSubmitter:curate:minari-form-Export 2 episodes to Minari").click().run()
    assert not errors(app), errors(app)
    assert (data / "minari" / "qwopkit" / "demos-v0" / "data" / "main_data.hdf5").exists()
    # Nothing in the data folder was deleted or changed by any of it.
    for name in names:
        assert read_episode(data / name).steps > 0


# ----------------------------------------------------------------------------- splits
def test_splits_are_made_shown_and_filter_the_overview(app, folder):
    data, _ = folder
    show(app, "Curate")
    app.radio(key="curate:target").set_value(app.radio(key="curate:target").options[2]).run()
    app.text_input(key="split:name").input("by-player")
    app.radio(key="split:by").set_value("player")
    app.number_input(key="split:valid").set_value(0.3)
    app.button(key="FormSubmitter:curate:split-form-Make split of 5 episodes").click().run()
    assert not errors(app), errors(app)
    split = read_splits(data)["by-player"]
    assert split["by"] == "player" and len(split["train"]) + len(split["valid"]) == 5
    [shown] = [d.value for d in app.dataframe if "split" in d.value.columns]
    assert shown["split"].tolist() == ["by-player"] and shown["train"].tolist() == [len(split["train"])]
    # Making it again without "replace" is refused, with one line.
    app.button(key="FormSubmitter:curate:split-form-Make split of 5 episodes").click().run()
    assert any("already a split named 'by-player'" in e for e in errors(app))
    app.checkbox(key="split:overwrite").check()
    app.number_input(key="split:seed").set_value(3)
    app.button(key="FormSubmitter:curate:split-form-Make split of 5 episodes").click().run()
    split = read_splits(data)["by-player"]
    assert not errors(app) and split["seed"] == 3
    show(app, "Overview")
    app.selectbox(key="f:split").set_value("by-player: valid").run()
    assert sorted(table(app)["file"]) == sorted(split["valid"])


# ----------------------------------------------------------------------------- damaged sidecars, views
def test_a_damaged_marks_file_is_one_line_and_the_rows_still_show(folder, monkeypatch):
    data, _ = folder
    (data / "marks.json").write_text("{ not json", encoding="utf-8")
    (data / "splits.json").write_text("[]", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(data)])
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("unreadable marks file" in e for e in errors(at))
    assert len(table(at)) == 7
    show(at, "Curate")
    assert any("splits" in e and "not a JSON object" in e for e in errors(at))


def test_every_view_draws_an_imported_run_and_a_recorded_one(app, folder):
    _, files = folder
    app.session_state["episode"] = files["kuro"].name
    show(app, "Episode")
    assert any("drawn from its 71 recorded features" in c.value for c in app.caption)
    app.selectbox(key="episode").set_value(files["ann1"].name).run()
    assert not app.exception and any("from the recorded states" in c.value for c in app.caption)
    tick_names = [files["ann1"].name, files["kuro"].name]
    show(app, "Overview")
    tick(app, tick_names)
    app.button(key="overview:compare").click().run()
    assert app.radio(key="view").value == "Compare"
    assert app.multiselect(key="compare").value == tick_names
    [summary] = [d.value for d in app.dataframe if "episode" in d.value.columns]
    assert summary["episode"].tolist() == tick_names


def test_a_missing_data_folder_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(tmp_path / "nowhere")])
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception and errors(at) == [f"--data: {tmp_path / 'nowhere'}: no such folder"]
    proc = subprocess.run([sys.executable, "-m", "qwopkit.app.cli", "--data", str(tmp_path / "nowhere")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "qwop-app: error: --data:" in proc.stderr
    assert "Traceback" not in proc.stderr
    # Without --data: data/ of the current folder (where qwop-record writes); not there yet, it says
    # where the runs come from and where the bundled ones are.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    [line] = errors(at)
    assert line.startswith("--data: there is no data/ folder here yet: qwop-record writes runs into it")
    assert "qwop-app --data examples/data" in line
    proc = subprocess.run([sys.executable, "-m", "qwopkit.app.cli"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.splitlines()[-1] == f"qwop-app: error: {line}"


# ----------------------------------------------------------------------------- no torch, no learners
def test_the_app_imports_neither_torch_nor_the_learners(folder, tmp_path):
    """Every view drawn in a fresh interpreter where importing torch or a learner fails."""
    data, files = folder
    script = textwrap.dedent(f"""
        import sys
        from importlib.abc import MetaPathFinder

        BANNED = ("torch", "stable_baselines3", "qwopkit.imitation", "qwopkit.rl", "tensorboard")

        class Ban(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.startswith(BANNED):
                    raise ImportError(f"the app must not import {{name}}")
                return None

        sys.meta_path.insert(0, Ban())
        sys.argv = ["app.py", "--data", {str(data)!r}]
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(APP)!r}, default_timeout=60).run()
        at.session_state["episode"] = {files["ann1"].name!r}
        at.session_state["compare"] = [{files["ann1"].name!r}, {files["kuro"].name!r}]
        for view in ("Overview", "Episode", "Compare", "Curate"):
            at.radio(key="view").set_value(view).run()
            assert not at.exception, (view, at.exception)
        loaded = sorted(m for m in sys.modules if m.startswith(BANNED))
        print("loaded:", loaded)
        assert not loaded
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "loaded: []" in proc.stdout
    assert json.dumps(read_marks(data)) == "{}"  # drawing the views wrote nothing


# ----------------------------------------------------------------------------- no file opened twice
def test_a_page_load_opens_each_file_at_most_once_and_a_cached_one_none(folder, monkeypatch):
    import h5py

    data, files = folder
    opened: list[str] = []

    class CountingFile(h5py.File):
        def __init__(self, name, *args, **kwargs):
            opened.append(str(name))
            super().__init__(name, *args, **kwargs)

    monkeypatch.setattr(h5py, "File", CountingFile)
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(data)])
    AppTest.from_file(str(APP), default_timeout=60).run()  # first look at the folder
    readable = {str(data / n) for n in (p.name for p in files.values() if p.parent == data)}
    assert set(opened) == readable | {str(data / "damaged.h5")}
    assert len(opened) == len(set(opened))  # none twice
    assert not any("outside" in p or p == str(files["secret"]) for p in opened)  # the link is not followed

    opened.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()  # another page load, nothing changed
    assert opened == []
    at.session_state["episode"] = files["ann1"].name
    at.radio(key="view").set_value("Episode").run()
    assert opened == [str(files["ann1"])]


# ----------------------------------------------------------------------------- imported runs
def test_imported_runs_are_drawn_from_their_features():
    """The features hold every body's pose relative to the torso: rebuilt states draw the same runner."""
    from qwopkit.adapter.features import seed_observation, states_from_seed_observations
    from qwopkit.adapter.openqwop.engine import run_keys
    from qwopkit.adapter.openqwop.layout import BODY_FIELDS, STATE_INDEX
    from qwopkit.adapter.openqwop.physics import BODY_NAMES

    states = run_keys(random_keys(np.random.default_rng(1), 90), 0)
    rebuilt = states_from_seed_observations(seed_observation(states), states[:, STATE_INDEX["torso.x"]],
                                            distance=states[:, STATE_INDEX["distance"]], keys=7)
    pose = [STATE_INDEX[f"{b}.{f}"] for b in BODY_NAMES for f in BODY_FIELDS[:3]]
    assert np.abs(rebuilt[:, pose] - states[:, pose]).max() < 1e-5  # float32 features
    assert np.array_equal(rebuilt[:, STATE_INDEX["distance"]], states[:, STATE_INDEX["distance"]])
    assert (rebuilt[:, STATE_INDEX["keys"]] == 7).all() and not rebuilt[:, STATE_INDEX["fallen"]].any()


def test_the_table_fits_a_1400_pixel_window_unless_every_column_is_asked_for(app):
    from qwopkit.app.overview import COLUMNS, DEFAULT_COLUMNS, TABLE_WIDTH

    shown = list(table(app).columns)
    assert "error" in shown and set(shown) == {*DEFAULT_COLUMNS, "error"}  # the folder has a bad file
    assert sum(COLUMNS[c]["width"] for c in shown) <= TABLE_WIDTH
    app.toggle(key="overview:all-columns").set_value(True).run()
    assert set(table(app).columns) == set(COLUMNS)


def test_an_imported_runs_replay_lasts_its_hud_time(seed_demos, tmp_path):
    """The seed's recorder took 3.39 updates per decision, not 3: the replay goes at the pace of
    the HUD time the import inferred, so that it lasts what the header says."""
    from qwopkit.app.data import load_run

    subprocess.run([sys.executable, "-m", "qwopkit.commands.data", "import-npz",
                    str(seed_demos / "kuro_try1.npz"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    run = load_run(DataFolder(tmp_path), "kuro-try1-0000.h5")
    lasts = (len(run.replay_states) - 1) / run.replay_fps
    assert run.meta["hud_time"] > 60 and lasts == pytest.approx(run.meta["hud_time"], rel=1e-6)
    assert run.time[-1] == pytest.approx(run.meta["hud_time"], rel=1e-6)


def test_qwop_app_listens_on_this_machine_only_unless_told():
    from qwopkit.app.cli import build_parser, streamlit_argv

    def address(*argv: str) -> str:
        args = build_parser().parse_args(["--data", ".", *argv])
        command = streamlit_argv(args)
        return command[command.index("--server.address") + 1]

    assert address() == "127.0.0.1"
    assert address("--address", "0.0.0.0") == "0.0.0.0"
    from qwopkit.app.shell import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("") and not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert 'address = "127.0.0.1"' in config  # what `streamlit run app.py` reads from the checkout


def test_an_empty_folder_shows_every_view_without_errors(monkeypatch, tmp_path):
    import warnings

    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(tmp_path)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # e.g. numpy's "all-NaN" on no rows
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        assert any("0 of 0 files shown" in c.value for c in at.caption)
        for view in ("Episode", "Compare", "Curate", "Overview"):
            show(at, view)
            assert not errors(at)


def test_qwop_app_starts_without_a_terminal(tmp_path):
    """Started in the background (no terminal, stdin closed, a user who never ran Streamlit),
    qwop-app serves the folder without a first-run email prompt or a usage-statistics notice;
    stopped, it leaves nothing running."""
    import signal
    import socket
    import time
    import urllib.request

    from qwopkit.app.cli import build_parser, streamlit_argv

    # Wherever it starts (a browser window or not), Streamlit is told not to prompt.
    for argv in ([], ["--no-browser"]):
        command = streamlit_argv(build_parser().parse_args(["--data", ".", *argv]))
        assert command[command.index("--server.showEmailPrompt") + 1] == "false"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path / "home"  # no ~/.streamlit/credentials.toml: Streamlit's first run
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    log = tmp_path / "log.txt"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "qwopkit.app.cli", "--data",
                                 str(ROOT / "examples" / "data"), "--port", str(port)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=tmp_path,  # not the checkout's .streamlit/config.toml
                                start_new_session=True)
    try:
        answer = b""
        while proc.poll() is None and answer != b"ok":
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    answer = r.read().strip()
            except OSError:
                time.sleep(0.2)
        assert answer == b"ok", f"exit code {proc.returncode}: {log.read_text()[-2000:]}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    output = log.read_text()
    assert "Email" not in output and "usage statistics" not in output.lower(), output
    assert "Traceback" not in output, output
    assert not (home / ".streamlit" / "credentials.toml").exists(), output


# ----------------------------------------------------------------------------- damaged folders and names
def test_a_symlink_loop_in_the_folder_is_a_row_with_a_note_and_every_view_works(folder, monkeypatch):
    data, files = folder
    (data / "a.h5").symlink_to(data / "b.h5")
    (data / "b.h5").symlink_to(data / "a.h5")
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(data)])
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    by_file = table(at).set_index("file")
    assert all("symbolic links" in by_file.loc[name, "error"] for name in ("a.h5", "b.h5"))
    at.session_state["episode"] = files["ann1"].name
    at.session_state["compare"] = [files["ann1"].name, files["bob2"].name]
    for view in ("Episode", "Compare", "Curate", "Overview"):
        show(at, view)
    with pytest.raises(EpisodeError):
        DataFolder(data).episode("a.h5")
    with pytest.raises(UnsafePathError):
        DataFolder(data).inside("a.h5/x")


def test_an_episode_of_no_decisions_draws_in_the_episode_view(folder, monkeypatch):
    data, _ = folder
    empty = write_episode(engine_episode(np.zeros(0, np.uint8), player="zed", session="s1", episode_index=0),
                          data, fsync=False)
    assert read_episode(empty).steps == 0  # a legal episode
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(data)])
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.session_state["episode"] = empty.name
    show(at, "Episode")
    assert any(m.value == "0" for m in at.metric)
    assert any("no decisions" in i.value for i in at.info)


def test_an_overlong_episode_name_in_the_address_is_one_line(folder, monkeypatch):
    data, _ = folder
    monkeypatch.setattr(sys, "argv", ["app.py", "--data", str(data)])
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["view"] = "Episode"
    at.query_params["episode"] = "x" * 300 + ".h5"
    at.run()
    assert not at.exception, at.exception
    [line] = [e for e in errors(at) if "episode from the address" in e]
    assert "longer than 255 bytes" in line


def test_an_export_folder_nested_thousands_deep_is_refused_at_once(app, folder):
    data, files = folder
    tick(app, [files["ann0"].name])
    show(app, "Curate")
    app.radio(key="curate:target").set_value(app.radio(key="curate:target").options[0]).run()
    app.text_input(key="export:copy").input("/".join(["d"] * 2000))
    app.button(key="FormSubmitter:curate:copy-form-Copy 1 episodes").click().run()
    assert not app.exception, app.exception
    assert any("nested deeper than" in e for e in errors(app)), errors(app)
    assert not (data / "d").exists()


def test_a_minari_id_that_is_a_path_is_refused_before_any_folder_is_made(app, folder):
    data, files = folder
    tick(app, [files["ann0"].name])
    show(app, "Curate")
    app.radio(key="curate:target").set_value(app.radio(key="curate:target").options[0]).run()
    before = sorted(p.name for p in data.parent.iterdir())
    app.text_input(key="export:minari-id").input(f"{data.parent}/x/demos-v0")
    app.button(key="FormSubmitter:curate:minari-form-Export 1 episodes to Minari").click().run()
    assert not app.exception, app.exception
    assert any("not a Minari dataset id" in e for e in errors(app)), errors(app)
    assert sorted(p.name for p in data.parent.iterdir()) == before and not (data / "minari").exists()
