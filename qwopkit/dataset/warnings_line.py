"""One line per skipped episode: how commands print the dataset's warnings."""

from __future__ import annotations

import sys
import warnings

from .schema import EpisodeWarning


def print_episode_warnings_as_lines(prog: str) -> None:
    """Show each EpisodeWarning as `<prog>: warning: <file>: <what>` (a bad file among many is
    expected input: no source location); other warnings print as usual."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, EpisodeWarning):
            print(f"{prog}: warning: {message}", file=sys.stderr)
        else:
            print(warnings.formatwarning(message, category, filename, lineno, line), end="",
                  file=sys.stderr)

    warnings.showwarning = show
