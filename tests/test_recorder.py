"""The recorder: run boundaries (unit), and qwop-record end to end under Xvfb with real keys."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import psutil
import pytest

from qwopkit.adapter.openqwop import Engine, O, P, Q, W
from qwopkit.adapter.openqwop.host import Tick
from qwopkit.dataset import read_episode, validate_file
from qwopkit.recorder.session import RunRecorder, next_episode_index
from qwopkit.recorder.verify import resimulate

from leftovers import SESSION_MARK, describe, entries, marked_processes, wait_for_no_marked_processes

BROWSER = Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()
needs_browser = pytest.mark.skipif(not BROWSER, reason="needs /usr/bin/chromium and /usr/bin/chromedriver")


def ticks_of(run: int, keys: list[int]) -> list[Tick]:
    """The ticks a host would publish for one run played with `keys` (spawn tick first)."""
    engine = Engine()
    out = [Tick(run, 0, 0, engine.state(), engine.status, 0.0)]
    for n, k in enumerate(keys, start=1):
        status = engine.update(k)
        out.append(Tick(run, n, k, engine.state(), status, 0.0))
        if status != "running":
            break
    return out


# ----------------------------------------------------------------------------- unit: RunRecorder
def test_a_fall_is_written_at_once(tmp_path):
    recorder = RunRecorder(tmp_path, "ann", "s1")
    results = [recorder.on_tick(t) for t in ticks_of(1, ([Q | P] * 12 + [W | O] * 12) * 5)]
    assert results[-1] == "written" and results.count("written") == 1
    [path] = recorder.summary.files
    assert path.name == "ann-s1-0000.h5"
    episode = read_episode(path)
    assert episode.meta["outcome"] == "fell" and episode.meta["player"] == "ann"
    assert resimulate(path).max_deviation == 0.0


def test_each_written_run_is_reported_as_one_line(tmp_path):
    lines = []
    recorder = RunRecorder(tmp_path, "ann", "s1", time_limit=300, on_written=lines.append)
    for tick in ticks_of(1, [0] * 400) + ticks_of(2, ([Q | P] * 12 + [W | O] * 12) * 5):
        recorder.on_tick(tick)
    assert [line.split(",")[0] for line in lines] == ["run 1: timeout", "run 2: fell"]
    fell = read_episode(tmp_path / "ann-s1-0001.h5").meta
    assert lines[1] == (f"run 2: fell, {fell['distance']:.1f} m in {fell['hud_time']:.2f} s HUD time "
                        "-> ann-s1-0001.h5")
    assert lines[0].endswith(" m in 10.00 s HUD time -> ann-s1-0000.h5")
    assert recorder.summary.line().startswith("2 runs (0 finished, 1 fell, 1 timed out, 0 aborted)")
    assert recorder.summary.line().endswith("; 2 files written")


def test_a_finished_run_says_whose_distance_it_is(tmp_path):
    from qwopkit.recorder.session import plural, run_line

    line = run_line(3, "finished", 99.4, 48.2, tmp_path / "a.h5")
    assert line == ("run 3: finished, 99.4 m in 48.20 s HUD time (distance is the torso's; a run "
                    "finishes when a foot lands past 100 m) -> a.h5")
    assert [plural(n, "run") for n in (0, 1, 2)] == ["0 runs", "1 run", "2 runs"]


def test_a_decision_takes_the_keys_held_longest_and_ties_go_to_the_first_held():
    from qwopkit.adapter.features import ACTION_NAMES
    from qwopkit.adapter.openqwop import run_keys
    from qwopkit.recorder.decisions import episode_from_updates

    def actions(keys: list[int], frame_skip: int) -> list[str]:
        episode = episode_from_updates(run_keys(keys), np.array(keys), player="p", session="s",
                                       episode_index=0, frame_skip=frame_skip, outcome="timeout")
        return [ACTION_NAMES[a] for a in episode.actions]

    assert actions([Q, W, W, O, O, P], 3) == ["W", "O"]  # held longest
    assert actions([Q, Q, W, W, W, W, Q, Q], 4) == ["Q", "W"]  # a tie: Q was held first
    assert actions([W, W, Q, Q], 4) == ["W"]  # the same tie, the other way round
    assert actions([O, P, Q | P], 3) == ["O"]  # three-way tie: the first
    assert actions([Q | W, Q, P, P, O], 3) == ["QW", "P"]  # ties; the last decision is short (P, O)
    assert actions([O | P, O | P, O], 3) == ["OP"]


def test_time_limit_writes_a_timeout_and_asks_for_a_restart(tmp_path):
    recorder = RunRecorder(tmp_path, "ann", "s1", time_limit=30)
    results = [recorder.on_tick(t) for t in ticks_of(1, [0] * 100)]
    assert results.index("restart") == 30  # the tick of update 30
    assert read_episode(recorder.summary.files[0]).meta["outcome"] == "timeout"


def test_a_restart_keeps_the_cut_run_as_aborted_unless_dropped(tmp_path):
    for drop, expected in ((False, ["aborted"]), (True, [])):
        folder = tmp_path / str(drop)
        recorder = RunRecorder(folder, "ann", "s1", drop_aborted=drop)
        for tick in ticks_of(1, [O] * 20) + ticks_of(2, [])[:1]:
            recorder.on_tick(tick)
        assert [read_episode(p).meta["outcome"] for p in recorder.summary.files] == expected
        assert recorder.recording  # run 2 has begun


def test_runs_not_seen_from_their_spawn_are_not_recorded(tmp_path):
    recorder = RunRecorder(tmp_path, "ann", "s1")
    for tick in ticks_of(1, [Q] * 10)[5:]:
        recorder.on_tick(tick)
    assert not recorder.recording and recorder.end_run("aborted") is None


def test_runs_before_first_run_are_ignored(tmp_path):
    recorder = RunRecorder(tmp_path, "ann", "s1", first_run=1)
    for tick in ticks_of(0, [O] * 20):
        assert recorder.on_tick(tick) is None
    assert not recorder.recording and recorder.summary.runs == 0
    recorder.on_tick(ticks_of(1, [])[0])
    assert recorder.recording


def test_episode_numbers_continue_after_existing_files(tmp_path):
    (tmp_path / "ann-s1-0000.h5").write_bytes(b"x")
    (tmp_path / ".ann-s1-0001.0badc0de.h5.tmp").write_bytes(b"x")  # left by a kill -9
    assert next_episode_index(tmp_path, "ann", "s1") == 2
    assert next_episode_index(tmp_path, "bob", "s1") == 0


# ----------------------------------------------------------------------------- end to end
def start_recorder(display: str, out: Path, *args: str, env: dict[str, str] | None = None
                   ) -> subprocess.Popen:
    env = dict(os.environ, DISPLAY=display, PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "qwopkit.recorder.cli", "--out", str(out), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()  # printed once the page is live and the first run started
    if "recording" not in line:
        proc.kill()
        pytest.fail(f"qwop-record did not start: {line!r} {proc.stderr.read()}")
    proc.first_line = line  # type: ignore[attr-defined]
    return proc


def xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), check=True)


def key_changes(keys: np.ndarray) -> list[tuple[int, int]]:
    """(update index, new mask) wherever the held mask changes, starting from 0."""
    changes, held = [], 0
    for i, k in enumerate(keys):
        if k != held:
            changes.append((i, int(k)))
            held = k
    return changes


@needs_browser
def test_typed_keys_are_recorded_in_order_and_resimulate_exactly(x_display, tmp_path):
    # Each step holds its keys for >= 0.2 s (6 updates), so none can fall between two updates.
    script = [("q", "down", 0.3), ("p", "down", 0.25), ("q", "up", 0.2), ("o", "down", 0.3),
              ("p", "up", 0.2), ("o", "up", 0.2), ("w", "down", 0.25), ("w", "up", 0.3)]
    proc = start_recorder(x_display, tmp_path, "--player", "typist", "--episodes", "1",
                          "--time-limit", "4")
    typed, held, started = [], 0, time.monotonic()
    for key, kind, pause in script:
        xdotool(x_display, "keydown" if kind == "down" else "keyup", key)
        bit = {"q": Q, "w": W, "o": O, "p": P}[key]
        held = held | bit if kind == "down" else held & ~bit
        typed.append((time.monotonic() - started, held))
        time.sleep(pause)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    [path] = sorted(tmp_path.glob("*.h5"))
    episode = read_episode(path)
    outcome = episode.meta["outcome"]
    assert outcome in ("timeout", "fell")
    changes = key_changes(episode.keys)
    # Nothing lost, nothing reordered: the log's sequence of masks is exactly the typed one.
    assert [mask for _, mask in changes] == [mask for _, mask in typed[: len(changes)]]
    assert len(changes) == len(typed) or episode.meta["outcome"] == "fell"
    # Timing: the gaps between changes match the typed gaps within 3 updates (100 ms).
    log_gaps = np.diff([u for u, _ in changes]) / 30.0
    typed_gaps = np.diff([t for t, _ in typed[: len(changes)]])
    assert np.abs(log_gaps - typed_gaps).max() <= 3 / 30 + 0.01
    assert resimulate(path).max_deviation == 0.0
    counts = "0 finished, 0 fell, 1 timed out" if outcome == "timeout" else "0 finished, 1 fell"
    assert f"qwop-record: 1 run ({counts}" in out
    assert f"qwop-record: run 1: {outcome}, " in out  # a line as the run was written


@needs_browser
def test_bot_session_writes_runs_that_validate(x_display, tmp_path):
    proc = start_recorder(x_display, tmp_path, "--bot", "flail", "--episodes", "2", "--headless")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert proc.first_line.rstrip().endswith("R restarts, Esc or Ctrl-C ends")  # --headless: no window
    paths = sorted(tmp_path.glob("*.h5"))
    session = read_episode(paths[0]).meta["session"]
    assert [p.name for p in paths] == [f"bot_flail-{session}-0000.h5", f"bot_flail-{session}-0001.h5"]
    for path in paths:
        validate_file(path)
        assert read_episode(path).meta["outcome"] == "fell"
        assert resimulate(path).max_deviation == 0.0
    assert "2 runs (0 finished, 2 fell" in out


@needs_browser
def test_r_restarts_and_keeps_the_cut_run_as_aborted(x_display, tmp_path):
    proc = start_recorder(x_display, tmp_path, "--player", "ann", "--episodes", "2",
                          "--time-limit", "1.5")
    xdotool(x_display, "keydown", "o")
    time.sleep(0.5)
    xdotool(x_display, "keyup", "o")
    xdotool(x_display, "key", "r")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    outcomes = [read_episode(p).meta["outcome"] for p in sorted(tmp_path.glob("*.h5"))]
    assert outcomes == ["aborted", "timeout"]


@needs_browser
def test_escape_ends_the_session(x_display, tmp_path):
    proc = start_recorder(x_display, tmp_path, "--player", "ann", "--drop-aborted")
    time.sleep(0.5)
    xdotool(x_display, "key", "Escape")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "0 runs" in out and not list(tmp_path.glob("*.h5"))  # the cut run was dropped


@needs_browser
def test_ctrl_c_writes_the_current_run_as_aborted(x_display, tmp_path):
    proc = start_recorder(x_display, tmp_path, "--bot", "shuffle")
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    [path] = sorted(tmp_path.glob("*.h5"))
    episode = read_episode(path)
    assert episode.meta["outcome"] == "aborted" and episode.meta["hud_time"] > 1.0
    assert resimulate(path).max_deviation == 0.0
    assert "Traceback" not in err


@needs_browser
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (apt-get install xvfb)")
def test_ctrl_c_under_xvfb_run_ends_cleanly_whatever_dies_first(tmp_path, request):
    """A terminal's Ctrl-C signals the whole group: `xvfb-run`'s Xvfb ends with the recorder, and
    often first. The recorder still writes the run, summarises and exits 0, with no trace.
    xvfb-run's own status says nothing of the recorder's here (its clean-up fails to kill the
    Xvfb the signal already ended: 1 under bash, 130 under dash), so a shell inside reports it."""
    out = tmp_path / "data"
    # xvfb-run under dash dies of the signal before its clean-up: its folder goes with this one.
    # (A short folder: Chromium's socket path must stay under 108 bytes.)
    tmp = Path(tempfile.mkdtemp(prefix="xr-"))
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    env = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(tmp))
    env.pop("DISPLAY", None)
    record = shlex.join([sys.executable, "-m", "qwopkit.recorder.cli", "--bot", "stride", "--headless",
                         "--out", str(out)])
    proc = subprocess.Popen(["xvfb-run", "-a", "bash", "-c", f'{record}; echo "exit status $?"'], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "recording bot stride" in line, (line, proc.stderr and proc.stderr.read())
        time.sleep(1.5)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert "Traceback" not in stderr and "Exception" not in stderr, stderr
    lines = stdout.splitlines()
    assert lines[-1] == "exit status 0", (stdout, stderr)
    assert lines[-4].startswith("qwop-record: 1 run (0 finished, 0 fell, 0 timed out, 1 aborted)"), stdout
    assert lines[-3] == f"next: qwop-app --data {out}    # look at the runs, keep or exclude them"
    [path] = out.glob("*.h5")
    assert read_episode(path).meta["outcome"] == "aborted"
    # Nothing of the group is left: not the recorder, Xvfb, chromedriver nor Chromium.
    deadline = time.monotonic() + 10
    while (left := [p for p in psutil.process_iter(["pid"]) if _group(p) == proc.pid]) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [describe(p) for p in left]


def _group(process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


def test_without_a_display_the_recorder_names_xvfb_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run([sys.executable, "-m", "qwopkit.recorder.cli", "--bot", "stride", "--out",
                           str(tmp_path)], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == ["qwop-record: error: no X display (DISPLAY is not set): run it on a "
                                        "desktop, or on a virtual display with `xvfb-run -a qwop-record ...`"]


@needs_browser
def test_kill_9_loses_only_the_run_in_progress_and_leaves_no_browser(x_display, tmp_path, request):
    # The recorder's own processes carry a mark of this test, and its temporary files go to a
    # folder of this test, so that what it leaves behind can be told from everything else.
    # (A short folder: Chromium's socket path must stay under 108 bytes.)
    mark, tmp = f"{os.environ[SESSION_MARK]}/kill-9-{uuid.uuid4()}", Path(tempfile.gettempdir()) / "kill9"
    tmp.mkdir()
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    out = tmp_path / "data"
    proc = start_recorder(x_display, out, "--bot", "shuffle", "--time-limit", "1",
                          env={SESSION_MARK: mark, "TMPDIR": str(tmp)})
    assert len(marked_processes(mark)) >= 3  # the recorder, chromedriver, Chromium's processes
    assert any(name.startswith("qwopkit-chromium-") for name in entries(tmp))
    deadline = time.monotonic() + 20
    while len(list(out.glob("*.h5"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # well inside the next run
    proc.kill()  # kill -9 of the recorder alone: no chance to quit its browser
    proc.wait(10)
    # Its watchdog ends chromedriver and every Chromium process, and removes their folder.
    left = wait_for_no_marked_processes(mark, timeout=10)
    assert not left, [describe(p) for p in left]
    assert entries(tmp) == []
    written = sorted(out.glob("*.h5"))
    assert len(written) >= 2
    for path in written:  # every run finished before the kill is a valid file
        validate_file(path)
        assert read_episode(path).meta["outcome"] == "timeout"
    # The interrupted run left no file under a final name (at most a hidden temporary one).
    leftovers = [p.name for p in out.iterdir() if p not in written]
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers)


def test_bad_flags_are_one_line_errors(tmp_path):
    for args, message in ((["--episodes", "0", "--player", "a"], "--episodes must be at least 1"),
                          (["--bot", "nobody"], "--bot: unknown bot 'nobody'"),
                          ([], "--player is required"),
                          (["--bot", "stride", "--keys", "page"], "needs --keys pynput")):
        proc = subprocess.run([sys.executable, "-m", "qwopkit.recorder.cli", "--out", str(tmp_path), *args],
                              capture_output=True, text=True)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


@needs_browser
def test_page_keys_mode_records_the_pages_key_events(x_display, tmp_path):
    # The Chromium window has the focus on the bare X server, so xdotool's keys reach the page,
    # and only the page's events (not a global listener) drive the game.
    proc = start_recorder(x_display, tmp_path, "--keys", "page", "--player", "ann", "--episodes", "1",
                          "--time-limit", "3")
    xdotool(x_display, "keydown", "p")
    time.sleep(0.4)
    xdotool(x_display, "keyup", "p")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    [path] = sorted(tmp_path.glob("*.h5"))
    keys = read_episode(path).keys
    assert set(np.unique(keys)) == {0, P}
    assert 9 <= int((keys == P).sum()) <= 15  # 0.4 s is 12 updates; one or two either side
    assert resimulate(path).max_deviation == 0.0
