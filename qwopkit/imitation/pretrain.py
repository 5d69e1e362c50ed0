"""Pretraining as function calls: clone the kept episodes into the ACER policy, write the model
and its report.

    result = pretrain(["data/kurodo"], "models/bc.zip", seed=3)     # the preset the episodes call for
    prepared = prepare_demos(["data/kurodo"], seed=3, recovery=4)   # or in two steps, as qwop-pretrain
    result = train_clone(prepared, "models/bc.zip", config=BCConfig(seed=3, max_epochs=50))

What `qwop-pretrain` does, without a command line: load the demonstrations (train / valid by
episode), choose the shaping preset from the episodes' own attributes unless one is named
(presets.py; single settings may be given in its place), shape them (recovery.py), train
(bc.py), then write the model (an SB3 zip) and its report beside it (report.py). Floor:
algorithms; errors name the parameter, nothing is printed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwopkit.errors import ExistsError, ParameterError
from qwopkit.imitation.config import BCConfig
from qwopkit.imitation.presets import PRESETS, Sources, choose_preset, preset_record

if TYPE_CHECKING:
    from qwopkit.imitation.bc import Demos

SHAPING = ("drop_settling", "recovery", "recovery_depth")


def resolve_preset(sources: Sources, preset: str | None = None, why: str = "named",
                   **given: bool | int | None) -> dict[str, Any]:
    """The shaping settings: `preset` (or the one the episodes call for), with any of `given`
    (drop_settling, recovery, recovery_depth) that is not None in place of its own. Returns the
    record kept in the report and the model: name, why, the preset's settings, those used."""
    if preset is not None and preset not in PRESETS:
        raise ParameterError("preset", f"{preset!r} is not one of {', '.join(sorted(PRESETS))}")
    name, why = (preset, why) if preset else choose_preset(sources)
    chosen = PRESETS[name]
    used = {k: given[k] if given.get(k) is not None else getattr(chosen, k) for k in SHAPING}
    changed = [k for k in SHAPING if given.get(k) is not None and given[k] != getattr(chosen, k)]
    return {**preset_record(name, why, used), "flags_given": changed}


def shape(demos: Demos, used: dict[str, Any], *, seed: int, progress: bool = False) -> Demos:
    """`demos` shaped as the settings `used` say (the engine is loaded only when there is shaping)."""
    if not (used["drop_settling"] or used["recovery"]):
        return demos
    from qwopkit.imitation.recovery import shape_demos

    return shape_demos(demos, drop_settling=used["drop_settling"], recovery=used["recovery"],
                       recovery_depth=used["recovery_depth"], seed=seed, progress=progress)


@dataclass
class PreparedDemos:
    """Demonstrations loaded, split and shaped, ready to clone."""

    demos: Demos
    sources: Sources
    preset: dict[str, Any]  # resolve_preset's record
    specs: list[str]
    seed: int


@dataclass
class PretrainResult:
    model: Path
    report_path: Path
    report: dict[str, Any]

    @property
    def warnings(self) -> list[str]:
        return list(self.report.get("warnings", []))


def prepare_demos(specs: str | Path | Sequence[str | Path], *, seed: int = 0, split: str | None = None,
                  valid_fraction: float = 0.2, preset: str | None = None, preset_why: str = "named",
                  drop_settling: bool | None = None, recovery: int | None = None,
                  recovery_depth: int | None = None, progress: bool = False) -> PreparedDemos:
    """Load the kept episodes `specs` names (train / valid by episode: a named `split`, or a seeded
    one of `valid_fraction`), choose the shaping (resolve_preset) and shape them."""
    from qwopkit.imitation.bc import load_demos
    from qwopkit.imitation.presets import episode_sources

    if not 0 < valid_fraction < 1:
        raise ParameterError("valid_fraction", f"bad value {valid_fraction}")
    names = [str(s) for s in ([specs] if isinstance(specs, (str, Path)) else specs)]
    demos = load_demos(names, split=split, valid_fraction=valid_fraction, seed=seed)
    sources = episode_sources(demos.train_episodes + demos.valid_episodes)
    record = resolve_preset(sources, preset, preset_why, drop_settling=drop_settling, recovery=recovery,
                            recovery_depth=recovery_depth)
    demos = shape(demos, record["used"], seed=seed, progress=progress)
    return PreparedDemos(demos, sources, record, names, seed)


def check_output(out: str | Path, overwrite: bool = False) -> Path:
    """Refuse a model path that is not a .zip, or one that holds a model already (unless `overwrite`):
    cheap, so a command checks it before loading anything."""
    out = Path(out)
    if out.suffix != ".zip":
        raise ParameterError("out", f"the model file must end in .zip, got {str(out)!r}")
    if out.exists() and not overwrite:
        raise ExistsError(out, "a model is there already")
    return out


def train_clone(prepared: PreparedDemos, out: str | Path, *, config: BCConfig | None = None,
                overwrite: bool = False, progress: bool = False) -> PretrainResult:
    """Clone the prepared demonstrations into a model zip at `out`, its report beside it.

    :param config: the training settings (BCConfig's defaults, with the preparation's seed, if None).
    :param overwrite: replace a model already at `out` (else ExistsError naming it).
    """
    from qwopkit.imitation.bc import train_bc
    from qwopkit.imitation.report import build_report, doubts, report_path, summary, write_report
    from qwopkit.rl.acer.policies import save_policy

    out = check_output(out, overwrite)
    config = config or BCConfig(seed=prepared.seed)
    demos = prepared.demos
    start = time.monotonic()
    result = train_bc(demos.train_obs, demos.train_actions, demos.valid_obs, demos.valid_actions, config,
                      progress=progress)
    report = build_report(demos, result, config, specs=prepared.specs, model=str(out),
                          seconds=time.monotonic() - start, preset=prepared.preset)
    report["warnings"] = doubts(report, prepared.sources)
    model = save_policy(result.policy, out, info=summary(report))
    return PretrainResult(model, write_report(report, report_path(model)), report)


def pretrain(specs: str | Path | Sequence[str | Path], out: str | Path, *, seed: int = 0,
             split: str | None = None, preset: str | None = None, overwrite: bool = False) -> PretrainResult:
    """prepare_demos then train_clone, with BCConfig's defaults: what `qwop-pretrain --demos SPECS
    --out OUT --seed SEED` does (fine-tuning and the benchmarks clone this way)."""
    prepared = prepare_demos(specs, seed=seed, split=split, preset=preset)
    return train_clone(prepared, out, config=BCConfig(seed=seed), overwrite=overwrite)


__all__ = ["SHAPING", "PreparedDemos", "PretrainResult", "check_output", "prepare_demos", "pretrain",
           "resolve_preset",
           "shape", "train_clone"]
