"""The index, curation marks, named splits, transitions honouring both, and merging."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qwopkit.bench.synthetic import synthetic_episode
from qwopkit.dataset import (
    EpisodeError,
    build_index,
    filter_index,
    make_split,
    mark,
    read_episode,
    read_splits,
    to_transitions,
    write_episode,
)
from qwopkit.dataset.index import COLUMNS
from qwopkit.dataset.merge import merge

PLAYERS = ("ann", "bob", "cyd", "dee")


@pytest.fixture
def dataset(tmp_path):
    """12 episodes, 3 per player, 4 + i decisions each (so every episode has its own length)."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(12):
        ep = synthetic_episode(rng, player=PLAYERS[i % 4], session="s1", index=i, steps=4 + i,
                               with_state=i % 2 == 0)
        paths.append(write_episode(ep, tmp_path, fsync=False))
    return tmp_path, sorted(paths)  # the order in which a folder is read


def test_index_has_one_row_per_episode(dataset):
    folder, paths = dataset
    df = build_index(folder)
    assert list(df.columns) == COLUMNS
    assert list(df["path"]) == [str(p) for p in paths]
    indices = [int(p.stem[-4:]) for p in paths]
    assert list(df["index"]) == indices
    assert list(df["steps"]) == [4 + i for i in indices]
    assert df["start_time"].dt.tz is not None
    assert set(df["player"]) == set(PLAYERS) and df["kept"].all()
    assert len(filter_index(df, player="ann")) == 3
    assert len(filter_index(df, query="steps >= 10")) == 6


def test_marks_override_attributes_and_delete_nothing(dataset):
    folder, paths = dataset
    before = {p: p.read_bytes() for p in paths}
    mark(paths[:2], exclude_reason="fell at the start", add_tags=["short"], rating=2, note="meh")
    mark(paths[1:3], add_tags=["bot", "short"], remove_tags=["nothing"])
    mark([paths[0]], kept=True)
    assert {p: p.read_bytes() for p in paths} == before  # marking never writes an episode
    df = build_index(folder).set_index("file")
    a, b, c = (df.loc[p.name] for p in paths[:3])
    assert (a.kept, a.exclude_reason, a.tags, a.rating, a.note) == (True, "", ["short"], 2, "meh")
    assert (b.kept, b.exclude_reason, b.tags, b.rating) == (False, "fell at the start", ["short", "bot"], 2)
    assert (c.kept, c.tags, c.rating) == (True, ["bot", "short"], 0)
    assert read_episode(paths[1]).meta["kept"] is False
    # The file itself still says what it was written with.
    assert read_episode(paths[1], marks=False).meta["kept"] is True
    assert len(filter_index(df, tag="bot")) == 2 and len(filter_index(df, kept=False)) == 1
    stored = json.loads((folder / "marks.json").read_text())
    assert stored["format"] == "qwopkit-marks" and set(stored["marks"]) == {p.name for p in paths[:3]}
    assert not list(folder.glob(".*.tmp"))


def test_bad_marks_are_refused(dataset):
    _, paths = dataset
    with pytest.raises(EpisodeError, match="rating: must be an integer 0-5"):
        mark(paths[:1], rating=6)
    with pytest.raises(EpisodeError, match="comma"):
        mark(paths[:1], add_tags=["a,b"])
    with pytest.raises(EpisodeError, match="no such file"):
        mark([paths[0].with_name("nope.h5")], rating=1)


def test_transitions_layout(dataset):
    folder, paths = dataset
    data = to_transitions(folder)
    assert len(data) == sum(4 + i for i in range(12))
    assert data.observations.shape == (len(data), 71) and data.mu.shape == (len(data), 11)
    assert data.actions.dtype == np.int64 and data.dones.sum() == 12
    for e, path in enumerate(data.paths):
        ep = read_episode(path)
        rows = data.episode == e
        np.testing.assert_array_equal(data.observations[rows], ep.observations[:-1])
        np.testing.assert_array_equal(data.next_observations[rows], ep.observations[1:])
        np.testing.assert_array_equal(data.actions[rows], ep.actions)
        np.testing.assert_array_equal(data.rewards[rows], ep.rewards)
        np.testing.assert_array_equal(data.mu[rows], ep.mu)
        np.testing.assert_array_equal(data.terminations[rows], ep.terminations)
        assert data.dones[rows][-1] and not data.dones[rows][:-1].any()


def test_transitions_honour_marks(dataset):
    folder, paths = dataset
    mark(paths[:3], exclude_reason="bad")
    mark(paths[3:5], rating=4)
    assert to_transitions(folder).paths == paths[3:]
    assert to_transitions(folder, include_excluded=True).paths == paths
    assert to_transitions(folder, min_rating=3).paths == paths[3:5]


