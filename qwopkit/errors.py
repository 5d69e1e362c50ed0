"""Errors and warnings a user can cause, shared by every part and by the one error funnel.

Every such error is one line, `<where>: <what>`: `where` names a file, or (ParameterError) the
library parameter that got a bad value. Only the command-line tools speak of flags: their
error funnel (console.py) shows a ParameterError under the flag that set that parameter.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input (a file, a value): the message is one line naming where and what."""

    def __init__(self, where: object, what: str) -> None:
        self.where = str(where)
        self.what = what
        super().__init__(f"{where}: {what}")


class ParameterError(InputError):
    """A bad argument to a library function; `where` is the parameter's name."""


class InputWarning(UserWarning):
    """Bad input skipped while working through many (a bad file among good ones)."""
