"""`qwop-record`: record people (or scripted bots) playing, one HDF5 episode per run.

    qwop-record --player kurodo                  # you play in the Chromium window
    qwop-record --bot stride --episodes 3        # a bot types real keys into the same window
    qwop-record --game original --qwop ~/qwop --player kurodo   # the original game, your own copy

Keys come from a global keyboard listener (pynput) by default, or from the page's own key
events with `--keys page`. A run ends by a fall, a finish or the time limit and is written at
once; R restarts (the unfinished run is kept as aborted unless --drop-aborted); Esc, closing the
window or Ctrl-C ends the session, which then prints a summary.
"""

from __future__ import annotations

import argparse
import os
import queue
import shlex
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from qwopkit.adapter.openqwop.physics import TIME_LIMIT, UPDATES_PER_SECOND
from qwopkit.console import HelpFormatter, error_line, print_next, run_console
from qwopkit.dataset import DEFAULT_DATA

PROG = "qwop-record"
ERROR = f"{PROG}: error:"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Record people (or scripted bots) playing the "
                                     "bundled game in Chromium: one HDF5 episode file per run.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--player", help="who plays (default: bot-NAME with --bot); "
                                         "'bot:NAME' is short for --bot NAME")
    parser.add_argument("--bot", metavar="NAME", help="a scripted player (stride, shuffle, flail) "
                                                      "that presses real keys")
    parser.add_argument("--out", default=DEFAULT_DATA, type=Path, help="folder for episode files")
    parser.add_argument("--episodes", type=int, metavar="N", help="stop after N runs are written "
                                                                  "(default: until Esc or Ctrl-C)")
    parser.add_argument("--frame-skip", type=int, default=3, help="game updates per decision")
    parser.add_argument("--seed", type=int, default=0, help="game seed, stored in every episode")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, metavar="SECONDS",
                        help="HUD seconds before a run ends as a timeout")
    parser.add_argument("--keys", choices=("pynput", "page"), default="pynput",
                        help="where keys come from: a global keyboard listener, or the page's key events")
    parser.add_argument("--session", help="session name (default: the UTC start time)")
    parser.add_argument("--drop-aborted", action="store_true", help="do not keep runs cut short by R")
    parser.add_argument("--headless", action="store_true", help="no browser window (pynput still "
                                                                 "needs an X display)")
    parser.add_argument("--port", type=int, default=0, help="port of the game host (0: a free one)")
    parser.add_argument("--game", choices=("openqwop", "original"), default="openqwop",
                        help="the bundled game, or the original QWOP from your own copy (needs --qwop; "
                             "you play in its window)")
    parser.add_argument("--qwop", metavar="PATH", help="--game original: your copy of the original QWOP "
                                                       "(its folder or .js file)")
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.player and args.player.startswith("bot:"):
        if args.bot and args.bot != args.player[4:]:
            parser.error("--player bot:NAME and --bot disagree")
        args.bot = args.player[4:]
        args.player = None
    if args.bot:
        from qwopkit.adapter.openqwop.bots import get_bot

        try:
            args.program = get_bot(args.bot)
        except ValueError as err:
            parser.error(f"--bot: {err}")
        args.player = args.player or f"bot-{args.bot}"
        if args.keys == "page" and args.game != "original":
            parser.error("--bot types real keys through pynput: it needs --keys pynput")
    if not args.player:
        parser.error("--player is required (or --bot NAME)")
    if args.game == "original" and not args.qwop:
        parser.error("--game original needs your copy of the game: --qwop PATH")
    if args.qwop and args.game != "original":
        parser.error("--qwop is only for --game original")
    if args.episodes is not None and args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    if args.frame_skip < 1:
        parser.error(f"--frame-skip must be at least 1, got {args.frame_skip}")
    if args.time_limit <= 0:
        parser.error(f"--time-limit must be positive, got {args.time_limit}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out: {args.out} exists and is not a folder")
    args.session = args.session or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    return run_console(PROG, lambda: _session(args), where=args.out)


