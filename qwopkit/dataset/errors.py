"""The dataset's errors: a file that cannot be used, a bad argument, a file skipped among many."""

from __future__ import annotations

from qwopkit.errors import ExistsError, InputError, InputWarning, ParameterError


class EpisodeError(InputError):
    """A file that cannot be used; the message is one line naming it and the problem.

    (A bad argument to a dataset function is a DatasetParameterError, which is one too.)
    """


class DatasetParameterError(ParameterError, EpisodeError):
    """A bad argument to a dataset function: `where` is the parameter's name."""


class EpisodeExistsError(ExistsError, EpisodeError):
    """A file (or a named split) is there already and `overwrite` was not given."""


class EpisodeWarning(InputWarning):
    """A bad file skipped while working through many: the others still count."""
