"""The one error funnel of qwopkit's console scripts.

    def main(argv=None) -> int:
        args = build_parser().parse_args(argv)
        return run_console(PROG, lambda: run(args), flags={"eps": "--eps"}, where=args.out)

Whatever a user can cause ends as one line on stderr and an exit status, never a traceback:
- InputError (errors.py): `<prog>: error: <where>: <what>`; a ParameterError names the library
  parameter, shown as the flag that sets it (`flags` maps parameter names to flags); an
  ExistsError adds the flag that would replace what is there;
- OSError: `<prog>: error: <file>: <reason>` (the file the system named, else `where`);
- any other ValueError: its first line, after `where` when given;
- Ctrl-C: `<prog>: interrupted`, status 130; a closed output pipe (`| head`): quietly, status 0.
InputWarnings (a bad file skipped among many) print as `<prog>: warning: <message>`.
Anything else is a bug and keeps its traceback.

Every command's `--help` uses `HelpFormatter`: each option's help ends with its default; every
table a command prints goes through `output_console()`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from qwopkit.errors import ExistsError, InputError, InputWarning, ParameterError

if TYPE_CHECKING:
    from rich.console import Console


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's formatter that shows defaults, except the empty ones (None, False, [])."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default = action.default
        if default is None or default is False or default is argparse.SUPPRESS or default == []:
            return action.help
        if "(default" in (action.help or ""):  # the help says it in words
            return action.help
        return super()._get_help_string(action)


def output_console(width_when_piped: int = 160) -> Console:
    """The rich console for a command's output: no guessed highlighting (it coloured the digits
    inside file names), and wide when piped, so that tables are not squeezed in logs."""
    from rich.console import Console

    console = Console(highlight=False)
    return console if console.is_terminal else Console(width=width_when_piped, highlight=False)


def print_warnings_as_lines(prog: str) -> None:
    """Show each InputWarning as `<prog>: warning: <message>` (no source location: a bad file
    among many is expected input); other warnings print as usual."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, InputWarning):
            print(f"{prog}: warning: {message}", file=sys.stderr)
        else:
            print(warnings.formatwarning(message, category, filename, lineno, line), end="",
                  file=sys.stderr)

    warnings.showwarning = show


def error_line(exc: BaseException, *, flags: Mapping[str, str] | None = None,
               where: object = None) -> str:
    """The one line (without the program name) that stands for an error a user caused."""
    if isinstance(exc, ParameterError):
        return f"{(flags or {}).get(exc.where, exc.where)}: {exc.what}"
    if isinstance(exc, ExistsError) and exc.parameter in (flags or {}):
        return exc.with_flag((flags or {})[exc.parameter])
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, OSError):
        place = exc.filename or where
        reason = exc.strerror or str(exc)
        return f"{place}: {reason}" if place else reason
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{where}: {text}" if where and not text.startswith("--") else text


def run_console(prog: str, body: Callable[[], int | None], *, flags: Mapping[str, str] | None = None,
                where: object = None) -> int:
    """Run a command's body; returns its exit status (0 ok, 1 an error a user caused, 130 Ctrl-C)."""
    print_warnings_as_lines(prog)
    try:
        return int(body() or 0)
    except (InputError, OSError, ValueError, MemoryError) as exc:
        if isinstance(exc, BrokenPipeError):
            return _quiet_broken_pipe()
        if isinstance(exc, MemoryError):
            line = f"{where or prog}: out of memory"
        else:
            line = error_line(exc, flags=flags, where=where)
        print(f"{prog}: error: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _quiet_broken_pipe() -> int:
    # The reader of our output went away (`qwop-data ls | head`): not an error. Point stdout at
    # /dev/null so that the interpreter's final flush does not complain either.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


_AS_A_STEP = [False]


def print_next(*commands: str) -> None:
    """End a command's output with the command(s) to run next (a new user's way on); nothing
    while the command runs as a step of another (`as_a_step`)."""
    if not _AS_A_STEP[0]:
        for command in commands:
            print(f"next: {command}", flush=True)


@contextlib.contextmanager
def as_a_step() -> Iterator[None]:
    """Run commands as steps of another (qwop-run): the other says what comes next."""
    before, _AS_A_STEP[0] = _AS_A_STEP[0], True
    try:
        yield
    finally:
        _AS_A_STEP[0] = before


def new_folder(parent: str | os.PathLike[str], prefix: str) -> str:
    """A new, empty folder `parent/<prefix>-<date>-<time>` made now (`-2`, `-3`, ... when runs start
    in the same second): each run writes into a folder of its own, never over an earlier one."""
    import time
    from pathlib import Path

    base = Path(parent) / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"
    Path(parent).mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            path.mkdir()
            return str(path)
        except FileExistsError:
            continue
    raise FileExistsError(str(base))