def _session(args: argparse.Namespace) -> int:
    if args.game == "original":  # its own loop: the game runs in the page, keys come from the page
        if not args.headless and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            print(f"{ERROR} no X display (DISPLAY is not set): run under a desktop or Xvfb, or --headless",
                  file=sys.stderr)
            return 2
        from qwopkit.recorder.original import record_original

        return record_original(args, ERROR)
    needs_x = args.keys == "pynput" or not args.headless
    if needs_x and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        print(f"{ERROR} no X display (DISPLAY is not set): run it on a desktop, or on a virtual "
              f"display with `xvfb-run -a {PROG} ...`", file=sys.stderr)
        return 2

    from qwopkit.adapter.browser import BrowserError, BrowserGame, open_browser
    from qwopkit.adapter.openqwop.host import GameHost
    from qwopkit.recorder.keyboard import (
        BotKeyboard,
        PynputKeys,
        drive_host,
        ignore_display_loss_on_collection,
    )
    from qwopkit.recorder.session import RunRecorder

    recorder = RunRecorder(args.out, args.player, args.session, frame_skip=args.frame_skip,
                           seed=args.seed, time_limit=int(round(args.time_limit * UPDATES_PER_SECOND)),
                           drop_aborted=args.drop_aborted, first_run=1,
                           on_written=lambda line: print(f"{PROG}: {line}", flush=True))
    for path in recorder.removed:
        print(f"qwop-record: removed {path} (a run cut short by an earlier crash)", flush=True)
    host = GameHost(port=args.port, seed=args.seed, page_input=args.keys == "page")

    # Ctrl-C and SIGTERM end the session like Esc: the handler only sets a flag that the loop
    # polls, so no exception can land inside a lock, a queue or a file write. A terminal's Ctrl-C
    # reaches the whole process group: under `xvfb-run` the X server may end before we do, so a
    # lost display ends the session too, quietly after a signal, as an error without one.
    signalled, display_lost = [], []

    def request_end(signum, frame) -> None:
        signalled.append(signum)
        host.end_requested.set()

    def lose_display() -> None:
        display_lost.append(True)
        host.end_requested.set()

    ignore_display_loss_on_collection()

    signal.signal(signal.SIGINT, request_end)
    signal.signal(signal.SIGTERM, request_end)
    ticks = host.subscribe()
    keys = bot = driver = None
    status = 0
    complete = False  # True once --episodes runs are written: later ticks belong to no run
    try:
        host.start()
        if args.keys == "pynput":
            keys = PynputKeys(lambda kind, name, when: drive_host(host, kind, name), lose_display).start()
        driver = open_browser(headless=args.headless)
        BrowserGame(driver, host.url).wait_until_connected(timeout=20)
        if host.end_requested.is_set():  # interrupted while starting up
            raise KeyboardInterrupt
        host.restart()  # the first recorded run starts now, with the page showing it
        if args.bot:
            bot = BotKeyboard(host, args.program, on_display_lost=lose_display).start()
        who = f"bot {args.bot}" if args.bot else args.player
        if not args.headless:
            ends = "Esc or closing the window ends"
        else:  # no window to close; Esc reaches the session only through the global listener
            ends = "Esc or Ctrl-C ends" if args.keys == "pynput" else "Ctrl-C ends"
        print(f"qwop-record: recording {who} into {args.out}/ (session {args.session}); "
              f"R restarts, {ends}", flush=True)
        complete = _record(recorder, host, ticks, driver, args.episodes)
    except KeyboardInterrupt:
        pass
    except (BrowserError, RuntimeError, OSError) as exc:
        print(f"{ERROR} {error_line(exc, where=args.out)}", file=sys.stderr)
        status = 1
    finally:
        if bot is not None:
            bot.stop()
        if not complete:
            _drain(recorder, ticks)
            recorder.end_run("aborted")
        if keys is not None:
            keys.stop()
        if driver is not None:
            _quit(driver)
        host.stop()
    if display_lost and not signalled and status == 0:
        print(f"{ERROR} the X display {os.environ.get('DISPLAY', '')} went away", file=sys.stderr)
        status = 1
    print(f"qwop-record: {recorder.summary.line()}", flush=True)
    if recorder.summary.files:
        out = shlex.quote(str(args.out))
        print_next(f"qwop-app --data {out}    # look at the runs, keep or exclude them",
                   f"qwop-pretrain --demos {out}    # clone them")
    return status


def _quit(driver) -> None:
    """Close the browser; one that is already gone (its display ended) needs nothing more."""
    from selenium.common.exceptions import WebDriverException

    try:
        driver.quit()
    except (WebDriverException, OSError):
        pass


def _record(recorder, host, ticks: queue.Queue, driver, episodes: int | None) -> bool:
    """Feed ticks to the recorder until the session ends; True if it ended by --episodes."""
    from selenium.common.exceptions import WebDriverException

    next_window_check = time.monotonic()
    while not host.end_requested.is_set():
        try:
            tick = ticks.get(timeout=0.25)
        except queue.Empty:
            tick = None
        if tick is not None:
            if recorder.on_tick(tick) == "restart":
                host.restart()
            if episodes is not None and recorder.summary.runs >= episodes:
                return True
        if time.monotonic() >= next_window_check:  # closing the window ends the session
            next_window_check = time.monotonic() + 0.5
            try:
                if not driver.window_handles:
                    return False
            except WebDriverException:
                return False
    return False


def _drain(recorder, ticks: queue.Queue) -> None:
    """Hand the recorder the updates still queued, so a run ended by Ctrl-C keeps them."""
    while True:
        try:
            tick = ticks.get_nowait()
        except queue.Empty:
            return
        recorder.on_tick(tick)


if __name__ == "__main__":
    sys.exit(main())
