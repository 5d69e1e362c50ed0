"""The game page in a real headless Chromium, driven through the Selenium bridge.

Everything here is real: the host's asyncio clock and WebSocket, Chromium, chromedriver, and key
events dispatched by Selenium to the page. The page's state is checked against the host's, and
the host's key log against a fresh engine (the game is deterministic).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import psutil
import pytest

from qwopkit.adapter.browser import CHROMEDRIVER, CHROMIUM, BrowserGame, open_browser
from qwopkit.adapter.openqwop.engine import Engine, run_keys
from qwopkit.adapter.openqwop.host import GameHost, Tick, replay_html
from qwopkit.adapter.openqwop.layout import STATE_SIZE

from leftovers import SESSION_MARK, describe, entries, marked_processes, wait_for_no_marked_processes

MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
SKIP_REASON = "needs Chromium and chromedriver; missing: " + " ".join(MISSING)
pytestmark = [pytest.mark.browser, pytest.mark.skipif(bool(MISSING), reason=SKIP_REASON)]

# Screenshots go to pytest's temporary folder, so a test run leaves nothing behind; set
# QWOPKIT_SCREENSHOTS=docs/img to refresh the pictures in the docs.


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return Path(os.environ.get("QWOPKIT_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))


@pytest.fixture(scope="module")
def driver():
    d = open_browser(headless=True, width=1280, height=720)
    yield d
    d.quit()


@pytest.fixture
def host():
    h = GameHost(port=0, seed=0)
    ticks = h.subscribe()  # before start: the log begins with run 0's spawn state (update 0)
    h.start()
    h.ticks = ticks
    yield h
    h.stop()


@pytest.fixture
def game(driver, host):
    g = BrowserGame(driver, host.url)
    g.wait_until_connected(timeout=15)
    yield g
    g.release_all()


def drain(q: queue.Queue[Tick]) -> list[Tick]:
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def wait_updates(host: GameHost, n: int, timeout: float = 10.0) -> None:
    """Let the host run `n` more updates (measured in game updates, not wall time)."""

    def latest() -> int:
        tick = host.latest()
        assert tick is not None  # the host has started
        return tick.update

    start = latest()
    deadline = time.monotonic() + timeout
    while latest() < start + n:
        assert time.monotonic() < deadline, f"host did not reach {n} more updates in {timeout} s"
        time.sleep(0.01)


def replay_length(driver) -> int:
    return driver.execute_script("return window.qwopAdapter ? qwopAdapter.replay.length() : -1;")


def test_page_serves_and_connects(host, game):
    assert game.version == "openqwop-page/1"
    assert game.connected
    assert game.status() == "running"
    state = game.state()
    assert len(state["state"]) == STATE_SIZE
    assert state["hud_time"] == pytest.approx(state["updates"] / 30)
    assert game.keys_held() == 0
    # Plain HTTP on the same port: the page's files, the geometry, and nothing outside web/.
    with urllib.request.urlopen(host.url + "qwop.js") as r:
        assert "qwopAdapter" in r.read().decode()
    with urllib.request.urlopen(host.url + "geometry.json") as r:
        assert len(json.load(r)["bodies"]) == 12
    for bad in ("nope.txt", "..%2Fhost.py", "../host.py"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(host.url + bad)
        assert err.value.code == 404


def test_keys_from_the_page_drive_the_game_deterministically(host, game):
    # Q, then Q+P, then P, then nothing: real key events on the page, held for whole updates.
    game.key_down("q")
    game.wait_for(lambda: game.keys_held() == 1, 5, "Q to be held")
    assert host.keys == 1
    wait_updates(host, 15)
    game.key_down("p")
    game.wait_for(lambda: game.keys_held() == 9, 5, "Q+P to be held")
    wait_updates(host, 10)
    game.key_up("q")
    game.wait_for(lambda: game.keys_held() == 8, 5, "only P to be held")
    wait_updates(host, 10)
    game.key_up("p")
    game.wait_for(lambda: game.keys_held() == 0, 5, "no key to be held")
    wait_updates(host, 5)
    page = game.state()

    ticks = [t for t in drain(host.ticks) if t.run == 0]
    assert [t.update for t in ticks] == list(range(len(ticks)))  # no update missed or repeated
    masks = [t.keys for t in ticks[1:]]
    runs = [m for i, m in enumerate(masks) if i == 0 or m != masks[i - 1]]
    assert runs[-4:] == [1, 9, 8, 0], runs
    assert masks.count(1) >= 15 and masks.count(9) >= 10 and masks.count(8) >= 10

    # The same keys in a fresh engine give bit-identical states.
    replayed = run_keys(masks, seed=0)
    assert np.array_equal(replayed, np.stack([t.state for t in ticks]))

    # The page shows exactly the host's state for the update it reports.
    by_update = {t.update: t for t in ticks}
    assert page["run"] == 0 and page["updates"] in by_update
    host_state = by_update[page["updates"]].state
    assert np.array_equal(np.asarray(page["state"], dtype=float), host_state)
    assert page["distance"] == host_state[-5] and page["hud_time"] == host_state[-4]
    assert page["keys"] == host_state[-3]


def test_host_ticks_at_30_updates_per_second(host, game):
    drain(host.ticks)
    first = game.state()["updates"]
    t0 = time.monotonic()
    time.sleep(2.0)
    elapsed = time.monotonic() - t0
    page_rate = (game.state()["updates"] - first) / elapsed
    ticks = drain(host.ticks)
    host_rate = (len(ticks) - 1) / (ticks[-1].time - ticks[0].time)
    assert 25 <= host_rate <= 35, host_rate
    assert 25 <= page_rate <= 35, page_rate


def test_fall_and_restart_with_r(host, game):
    game.key_down("o")  # holding O alone topples the runner in under 2 s
    game.wait_for(lambda: game.status() == "fell", 10, "the runner to fall")
    game.key_up("o")
    fell_at = game.state()["updates"]
    game.restart()
    game.wait_for(lambda: (game.state() or {}).get("run") == 1, 5, "the restart")
    page = game.state()
    assert game.status() == "running" and page["updates"] < fell_at
    ticks = drain(host.ticks)
    spawn = next(t for t in ticks if t.run == 1)
    assert spawn.update == 0 and spawn.status == "running"
    assert np.array_equal(spawn.state, Engine().state())  # a restart is a fresh spawn


def test_programmatic_keys_show_on_the_page(host, game):
    host.set_keys(2 | 4)
    game.wait_for(lambda: game.keys_held() == 6, 5, "W+O set from Python to show on the page")
    wait_updates(host, 3)
    assert game.state()["keys"] == 6
    host.release("w")
    game.wait_for(lambda: game.keys_held() == 4, 5, "W released from Python")
    host.set_keys(0)


def test_replay_mode_draws_a_recorded_run(driver, host, tmp_path):
    states = run_keys([1] * 20 + [10] * 20, seed=0)
    game = BrowserGame(driver, host.url)
    game.wait_until_connected(timeout=15)
    assert driver.execute_script("return qwopReplay(arguments[0]);", {"states": states.tolist()}) == 41
    driver.execute_script("qwopAdapter.replay.seek(30);")
    assert driver.execute_script("return qwopAdapter.mode;") == "replay"
    page = game.state()
    assert page["updates"] == 30 and np.array_equal(np.asarray(page["state"], dtype=float), states[30])
    assert game.keys_held() == 10

    # index.html?replay=URL, here a data: URL, on the host's page.
    data = "data:application/json," + urllib.parse.quote(json.dumps({"states": states[:3].tolist()}))
    game.open(host.url + "?replay=" + urllib.parse.quote(data, safe=""))
    game.wait_for(lambda: replay_length(driver) == 3, 10, "the replay from a URL")

    # A self-contained replay document (what the Streamlit app can embed) works without a host.
    doc = tmp_path / "replay.html"
    doc.write_text(replay_html(states), encoding="utf-8")
    game.open(doc.as_uri())
    game.wait_for(lambda: replay_length(driver) == 41, 10, "the replay document")
    driver.execute_script("qwopAdapter.replay.seek(40);")
    assert np.array_equal(np.asarray(game.state()["state"], dtype=float), states[40])


TORSO_BLUE = (0x2F, 0x62, 0xB0)  # qwop.js COLOURS.torso (no other drawing uses it)
LIT_KEY = (0xFF, 0xD2, 0x4A)  # a held key's indicator


def page_picture(driver, path: Path) -> tuple[np.ndarray, dict]:
    """The screenshot as an (H, W, 3) array and the canvas's size and place on the page."""
    from PIL import Image

    canvas = driver.execute_script(
        "const c = document.querySelector('canvas'); const r = c.getBoundingClientRect();"
        "return {w: c.width, h: c.height, left: r.left, top: r.top, dpr: window.devicePixelRatio};")
    assert canvas["dpr"] == 1  # canvas pixels are screenshot pixels
    return np.asarray(Image.open(path).convert("RGB")), canvas


