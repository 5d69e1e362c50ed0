"""Callbacks for long runs in the bundled game (SB3's callback API; they work with any SB3 algorithm).

    progress = RunProgressCallback(out=sys.stderr)      # bar (or a log line every 10 s), training episodes
    evals = QWOPEvalCallback(eval_freq=50_000, episodes=5)
    model.learn(1_000_000, callback=[progress, evals, WallClockLimit(20 * 60)])

- RunProgressCallback: steps/s, the mean distance of recent training episodes and the best HUD
  time of a finished one, on a tqdm bar in a terminal and as a plain line every few seconds
  otherwise; it keeps every training episode's outcome for the report's curves.
- QWOPEvalCallback: every `eval_freq` steps, sampled runs of the current policy in the bundled
  game (rl/common/evaluation.py): finish rate, best and median HUD time, mean distance, into the SB3 logger
  (TensorBoard) and a history the report plots.
- (ResumableCheckpointCallback, the checkpoints a killed run resumes from, belongs to the runs:
  qwopkit.training.checkpoints.)
- WallClockLimit: stops training after a number of seconds (the fixed-budget benchmarks).

Frequencies count environment steps (all environments together), not calls.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from tqdm import tqdm

from qwopkit.adapter.openqwop.physics import TIME_LIMIT


@dataclass
class EpisodeRecord:
    """One finished training episode."""

    step: int  # environment steps when it ended
    seconds: float  # wall-clock seconds since training started (over resumes)
    outcome: str  # finished, fell, timeout (QWOP), or "done" for other environments
    distance: float  # metres (QWOP), nan elsewhere
    hud_time: float  # HUD seconds (QWOP), nan elsewhere
    reward: float  # the episode's return (Monitor), nan if unknown


class RunProgressCallback(BaseCallback):
    """Shows progress and keeps the training episodes' outcomes.

    :param log_seconds: seconds between plain progress lines when stderr is not a terminal.
    :param window: episodes in the running mean of the distance.
    :param out: the stream to show progress on (the caller's: an application passes sys.stderr);
        None shows nothing and only keeps the episodes.
    """

    def __init__(self, log_seconds: float = 10.0, window: int = 100, out: Any = None,
                 verbose: int = 0) -> None:
        super().__init__(verbose)
        self.log_seconds = log_seconds
        self.window = window
        self.out = out
        self.episodes: list[EpisodeRecord] = []
        self.seconds_before = 0.0  # wall-clock seconds of earlier runs (a resumed run adds to them)
        self._returns: list[float] = []
        self._bar: tqdm | None = None

    # -- state kept in checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The episodes (as columns, which keep a long run's checkpoints small) and the seconds so far."""
        names = EpisodeRecord.__dataclass_fields__
        columns = {name: [getattr(e, name) for e in self.episodes] for name in names}
        return {"episodes": columns, "seconds": self.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        columns = state.get("episodes") or {}
        names = list(EpisodeRecord.__dataclass_fields__)
        rows = zip(*(columns.get(name, []) for name in names))
        self.episodes = [EpisodeRecord(**dict(zip(names, row))) for row in rows]
        self.seconds_before = float(state.get("seconds", 0.0))

    @property
    def seconds(self) -> float:
        """Wall-clock seconds of training so far, over resumes."""
        started = getattr(self, "_started", None)
        return self.seconds_before + (time.monotonic() - started if started is not None else 0.0)

    # -- figures
    def mean_distance(self) -> float:
        recent = [e.distance for e in self.episodes[-self.window:] if not math.isnan(e.distance)]
        return float(np.mean(recent)) if recent else float("nan")

    def best_time(self) -> float | None:
        finished = [e.hud_time for e in self.episodes if e.outcome == "finished"]
        return min(finished) if finished else None

    def first_finish_step(self) -> int | None:
        return next((e.step for e in self.episodes if e.outcome == "finished"), None)

    def line(self) -> str:
        steps = self.num_timesteps
        rate = (steps - self._steps_at_start) / max(time.monotonic() - self._started, 1e-9)
        best = self.best_time()
        parts = [f"{steps:,} steps", f"{rate:,.0f} steps/s", f"{len(self.episodes):,} episodes"]
        if not math.isnan(self.mean_distance()):
            parts.append(f"distance {self.mean_distance():.1f} m (last {self.window})")
        parts.append(f"best HUD time {best:.2f} s" if best is not None else "no finish yet")
        return ", ".join(parts)

    # -- SB3 hooks
    def _on_training_start(self) -> None:
        self._started = time.monotonic()
        self._steps_at_start = self.num_timesteps
        self._last_line = self._started
        total = self.locals.get("total_timesteps")
        stream = self.out
        if stream is not None and stream.isatty():
            self._bar = tqdm(total=total, initial=self.num_timesteps, unit="step", unit_scale=True,
                             file=stream, dynamic_ncols=True, mininterval=0.5)

    def _on_step(self) -> bool:
        dones = self.locals.get("dones")
        infos = self.locals.get("infos", [])
        if dones is not None:
            for i in np.flatnonzero(dones):
                self._record(infos[i])
        now = time.monotonic()
        if self._bar is not None:
            self._bar.update(self.num_timesteps - self._bar.n)
            if now - self._last_line >= 0.5:
                best = self.best_time()
                self._bar.set_postfix_str(f"{self.mean_distance():.1f} m, best "
                                          f"{'-' if best is None else f'{best:.2f} s'}", refresh=False)
                self._last_line = now
        elif self.out is not None and now - self._last_line >= self.log_seconds:
            self.out.write(f"progress: {self.line()}\n")
            self.out.flush()
            self._last_line = now
        return True

    def _record(self, info: dict[str, Any]) -> None:
        episode = info.get("episode") or {}
        self.episodes.append(EpisodeRecord(
            step=self.num_timesteps, seconds=round(self.seconds, 3), outcome=str(info.get("outcome", "done")),
            distance=float(info.get("distance", math.nan)), hud_time=float(info.get("hud_time", math.nan)),
            reward=float(episode.get("r", math.nan))))

    def _on_training_end(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.out is not None:
            self.out.write(f"done: {self.line()}\n")
            self.out.flush()
        self.seconds_before = self.seconds
        self._started = time.monotonic()


class EveryNSteps(BaseCallback):
    """Calls `_act()` each time the environment steps pass a multiple of `every` (counted over resumes)."""

    def __init__(self, every: int, verbose: int = 0) -> None:
        super().__init__(verbose)
        if every < 1:
            raise ValueError(f"the period must be at least 1 step, got {every}")
        self.every = every

    def _act(self) -> None:
        raise NotImplementedError

    def _on_training_start(self) -> None:
        self._next = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._act()
            self._next = (self.num_timesteps // self.every + 1) * self.every
        return True


class QWOPEvalCallback(EveryNSteps):
    """Every `eval_freq` environment steps, run the policy in the bundled game and log how it runs.

    :param eval_freq: environment steps between evaluations (and one at the end of training).
    :param episodes: sampled runs per evaluation (seeded; the game itself has no randomness).
    :param time_limit: HUD seconds per run.
    :param seed: sampling seed of each evaluation.
    :param progress: a RunProgressCallback whose wall clock stamps the evaluations.
    """

    def __init__(self, eval_freq: int = 50_000, episodes: int = 5, time_limit: float = TIME_LIMIT,
                 seed: int = 0, progress: RunProgressCallback | None = None, verbose: int = 0) -> None:
        super().__init__(eval_freq, verbose)
        if episodes < 1:
            raise ValueError(f"episodes must be at least 1, got {episodes}")
        self.episodes = episodes
        self.time_limit = time_limit
        self.seed = seed
        self.progress = progress
        self.history: list[dict[str, Any]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = list(state.get("history", []))

    def _act(self) -> None:
        self.evaluate_now()

    def _on_training_end(self) -> None:
        if not self.history or self.history[-1]["step"] != self.num_timesteps:
            self.evaluate_now()

    def evaluate_now(self) -> dict[str, Any]:
        from qwopkit.rl.common.evaluation import evaluate

        report = evaluate(self.model.policy, self.episodes, deterministic=False, seed=self.seed,
                          time_limit=self.time_limit)
        summary = report.summary()
        seconds = round(self.progress.seconds, 3) if self.progress else None
        row = {"step": self.num_timesteps, "seconds": seconds,
               "finish_rate": summary["finish_rate"], "mean_distance": summary["mean_distance"],
               "best_distance": summary["best_distance"], "best_time": summary["best_time"],
               "median_time": summary["median_time"], "falls": summary["falls"]}
        self.history.append(row)
        for key in ("finish_rate", "mean_distance", "best_distance"):
            self.logger.record(f"eval/{key}", row[key])
        if row["best_time"] is not None:
            self.logger.record("eval/best_time", row["best_time"])
            self.logger.record("eval/median_time", row["median_time"])
        return row


class WallClockLimit(BaseCallback):
    """Stop training after `seconds` of wall-clock time (counted from the start of `learn`)."""

    def __init__(self, seconds: float, verbose: int = 0) -> None:
        super().__init__(verbose)
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        self.seconds = seconds

    def _on_training_start(self) -> None:
        self._deadline = time.monotonic() + self.seconds

    def _on_step(self) -> bool:
        return time.monotonic() < self._deadline
