"""qwopkit.adapter: the games and their Gymnasium environments. Floor: library.

- openqwop/: the bundled game (the compiled physics core, rules, bots, real-time host, page);
- original/: the user's copy of the original QWOP in Chromium, behind the same interface;
- env.py, vector_env.py: `qwopkit/QWOP-v0` and its batched form; features.py: the seed's 71
  observations; browser.py, render.py, resim.py: a browser page, frames, re-simulation.

It imports only the shared leaves (errors, console, atomic, spaces, version); nothing of the
dataset, the algorithms or the applications.
"""
