"""The game's benchmarks (`qwop-bench env`, `qwop-bench fidelity` without --qwop, `qwop-bench startup`).

env: raw engine updates/s, env actions/s (frame_skip 3, random actions, resets included) and
BipedalWalker-v3 steps/s under the same protocol, measured in one process on one core, then the
ratio. Figures vary with the machine and its load; docs/benchmarks.md keeps the latest ones.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np


def _pin_to_one_core() -> str:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    except (AttributeError, OSError):
        return "not pinned"


def engine_updates_per_second(seconds: float) -> float:
    """Raw Engine.update calls per second, random keys held for 3 updates, resets included."""
    from qwopkit.adapter.openqwop import RUNNING, Engine

    rng = np.random.default_rng(0)
    keys = rng.integers(0, 16, size=1_000_000)
    engine = Engine()
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(300):
            if engine.update(int(keys[(n // 3) % len(keys)])) != RUNNING or engine.updates >= 3600:
                engine.reset()
            n += 1
    return n / (time.perf_counter() - start)


def _random_steps(env, steps: int) -> int:
    """Take `steps` random actions (action_space.sample(), resets included); returns episodes."""
    episodes = 0
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
            episodes += 1
    return episodes


def _make(env_id: str):
    import gymnasium as gym

    import qwopkit  # noqa: F401  (registers qwopkit/QWOP-v0)

    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    return env


def env_steps_per_second(env_id: str, seconds: float) -> tuple[float, float]:
    """Steps per second of `gymnasium.make(env_id)` with random actions, resets included.

    Returns (steps/s, mean episode length in steps)."""
    env = _make(env_id)
    n = episodes = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        episodes += _random_steps(env, 100)
        n += 100
    elapsed = time.perf_counter() - start
    env.close()
    return n / elapsed, n / max(episodes, 1)


def batched_actions_per_second(num_envs: int, seconds: float) -> float:
    """Actions per second of the batched vector env (all games in one call per step)."""
    from qwopkit.adapter.vector_env import QWOPVectorEnv

    envs = QWOPVectorEnv(num_envs)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 11, size=(4096, num_envs))
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for row in actions[:64]:
            envs.step(row)
        n += 64 * num_envs
        actions = np.roll(actions, 64, axis=0)
    return n / (time.perf_counter() - start)


def update_cost(updates: int = 200_000) -> dict[str, float]:
    """Microseconds per game update inside the physics core, and the share of its parts: the
    contacts (narrow phase), the solver (islands: joints and contacts) and the broad phase."""
    from qwopkit.adapter.openqwop import _physics
    from qwopkit.adapter.openqwop.bots import get_bot
    from qwopkit.adapter.openqwop.engine import WORLD_SIZE

    program = get_bot("stride").keys()
    keys = bytes(next(program) for _ in range(4500))  # the stride bot runs all of it
    world = bytearray(WORLD_SIZE)
    total = {"total": 0.0, "contacts": 0.0, "solver": 0.0, "broadphase": 0.0}
    done = 0
    while done < updates:
        _physics.reset(world, 0)
        for part, t in _physics.profile(world, 0, keys).items():
            total[part] += t
        done += len(keys)
    return {part: t / done * 1e6 for part, t in total.items()}


def bench_env(seconds: float) -> dict[str, float]:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{_pin_to_one_core()}; {seconds:.0f} s per measurement")
    updates = engine_updates_per_second(seconds)
    print(f"openqwop engine        {updates:12,.0f} updates/s  (Engine.update, one call per update)")
    qwop, qwop_len = env_steps_per_second("qwopkit/QWOP-v0", seconds)
    print(f"qwopkit/QWOP-v0        {qwop:12,.0f} actions/s  (frame_skip 3, random actions, "
          f"mean episode {qwop_len:.0f} actions)")
    batched = batched_actions_per_second(64, seconds)
    print(f"QWOP-v0 batched x64    {batched:12,.0f} actions/s  (gym.make_vec vector_entry_point, one core)")
    walker, walker_len = env_steps_per_second("BipedalWalker-v3", seconds)
    print(f"BipedalWalker-v3       {walker:12,.0f} steps/s    (random actions, mean episode "
          f"{walker_len:.0f} steps)")
    ratio, batched_ratio = qwop / walker, batched / walker
    print(f"ratio QWOP-v0 / BipedalWalker-v3: {ratio:.2f}x single, {batched_ratio:.2f}x batched "
          f"(goals: >= 5x single, >= 10x batched per core)")
    cost = update_cost()
    parts = ", ".join(f"{part} {cost[part]:.2f} us ({cost[part] / cost['total']:.0%})"
                      for part in ("contacts", "solver", "broadphase"))
    per_action = 1e6 / qwop
    print(f"one game update costs {cost['total']:.2f} us in the core: {parts}; "
          f"an action (3 updates) costs {per_action:.1f} us in QWOP-v0, "
          f"{per_action - 3 * cost['total']:.1f} us of it outside the core (Python, features, reward)")
    return {"engine_updates": updates, "env_actions": qwop, "batched_actions": batched,
            "walker_steps": walker, "ratio": ratio, "batched_ratio": batched_ratio,
            "update_us": cost["total"]}


# Open-loop error of the 24 body positions at 0.5 / 1 / 2 HUD s over 20 key sequences, measured
# on 2026-12-06 against the original game for openqwop-1 (the Box2D 2.3 re-creation this core
# replaced): kept as the "before" row.
OPENQWOP_1_OPEN_LOOP = {0.5: 0.083, 1.0: 0.239, 2.0: 0.644}
ORIGINAL_BOTS = {"stride": ("finished", 155.00), "shuffle": ("finished", 147.73), "flail": ("fell", 50 / 30)}


def bench_reference() -> None:
    """openqwop against the original game's own update-by-update trajectories, and the bots'
    races against the original's (the figures issue 16 asks for)."""
    from qwopkit.adapter.openqwop.bots import get_bot, play
    from qwopkit.adapter.openqwop.reference import CHECKED_UPDATES, compare, default_reference

    path = default_reference()
    if not path.exists():
        print(f"reference: skipped (the original game's trajectories are not at {path}; "
              "set QWOPKIT_ORIGINAL_TRAJECTORIES)")
    else:
        reports = compare(path)
        print(f"against the original game's trajectories ({path.name}, {len(reports)} sequences, "
              f"{sum(r.updates for r in reports):,} updates):")
        print(f"  {'sequence':12s} {'updates':>7s} {'max error':>10s}  first update past 1e-6 / 1e-3 / 1e-1"
              "   fall (original, ours)")
        for r in reports:
            past = " / ".join("-" if v is None else str(v) for v in r.first_past.values())
            print(f"  {r.name:12s} {r.updates:7d} {r.max_error:10.3g}  {past:38s} {r.fell}")
        exact = sum(r.max_error_checked <= 1e-6 for r in reports)
        same = sum(r.same_ending for r in reports)
        print(f"  within 1e-6 for the first {CHECKED_UPDATES} updates: {exact}/{len(reports)} sequences; "
              f"same fall/finish update: {same}/{len(reports)}; largest error anywhere: "
              f"{max(r.max_error for r in reports):.3g}")
        before = ", ".join(f"{v:.3f} at {t:g} s" for t, v in OPENQWOP_1_OPEN_LOOP.items())
        print(f"  open-loop position error before this core (openqwop-1): {before}")
    for name, (outcome, hud) in ORIGINAL_BOTS.items():
        result = play(get_bot(name), max_updates=5400)
        print(f"  bot {name:8s} openqwop: {result.status} at {result.hud_time:7.2f} s HUD; "
              f"original: {outcome} at {hud:7.2f} s")


