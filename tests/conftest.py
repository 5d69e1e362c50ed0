"""Shared test helpers: where the seed's real recordings are (beside the project, if present)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def seed_demos_dir() -> Path:
    return Path(os.environ.get("QWOPKIT_SEED_DEMOS", REPO.parent / "shared" / "data" / "seed-demos"))


@pytest.fixture
def seed_demos() -> Path:
    path = seed_demos_dir()
    if not (path / "kuro_try1.npz").exists():
        pytest.skip(f"the seed's recordings are not at {path} (set QWOPKIT_SEED_DEMOS)")
    return path