def check_the_runner_is_drawn_where_the_state_says(picture: np.ndarray, canvas: dict, *states: list) -> None:
    """The torso's blue pixels lie around the torso's place on the screen (qwop.js: the camera
    keeps the torso at 40% of the width; the ground's top is at 74% of the height; H/30 pixels
    per unit) and cover a share of its box (the arms and a thigh drawn in front hide most).

    A live game moves on while the picture is taken: give the states read just before and just
    after, and the torso may be anywhere between them."""
    from qwopkit.adapter.openqwop.layout import STATE_INDEX
    from qwopkit.adapter.openqwop.physics import BODIES, GROUND_TOP_Y

    w, h = canvas["w"], canvas["h"]
    scale = h / 30
    x = canvas["left"] + 0.4 * w
    places = [canvas["top"] + (s[STATE_INDEX["torso.y"]] - GROUND_TOP_Y) * scale + 0.74 * h for s in states]
    low, high = min(places), max(places)
    torso = BODIES[0]
    assert torso.name == "torso"
    ys, xs = np.nonzero(np.all(picture == TORSO_BLUE, axis=-1))
    assert len(xs) > 0.15 * torso.width * torso.height * scale ** 2, len(xs)
    reach = np.hypot(torso.width, torso.height) / 2 * scale + 3  # the box's corners, turned any way
    off_y = np.maximum(np.maximum(low - ys, ys - high), 0)  # how far outside the torso's range
    assert np.hypot(xs - x, off_y).max() <= reach, (np.hypot(xs - x, off_y).max(), reach)
    assert abs(xs.mean() - x) < 1.5 * scale and low - 1.5 * scale < ys.mean() < high + 1.5 * scale


