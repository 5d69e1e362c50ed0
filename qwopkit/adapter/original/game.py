"""The original QWOP, driven from Python: the user's copy, patched, served on 127.0.0.1 and
opened in Chromium; stepped one update at a time for agents, or run in real time for people.

    with OriginalGame("~/qwop") as game:      # headless; a visible window with headless=False
        game.advance(keys=Q | P, updates=3)    # one page round trip per call
        game.state(); game.status; game.hud_time
        game.reset()

The interface is openqwop's Engine's where it can be (reset, update, advance, state, status,
updates, keys, distance, hud_time, poses); the state has the same layout (openqwop/layout.py).
What differs: `distance` is the game's own score (the torso's x rounded to 0.1 m, at a finish
the landing point), the HUD time the game's own clock, and a state cannot be set.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.adapter.openqwop.layout import BODY_BLOCK, STATE_SIZE
from qwopkit.adapter.openqwop.physics import BODY_NAMES, JOINTS
from qwopkit.adapter.original.copy import PAGE, locate_game, patch_source, prepare_copy, read_game
from qwopkit.adapter.original.shim import ROW_SIZE
from qwopkit.errors import InputError

RUNNING, FELL, FINISHED = "running", "fell", "finished"
# Software WebGL in headless Chromium (the game draws with WebGL; FACTS.md).
WEBGL_FLAGS = ("--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader")
_B = {name: i for i, name in enumerate(BODY_NAMES)}
_JOINT_B = np.array([_B[j.body_b] * 6 + 2 for j in JOINTS])  # angle of body B, as Box2D's joint angle
_JOINT_A = np.array([_B[j.body_a] * 6 + 2 for j in JOINTS])
_JOINT_REF = np.array([j.reference for j in JOINTS])


def state_of_row(row: Any, references: Any = _JOINT_REF) -> np.ndarray:
    """The raw state vector (layout.STATE_FIELDS) from one row the shim returns; `references`:
    the joints' reference angles as the game holds them (openqwop's, rounded, by default)."""
    row = np.asarray(row, dtype=np.float64)
    out = np.empty(STATE_SIZE)
    out[:BODY_BLOCK] = row[:BODY_BLOCK]
    joints = out[BODY_BLOCK:-5].reshape(-1, 2)
    # Box2D's getJointAngle: angle(B) - angle(A) - reference, in that order (bit-identical).
    joints[:, 0] = row[_JOINT_B] - row[_JOINT_A] - references
    joints[:, 1] = row[_JOINT_B + 3] - row[_JOINT_A + 3]
    score, score_time, keys, fallen, landed = row[BODY_BLOCK:BODY_BLOCK + 5]
    out[-5:] = (score, score_time, keys, fallen and not landed, landed)
    return out


def status_of_row(row: Any) -> str:
    landed, fallen = row[BODY_BLOCK + 4], row[BODY_BLOCK + 3]
    # A fall after the jump into the sand pit counts as a landing in the original.
    return FINISHED if landed else (FELL if fallen else RUNNING)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a reload cuts a request short (BrokenPipeError): nothing to tell


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the copy; says nothing (a page navigating away mid-answer is normal here)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


def serve(folder: Path) -> tuple[_Server, threading.Thread]:
    """A tiny threaded HTTP server for `folder` on 127.0.0.1 (a free port)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="qwopkit-original-server", daemon=True)
    thread.start()
    return server, thread


