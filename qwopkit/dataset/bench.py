"""Benchmarks of the dataset library on synthetic episodes in a temporary folder (prints figures).

    python -m qwopkit.dataset.bench             # both, default sizes
    run_index_bench(n_files=2000)               # files per second for build_index
    run_transitions_bench(n=1_000_000)          # seconds to load 1M transitions

Figures measured so far are in docs/dataset.md. Nothing here asserts a time.
"""

from __future__ import annotations

import tempfile
import time
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


def run_index_bench(n_files: int = 2000, steps: int = 100,
                    folder: str | Path | None = None) -> dict[str, Any]:
    """Time `build_index` over `n_files` synthetic episodes (with raw state); prints files/s."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        t0 = time.perf_counter()
        write_synthetic(Path(tmp), n_files, steps, with_state=True)
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        df = build_index(tmp)
        index_s = time.perf_counter() - t0
    result = {"files": len(df), "write_s": write_s, "index_s": index_s, "files_per_s": len(df) / index_s}
    print(f"index: {len(df)} files in {index_s:.2f} s = {result['files_per_s']:.0f} files/s "
          f"(writing them took {write_s:.1f} s)")
    return result


def run_transitions_bench(n: int = 1_000_000, steps: int = 1000,
                          folder: str | Path | None = None) -> dict[str, Any]:
    """Time `to_transitions` over n transitions in episodes of `steps` decisions; prints seconds."""
    n_files = max(1, n // steps)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        t0 = time.perf_counter()
        write_synthetic(Path(tmp), n_files, steps, with_state=False)
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        data = to_transitions(tmp)
        load_s = time.perf_counter() - t0
    nbytes = sum(a.nbytes for a in (data.observations, data.next_observations, data.mu, data.actions,
                                    data.rewards, data.dones, data.terminations, data.truncations))
    result = {"transitions": len(data), "files": n_files, "load_s": load_s, "write_s": write_s,
              "gigabytes": nbytes / 1e9}
    print(f"transitions: {len(data):,} from {n_files} files in {load_s:.2f} s "
          f"({nbytes / 1e9:.2f} GB of arrays; writing them took {write_s:.1f} s)")
    return result


if __name__ == "__main__":
    run_index_bench()
    run_transitions_bench()
