"""`qwop-play`: play the bundled game in a Chromium window.

Starts the real-time host, opens its page in a Chromium driven by Selenium, and waits until the
window is closed or Ctrl-C is pressed; then prints a one-line summary of the runs played.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from selenium.common.exceptions import WebDriverException

from qwopkit.adapter.browser import BrowserError, BrowserGame, open_browser
from qwopkit.adapter.openqwop.host import GameHost, Tick
from qwopkit.console import HelpFormatter, error_line, run_console


class RunSummary:
    """Listens to the host and remembers how each run ended (distance, HUD time, status)."""

    def __init__(self) -> None:
        self.runs: dict[int, Tick] = {}  # run -> the run's last tick, or the tick that ended it

    def __call__(self, tick: Tick) -> None:
        last = self.runs.get(tick.run)
        if last is None or last.status == "running":  # after an end, keep the end's numbers
            self.runs[tick.run] = tick

    def line(self) -> str:
        played = [t for t in self.runs.values() if t.update > 0]
        if not played:
            return "qwop-play: no updates were played"
        best = max(played, key=lambda t: t.state[-5])
        ended = {s: sum(t.status == s for t in played) for s in ("fell", "finished")}
        return (f"qwop-play: {len(played)} run(s), {ended['fell']} fell, {ended['finished']} finished; "
                f"best {best.state[-5]:.1f} m in {best.state[-4]:.1f} s")


PROG = "qwop-play"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description="Play the bundled game in a Chromium window "
                                     "(Q W O P, R restarts).", formatter_class=HelpFormatter)
    parser.add_argument("--headless", action="store_true",
                        help="run Chromium without a window (machines without a display)")
    parser.add_argument("--port", type=int, default=0,
                        help="port for the page and its WebSocket (0: a free one)")
    parser.add_argument("--seed", type=int, default=0, help="game seed (the game has no randomness)")
    args = parser.parse_args(argv)
    return run_console(PROG, lambda: _play(args))


def _play(args: argparse.Namespace) -> int:
    if not args.headless and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(f"{PROG}: error: no display (DISPLAY is not set); use --headless or run under Xvfb",
              file=sys.stderr)
        return 2

    # A polite kill (SIGTERM) stops the game like Ctrl-C, so the browser and its profile go too.
    signal.signal(signal.SIGTERM, _interrupt)
    summary = RunSummary()
    host = GameHost(port=args.port, seed=args.seed)
    host.add_listener(summary)
    try:
        host.start()
    except RuntimeError as exc:
        print(f"{PROG}: error: {error_line(exc)}", file=sys.stderr)
        return 1
    driver = None
    try:
        driver = open_browser(headless=args.headless)
        game = BrowserGame(driver, host.url)
        game.wait_until_connected(timeout=15)
        how = "Ctrl-C to stop" if args.headless else "close the window or press Ctrl-C to stop"
        print(f"qwop-play: game at {host.url} (keys Q W O P, R restarts; {how})", flush=True)
        while True:
            time.sleep(0.5)
            try:
                if not driver.window_handles:
                    break
            except WebDriverException:  # the window (and with it the browser) was closed
                break
    except KeyboardInterrupt:
        pass
    except (BrowserError, TimeoutError) as exc:
        print(f"{PROG}: error: {error_line(exc)}", file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            try:
                driver.quit()
            except WebDriverException:
                pass  # already gone with its window
        host.stop()
    print(summary.line())
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