def key_lit(picture: np.ndarray, canvas: dict, index: int) -> bool:
    """Whether the HUD's indicator of key `index` (Q W O P) is lit: a corner of its box (qwop.js)."""
    scale = canvas["h"] / 30
    x = canvas["left"] + 0.8 * scale + index * 2.6 * scale + 0.3 * scale
    y = canvas["top"] + 0.8 * scale + 0.3 * scale
    return tuple(picture[int(y), int(x)]) == LIT_KEY


def test_screenshot_of_the_game_page(host, game, shots):
    game.key_down("q")
    wait_updates(host, 12)
    game.key_up("q")
    game.set_keys(2 | 8)  # W+P held when the picture is taken, so the HUD shows lit keys
    game.wait_for(lambda: game.keys_held() == 10, 5, "W+P to be held")
    wait_updates(host, 10)
    time.sleep(0.1)  # let the page draw the latest frame
    before = game.state()["state"]
    game.screenshot(shots / "game-page.png")
    after = game.state()["state"]
    picture, canvas = page_picture(game.driver, shots / "game-page.png")
    check_the_runner_is_drawn_where_the_state_says(picture, canvas, before, after)
    assert [key_lit(picture, canvas, i) for i in range(4)] == [False, True, False, True]  # W and P


def test_screenshot_of_a_replay(driver, host, shots):
    from itertools import islice

    from qwopkit.adapter.openqwop.bots import get_bot

    keys = list(islice(get_bot("stride").keys(), 480))  # the bot passes 10 m after ~470 updates
    states = run_keys(keys, seed=0)
    game = BrowserGame(driver, host.url)
    game.wait_until_connected(timeout=15)
    driver.execute_script("qwopReplay(arguments[0]);", {"states": states.tolist()})
    driver.execute_script("qwopAdapter.replay.seek(476);")
    page = game.state()
    assert page["distance"] > 10 and page["state"] == states[476].tolist()
    time.sleep(0.1)
    game.screenshot(shots / "game-replay.png")
    picture, canvas = page_picture(driver, shots / "game-replay.png")
    check_the_runner_is_drawn_where_the_state_says(picture, canvas, page["state"])
    held = int(states[476][-3])  # the keys held at that update, lit in the HUD
    assert [key_lit(picture, canvas, i) for i in range(4)] == [bool(held & b) for b in (1, 2, 4, 8)]


# ----------------------------------------------------------------------------- a kill as the driver starts
OPENER = """
import time
from qwopkit.adapter.browser import open_browser
driver = open_browser(headless=True)
time.sleep(120)
"""


@pytest.mark.parametrize("delay_ms", [0, 2, 5, 10])
def test_a_kill_as_chromedriver_starts_leaves_no_browser(delay_ms, request):
    """kill -9 of a process 0-10 ms after its chromedriver appears (before the driver answers):
    chromedriver and every Chromium process end with it, and the browser's folder goes."""
    mark, tmp = f"{os.environ[SESSION_MARK]}/driver-kill-{uuid.uuid4()}", Path(tempfile.gettempdir()) / "dk"
    tmp.mkdir()
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    request.addfinalizer(lambda: [p.kill() for p in marked_processes(mark)])  # whatever the outcome
    env = dict(os.environ, **{SESSION_MARK: mark, "TMPDIR": str(tmp)})
    opener = subprocess.Popen([sys.executable, "-c", OPENER], env=env)
    me = psutil.Process(opener.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and opener.poll() is None:  # poll as fast as we can
        if any(p.name() == "chromedriver" for p in me.children()):
            break
    else:
        pytest.fail("chromedriver never started")
    time.sleep(delay_ms / 1000)
    opener.send_signal(signal.SIGKILL)
    opener.wait(10)
    left = wait_for_no_marked_processes(mark, timeout=15)
    assert not left, [describe(p) for p in left]
    deadline = time.monotonic() + 10
    while entries(tmp) and time.monotonic() < deadline:  # the watchdog removes the folder
        time.sleep(0.1)
    assert entries(tmp) == []
