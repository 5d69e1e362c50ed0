"""qwopkit.dataset: the episode format (version 1) and everything that reads or writes it.

    from qwopkit.dataset import Episode, write_episode, open_episode, build_index, to_transitions

docs/episode-format.md is the format; docs/dataset.md the library and the `qwop-data` command.
Minari is imported only by `export_minari`.
"""

from .curation import mark, read_marks
from .episode import Episode
from .index import build_index, filter_index
from .interop import export_minari, import_npz
from .merge import MergeReport, merge
from .mu import SoftmaxRegression, crossfit_mu, estimate_mu, smoothed_mu
from .reader import (
    EpisodeFile,
    iter_episodes,
    load_episodes,
    open_episode,
    read_episode,
    resolve_paths,
    validate,
    validate_file,
)
from .resim import ResimReport, resimulate
from .schema import (
    FORMAT,
    FORMAT_VERSION,
    EpisodeError,
    EpisodeWarning,
    default_meta,
    episode_filename,
)
from .splits import make_split, read_splits, split_members
from .transitions import Transitions, to_transitions
from .writer import EpisodeWriter, next_episode_index, rewrite_episode, write_episode

__all__ = [
    "FORMAT", "FORMAT_VERSION", "Episode", "EpisodeError", "EpisodeFile", "EpisodeWarning",
    "EpisodeWriter", "ResimReport", "SoftmaxRegression", "Transitions", "build_index", "crossfit_mu",
    "default_meta", "episode_filename", "estimate_mu", "export_minari", "filter_index", "import_npz",
    "iter_episodes", "load_episodes", "make_split", "mark", "merge", "MergeReport", "open_episode",
    "read_episode",
    "read_marks", "read_splits", "resimulate", "resolve_paths", "rewrite_episode", "smoothed_mu",
    "split_members", "to_transitions", "validate", "validate_file", "write_episode", "next_episode_index",
]
