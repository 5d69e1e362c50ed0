"""`qwop-run`: the main job on the bundled game.

Today: a scripted runner (a named bot, default `stride`) does one 100 m run headless on the
bundled game and the run's distance, HUD time and outcome are printed. Later steps of the
pipeline (record, clone, fine-tune) join here as they arrive.
"""

from __future__ import annotations

import argparse
import sys
import time

from .adapter.openqwop.bots import BOTS, get_bot, play


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qwop-run", description=__doc__.split("\n\n")[1])
    parser.add_argument("--bot", default="stride", help=f"scripted player ({', '.join(sorted(BOTS))})")
    parser.add_argument("--time-limit", type=float, default=300.0, metavar="SECONDS",
                        help="HUD seconds before the run counts as a timeout (default 300)")
    args = parser.parse_args(argv)
    if args.time_limit <= 0:
        parser.error(f"--time-limit must be positive, got {args.time_limit}")
    try:
        program = get_bot(args.bot)
    except ValueError as err:
        parser.error(f"--bot: {err}")
    started = time.perf_counter()
    result = play(program, max_updates=int(args.time_limit * 30))
    wall = time.perf_counter() - started
    print(f"bot {args.bot}: {result.status}  distance {result.distance:.1f} m  "
          f"HUD time {result.hud_time:.2f} s  ({result.updates} updates simulated in {wall:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
