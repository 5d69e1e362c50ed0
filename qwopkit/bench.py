"""Benchmarks that print figures: `qwop-bench env|fidelity|record|dataset|app|startup`
(or `python -m qwopkit.bench`).

env: raw engine updates/s, env actions/s (frame_skip 3, random actions, resets included) and
BipedalWalker-v3 steps/s under the same protocol, measured in one process on one core, then the
ratio. Figures vary with the machine and its load; docs/benchmarks.md keeps the latest ones.
"""

from __future__ import annotations

import argparse
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
    from .adapter.openqwop import RUNNING, Engine

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


def box2d_step_share(actions: int = 20_000) -> float:
    """Microseconds per action spent inside Box2D's world.Step (cProfile's own time of that C
    call) in QWOP-v0 under the same protocol: the floor no Python-side work can remove."""
    import cProfile
    import pstats

    env = _make("qwopkit/QWOP-v0")
    profiler = cProfile.Profile()
    profiler.runcall(_random_steps, env, actions)
    env.close()
    table = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # (file, line, name) -> timings
    own_time = sum(entry[2] for (_, _, name), entry in table.items() if name.endswith("b2World_Step>"))
    return own_time / actions * 1e6


def bench_env(seconds: float) -> dict[str, float]:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{_pin_to_one_core()}; {seconds:.0f} s per measurement")
    updates = engine_updates_per_second(seconds)
    print(f"openqwop engine        {updates:12,.0f} updates/s")
    qwop, qwop_len = env_steps_per_second("qwopkit/QWOP-v0", seconds)
    print(f"qwopkit/QWOP-v0        {qwop:12,.0f} actions/s  (frame_skip 3, random actions, "
          f"mean episode {qwop_len:.0f} actions)")
    walker, walker_len = env_steps_per_second("BipedalWalker-v3", seconds)
    print(f"BipedalWalker-v3       {walker:12,.0f} steps/s    (random actions, mean episode "
          f"{walker_len:.0f} steps)")
    ratio = qwop / walker
    print(f"ratio QWOP-v0 / BipedalWalker-v3: {ratio:.2f}x   (goals: >= 20,000 actions/s, >= 2.5x)")
    floor = box2d_step_share()
    print(f"of the {1e6 / qwop:.1f} us per action, Box2D's world.Step alone takes {floor:.1f} us "
          f"({floor * qwop / 1e4:.0f}%)")
    bench_fidelity()
    return {"engine_updates": updates, "env_actions": qwop, "walker_steps": walker, "ratio": ratio}


def bench_fidelity(plot: str | None = None) -> None:
    """The engine against the original game's recordings (when the seed's files are at hand):
    the spawn, replays from it, and the teacher-forced one-step error over whole runs."""
    from .adapter.openqwop.fidelity import default_seed_demos, report

    folder = default_seed_demos()
    if not (folder / "kuro_try1.npz").exists():
        print(f"fidelity: skipped (the seed's recordings are not at {folder}: `qwop-data fetch-seed` "
              "gets them, or set QWOPKIT_SEED_DEMOS to their folder)")
        return
    print(f"fidelity to the original game ({folder}):")
    report(folder, plot=plot)


WHAT = {"env": "engine updates/s and environment actions/s, against BipedalWalker-v3",
        "fidelity": "closeness to the original game's recordings (needs the seed's files)",
        "record": "the real-time recording loop: update timing and key latency (needs X)",
        "dataset": "the dataset library: indexing 2,000 files and loading 1M transitions",
        "app": "the app's overview on 2,000 episodes, in the script and in a real browser",
        "startup": "how long each console script takes to answer --help"}


def build_parser() -> argparse.ArgumentParser:
    from .console import HelpFormatter

    parser = argparse.ArgumentParser(prog="qwop-bench", formatter_class=HelpFormatter,
                                     description="Print benchmark figures (docs/benchmarks.md keeps the "
                                     "latest): " + "; ".join(f"{k}: {v}" for k, v in WHAT.items()) + ".")
    parser.add_argument("what", choices=list(WHAT), help="which benchmark to run")
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of each measurement (default: env 5, record 20)")
    parser.add_argument("--plot", metavar="PNG", default=None,
                        help="fidelity: also draw the one-step errors into this figure")
    return parser


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


def main(argv: list[str] | None = None) -> int:
    from .console import run_console

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.what == "record" and not os.environ.get("DISPLAY"):
        parser.error("record: needs an X display for the key listener (set DISPLAY; Xvfb works)")
    return run_console("qwop-bench", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if args.what == "env":
        bench_env(args.seconds or 5.0)
    elif args.what == "fidelity":
        bench_fidelity(args.plot)
    elif args.what == "record":
        from .recorder.bench import bench_record

        bench_record(args.seconds or 20.0)
    elif args.what == "app":
        from .app.bench import run_app_bench

        run_app_bench()
    elif args.what == "startup":
        bench_startup()
    else:
        from .dataset_bench import run_index_bench, run_transitions_bench

        run_index_bench()
        run_transitions_bench()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
