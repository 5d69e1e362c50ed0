"""The game page's side of openqwop: its files, the geometry it draws, and self-contained replays.

    html = replay_html(states, title="run 1")     # plays an (N, S) raw-state sequence, no host needed

Kept apart from the host (host.py: the engine, a clock and a WebSocket server) so that what only
shows runs (the app, the evaluation viewer) loads neither the physics engine nor websockets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.adapter.openqwop import physics as ph
from qwopkit.adapter.openqwop.layout import STATE_FIELDS

WEB_DIR = Path(__file__).parent / "web"
KEY_BITS = {"q": ph.Q, "w": ph.W, "o": ph.O, "p": ph.P}


def geometry() -> dict[str, Any]:
    """What a page needs to draw the game: body sizes, hurdle, track marks, state field names.

    Sent to live pages in the hello message and embedded in replays, so the sizes live only in
    physics.py.
    """
    return {
        "bodies": [{"name": b.name, "width": b.width, "height": b.height} for b in ph.BODIES],
        "hurdle": [
            {"name": "base", "width": ph.HURDLE_BASE[0], "height": ph.HURDLE_BASE[1],
             "x": ph.HURDLE_BASE[2], "y": ph.HURDLE_BASE[3]},
            {"name": "bar", "width": ph.HURDLE_BAR[0], "height": ph.HURDLE_BAR[1],
             "x": ph.HURDLE_BAR[2], "y": ph.HURDLE_BAR[3]},
        ],
        "ground_top_y": ph.GROUND_TOP_Y,
        "ground_start_x": ph.GROUND_START_X,
        "ground_end_x": ph.GROUND_END_X,
        "start_block": list(ph.START_BLOCK),
        "finish_x": ph.FINISH_X,
        "sand_pit_x": ph.SAND_PIT_X,
        "units_per_metre": ph.UNITS_PER_METRE,
        "updates_per_second": ph.UPDATES_PER_SECOND,
        "key_bits": KEY_BITS,
        "state_fields": list(STATE_FIELDS),
    }


def replay_html(states: Any, fps: float = ph.UPDATES_PER_SECOND, title: str = "QWOP replay",
                controls: bool = False) -> str:
    """A self-contained HTML document that plays a recorded (N, S) raw state sequence.

    The page's script and the data are inlined, so the result works without a host (e.g. in
    Streamlit's `st.iframe`). The hurdle is drawn at rest: raw states do not hold its pose.
    `controls` adds an on-screen bar under the game: play / pause, a scrub bar and the speed.
    """
    payload = {"geometry": geometry(), "fps": fps, "states": np.asarray(states, dtype=float).tolist(),
               "controls": bool(controls)}
    script = (WEB_DIR / "qwop.js").read_text(encoding="utf-8")
    page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    data = json.dumps(payload).replace("</", "<\\/")  # keep "</script>" out of the inline data
    inline = f"<script>window.QWOP_REPLAY = {data};</script>\n<script>{script}</script>"
    page = page.replace('<script src="qwop.js"></script>', inline)
    return page.replace("<title>QWOP</title>", f"<title>{title}</title>")


__all__ = ["KEY_BITS", "WEB_DIR", "geometry", "replay_html"]
