"""qwopkit.rl: the reinforcement-learning algorithms. Floor: algorithms.

    from qwopkit.rl import ACER, ACERWithDemos, PhaseScheduleCallback, load_demonstrations

- qwopkit.rl.acer: ACER as sb3-contrib lays out one algorithm (acer.py, policies.py, buffers.py),
  with demonstrations in replay as a subclass (with_demos.py) and the Ray hook as an interface
  (sources.py);
- qwopkit.rl.common: what any SB3 learner here uses: callbacks, headless evaluation, phase
  schedules, demonstrations from episode files, the batched vector env, the seed's own agents.

This floor may import the library floor (qwopkit.adapter, qwopkit.dataset and the shared leaves)
and nothing above it: fine-tuning runs, evaluation and Ray are in qwopkit.training, benchmarks
in qwopkit.bench (docs/decisions.md shows the floors). Names are imported on first use, so that
importing a command's module (for its --help) does not load torch.

The modules of the earlier flat layout (qwopkit.rl.policies, qwopkit.rl.finetune, ...) still
import for one release, with a DeprecationWarning naming their new place; model zips that name
them still load.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

_EXPORTS = {
    "ACER": "qwopkit.rl.acer", "ACERWithDemos": "qwopkit.rl.acer", "PhaseScheduleCallback": "qwopkit.rl.acer",
    "retrace_targets": "qwopkit.rl.acer", "trust_region_projection": "qwopkit.rl.acer",
    "SegmentSource": "qwopkit.rl.acer",
    "ACERPolicy": "qwopkit.rl.acer", "load_policy": "qwopkit.rl.acer", "save_policy": "qwopkit.rl.acer",
    "ModelFileError": "qwopkit.rl.acer",
    "Segments": "qwopkit.rl.acer", "SegmentReplayBuffer": "qwopkit.rl.acer", "DemoStore": "qwopkit.rl.acer",
    "load_demonstrations": "qwopkit.rl.common.demos",
    "Phase": "qwopkit.rl.acer.schedules", "PhaseSchedule": "qwopkit.rl.acer.schedules",
    "RunProgressCallback": "qwopkit.rl.common.callbacks", "QWOPEvalCallback": "qwopkit.rl.common.callbacks",
    "WallClockLimit": "qwopkit.rl.common.callbacks",
    "evaluate": "qwopkit.rl.common.evaluation",
    "load_model": "qwopkit.rl.common.seed_models", "load_seed_model": "qwopkit.rl.common.seed_models",
    "load_seed_acer": "qwopkit.rl.common.seed_models", "SeedDQNPolicy": "qwopkit.rl.common.seed_models",
    "demo_agreement": "qwopkit.rl.common.seed_models",
}
# Names that were here and now live in the applications floor: still given, with a warning.
_MOVED_NAMES = {
    "FinetuneConfig": "qwopkit.training.finetune", "run_finetune": "qwopkit.training.finetune",
    "resume_finetune": "qwopkit.training.finetune",
    "ResumableCheckpointCallback": "qwopkit.training.checkpoints",
}
# Modules of the flat layout before 0.2 (issue 19) -> where they are now.
MOVED_MODULES = {
    "qwopkit.rl.policy": "qwopkit.rl.acer.policies", "qwopkit.rl.policies": "qwopkit.rl.acer.policies",
    "qwopkit.rl.buffers": "qwopkit.rl.acer.buffers", "qwopkit.rl.callbacks": "qwopkit.rl.common.callbacks",
    "qwopkit.rl.schedules": "qwopkit.rl.acer.schedules", "qwopkit.rl.demos": "qwopkit.rl.common.demos",
    "qwopkit.rl.vec_env": "qwopkit.rl.common.vec_env",
    "qwopkit.rl.seed_models": "qwopkit.rl.common.seed_models",
    "qwopkit.rl.evaluate": "qwopkit.rl.common.evaluation", "qwopkit.rl.finetune": "qwopkit.training.finetune",
    "qwopkit.rl.finetune_cli": "qwopkit.training.finetune_cli",
    "qwopkit.rl.eval_cli": "qwopkit.training.eval_cli",
    "qwopkit.rl.checkpoints": "qwopkit.training.checkpoints", "qwopkit.rl.report": "qwopkit.training.report",
    "qwopkit.rl.ray_rollouts": "qwopkit.training.ray_rollouts", "qwopkit.rl.bench_acer": "qwopkit.bench.acer",
    "qwopkit.rl.bench_ray": "qwopkit.bench.ray", "qwopkit.rl.seed_check": "qwopkit.bench.seed_check",
}

__all__ = sorted([*_EXPORTS, *_MOVED_NAMES])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _MOVED_NAMES:
        warnings.warn(f"qwopkit.rl.{name} moved to {_MOVED_NAMES[name]}.{name}; the old name goes in the "
                      f"next release", DeprecationWarning, stacklevel=2)
        value = getattr(importlib.import_module(_MOVED_NAMES[name]), name)
        globals()[name] = value  # warned once: `from qwopkit.rl import X` looks a name up twice
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a module of the old layout as the module that replaced it (one object, two names).
    A finder rather than a file per old module: the folder shows only what is here now."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED_MODULES else None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        new = MOVED_MODULES[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; the old name goes in the next release",
                      DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        pass  # the module it stands for has run already


if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