def test_split_by_episode_is_seeded_and_complete(dataset):
    folder, paths = dataset
    split = make_split(folder, "ep", valid_fraction=0.25, seed=1)
    assert len(split["valid"]) == 3 and len(split["train"]) == 9
    assert sorted(split["train"] + split["valid"]) == sorted(p.name for p in paths)
    again = make_split(folder, "ep2", valid_fraction=0.25, seed=1)
    other = make_split(folder, "ep3", valid_fraction=0.25, seed=2)
    assert again["valid"] == split["valid"] and other["valid"] != split["valid"]
    assert set(read_splits(folder)) == {"ep", "ep2", "ep3"}
    with pytest.raises(EpisodeError, match="split 'ep' exists"):
        make_split(folder, "ep")
    make_split(folder, "ep", valid_fraction=0.5, overwrite=True)
    assert len(read_splits(folder)["ep"]["valid"]) == 6


def test_split_shares_out_kept_episodes_only(dataset):
    folder, paths = dataset
    mark(paths[:4], exclude_reason="bad")
    split = make_split(folder, "kept", valid_fraction=0.25, seed=1)
    kept = sorted(p.name for p in paths[4:])
    assert sorted(split["train"] + split["valid"]) == kept and len(split["valid"]) == 2
    assert split["excluded"] == sorted(p.name for p in paths[:4])
    every = make_split(folder, "all", valid_fraction=0.25, seed=1, include_excluded=True)
    assert len(every["train"] + every["valid"]) == 12 and every["excluded"] == []
    mark(paths, exclude_reason="bad")
    with pytest.raises(EpisodeError, match="all 12 episodes are excluded"):
        make_split(folder, "none")


def test_split_by_player_keeps_players_apart(dataset):
    folder, _ = dataset
    split = make_split(folder, "people", by="player", valid_fraction=0.25, seed=0)
    assert len(split["valid_players"]) == 1
    index = build_index(folder).set_index("file")
    valid_players = {index.loc[f, "player"] for f in split["valid"]}
    train_players = {index.loc[f, "player"] for f in split["train"]}
    assert valid_players == set(split["valid_players"]) and not valid_players & train_players
    assert len(split["valid"]) == 3


def test_transitions_honour_splits_and_marks_together(dataset):
    folder, paths = dataset
    split = make_split(folder, "s", valid_fraction=0.25, seed=3)
    valid = [p for p in paths if p.name in split["valid"]]
    train = [p for p in paths if p.name in split["train"]]
    assert to_transitions(folder, split="s", part="valid").paths == valid
    mark(train[:2], exclude_reason="bad")
    assert to_transitions(folder, split="s", part="train").paths == train[2:]
    with pytest.raises(EpisodeError, match="no split named 'nope'"):
        to_transitions(folder, split="nope")


def test_merge_copies_with_marks_and_skips_what_is_there(dataset, tmp_path_factory):
    folder, paths = dataset
    mark(paths[:1], exclude_reason="bad", add_tags=["x"])
    out = tmp_path_factory.mktemp("merged")
    report = merge(folder, out)
    assert len(report.copied) == 12 and not report.errors
    copy = read_episode(out / paths[0].name, marks=False)  # marks are in the copy's own attributes
    assert copy.meta["kept"] is False and copy.meta["tags"] == ["x"]
    np.testing.assert_array_equal(copy.observations, read_episode(paths[0]).observations)
    again = merge(folder, out)
    assert len(again.already_there) == 12 and not again.copied
    clash = synthetic_episode(np.random.default_rng(9), player="ann", session="s1", index=0, steps=3)
    other = tmp_path_factory.mktemp("other")
    write_episode(clash, other)
    report = merge(other, out)
    assert len(report.errors) == 1 and "a different episode is already named" in report.errors[0]


def _tag_all(args):
    paths, tag = args
    for p in paths:
        mark([p], add_tags=[tag])
    return tag


def test_concurrent_markers_lose_nothing(dataset):
    from concurrent.futures import ProcessPoolExecutor

    folder, paths = dataset
    with ProcessPoolExecutor(2) as pool:
        assert sorted(pool.map(_tag_all, [(paths, "a"), (paths, "b")])) == ["a", "b"]
    df = build_index(folder)
    assert all(sorted(tags) == ["a", "b"] for tags in df["tags"])


def test_attribute_cache_is_used_until_a_file_changes(dataset, monkeypatch):
    import qwopkit.dataset.cache as cache_module
    from qwopkit.dataset.cache import CACHE_FILE

    folder, paths = dataset
    first = build_index(folder)
    assert (folder / CACHE_FILE).exists()

    def no_reading(path, **kwargs):
        raise AssertionError(f"{path} was read despite the cache")

    monkeypatch.setattr(cache_module, "inspect_file", no_reading)
    assert build_index(folder).equals(first)
    assert len(to_transitions(folder)) == first["steps"].sum()
    mark(paths[:1], rating=5)  # marks are applied after the cache, never cached
    assert build_index(folder).set_index("file").loc[paths[0].name, "rating"] == 5
    monkeypatch.undo()

    # A changed file is read again (a rewrite gives it a new inode, size or time).
    replacement = synthetic_episode(np.random.default_rng(7), player="zed", session="s1", index=0, steps=3)
    write_episode(replacement, paths[0], overwrite=True)
    row = build_index(folder).set_index("file").loc[paths[0].name]
    assert (row.player, row.steps) == ("zed", 3)
    # A damaged cache costs time, not correctness.
    (folder / CACHE_FILE).write_text("{broken")
    assert build_index(folder)["player"].tolist() == build_index(folder, cache=False)["player"].tolist()
