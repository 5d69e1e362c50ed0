"""Progress of long operations, on stderr so that command output stays clean.

On a terminal, a rich progress bar. Elsewhere (a log, CI, a pipe) a plain line every
`PLAIN_EVERY` seconds (QWOPKIT_PROGRESS_SECONDS, default 5) while the work goes on, and one when
it ends, so that a long silent step can be told from a hung one; work that ends sooner prints
nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import track as _rich_track

T = TypeVar("T")
_console = Console(stderr=True)


def _plain_every(default: float = 5.0) -> float:
    """Seconds between plain lines: QWOPKIT_PROGRESS_SECONDS if it is a positive number."""
    try:
        value = float(os.environ.get("QWOPKIT_PROGRESS_SECONDS", default))
    except ValueError:
        return default
    return value if value > 0 else default


PLAIN_EVERY = _plain_every()


def track(items: Iterable[T], description: str, *, total: int | None = None,
          enabled: bool = True, every: float | None = None) -> Iterator[T]:
    """Iterate `items`, showing progress when enabled: a bar on a terminal, else plain lines."""
    if not enabled:
        yield from items
        return
    if _console.is_terminal:
        yield from _rich_track(items, description=description, total=total, console=_console,
                               transient=True)
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    ticker = PlainProgress(description, total, PLAIN_EVERY if every is None else every)
    try:
        for item in items:
            yield item
            ticker.done += 1
    except BaseException:  # an error, or the caller stopped early: no "done" line
        ticker.stop(finished=False)
        raise
    ticker.stop(finished=True)


class PlainProgress:
    """Prints `<description>: <done>/<total> after <s> s` every `every` seconds from a thread
    (so a single long item still shows the work is alive), and a last one ending in "done" when
    the work finished after it had printed any."""

    def __init__(self, description: str, total: int | None, every: float) -> None:
        self.description, self.total, self.every = description, total, every
        self.done = 0
        self.printed = False
        self._start = time.monotonic()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def line(self) -> str:
        of = f"/{self.total}" if self.total is not None else ""
        return f"{self.description}: {self.done}{of} after {time.monotonic() - self._start:.0f} s"

    def _print(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)
        self.printed = True

    def _run(self) -> None:
        while not self._stopped.wait(self.every):
            self._print(self.line())

    def stop(self, finished: bool = True) -> None:
        self._stopped.set()
        self._thread.join()
        if self.printed and finished:
            self._print(f"{self.line()}: done")
