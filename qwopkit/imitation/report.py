"""The behaviour-cloning report: what was cloned and how well, as JSON and as tables.

Saved beside the model as `<model>.report.json` (models/bc.zip -> models/bc.report.json); its
summary also goes into the model zip's data (key "qwopkit"), so a model says where it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.atomic import write_text_atomic
from qwopkit.imitation.bc import (
    BCConfig,
    BCResult,
    Demos,
    config_dict,
    confusion,
    cross_entropy,
    predict_logits,
)
from qwopkit.imitation.presets import Sources
from qwopkit.spaces import ACTION_NAMES


def report_path(model: str | Path) -> Path:
    """Where the report of a model goes: models/bc.zip -> models/bc.report.json."""
    model = Path(model)
    return model.with_name(model.stem + ".report.json")


def _part(result: BCResult, obs: np.ndarray, actions: np.ndarray) -> dict[str, Any]:
    loss, acc = cross_entropy(result.policy, obs, actions)
    predicted = predict_logits(result.policy, obs).argmax(1)
    return {"transitions": int(len(actions)), "loss": loss, "accuracy": acc,
            "confusion": confusion(actions, predicted).tolist()}


def build_report(demos: Demos, result: BCResult, config: BCConfig, *, specs: list[str], model: str | Path,
                 seconds: float, preset: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything about one cloning run, JSON-able."""
    # Training figures on the recorded decisions only (not on recovery decisions added to them).
    n_recorded = len(demos.train_actions) if demos.train_recorded is None else demos.train_recorded
    train = _part(result, demos.train_obs[:n_recorded], demos.train_actions[:n_recorded])
    valid = _part(result, demos.valid_obs, demos.valid_actions)
    per_action = []
    cm = np.array(valid["confusion"])
    for i, name in enumerate(ACTION_NAMES):
        recorded, predicted = int(cm[i].sum()), int(cm[:, i].sum())
        per_action.append({
            "action": name,
            "train_count": int(np.sum(demos.train_actions[:n_recorded] == i)),
            "valid_count": recorded,
            "valid_recall": float(cm[i, i] / recorded) if recorded else None,
            "valid_precision": float(cm[i, i] / predicted) if predicted else None,
        })
    return {
        "kind": "qwopkit-bc-report",
        "model": str(model),
        "demos": specs,
        "split": demos.split,
        "preset": preset,
        "shaping": demos.shaping,
        "episodes": {"train": demos.train_episodes, "valid": demos.valid_episodes},
        "config": config_dict(config),
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "seconds": round(seconds, 2),
        "actions": list(ACTION_NAMES),
        "train": train,
        "valid": valid,
        "per_action": per_action,
        "history": result.history,
    }


# A clone below this validation accuracy, or no better than always predicting the validation
# part's most common action, has not learnt its demonstrations (a person's clone reaches 70-77%,
# a bot's 97%: docs/imitation.md, docs/kuro.md).
SANE_ACCURACY = 0.5


def doubts(report: dict[str, Any], sources: Sources) -> list[str]:
    """What is wrong with a clone or its demonstrations that a user should hear about, with what
    to do: demonstrations that are mostly falls, and a validation accuracy nobody should use."""
    out = []
    falls, episodes = sources.outcomes.get("fell", 0), sources.episodes
    if episodes and 2 * falls >= episodes:  # half or more
        out.append(f"{falls} of the {episodes} kept episodes end in a fall: the clone learns to fall too. "
                   "Clone the runs that went well (qwop-data ls DIR --outcome finished; leave falls out "
                   "with qwop-data mark FILE ... --exclude fall)")
    valid = report["valid"]
    counts = np.array(valid["confusion"]).sum(axis=1)
    majority = float(counts.max() / counts.sum()) if counts.sum() else 0.0
    if valid["transitions"] and (valid["accuracy"] < SANE_ACCURACY or valid["accuracy"] <= majority):
        out.append(f"validation accuracy {valid['accuracy']:.1%} (always the commonest action: "
                   f"{majority:.1%}; a usable clone reaches {SANE_ACCURACY:.0%} or more): the validation "
                   "episodes are played unlike the training ones. Clone runs of one kind (a player's "
                   "finished runs: qwop-data ls DIR --outcome finished --player P) or name a split (--split)")
    return out


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The short form stored inside the model zip."""
    return {
        "trained_by": "qwop-pretrain",
        "report": str(report_path(report["model"]).name),
        "episodes": {k: len(v) for k, v in report["episodes"].items()},
        "transitions": {k: report[k]["transitions"] for k in ("train", "valid")},
        "accuracy": {k: report[k]["accuracy"] for k in ("train", "valid")},
        "best_epoch": report["best_epoch"],
        "config": report["config"],
        "preset": report.get("preset"),
        "warnings": report.get("warnings", []),
    }


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """Write the report as JSON through the one atomic writer (strict JSON: no NaN)."""
    return write_text_atomic(path, json.dumps(report, indent=1, allow_nan=False) + "\n")
