"""`qwop-record --game original --qwop PATH`: people (or a bot) playing the original QWOP.

The game runs its own real-time loop in Chromium, untouched: the person plays with the real
keyboard in that window (the game's own key handlers). qwopkit's shim pushes every update onto a
list in the page (the keys the game's flags held during it, and the state it left, read from the
Box2D bodies); this loop drains the list every few milliseconds. Nothing in the game waits on the
recorder, so the game's timing is its own; a slow drain only makes the list longer. Each run is
then written like a run of the bundled game, with `game` = "qwop-original".

A bot (`--bot stride`) plays by real key events sent to the page (DevTools' Input domain), in
step with the updates it reads; R restarts after a run's end, as a player does.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import threading
import time
from typing import Any

from ..adapter.openqwop.host import Tick
from ..adapter.openqwop.physics import UPDATES_PER_SECOND
from ..dataset.schema import GAME_ORIGINAL

KEYS = (("q", 1), ("w", 2), ("o", 4), ("p", 8))


class TickFeed:
    """Turns the page's log into the host's Ticks (runs numbered from 1, as the session's
    RunRecorder(first_run=1) expects)."""

    def __init__(self) -> None:
        self.run = 0
        self.update = 0

    def ticks(self, entries: list[tuple[int, float, int, Any, str]]) -> list[Tick]:
        out = []
        for kind, when, keys, state, status in entries:
            if kind == 0:
                self.run += 1
                self.update = 0
                out.append(Tick(self.run, 0, 0, state, "running", when))
            else:
                self.update += 1
                out.append(Tick(self.run, self.update, keys, state, status, when))
        return out


class PageBot:
    """A key program played by real key events on the page, in step with the updates read:
    after update n of a run it holds what the program wants for update n + 1 (the game reads
    its flags when an update starts). After a run's end it lets go, waits `pause` s, presses R."""

    def __init__(self, game: Any, program: Any, pause: float = 0.5) -> None:
        self.game, self.program, self.pause = game, program, pause
        self.held = 0
        self.want = 0
        self._run: int | None = None
        self._keys: Any = None
        self._restart_at: float | None = None

    def on_tick(self, tick: Tick) -> None:
        if tick.run != self._run:  # a new run: the program starts again
            self._run, self._keys, self._restart_at = tick.run, self.program.keys(), None
        if self._restart_at is not None:
            return  # the ragdoll settling after the end of a run
        if tick.status != "running":
            self.want = 0
            self._restart_at = time.monotonic() + self.pause
            return
        self.want = next(self._keys)

    def act(self) -> None:
        """Send the key events that make the held keys what the program wants (and R when due)."""
        # Releases first: an update falling between the events then sees fewer keys, not more.
        for name, bit in KEYS:
            if self.held & bit and not self.want & bit:
                self.game.key("up", name)
        for name, bit in KEYS:
            if self.want & bit and not self.held & bit:
                self.game.key("down", name)
        self.held = self.want
        if self._restart_at is not None and time.monotonic() >= self._restart_at:
            self._restart_at = float("inf")  # once per run
            tap(self.game, "r")


def tap(game: Any, name: str) -> None:
    game.key("down", name)
    game.key("up", name)


def game_version(script: Any) -> str:
    """The user's copy as the episodes name it: the script's name and the start of its sha256."""
    return f"{script.name} sha256:{hashlib.sha256(script.read_bytes()).hexdigest()[:16]}"


def record_original(args: argparse.Namespace, error: str) -> int:
    """The session of `qwop-record --game original` (cli.py parsed and checked `args`)."""
    import sys

    from ..adapter.original import OriginalGame, locate_game
    from ..console import error_line
    from ..errors import InputError
    from .session import RunRecorder

    try:
        script = locate_game(args.qwop)
    except InputError as exc:
        print(f"{error} {exc}", file=sys.stderr)
        return 1
    recorder = RunRecorder(args.out, args.player, args.session, frame_skip=args.frame_skip,
                           seed=args.seed, time_limit=int(round(args.time_limit * UPDATES_PER_SECOND)),
                           drop_aborted=args.drop_aborted, first_run=1,
                           on_written=lambda line: print(f"qwop-record: {line}", flush=True),
                           meta={"game": GAME_ORIGINAL, "game_version": game_version(script)})
    for path in recorder.removed:
        print(f"qwop-record: removed {path} (a run cut short by an earlier crash)", flush=True)
    # Ctrl-C and SIGTERM end the session: the handler only sets a flag that the loop polls.
    end = threading.Event()
    handlers = {sig: signal.signal(sig, lambda signum, frame: end.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    game = None
    feed = TickFeed()
    status, complete = 0, False
    try:
        game = OriginalGame(script, headless=args.headless, mode="play")
        bot = PageBot(game, args.program) if args.bot else None
        who = f"bot {args.bot}" if args.bot else args.player
        ends = "Ctrl-C ends" if args.headless else "closing the window or Ctrl-C ends"
        print(f"qwop-record: recording {who} in the original game ({script}) into {args.out}/ "
              f"(session {args.session}); R restarts, {ends}", flush=True)
        complete = _loop(game, feed, recorder, bot, args.episodes, end)
    except InputError as exc:
        print(f"{error} {exc}", file=sys.stderr)
        status = 1
    except (RuntimeError, OSError) as exc:
        print(f"{error} {error_line(exc, where=args.out)}", file=sys.stderr)
        status = 1
    finally:
        if game is not None and not complete:
            try:
                for tick in feed.ticks(game.drain()):  # what the page logged since the last drain
                    recorder.on_tick(tick)
            except Exception:  # noqa: BLE001 (the window may be gone: keep what was read)
                pass
        if not complete:
            recorder.end_run("aborted")
        if game is not None:
            game.close()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    print(f"qwop-record: {recorder.summary.line()}")
    return status


def _loop(game: Any, feed: TickFeed, recorder: Any, bot: PageBot | None, episodes: int | None,
          end: threading.Event) -> bool:
    """Drain the page until the session ends; True if it ended by --episodes."""
    next_window_check = time.monotonic()
    while not end.is_set():
        for tick in feed.ticks(game.drain()):
            if recorder.on_tick(tick) == "restart":  # the time limit: a new run, as R does
                tap(game, "r")
            if episodes is not None and recorder.summary.runs >= episodes:
                return True
            if bot is not None:
                bot.on_tick(tick)
        if bot is not None:
            bot.act()
        if time.monotonic() >= next_window_check:  # closing the window ends the session
            next_window_check = time.monotonic() + 0.5
            try:
                if not game.driver.window_handles:
                    return False
            except Exception:  # noqa: BLE001 (Selenium's error for a browser that is gone)
                return False
        time.sleep(0.003)
    return False


__all__ = ["record_original", "TickFeed", "PageBot"]
