"""Named settings of behaviour cloning that belong together, chosen from what the episodes say.

A person's runs and a bot's need different shaping (docs/kuro.md): a person waits at the
spawn and errs about one decision in four, so the clone of his runs as recorded stands still;
leaving out the settling start and adding recovery decisions makes it run. A bot's runs are
exact and start at once: cloned as recorded, they run. `qwop-pretrain` picks the preset from
the episodes' own attributes (imported from the seed's files or recorded from a person:
`human`; every one a scripted player's: `bot`) unless `--preset` names one, and flags given
on the command line override single settings of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Preset:
    """The shaping settings of one preset (the flags of the same names)."""

    drop_settling: bool
    recovery: int
    recovery_depth: int


PRESETS: dict[str, Preset] = {
    # docs/kuro.md, "Making the clone run": the settings of the clone that runs.
    "human": Preset(drop_settling=True, recovery=2, recovery_depth=1),
    # The runs as recorded.
    "bot": Preset(drop_settling=False, recovery=0, recovery_depth=1),
}


@dataclass(frozen=True)
class Sources:
    """Where the kept episodes of some specs came from, and how they ended."""

    counts: dict[str, int]  # source ("imported", "recorded", "bot") -> episodes
    outcomes: dict[str, int]  # outcome -> episodes

    @property
    def episodes(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        words = {"imported": "imported from a person's recordings", "recorded": "recorded from a person",
                 "bot": "recorded from a bot"}
        return ", ".join(f"{n} {words[s]}" for s, n in sorted(self.counts.items()) if n)


def episode_sources(specs: str | Path | list[str] | list[Path]) -> Sources:
    """What the kept episodes named by `specs` say about themselves (their attributes only)."""
    # Here, not at the top: `qwop-pretrain --help` reads the presets without loading the dataset.
    from qwopkit.dataset import build_index
    from qwopkit.dataset.attributes import episode_source

    df = build_index(specs)
    if "kept" in df.columns:
        df = df[df["kept"] == True]  # noqa: E712  (a column of booleans; unreadable rows are NaN)
    counts = Counter(episode_source(str(player), bool(imported))
                     for player, imported in zip(df["player"], df["imported"]))
    return Sources(dict(counts), dict(Counter(str(o) for o in df["outcome"])))


def choose_preset(sources: Sources) -> tuple[str, str]:
    """The preset for these episodes and why: `bot` only when every one is a bot's."""
    if sources.episodes and set(sources.counts) == {"bot"}:
        return "bot", f"the episodes: {sources.describe()}"
    return "human", f"the episodes: {sources.describe() or 'none readable'}"


def preset_record(name: str, why: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The preset as stored in the report and the model zip: its name, why, and the settings used
    (the preset's, with any flag given on the command line in place of its own)."""
    return {"name": name, "why": why, "preset": asdict(PRESETS[name]), "used": settings}
