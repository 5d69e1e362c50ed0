"""The original QWOP (Bennett Foddy's HTML5 game) as a second game, from the user's own copy:
patched in a temporary folder, served on 127.0.0.1, driven in Chromium (docs/original-adapter.md)."""

from qwopkit.adapter.original.copy import UnsupportedGameError, locate_game
from qwopkit.adapter.original.game import FELL, FINISHED, RUNNING, OriginalGame

__all__ = ["OriginalGame", "locate_game", "UnsupportedGameError", "RUNNING", "FELL", "FINISHED"]
