"""qwopkit.recorder: `qwop-record`, people (or bots) playing, saved as episodes. Floor: applications.

- cli.py (`qwop-record`), session.py (one recording session), keyboard.py (real key events under
  X), original.py (recording in the original game), decisions.py (updates into decisions);
- verify.py: re-simulating an episode file in the engine (`qwop-data replay`).

It may import the library (the game, the dataset); nothing imports it but the other
applications.
"""