class _DevTools:
    """The page's DevTools connection, straight to Chromium (the address chromedriver gives):
    an evaluation costs ~0.3 ms there against ~3.4 ms through chromedriver."""

    def __init__(self, driver: Any, url: str, timeout: float = 60.0) -> None:
        import json
        import urllib.request

        from websockets.sync.client import connect

        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t.get("type") == "page" and t.get("url", "").startswith(url))
        self._json = json
        self._stack = contextlib.ExitStack()
        self._socket = self._stack.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10, compression=None))
        self._id = 0
        self.timeout = timeout  # an answer that never comes (a crashed page) is an error, not a hang

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"].get("exception", {}).get("description")
            raise RuntimeError(f"the game page failed: {details or result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """One DevTools command, e.g. Input.dispatchKeyEvent; returns its result."""
        self._id += 1
        self._socket.send(self._json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            try:
                message = self._json.loads(self._socket.recv(timeout=self.timeout))
            except TimeoutError:
                raise RuntimeError(f"the game page did not answer {method} in {self.timeout:g} s") from None
            if message.get("id") == self._id:
                break
        if "error" in message:
            raise RuntimeError(f"the game page failed: {message['error']}")
        return message.get("result", {})

    def close(self) -> None:
        self._stack.close()


class OriginalGame:
    """One original QWOP page in its own Chromium.

    :param qwop: the user's copy: its folder, or its .js file.
    :param headless: no window (agents); False opens a visible window (watching, people).
    :param mode: "step" (qwopkit steps the game: agents) or "play" (the game runs its own
        real-time loop and logs every update for the recorder: people).
    :param reset: how `reset()` starts a new run: the "game"'s own reset with the fresh page's
        broad phase put back (~10 ms), or "reload" the page (~1-2 s); both exact.
    :param timeout: seconds the page may take to load.
    """

    def __init__(self, qwop: str | Path, *, headless: bool = True, mode: str = "step",
                 reset: str = "game", timeout: float = 30.0) -> None:
        if mode not in ("step", "play"):
            raise ValueError(f"mode must be 'step' or 'play', got {mode!r}")
        if reset not in ("reload", "game"):
            raise ValueError(f"reset must be 'reload' or 'game', got {reset!r}")
        self.reset_mode = reset
        self._fresh = False
        self.script = locate_game(qwop)
        patched = patch_source(read_game(self.script), self.script)  # nothing is written before
        self.mode, self.headless, self.timeout = mode, headless, timeout
        self.seed: int | None = None
        self.driver: Any = None
        self._devtools: _DevTools | None = None
        self._server: _Server | None = None
        self._folder: Path | None = None
        try:
            from qwopkit.adapter.browser import open_browser

            self.driver = open_browser(headless=headless, width=800, height=600, extra_args=WEBGL_FLAGS)
            # The patched copy lives in the browser's own folder, which the browser's watchdog
            # removes even when this process is killed: the game's files never stay behind.
            self._folder = Path(self.driver.folder) / "qwop"
            self._folder.mkdir()
            prepare_copy(self.script, self._folder, patched)
            self._server, _ = serve(self._folder)
            # Headless agents need no drawing: the page then draws 4 frames a second.
            frames = "&frames=250" if mode == "step" and headless else ""
            self.url = f"http://127.0.0.1:{self._server.server_address[1]}/{PAGE}?qwopkit={mode}{frames}"
            self.load()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ the page
    def _eval(self, expression: str) -> Any:
        assert self._devtools is not None  # connected by load(), which __init__ calls
        return self._devtools.evaluate(expression)

    def load(self) -> None:
        """(Re)load the page and start the game by clicking it, as a player does: the spawn."""
        if self._devtools is None:
            self.driver.get(self.url)
            # The connection outlives reloads; a page that does not answer is an error after 2 x
            # the load timeout.
            self._devtools = _DevTools(self.driver, self.url.split("?")[0], 2 * self.timeout)
        else:
            self._eval("window.qwopkit.stale = true;")  # not to be mistaken for the new page
            self._devtools.call("Page.navigate", {"url": self.url})
        self._wait("!window.qwopkit.stale && window.qwopkit.ready()", "load")
        x, y = self._eval("(function () { var r = document.querySelector('canvas').getBoundingClientRect();"
                          " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):  # a real click, through the browser's input
            self._devtools.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                             "button": "left", "clickCount": 1})
        self._wait("window.qwopkit.started()", "start on a click")
        self._references = np.array(self._eval("window.qwopkit.references()"), dtype=np.float64)
        if self.mode == "step":
            self._eval("window.qwopkit.keep()")  # the fresh page's broad phase, for reset()
        self._take(self._eval("window.qwopkit.row()"))
        self.keys = 0
        self._fresh = True

    def _wait(self, condition: str, what: str) -> None:
        import time

        deadline = time.monotonic() + self.timeout
        while not self._eval(f"!!(window.qwopkit && {condition})"):
            if time.monotonic() > deadline:
                errors = self._eval("window.qwopkit ? window.qwopkit.errors : ['no page']")
                reason = errors[0] if errors else "no error reported"
                raise InputError(self.script, f"the game did not {what} in {self.timeout:g} s ({reason})")
            time.sleep(0.01)

    def _take(self, row: Any) -> None:
        if len(row) != ROW_SIZE:
            raise RuntimeError(f"the page returned {len(row)} values, expected {ROW_SIZE}")
        self._row = row
        self._state = state_of_row(row, self._references)
        self.status = status_of_row(row)
        self.updates = int(row[-1])

    # ------------------------------------------------------------------ Engine's interface
    def reset(self, seed: int | None = None) -> None:
        """A new run at the spawn (`seed` has no effect: the game is deterministic).

        reset="game" (the default, ~10 ms): the game's own reset (what R does) without the update
        it runs at its end, then Box2D's broad phase as the freshly loaded page had it (copied
        at load), which the game's reset alone leaves as the last run made it (a run then drifts
        from a fresh page's once it reaches the hurdle). reset="reload" loads the page afresh
        (~1-2 s). Both give a fresh page's run bit for bit (docs/original-adapter.md)."""
        self.seed = seed
        self.keys = 0
        if self._fresh:  # nothing happened since the page loaded
            return
        row = None if self.reset_mode == "reload" else self._eval("window.qwopkit.reset()")
        if row is None:  # (the fresh page's broad phase did not fit the new run: reload)
            self.load()
        else:
            self._take(row)

    def update(self, keys: int) -> str:
        return self.advance(keys, 1)

    def advance(self, keys: int, updates: int, limit: int | None = None) -> str:
        """Hold `keys` (Q=1 W=2 O=4 P=8) for up to `updates` updates, stopping early when the run
        ends or the update count reaches `limit`; one page round trip. Returns the status."""
        self.keys = int(keys) & 0xF
        row = self._eval(f"window.qwopkit.advance({self.keys}, {int(updates)}, "
                         f"{-1 if limit is None else int(limit)})")
        self._take(row)
        self._fresh = False
        return self.status

    def state(self) -> np.ndarray:
        """The raw state after the last update (layout.STATE_FIELDS)."""
        return self._state.copy()

    @property
    def distance(self) -> float:
        return float(self._state[-5])

    @property
    def hud_time(self) -> float:
        return float(self._state[-4])

    def poses(self) -> list[tuple[float, float, float]]:
        bodies = self._state[:BODY_BLOCK].reshape(-1, 6)
        return [(float(x), float(y), float(a)) for x, y, a in bodies[:, :3]]

    # ------------------------------------------------------------------ people
    def drain(self) -> list[tuple[int, float, int, np.ndarray, str]]:
        """Mode "play": what the game logged since the last call, in order, as (kind, time,
        keys, state, status): kind 0 is a run's spawn (before its first update), 1 an update;
        time when the page logged it (Unix seconds, as time.time()); keys held during the
        update (the game's flags)."""
        out = []
        for entry in self._eval("window.qwopkit.drain()") or []:
            row = entry[3:]
            out.append((int(entry[0]), entry[1] / 1000.0, int(entry[2]),
                        state_of_row(row, self._references), status_of_row(row)))
        return out

    def key(self, kind: str, name: str) -> None:
        """A real key event on the page ("down" or "up"; q, w, o, p, r or space), through the
        browser's input pipeline as a keyboard's would arrive."""
        code = {"space": 32}.get(name, ord(name.upper()))
        key = " " if name == "space" else name
        assert self._devtools is not None
        self._devtools.call("Input.dispatchKeyEvent", {
            "type": "keyDown" if kind == "down" else "keyUp", "key": key,
            "code": "Space" if name == "space" else f"Key{name.upper()}",
            "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code})

    # ------------------------------------------------------------------ the end
    def close(self) -> None:
        """End the browser, the server and the temporary copy; safe to call twice."""
        driver, self.driver = self.driver, None
        devtools, self._devtools = self._devtools, None
        try:
            if devtools is not None:
                with contextlib.suppress(Exception):
                    devtools.close()
            if driver is not None:
                driver.quit()
        finally:
            server, self._server = self._server, None
            if server is not None:
                server.shutdown()
                server.server_close()
            if self._folder is not None:  # (quit() removed it with the browser's folder)
                shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> OriginalGame:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


__all__ = ["OriginalGame", "state_of_row", "status_of_row", "serve", "RUNNING", "FELL", "FINISHED"]
