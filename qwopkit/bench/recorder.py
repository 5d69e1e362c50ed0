"""The real-time loop while recording: update intervals and key-to-state latency.

    DISPLAY=:0 qwop-bench record --seconds 20     (any X display; Xvfb works)

A whole recording session runs as in `qwop-record --bot stride`: the host at 30 updates/s
streaming to the page in Chromium, the global pynput listener, the bot typing real keys, and
the recorder writing episode files into a temporary folder. It prints:
- the interval between consecutive game updates (p50, p99, max; the goal is p99 < 40 ms);
- key latency: from the bot's key press to the listener's event (X round trip), and from that
  event to the first published state whose update used the key (waiting for the next update is
  part of it: 0-33 ms by design, as in the original game).
"""

from __future__ import annotations

import queue
import tempfile
import threading

import numpy as np

from qwopkit.adapter.openqwop.bots import get_bot
from qwopkit.adapter.openqwop.host import KEY_BITS, GameHost
from qwopkit.recorder.keyboard import BotKeyboard, PynputKeys, drive_host
from qwopkit.recorder.session import RunRecorder


def _percentiles(values_ms: list[float]) -> str:
    if not values_ms:
        return "no samples"
    v = np.array(values_ms)
    return (f"p50 {np.percentile(v, 50):6.1f} ms   p99 {np.percentile(v, 99):6.1f} ms   "
            f"max {v.max():6.1f} ms   ({len(v)} samples)")


def bench_record(seconds: float = 20.0) -> dict[str, float]:
    from qwopkit.adapter.browser import BrowserGame, open_browser

    presses: dict[str, list[float]] = {}
    events: list[tuple[str, float]] = []  # key downs as the listener heard them
    host = GameHost(page_input=False)
    ticks = host.subscribe()
    with tempfile.TemporaryDirectory(prefix="qwop-bench-") as out:
        recorder = RunRecorder(out, "bench", "bench", first_run=1)
        host.start()

        def on_key(kind: str, name: str, when: float) -> None:
            drive_host(host, kind, name)
            if kind == "down" and name in KEY_BITS:
                events.append((name, when))

        keys = PynputKeys(on_key).start()
        driver = open_browser(headless=True)
        bot = None
        seen = []
        try:
            BrowserGame(driver, host.url).wait_until_connected(timeout=20)
            host.restart()
            bot = BotKeyboard(host, get_bot("stride"),
                              on_press=lambda key, when: presses.setdefault(key, []).append(when))
            bot.start()
            stop = threading.Event()
            threading.Timer(seconds, stop.set).start()
            while not stop.is_set():
                try:
                    tick = ticks.get(timeout=0.2)
                except queue.Empty:
                    continue
                seen.append(tick)
                if recorder.on_tick(tick) == "restart":
                    host.restart()
        finally:
            if bot is not None:
                bot.stop()
            recorder.end_run("aborted")
            keys.stop()
            driver.quit()
            host.stop()

    intervals = [(b.time - a.time) * 1000 for a, b in zip(seen, seen[1:]) if b.update == a.update + 1]
    x_latency, state_latency = [], []
    for name, heard in events:
        sent = [t for t in presses.get(name, []) if t <= heard]
        if sent:
            x_latency.append((heard - sent[-1]) * 1000)
        bit = KEY_BITS[name]
        first = next((t for t in seen if t.time >= heard and t.keys & bit and t.update > 0), None)
        if first is not None:
            state_latency.append((first.time - heard) * 1000)
    print(f"recording for {seconds:.0f} s with the stride bot; {len(seen)} updates, "
          f"{recorder.summary.line()}")
    print(f"update interval           {_percentiles(intervals)}   (goal p99 < 40 ms)")
    print(f"key press -> listener     {_percentiles(x_latency)}")
    print(f"listener -> state         {_percentiles(state_latency)}")
    return {"interval_p99": float(np.percentile(intervals, 99)) if intervals else float("nan")}
