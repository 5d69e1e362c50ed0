"""The replay player: the bundled game's own page in replay mode, embedded as an iframe.

The page (`qwopkit.adapter.openqwop.host.replay_html`) draws each row of the run with the same
renderer people play on, with its on-screen controls: play / pause, a scrub bar and the speed.
States are rounded to 1e-4 units (1/200 of a pixel at the page's scale) before they are inlined,
which keeps a 2-minute run's document near 2 MB instead of 6.
"""

from __future__ import annotations

import numpy as np

from qwopkit.adapter.openqwop.page import replay_html
from qwopkit.app.data import Run

HEIGHT = 440  # px: the game's view is 30 units high at any width, plus the 40 px control bar


def replay_document(run: Run) -> str | None:
    """The self-contained replay page for a run, or None if the run cannot be drawn."""
    if not len(run.replay_states):
        return None
    states = np.round(run.replay_states, 4)
    return replay_html(states, fps=run.replay_fps, title=f"replay of {run.name}", controls=True)
