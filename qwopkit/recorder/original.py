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

from qwopkit.adapter.openqwop.physics import UPDATES_PER_SECOND
from qwopkit.adapter.original.play import PageBot, TickFeed, tap
from qwopkit.dataset.schema import GAME_ORIGINAL


def game_version(script: Any) -> str:
    """The user's copy as the episodes name it: the script's name and the start of its sha256."""
    return f"{script.name} sha256:{hashlib.sha256(script.read_bytes()).hexdigest()[:16]}"


def record_original(args: argparse.Namespace, error: str) -> int:
    """The session of `qwop-record --game original` (cli.py parsed and checked `args`)."""
    import sys

    from qwopkit.adapter.original import OriginalGame, locate_game
    from qwopkit.console import error_line
    from qwopkit.errors import InputError
    from qwopkit.recorder.session import RunRecorder

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


__all__ = ["record_original"]
