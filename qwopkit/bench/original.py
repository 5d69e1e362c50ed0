"""`qwop-bench original --qwop PATH`: decisions per second of `qwopkit/QWOP-original-v0` (frame
skip 3, random actions, resets included), one page, then several pages at once (one Chromium
each, driven from one thread each); then the people's path: the game's own real-time loop with
the recorder draining its log (the stride bot playing by key events), its update intervals and
how late the recorder reads each update. Prints figures; docs/benchmarks.md keeps the latest.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np


def _run_env(qwop: Path, seconds: float, seed: int, out: list[tuple[int, int]],
             start: threading.Barrier | None = None, reset: str = "game") -> None:
    import gymnasium as gym

    import qwopkit  # noqa: F401  (registers the environments)

    env = gym.make("qwopkit/QWOP-original-v0", qwop=qwop, reset=reset)
    try:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        if start is not None:
            start.wait()
        steps = episodes = 0
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            for _ in range(30):
                _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                steps += 1
                if terminated or truncated:
                    env.reset()
                    episodes += 1
        out.append((steps, episodes))
    finally:
        env.close()


def decisions_per_second(qwop: Path, seconds: float, pages: int = 1,
                         reset: str = "game") -> tuple[float, float]:
    """(decisions/s over all pages, mean episode length in decisions)."""
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(pages + 1)
    threads = [threading.Thread(target=_run_env, args=(qwop, seconds, i, results, barrier, reset))
               for i in range(pages)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait(timeout=120)  # every page loaded: time only the stepping
    except threading.BrokenBarrierError:
        pass
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = max(time.perf_counter() - began, seconds)
    if len(results) != pages:
        raise RuntimeError("a page failed to run (see the error above)")
    steps = sum(s for s, _ in results)
    episodes = sum(e for _, e in results)
    return steps / elapsed, steps / max(episodes, 1)


def play_timing(qwop: Path, seconds: float) -> dict[str, np.ndarray]:
    """The game's own loop for `seconds` (headless), read as `qwop-record --game original` reads
    it: {"interval": ms between updates (the page's clock), "lag": ms from an update to the
    recorder holding it}. The stride bot plays and restarts after falls."""
    from qwopkit.adapter.openqwop.bots import get_bot
    from qwopkit.adapter.original.game import OriginalGame
    from qwopkit.adapter.original.play import PageBot, TickFeed, tap

    intervals: list[float] = []
    lags: list[float] = []
    with OriginalGame(qwop, mode="play") as game:
        bot, feed = PageBot(game, get_bot("stride")), TickFeed()
        game.drain()  # what ran before the measurement
        last = None
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            entries = game.drain()
            now = time.time()
            for tick in feed.ticks(entries):
                if tick.update > 0:
                    if last is not None:
                        intervals.append((tick.time - last) * 1000)
                    lags.append((now - tick.time) * 1000)
                    last = tick.time
                    if tick.update >= 900:  # 30 s of HUD time: a new run, as the recorder's limit does
                        tap(game, "r")
                bot.on_tick(tick)
            bot.act()
            time.sleep(0.003)
    return {"interval": np.array(intervals), "lag": np.array(lags)}


def bench_original(qwop: Path, seconds: float = 10.0, pages: tuple[int, ...] = (1, 2)) -> dict:
    from qwopkit.adapter.original.copy import locate_game

    script = locate_game(qwop)
    print(f"qwopkit/QWOP-original-v0 on {script} (headless Chromium; frame_skip 3, random actions, "
          f"resets included; {seconds:.0f} s per measurement)")
    out = {}
    modes = (("game", "the game's own reset, the fresh page's broad phase put back", pages),
             ("reload", "each episode on a freshly loaded page", pages[:1]))
    for reset, what, counts in modes:
        print(f" reset={reset!r}: {what}")
        for n in counts:
            rate, length = decisions_per_second(script, seconds, n, reset)
            out[(reset, n)] = rate
            print(f"  {n} page{'s' if n > 1 else ' '} at once: {rate:8,.0f} decisions/s  "
                  f"({rate * 3:,.0f} game updates/s; mean episode {length:.0f} decisions)", flush=True)
    print("  qwop-gym's published claim for its browser QWOP: ~2,000 observations/s on an Apple M2")
    timing = play_timing(script, max(seconds, 20.0))
    print(f"people (the game's own loop, the recorder draining it; {len(timing['interval']) + 1} updates):")
    for name, what in (("interval", "interval between game updates"), ("lag", "update -> recorder holds it")):
        p50, p99 = np.percentile(timing[name], [50, 99])
        print(f"  {what:32s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {timing[name].max():6.1f} ms")
    return out


__all__ = ["bench_original", "decisions_per_second"]
