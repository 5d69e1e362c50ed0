"""Benchmarks of the dataset library on synthetic episodes in a temporary folder (prints figures).

    python -m qwopkit.dataset.bench             # both, default sizes
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

from .index import build_index
from .synthetic import synthetic_episode
from .transitions import to_transitions
from .writer import write_episode


def write_synthetic(folder: Path, n_files: int, steps: int, *, with_state: bool, players: int = 4,
                    seed: int = 0) -> list[Path]:
    """Write `n_files` synthetic episodes (no fsync: this is throwaway data)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_files):
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


def run_index_bench(n_files: int = 2000, steps: int = 100, repeat: int = 3,
                    folder: str | Path | None = None) -> dict[str, Any]:
    """Time `build_index` over `n_files` synthetic episodes (with raw state); prints files/s."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        _, write_s, _, _ = _timed(lambda: write_synthetic(Path(tmp), n_files, steps, with_state=True))
        runs = [_timed(lambda: build_index(tmp)) for _ in range(repeat)]
    best = min(r[1] for r in runs)
    for i, (df, wall, user, sys_) in enumerate(runs):
        print(f"index run {i + 1}: {len(df)} files in {wall:.2f} s = {len(df) / wall:.0f} files/s "
              f"(cpu user {user:.2f} s, system {sys_:.2f} s)")
    print(f"index: best {n_files / best:.0f} files/s over {n_files} files "
          f"(writing them took {write_s:.1f} s)")
    return {"files": n_files, "write_s": write_s, "index_s": [r[1] for r in runs],
            "files_per_s": n_files / best}


def run_transitions_bench(n: int = 1_000_000, steps: int = 1000, repeat: int = 3,
                          folder: str | Path | None = None) -> dict[str, Any]:
    """Time `to_transitions` over n transitions in episodes of `steps` decisions; prints seconds."""
    n_files = max(1, n // steps)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        _, write_s, _, _ = _timed(lambda: write_synthetic(Path(tmp), n_files, steps, with_state=False))
        runs = []
        for _ in range(repeat):
            data, wall, user, sys_ = _timed(lambda: to_transitions(tmp))
            runs.append((len(data), wall, user, sys_))
            del data  # keep one copy in memory at a time
    for i, (count, wall, user, sys_) in enumerate(runs):
        print(f"transitions run {i + 1}: {count:,} from {n_files} files of {steps} decisions in {wall:.2f} s "
              f"(cpu user {user:.2f} s, system {sys_:.2f} s)")
    best = min(r[1] for r in runs)
    print(f"transitions: best {best:.2f} s for {runs[0][0]:,} (writing them took {write_s:.1f} s)")
    return {"transitions": runs[0][0], "files": n_files, "load_s": [r[1] for r in runs], "best_s": best,
            "write_s": write_s}


if __name__ == "__main__":
    run_index_bench()
    run_transitions_bench()
    run_transitions_bench(steps=500)
