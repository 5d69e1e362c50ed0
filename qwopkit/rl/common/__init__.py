"""qwopkit.rl.common: what the learners here share (as SB3's `common`). Floor: algorithms.

- callbacks.py: RunProgressCallback, QWOPEvalCallback, WallClockLimit (SB3's callback API);
- evaluation.py: `evaluate`, sampled or deterministic runs of a policy in the game, headless;
- demos.py: `load_demonstrations`, kept episodes as a DemoStore;
- vec_env.py: QWOPVecEnv, SB3's VecEnv over the batched physics core;
- seed_models.py: the seed system's own agents, from their Stable-Baselines 2 zips.

It may import the library floor and qwopkit.rl.acer's policies and buffers; nothing above.
"""