def bench_fidelity(plot: str | None = None) -> None:
    """The engine against the original game: its own trajectories (exact), then the seed's
    recordings of a person (the spawn, replays from it, the teacher-forced one-step error)."""
    from qwopkit.bench.fidelity import default_seed_demos, report

    bench_reference()
    folder = default_seed_demos()
    if not (folder / "kuro_try1.npz").exists():
        print(f"fidelity: skipped (the seed's recordings are not at {folder}: `qwop-data fetch-seed` "
              "gets them, or set QWOPKIT_SEED_DEMOS to their folder)")
        return
    print(f"fidelity to the original game's recordings of a person ({folder}):")
    report(folder, plot=plot)


def bench_startup(repeat: int = 3) -> dict[str, float]:
    """Seconds for each installed console script to print its --help (best of `repeat` runs)."""
    import importlib.metadata
    import shutil
    import subprocess
    import sys

    scripts = sorted(e.name for e in importlib.metadata.entry_points(group="console_scripts")
                     if e.value.startswith("qwopkit."))
    print(f"--help of each console script, best of {repeat} runs (a fresh interpreter each time):")
    out = {}
    for name in scripts:
        path = shutil.which(name) or str(Path(sys.executable).parent / name)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([path, "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            best = min(best, time.perf_counter() - start)
        out[name] = best
        print(f"  {name:15s} {best:6.2f} s", flush=True)
    return out
