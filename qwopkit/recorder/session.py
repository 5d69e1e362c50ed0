"""A recording session: the host's updates, run by run, into episode files.

`RunRecorder.on_tick` takes every update the real-time host publishes (`host.Tick`). A run
starts at its spawn tick (update 0), grows one update at a time in an `EpisodeWriter` (whose
temporary file receives the data as the run goes on), and is published under its final name the
moment it ends: a fall, a finish, the time limit, or a restart / end of session (aborted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwopkit.adapter.openqwop.host import Tick
from qwopkit.adapter.openqwop.layout import STATE_INDEX
from qwopkit.adapter.openqwop.physics import DISTANCE_NOTE, TIME_LIMIT, UPDATES_PER_SECOND
from qwopkit.atomic import clean_leftovers
from qwopkit.dataset import EpisodeWriter, next_episode_index
from qwopkit.dataset.schema import now_iso
from qwopkit.recorder.decisions import episode_from_updates

log = logging.getLogger(__name__)


@dataclass
class SessionSummary:
    runs: int = 0
    finishes: int = 0
    falls: int = 0
    timeouts: int = 0
    aborted: int = 0
    best_distance: float | None = None
    best_hud_time: float | None = None  # of a finished run
    files: list[Path] = field(default_factory=list)

    def add(self, outcome: str, distance: float, hud_time: float, path: Path | None) -> None:
        self.runs += 1
        if outcome == "finished":
            self.finishes += 1
            self.best_hud_time = hud_time if self.best_hud_time is None else min(self.best_hud_time,
                                                                                 hud_time)
        self.falls += outcome == "fell"
        self.timeouts += outcome == "timeout"
        self.aborted += outcome == "aborted"
        self.best_distance = distance if self.best_distance is None else max(self.best_distance,
                                                                             distance)
        if path is not None:
            self.files.append(path)

    def line(self) -> str:
        best_d = "-" if self.best_distance is None else f"{self.best_distance:.1f} m"
        best_t = "-" if self.best_hud_time is None else f"{self.best_hud_time:.2f} s"
        return (f"{plural(self.runs, 'run')} ({self.finishes} finished, {self.falls} fell, {self.timeouts} "
                f"timed out, {self.aborted} aborted); best distance {best_d}; best HUD time {best_t}; "
                f"{plural(len(self.files), 'file')} written")


def plural(n: int, noun: str) -> str:
    """"1 run", "2 runs", "0 runs"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def run_line(number: int, outcome: str, distance: float, hud_time: float, path: Path) -> str:
    """What the session prints as each run is written."""
    note = f" ({DISTANCE_NOTE})" if outcome == "finished" else ""
    return f"run {number}: {outcome}, {distance:.1f} m in {hud_time:.2f} s HUD time{note} -> {path.name}"


class RunRecorder:
    """Turns the host's ticks into one episode file per run.

    :param time_limit: updates after which a run ends as a timeout (`on_tick` then returns
        "restart" so that the session starts the next run).
    :param drop_aborted: runs cut short by a restart or by the end of the session are not kept.
    :param first_run: ticks of earlier runs are ignored (a session's host plays run 0 before
        the page is ready, and restarts for the first recorded run).
    :param on_written: called with a line (`run_line`) as each run is written.
    :param meta: more episode attributes, e.g. the game ({"game": "qwop-original", ...}).
    """

    def __init__(self, out: str | Path, player: str, session: str, frame_skip: int = 3,
                 seed: int = 0, time_limit: int = int(TIME_LIMIT * UPDATES_PER_SECOND),
                 drop_aborted: bool = False,
                 first_run: int = 0, on_written: Callable[[str], None] | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.player, self.session = player, session
        self.frame_skip, self.seed = frame_skip, seed
        self.time_limit = time_limit
        self.drop_aborted = drop_aborted
        self.first_run = first_run
        self.on_written = on_written
        self.meta = dict(meta or {})
        self.summary = SessionSummary()
        # Runs cut by an earlier crash left hidden temporary files: a recorder starting here
        # removes those whose writer is gone (never one being written by a live recorder).
        self.removed = clean_leftovers(self.out)
        self._index = next_episode_index(self.out, player, session)
        self._writer: EpisodeWriter | None = None
        self._run: int | None = None
        self._last_update = 0

    @property
    def recording(self) -> bool:
        return self._writer is not None

    def on_tick(self, tick: Tick) -> str | None:
        """Take one update. Returns "written" when a run was published, "restart" when the
        session should restart the game (time limit), else None."""
        if tick.run < self.first_run:
            return None
        if tick.run != self._run:
            self.end_run("aborted")  # a restart cut the previous run short
            self._run = tick.run
            if tick.update == 0:  # only runs seen from their spawn can be recorded exactly
                self._open(tick)
            return None
        writer = self._writer
        if writer is None:
            return None
        if tick.update != self._last_update + 1:
            # Cannot happen with the host's unbounded queues; if it ever does, the run would
            # not re-simulate, so it is dropped rather than written wrong.
            log.warning("update %d followed %d: run dropped", tick.update, self._last_update)
            writer.abort()
            self._writer = None
            return None
        writer.add_update(tick.keys, tick.state)
        self._last_update = tick.update
        if tick.status != "running":
            self.end_run(tick.status)
            return "written"
        if tick.update >= self.time_limit:
            self.end_run("timeout")
            return "restart"
        return None

    def _open(self, tick: Tick) -> None:
        self._writer = EpisodeWriter(self.out, player=self.player, session=self.session,
                                     episode_index=self._index, initial_state=tick.state,
                                     frame_skip=self.frame_skip, seed=self.seed,
                                     start_time=now_iso(), **self.meta)
        self._last_update = 0

    def end_run(self, outcome: str) -> Path | None:
        """Publish the run in progress with `outcome` (or drop it); None if nothing was written."""
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        if self._last_update == 0 or (outcome == "aborted" and self.drop_aborted):
            writer.abort()  # nothing happened yet, or the player asked not to keep aborted runs
            return None
        state, keys = writer.updates()
        path = writer.finish(episode_from_updates(state, keys, outcome=outcome, **writer.run_meta))
        self._index += 1
        last = state[-1]
        distance, hud_time = float(last[STATE_INDEX["distance"]]), float(last[STATE_INDEX["hud_time"]])
        self.summary.add(outcome, distance, hud_time, path)
        line = run_line(self.summary.runs, outcome, distance, hud_time, path)
        log.info("%s", line)
        if self.on_written is not None:
            self.on_written(line)
        return path


__all__ = ["RunRecorder", "SessionSummary", "next_episode_index"]
