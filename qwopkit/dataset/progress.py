"""Progress bars for long operations, on stderr so that command output stays clean."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import track as _rich_track

T = TypeVar("T")
_console = Console(stderr=True)


def track(items: Iterable[T], description: str, *, total: int | None = None,
          enabled: bool = True) -> Iterator[T]:
    """Iterate `items`, showing a progress bar when enabled and stderr is a terminal."""
    if not enabled or not _console.is_terminal:
        yield from items
        return
    yield from _rich_track(items, description=description, total=total, console=_console,
                           transient=True)
