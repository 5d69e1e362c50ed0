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


class ExistsError(InputError):
    """Something is there already and was not replaced: `<where>: <what> (not replaced)`.

    `parameter` is the library parameter that would replace it; the error funnel names the
    flag that sets it: `<where>: <what> (not replaced; --force replaces it)`.
    """

    def __init__(self, where: object, what: str = "already exists", parameter: str = "overwrite") -> None:
        super().__init__(where, f"{what} (not replaced)")
        self.exists, self.parameter = what, parameter

    def with_flag(self, flag: str) -> str:
        return f"{self.where}: {self.exists} (not replaced; {flag} replaces it)"


class InputWarning(UserWarning):
    """Bad input skipped while working through many (a bad file among good ones)."""
