"""Benchmarks of the dataset library on synthetic episodes in a temporary folder (prints figures).

    qwop-bench dataset                          # both, default sizes
    run_index_bench(n_files=2000)               # files per second for build_index
    run_transitions_bench(n=1_000_000)          # seconds to load 1M transitions

Figures measured so far are in docs/dataset.md. Nothing here asserts a time.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.bench.synthetic import synthetic_episode
from qwopkit.dataset import build_index, to_transitions, write_episode
from qwopkit.dataset.progress import track
from qwopkit.dataset.values import decision_problem


def write_synthetic(folder: Path, n_files: int, steps: int, *, with_state: bool, players: int = 4,
                    seed: int = 0) -> list[Path]:
    """Write `n_files` synthetic episodes (no fsync: this is throwaway data)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in track(range(n_files), f"writing {n_files} synthetic episode files"):
        ep = synthetic_episode(rng, player=f"p{i % players}", session="bench", index=i, steps=steps,
                               with_state=with_state)
        out.append(write_episode(ep, folder, fsync=False))
    return out


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """fn's result, wall seconds, user CPU seconds, system CPU seconds."""
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = fn()
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    return result, wall, r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime


def _report(what: str, runs: list[tuple[str, float, float, float]]) -> None:
    for label, wall, user, sys_ in runs:
        print(f"{what} {label}: {wall:.2f} s (cpu user {user:.2f} s, system {sys_:.2f} s)", flush=True)


def _runs(fn: Callable[[bool], Any], repeat: int, what: str) -> list[tuple[str, float, float, float]]:
    """Cold runs (no attribute cache), one that fills the cache, then cached runs; each is
    printed as soon as it is measured."""
    runs = []

    def run(label: str, cache: bool) -> None:
        _, wall, user, sys_ = _timed(lambda: fn(cache))
        runs.append((label, wall, user, sys_))
        _report(what, runs[-1:])

    for i in range(repeat):
        run(f"cold run {i + 1}", False)
    run("run filling the cache", True)
    for i in range(repeat):
        run(f"cached run {i + 1}", True)
    return runs


def run_index_bench(n_files: int = 2000, steps: int = 100, repeat: int = 2,
                    folder: str | Path | None = None) -> dict[str, Any]:
    """Time `build_index` over `n_files` synthetic episodes (with raw state); prints files/s."""
    print(f"index of {n_files} episode files of {steps} decisions:", flush=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        _, write_s, _, _ = _timed(lambda: write_synthetic(Path(tmp), n_files, steps, with_state=True))
        print(f"  (writing them took {write_s:.1f} s)", flush=True)
        runs = _runs(lambda cache: build_index(tmp, cache=cache), repeat, "  index")
    cold = min(r[1] for r in runs if r[0].startswith("cold"))
    cached = min(r[1] for r in runs if r[0].startswith("cached"))
    print(f"  best: {n_files / cold:.0f} files/s cold, {n_files / cached:.0f} files/s cached")
    return {"files": n_files, "write_s": write_s, "runs": runs, "cold_files_per_s": n_files / cold,
            "cached_files_per_s": n_files / cached}


def run_transitions_bench(n: int = 1_000_000, steps: int = 1000, repeat: int = 2,
                          folder: str | Path | None = None) -> dict[str, Any]:
    """Time `to_transitions` over n transitions in episodes of `steps` decisions; prints seconds."""
    n_files = max(1, n // steps)
    print(f"transitions: {n_files * steps:,} from {n_files} files of {steps} decisions:", flush=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        _, write_s, _, _ = _timed(lambda: write_synthetic(Path(tmp), n_files, steps, with_state=False))
        print(f"  (writing them took {write_s:.1f} s)", flush=True)
        # len() only: keeping one result at a time in memory.
        runs = _runs(lambda cache: len(to_transitions(tmp, cache=cache)), repeat, "  load")
        checks_s = _value_checks_seconds(to_transitions(tmp))
    cold = min(r[1] for r in runs if r[0].startswith("cold"))
    cached = min(r[1] for r in runs if r[0].startswith("cached"))
    print(f"  best: {cold:.2f} s cold, {cached:.2f} s cached; of a load, the value checks of the "
          f"rows loaded take {checks_s:.2f} s")
    return {"transitions": n_files * steps, "files": n_files, "write_s": write_s, "runs": runs,
            "cold_s": cold, "cached_s": cached, "value_checks_s": checks_s}


def _value_checks_seconds(data: Any) -> float:
    """The value checks `to_transitions` runs on every episode it loads, timed on their own."""
    bounds = np.flatnonzero(np.diff(data.episode, prepend=-1, append=len(data.paths)))
    meta = {"outcome": "fell", "imported": False}
    start = time.perf_counter()
    for a, b in zip(bounds[:-1], bounds[1:]):
        obs = np.concatenate([data.observations[a:b], data.next_observations[b - 1:b]])
        problem = decision_problem(meta, observations=obs, actions=data.actions[a:b],
                                   rewards=data.rewards[a:b], terminations=data.terminations[a:b],
                                   truncations=data.truncations[a:b], mu=data.mu[a:b])
        assert problem is None, problem
    elapsed = time.perf_counter() - start
    copy = time.perf_counter()
    for a, b in zip(bounds[:-1], bounds[1:]):  # the row copies above are not part of the checks
        np.concatenate([data.observations[a:b], data.next_observations[b - 1:b]])
    return elapsed - (time.perf_counter() - copy)


if __name__ == "__main__":
    run_index_bench()
    run_transitions_bench()
    run_transitions_bench(steps=500)
