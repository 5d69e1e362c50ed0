"""The real-time host: runs the engine at 30 updates per second and streams it to web pages.

    host = GameHost(port=0, seed=0).start()   # background thread; port 0 picks a free port
    print(host.url)                           # http://127.0.0.1:<port>/  (the game page)
    q = host.subscribe()                      # every update as a Tick, as it happens
    host.set_keys(Q | O); host.restart()      # programmatic input, as a page would send it
    host.stop()

One port serves both the static page (plain HTTP GET, answered from websockets'
`process_request` hook) and the WebSocket at `/ws` that carries states to the page and keys back.
Everything listens on the loopback interface only. Message formats are in docs/game-page.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import logging
import mimetypes
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from qwopkit.adapter.openqwop import physics as ph
from qwopkit.adapter.openqwop.engine import RUNNING, Engine
from qwopkit.adapter.openqwop.page import KEY_BITS, WEB_DIR, geometry, replay_html

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Tick:
    """One game update as the host computed it (also the spawn state after each (re)start)."""

    run: int  # how many restarts came before this run (0 for the first run)
    update: int  # engine updates so far in this run; 0 is the spawn state right after a (re)start
    keys: int  # key mask held during this update (0 for update 0)
    state: np.ndarray  # raw state after the update (layout.STATE_FIELDS)
    status: str  # "running", "fell" or "finished"
    time: float  # time.monotonic() when the update was computed


class GameHost:
    """A game of openqwop in real time: a fixed-rate clock, a WebSocket stream and the page.

    The host owns one Engine. A background thread runs an asyncio loop that steps the engine at
    `rate` updates per real second and sends each state to every connected page. Keys come from
    pages (key down/up or whole masks) and from Python (`set_keys`, `press`, `release`); the
    mask held when an update starts is the one that update uses, as in the original game.

    After a run ends (fall or finish) the ragdoll keeps simulating for `settle_updates` more
    updates, as the original does, then the game holds still until a restart, so HUD time and
    the update count stop growing while nobody plays.
    """

    def __init__(self, port: int = 0, seed: int = 0, host: str = "127.0.0.1",
                 rate: float = ph.UPDATES_PER_SECOND, settle_updates: int = 90,
                 page_input: bool = True) -> None:
        self.seed = seed
        # False when keys come from elsewhere (a global keyboard listener): the page's own key
        # events would otherwise apply every key twice.
        self.page_input = page_input
        self.end_requested = threading.Event()  # a page asked to end the session (Esc)
        self.rate = rate
        self.settle_updates = settle_updates
        self._bind = (host, port)
        self._port: int | None = None
        self._lock = threading.Lock()  # guards keys, restart flag, listeners and the latest tick
        self._held = 0
        self._restart_requested = False
        self._listeners: list[Callable[[Tick], None]] = []
        self._latest: Tick | None = None
        self._latest_frame = ""
        self._run = -1
        self._ended_at: int | None = None
        self._engine = Engine()
        self._clients: set[ServerConnection] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ life cycle
    def start(self, timeout: float = 10.0) -> GameHost:
        """Bind the port and start the clock in a background thread. Returns self."""
        if self._thread is not None:
            raise RuntimeError("GameHost already started")
        self._thread = threading.Thread(target=self._thread_main, name="qwop-host", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"game host did not start within {timeout} s")
        if self._error is not None:
            raise RuntimeError(f"game host could not start on {self._bind[0]}:{self._bind[1]}: "
                               f"{self._error}") from self._error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the clock, close the connections and the port, and join the thread.

        Raises RuntimeError if the thread has not ended within `timeout` seconds (the port
        may then still be open): a host that cannot stop is a bug to see, not to wait out.
        """
        thread = self._thread
        if thread is None:
            return
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stop.set)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"game host on port {self._port} did not stop within {timeout} s")
        self._thread = None

    def __enter__(self) -> GameHost:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("GameHost not started")
        return self._port

    @property
    def url(self) -> str:
        """The game page's address."""
        return f"http://{self._bind[0]}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{self._bind[0]}:{self.port}/ws"

    @property
    def clients(self) -> int:
        """How many pages are connected."""
        return len(self._clients)

    # ------------------------------------------------------------------ input from Python
    @property
    def keys(self) -> int:
        """The key mask held now (the next update uses it)."""
        return self._held

    def set_keys(self, mask: int) -> None:
        """Hold exactly the keys in `mask` (Q=1 W=2 O=4 P=8) from the next update on."""
        with self._lock:
            self._held = int(mask) & 0xF
        self._announce_held()

    def press(self, key: str | int) -> None:
        """Hold one key ("q", "w", "o", "p" or its bit) in addition to those held."""
        with self._lock:
            self._held |= _bit(key)
        self._announce_held()

    def release(self, key: str | int) -> None:
        with self._lock:
            self._held &= ~_bit(key)
        self._announce_held()

    def restart(self) -> None:
        """Start a new run at the next clock tick (as pressing R does). Held keys stay held."""
        with self._lock:
            self._restart_requested = True

    # ------------------------------------------------------------------ output to Python
    def add_listener(self, callback: Callable[[Tick], None]) -> None:
        """Call `callback(tick)` on the host thread for every update. Keep it quick: it delays the clock."""
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Tick], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def subscribe(self) -> queue.Queue[Tick]:
        """A queue that receives every Tick from now on (unbounded; `unsubscribe` when done)."""
        q: queue.Queue[Tick] = queue.Queue()
        self.add_listener(q.put)
        return q

    def unsubscribe(self, q: queue.Queue[Tick]) -> None:
        self.remove_listener(q.put)

    def latest(self) -> Tick | None:
        """The most recent Tick, or None before the host has started."""
        return self._latest

    # ------------------------------------------------------------------ the thread
    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # report bind errors to start(); anything later is logged
            self._error = exc
            if self._ready.is_set():
                log.exception("game host stopped on an error")
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handle, self._bind[0], self._bind[1], create_connection=_Connection,
                         process_request=self._serve_file, compression=None) as server:
            self._port = _bound_port(server)
            self._restart()  # the spawn state exists before any page connects
            self._ready.set()
            clock = asyncio.create_task(self._clock())
            await self._stop.wait()
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock
            # Browsers open spare connections ahead of need (preconnect) that never send a
            # request; closing the server would wait for each until its opening handshake times
            # out (10 s). They carry nothing: drop them.
            for connection in list(_Connection.opened):
                if connection.server is server and connection.protocol.state is State.CONNECTING:
                    connection.transport.abort()
            server.close()

    async def _clock(self) -> None:
        # Deadlines advance by exactly one period from a monotonic start, so sleep jitter and the
        # time spent updating never accumulate into drift: 30 updates per second on average.
        period = 1.0 / self.rate
        deadline = time.monotonic()
        while True:
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.25:
                # Far behind (machine suspended, debugger): drop the missed updates rather than
                # run them in a burst the player could not have reacted to.
                deadline = time.monotonic()
            self._tick()

    def _tick(self) -> None:
        with self._lock:
            restart, self._restart_requested = self._restart_requested, False
            keys = self._held
        if restart:
            self._restart()
            return
        engine = self._engine
        if self._ended_at is not None and engine.updates - self._ended_at >= self.settle_updates:
            return  # the run is over and the ragdoll has settled: hold still until a restart
        status = engine.update(keys)
        if status != RUNNING and self._ended_at is None:
            self._ended_at = engine.updates
        self._publish(keys)

    def _restart(self) -> None:
        self._engine.reset(self.seed)
        self._run += 1
        self._ended_at = None
        self._publish(0)

    def _publish(self, keys: int) -> None:
        """Hand the engine's current state to listeners and pages."""
        engine = self._engine
        state = engine.state()
        tick = Tick(self._run, engine.updates, keys, state, engine.status, time.monotonic())
        frame = {
            "type": "state",
            "run": tick.run,
            "updates": tick.update,
            "hud_time": engine.hud_time,
            "end_time": None if self._ended_at is None else self._ended_at / ph.UPDATES_PER_SECOND,
            "distance": engine.distance,
            "keys": keys,
            "held": self._held,
            "status": tick.status,
            "poses": engine.poses(),
            "hurdle": engine.hurdle_poses(),
            "state": state.tolist(),  # json writes repr(float): pages get the exact doubles
        }
        self._latest = tick
        self._latest_frame = json.dumps(frame)
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(tick)
            except Exception:  # one faulty listener must not stop the game
                log.exception("game host listener failed")
        broadcast(self._clients, self._latest_frame)

    def _announce_held(self) -> None:
        # Pages show held keys at once, even while the game holds still after a run.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            message = json.dumps({"type": "held", "held": self._held})
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(broadcast, self._clients, message)

    # ------------------------------------------------------------------ pages
    async def _handle(self, ws: ServerConnection) -> None:
        self._clients.add(ws)
        try:
            hello = {"type": "hello", "protocol": PROTOCOL_VERSION, "game": "openqwop",
                     "seed": self.seed, "rate": self.rate, "geometry": geometry()}
            await ws.send(json.dumps(hello))
            await ws.send(self._latest_frame)
            async for message in ws:
                self._on_message(message)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(ws)

    def _on_message(self, message: str | bytes) -> None:
        try:
            msg = json.loads(message)
            kind = msg["type"]
            if kind == "end":
                self.end_requested.set()
            elif not self.page_input:
                return
            elif kind == "keys":
                self.set_keys(int(msg["keys"]))
            elif kind in ("down", "up"):
                key = str(msg["key"]).lower()
                if key == "r":
                    if kind == "down":
                        self.restart()
                elif key in KEY_BITS:
                    # Auto-repeated downs only re-set a bit that is already set.
                    (self.press if kind == "down" else self.release)(key)
            elif kind == "restart":
                self.restart()
        except (ValueError, KeyError, TypeError) as exc:
            log.debug("ignored a malformed message %r: %s", message, exc)

    def _serve_file(self, connection: ServerConnection, request: Request) -> Response | None:
        """Answer plain HTTP GETs with the page's files; let WebSocket upgrades on /ws through."""
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            return None
        name = "index.html" if path == "/" else path.lstrip("/")
        if name == "geometry.json":
            return _response(http.HTTPStatus.OK, "application/json", json.dumps(geometry()).encode())
        # Only the files directly in web/ are served: no path can walk out of it.
        file = WEB_DIR / name
        if "/" in name or "\\" in name or not file.is_file():
            return _response(http.HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return _response(http.HTTPStatus.OK, kind, file.read_bytes())


class _Connection(ServerConnection):
    """A server connection that is known from its first byte on, so that stop() can drop the
    ones still waiting for a request (websockets tracks connections only once they are open)."""

    opened: weakref.WeakSet[_Connection] = weakref.WeakSet()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        _Connection.opened.add(self)


def _response(status: http.HTTPStatus, content_type: str, body: bytes) -> Response:
    headers = Headers()
    if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
        content_type += "; charset=utf-8"
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Cache-Control"] = "no-store"  # a page reloaded after an upgrade gets the new script
    headers["Connection"] = "close"
    return Response(status.value, status.phrase, headers, body)


def _bound_port(server: Server) -> int:
    return server.sockets[0].getsockname()[1]


def _bit(key: str | int) -> int:
    if isinstance(key, int):
        return key & 0xF
    try:
        return KEY_BITS[key.lower()]
    except KeyError:
        raise ValueError(f"not a QWOP key: {key!r} (use q, w, o or p)") from None


__all__ = ["GameHost", "Tick", "geometry", "replay_html", "KEY_BITS", "WEB_DIR"]
