"""Checkpoints a killed training run resumes from. Floor: applications.

    callback = ResumableCheckpointCallback("runs/x/checkpoints", save_freq=100_000,
                                           keep_state={"progress": progress, "evals": evals})
    save_checkpoint(folder, model, extra={"progress": ..., "evals": ...})
    checkpoint = latest_checkpoint(folder)        # None if there is none
    model = ACER.load(checkpoint.model, env=env); restore_checkpoint(model, checkpoint)

A checkpoint is a folder `step-<num_timesteps>` holding the model zip (SB3's, with the optimizer
and the averaged policy), the replay (`replay.pkl`), torch's random state (`torch_rng.pt`; the
numpy generator ACER samples the replay with travels in the zip) and `state.json` (the step and
what the callbacks keep: training episodes, evaluations). Every file goes through the one atomic
writer (qwopkit/atomic.py), and `latest.json` is replaced last: a run killed at any moment
leaves `latest.json` naming a complete checkpoint. The two newest are kept.

What is not saved is the environments' state: a resumed run starts new episodes, and the
episodes that were running when it was killed are lost. (The engine could snapshot its worlds
bit for bit, Engine.snapshot(), but SB3's vectorised environments keep theirs out of reach.)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from qwopkit.atomic import atomic_write, write_json_atomic
from qwopkit.errors import InputError
from qwopkit.rl.common.callbacks import EveryNSteps

LATEST = "latest.json"
KEEP = 2


@dataclass
class Checkpoint:
    folder: Path
    step: int
    state: dict[str, Any]

    @property
    def model(self) -> Path:
        return self.folder / "model.zip"

    @property
    def replay(self) -> Path:
        return self.folder / "replay.pkl"

    @property
    def torch_rng(self) -> Path:
        return self.folder / "torch_rng.pt"


def save_checkpoint(root: str | Path, model: BaseAlgorithm,
                    extra: dict[str, Any] | None = None) -> Checkpoint:
    """Write a checkpoint of `model` (and `extra`, JSON-able) under `root`; returns it."""
    root = Path(root)
    folder = root / f"step-{model.num_timesteps:012d}"
    folder.mkdir(parents=True, exist_ok=True)
    state = {"step": int(model.num_timesteps), **(extra or {})}
    checkpoint = Checkpoint(folder, model.num_timesteps, state)
    with atomic_write(checkpoint.model) as tmp:
        model.save(tmp)  # (the temporary name ends in .tmp: SB3 adds no .zip to it)
    if getattr(model, "replay_buffer", None) is not None and hasattr(model, "save_replay_buffer"):
        with atomic_write(checkpoint.replay) as tmp:
            model.save_replay_buffer(tmp)
    with atomic_write(checkpoint.torch_rng) as tmp:
        th.save(th.get_rng_state(), tmp)
    write_json_atomic(folder / "state.json", state)
    write_json_atomic(root / LATEST, {"step": checkpoint.step, "folder": folder.name})
    _prune(root, keep=KEEP)
    return checkpoint


def latest_checkpoint(root: str | Path) -> Checkpoint | None:
    """The checkpoint `latest.json` names, or None if there is none. Raises InputError if it is damaged."""
    root = Path(root)
    pointer = root / LATEST
    if not pointer.exists():
        return None
    try:
        latest = json.loads(pointer.read_text(encoding="utf-8"))
        folder = root / str(latest["folder"])
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(pointer, f"damaged checkpoint record ({exc})") from None
    checkpoint = Checkpoint(folder, int(state["step"]), state)
    if not checkpoint.model.exists():
        raise InputError(checkpoint.model, "the checkpoint's model is missing")
    return checkpoint


def restore_checkpoint(model: BaseAlgorithm, checkpoint: Checkpoint) -> None:
    """Put the replay and torch's random state of `checkpoint` back into a model loaded from it."""
    if checkpoint.replay.exists() and hasattr(model, "load_replay_buffer"):
        model.load_replay_buffer(checkpoint.replay)
    if checkpoint.torch_rng.exists():
        th.set_rng_state(th.load(checkpoint.torch_rng))
    # The environments restart: the zip's last observation belongs to an episode that is gone.
    model._last_obs = None


def _prune(root: Path, keep: int) -> None:
    folders = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in folders[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


class ResumableCheckpointCallback(EveryNSteps):
    """Every `save_freq` environment steps (and at the end), a checkpoint a killed run resumes from.

    :param folder: where the checkpoints go (training/checkpoints.py).
    :param save_freq: environment steps between checkpoints.
    :param keep_state: callbacks whose `state_dict()` goes into the checkpoint, by name.
    :param log: called with a line for each checkpoint written (None: silent).
    """

    def __init__(self, folder: str | Path, save_freq: int = 100_000,
                 keep_state: dict[str, Any] | None = None, log: Callable[[str], None] | None = None,
                 verbose: int = 0) -> None:
        super().__init__(save_freq, verbose)
        self.log = log
        self.folder = Path(folder)
        self.keep_state = dict(keep_state or {})

    def _act(self) -> None:
        self.save_now()

    def _on_training_end(self) -> None:
        self.save_now()

    def save_now(self) -> None:
        extra = {name: callback.state_dict() for name, callback in self.keep_state.items()}
        checkpoint = save_checkpoint(self.folder, self.model, extra)
        if self.log is not None:
            self.log(f"checkpoint at step {checkpoint.step}: {checkpoint.folder}")
