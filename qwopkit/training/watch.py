"""Watching evaluated runs in the game page in Chromium (`qwop-eval --watch`). Floor: applications.

    report = evaluate(policy, episodes=3)          # qwopkit.rl.common.evaluation
    watch(report.episodes, log=print)              # each run replayed in the page, in real time

Each run is re-simulated from its keys (`episode_states`: exactly the states the evaluation saw)
and played at 30 updates per second by the game page's own renderer (`host.replay_html`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qwopkit.rl.common.evaluation import EpisodeResult, episode_states


def watch(results: list[EpisodeResult], *, headless: bool = False, fps: float = 30.0,
          log: Callable[[str], None] = lambda line: None) -> list[dict[str, Any]]:
    """Replay runs one after another in the game page in Chromium; returns the page's last state of each.

    Returns early (with what was shown) if the browser window is closed.
    """
    from selenium.common.exceptions import WebDriverException

    from qwopkit.adapter.browser import BrowserGame, open_browser
    from qwopkit.adapter.openqwop.page import replay_html

    shown: list[dict[str, Any]] = []
    driver = open_browser(headless=headless)
    try:
        with tempfile.TemporaryDirectory(prefix="qwop-eval-") as folder:
            for i, result in enumerate(results):
                states = episode_states(result)
                page = Path(folder) / f"run{i}.html"
                title = f"qwop-eval run {i + 1}: {result.outcome} at {result.distance:.1f} m"
                page.write_text(replay_html(states, fps=fps, title=title), encoding="utf-8")
                log(f"watching run {i + 1}/{len(results)}: {result.outcome}, {result.distance:.1f} m "
                    f"in {result.hud_time:.1f} s ({len(states) / fps:.0f} s replay)")
                game = BrowserGame(driver, page.as_uri())
                deadline = time.monotonic() + len(states) / fps + 30
                try:
                    game.wait_for(lambda: _replay_done(driver), timeout=deadline - time.monotonic(),
                                  what="the replay to end")
                except WebDriverException:
                    break  # the window was closed
                shown.append(game.state() or {})
    finally:
        try:
            driver.quit()
        except WebDriverException:
            pass
    return shown


def _replay_done(driver: Any) -> bool:
    done = driver.execute_script("const r = window.qwopAdapter && window.qwopAdapter.replay;"
                                 "return !!r && r.length() > 0 && r.frame() === r.length() - 1;")
    return bool(done)
