"""qwopkit.dataset: the episode format (version 1) and everything that reads or writes it. Floor: library.

    from qwopkit.dataset import Episode, write_episode, open_episode, build_index, to_transitions

docs/episode-format.md is the format; docs/dataset.md the library and the `qwop-data` command.
The library knows nothing of the game or the learners; its layers import one way (checked by
import-linter, see pyproject.toml): format (errors, schema, attributes, values, episode, paths,
reader, writer) -> sidecars (curation, splits) -> queries (episodes, cache, index,
transitions) -> operations (splitting, mu, merge, interop) -> cli. Minari is imported only by
`export_minari`.
"""

from __future__ import annotations

from qwopkit.dataset.attributes import ATTRIBUTES, default_meta
from qwopkit.dataset.curation import mark, read_marks
from qwopkit.dataset.episode import Episode
from qwopkit.dataset.episodes import (
    EpisodeFile,
    iter_episodes,
    load_episodes,
    open_episode,
    read_episode,
    validate,
    validate_file,
)
from qwopkit.dataset.errors import DatasetParameterError, EpisodeError, EpisodeWarning
from qwopkit.dataset.index import build_index, filter_index
from qwopkit.dataset.interop import export_minari, import_npz
from qwopkit.dataset.merge import MergeReport, merge
from qwopkit.dataset.mu import SoftmaxRegression, crossfit_mu, estimate_mu, smoothed_mu
from qwopkit.dataset.paths import DEFAULT_DATA, NO_DEFAULT_DATA, resolve_paths
from qwopkit.dataset.schema import (
    ACTION_SET,
    FORMAT,
    FORMAT_VERSION,
    OBSERVATION_FIELDS,
    decision_bounds,
    episode_filename,
)
from qwopkit.dataset.splits import read_splits, split_members
from qwopkit.dataset.splitting import make_split
from qwopkit.dataset.transitions import Transitions, to_transitions
from qwopkit.dataset.writer import EpisodeWriter, next_episode_index, rewrite_episode, write_episode

__all__ = [
    "DEFAULT_DATA", "NO_DEFAULT_DATA",
    "ACTION_SET", "ATTRIBUTES", "FORMAT", "FORMAT_VERSION", "OBSERVATION_FIELDS", "DatasetParameterError",
    "Episode", "EpisodeError", "EpisodeFile", "EpisodeWarning", "EpisodeWriter", "MergeReport",
    "SoftmaxRegression", "Transitions", "build_index", "crossfit_mu", "decision_bounds", "default_meta",
    "episode_filename", "estimate_mu", "export_minari", "filter_index", "import_npz", "iter_episodes",
    "load_episodes", "make_split", "mark", "merge", "next_episode_index", "open_episode", "read_episode",
    "read_marks", "read_splits", "resolve_paths", "rewrite_episode", "smoothed_mu",
    "split_members", "to_transitions", "validate", "validate_file", "write_episode",
]
