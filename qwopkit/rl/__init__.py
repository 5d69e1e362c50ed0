"""qwopkit.rl: ACER with demonstrations in replay, its policy, buffers, schedules, callbacks and evaluation.

    from qwopkit.rl import ACER, ACERPolicy, load_demonstrations, PhaseSchedule

The layout is Stable-Baselines3's: acer.py (the algorithm), policies.py (the network and its
averaged copy), buffers.py (segment replay, demonstration store), demos.py (episodes into
demonstrations), schedules.py, callbacks.py, checkpoints.py, report.py, evaluate.py,
seed_models.py (the seed system's own trained agents, from their SB2 zips), and one module per
command (finetune_cli.py, eval_cli.py). docs/acer.md describes them.

Names are imported on first use, so that importing a command's module (for its --help) does
not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ACER": ".acer", "retrace_targets": ".acer", "trust_region_projection": ".acer",
    "ACERPolicy": ".policies", "load_policy": ".policies", "save_policy": ".policies",
    "ModelFileError": ".policies",
    "Segments": ".buffers", "SegmentReplayBuffer": ".buffers", "DemoStore": ".buffers",
    "load_demonstrations": ".demos",
    "Phase": ".schedules", "PhaseSchedule": ".schedules",
    "RunProgressCallback": ".callbacks", "QWOPEvalCallback": ".callbacks",
    "ResumableCheckpointCallback": ".callbacks", "WallClockLimit": ".callbacks",
    "evaluate": ".evaluate",
    "load_model": ".seed_models", "load_seed_model": ".seed_models", "load_seed_acer": ".seed_models",
    "SeedDQNPolicy": ".seed_models", "demo_agreement": ".seed_models",
    "FinetuneConfig": ".finetune", "run_finetune": ".finetune", "resume_finetune": ".finetune",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
