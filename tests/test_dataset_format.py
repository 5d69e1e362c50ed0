"""The episode format: writing, reading back, deriving decisions from updates, atomic writes."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qwopkit.adapter.features import ACTION_KEYS, ACTION_NAMES, SEED_OBS_FIELDS, seed_observation
from qwopkit.adapter.openqwop.layout import STATE_FIELDS, STATE_INDEX
from qwopkit.bench.synthetic import engine_episode, random_keys, synthetic_episode
from qwopkit.dataset import (
    FORMAT,
    Episode,
    EpisodeError,
    EpisodeWriter,
    default_meta,
    open_episode,
    read_episode,
    write_episode,
)
from qwopkit.dataset.schema import decision_bounds, episode_filename
from qwopkit.dataset.values import OBSERVATION_LIMIT
from qwopkit.recorder.decisions import MASK_TO_ACTION, episode_from_updates


def assert_same_episode(a: Episode, b: Episode) -> None:
    assert a.meta == b.meta or _nan_equal_meta(a.meta, b.meta)
    arrays_a, arrays_b = a.arrays(), b.arrays()
    assert arrays_a.keys() == arrays_b.keys()
    for name in arrays_a:
        assert arrays_a[name].dtype == arrays_b[name].dtype, name
        np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)


def _nan_equal_meta(a: dict, b: dict) -> bool:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], float) and math.isnan(a[k]):
            assert math.isnan(b[k]), k
        else:
            assert a[k] == b[k], k
    return True


# ----------------------------------------------------------------------------- round trips
def test_engine_episode_round_trip(tmp_path):
    ep = engine_episode(random_keys(np.random.default_rng(1), 120))
    path = write_episode(ep, tmp_path)
    assert path.name == "bot_test-s1-0000.h5"
    assert_same_episode(ep, read_episode(path))


def test_root_attributes_as_specified(tmp_path):
    path = write_episode(engine_episode(random_keys(np.random.default_rng(2), 60)), tmp_path)
    with h5py.File(path) as f:
        attrs = f.attrs
        assert attrs["format"] == FORMAT and attrs["format_version"] == 1
        assert attrs["game"] == "openqwop" and attrs["updates_per_second"] == 30
        assert list(attrs["action_set"]) == list(ACTION_NAMES)
        assert list(attrs["state_fields"]) == list(STATE_FIELDS)
        assert list(attrs["observation_fields"]) == list(SEED_OBS_FIELDS)
        assert attrs["tags"] == "[]" and attrs["mu_params"] == '{"eps": 0.1}'
        assert attrs["start_time"].endswith("Z")
        assert f["observations"].dtype == np.float32 and f["state"].dtype == np.float64
        assert f["state"].compression == "gzip"  # the bulk of a file is compressed
        assert f["observations"].chunks is None  # learners' data is contiguous


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
feature = st.floats(-OBSERVATION_LIMIT, OBSERVATION_LIMIT, width=32)  # the seed's features' range
finite64 = st.floats(allow_nan=False, allow_infinity=False)


def _distributions(weights: np.ndarray) -> np.ndarray:
    """Rows of non-negative weights made into probability distributions (mu's rule)."""
    weights = weights.astype(np.float64) + 1e-3
    return (weights / weights.sum(1, keepdims=True)).astype(np.float32)
text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20)


@st.composite
def episodes(draw):
    t = draw(st.integers(0, 12))
    k = draw(st.integers(1, 4))
    with_state = draw(st.booleans())
    n = draw(st.integers(max(0, (t - 1) * k + 1), t * k)) if t else 0
    actions = draw(hnp.arrays(np.uint8, t, elements=st.integers(0, 10)))
    outcome = draw(st.sampled_from(["finished", "fell", "timeout", "aborted"]))
    term = np.zeros(t, bool)
    trunc = np.zeros(t, bool)
    if t:
        (term if outcome in ("finished", "fell") else trunc)[-1] = True
    meta = default_meta(
        draw(text), draw(text), draw(st.integers(0, 99999)), frame_skip=k, outcome=outcome,
        seed=draw(st.integers(-1, 2**31)), distance=draw(st.floats(allow_infinity=False)),
        hud_time=draw(st.floats(0, 200)), kept=draw(st.booleans()), exclude_reason=draw(text),
        tags=draw(st.lists(text, max_size=3)), rating=draw(st.integers(0, 5)), note=draw(text),
        mu_params={"eps": draw(st.floats(0, 0.5))},
        state_fields=list(STATE_FIELDS) if with_state else [],
    )
    return Episode(
        meta=meta,
        observations=draw(hnp.arrays(np.float32, (t + 1, 71), elements=feature)),
        actions=actions,
        rewards=draw(hnp.arrays(np.float32, t, elements=finite)),
        terminations=term,
        truncations=trunc,
        mu=_distributions(draw(hnp.arrays(np.float32, (t, 11), elements=st.floats(0, 1, width=32)))),
        infos={"distance": draw(hnp.arrays(np.float64, t + 1, elements=finite64)),
               "hud_time": draw(hnp.arrays(np.float64, t + 1, elements=finite64))},
        state=draw(hnp.arrays(np.float64, (n + 1, 99), elements=finite64)) if with_state else None,
        keys=draw(hnp.arrays(np.uint8, n, elements=st.integers(0, 15))) if with_state else None,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ep=episodes())
def test_whatever_is_written_reads_back_equal(tmp_path, ep):
    path = write_episode(ep, tmp_path / "x.h5", overwrite=True, fsync=False)
    assert_same_episode(ep, read_episode(path))


# ----------------------------------------------------------------------------- decisions
def test_decisions_from_updates_with_a_short_last_decision():
    # 10 updates at frame_skip 3: decisions cover 0-2, 3-5, 6-8 and a cut-short 9.
    assert decision_bounds(10, 3).tolist() == [0, 3, 6, 9, 10]
    q, w, o = (int(ACTION_KEYS[ACTION_NAMES.index(n)]) for n in ("Q", "W", "O"))
    keys = np.array([q, q, w, o, o, o, w, w, q, q], np.uint8)
    ep = engine_episode(keys, frame_skip=3)
    assert ep.steps == 4
    # Majority of each decision's updates; the tie-free segments are unambiguous.
    assert [ACTION_NAMES[a] for a in ep.actions] == ["Q", "O", "W", "Q"]
    b = decision_bounds(10, 3)
    np.testing.assert_array_equal(ep.observations, seed_observation(ep.state[b]))
    np.testing.assert_array_equal(ep.infos["hud_time"], ep.state[b, STATE_INDEX["hud_time"]])
    assert ep.meta["outcome"] == "aborted" and ep.truncations[-1] and not ep.terminations.any()


def test_three_or_four_keys_map_to_the_action_with_the_same_effect():
    assert ACTION_NAMES[MASK_TO_ACTION[1 | 2 | 4 | 8]] == "QO"
    assert ACTION_NAMES[MASK_TO_ACTION[2 | 4 | 8]] == "WO"
    assert all(MASK_TO_ACTION[int(m)] == a for a, m in enumerate(ACTION_KEYS))


def test_a_fall_is_a_termination():
    ep = engine_episode(np.zeros(600, np.uint8) + 5)  # Q+O held: the runner falls quickly
    assert ep.meta["outcome"] == "fell"
    assert ep.terminations[-1] and ep.terminations.sum() == 1 and not ep.truncations.any()
    with pytest.raises(EpisodeError, match="last state says 'fell'"):
        episode_from_updates(ep.state, ep.keys, player="p", session="s", episode_index=0, outcome="timeout")


# ----------------------------------------------------------------------------- writing
def test_incremental_writer_matches_whole_episode_writer(tmp_path):
    from qwopkit.adapter.openqwop.engine import Engine

    keys = random_keys(np.random.default_rng(3), 100)
    engine = Engine()
    engine.reset(0)
    with EpisodeWriter(tmp_path / "inc", player="bot:test", session="s1", episode_index=0,
                       initial_state=engine.state(), seed=0, flush_every=7) as w:
        hidden = [p.name for p in (tmp_path / "inc").iterdir()]
        assert len(hidden) == 1 and hidden[0].startswith(".") and hidden[0].endswith(".h5.tmp")
        assert list((tmp_path / "inc").glob("*.h5")) == []  # not visible while being written
        for k in keys:
            status = engine.update(int(k))
            w.add_update(int(k), engine.state())
            if status != "running":
                break
        state, recorded_keys = w.updates()
        path = w.finish(episode_from_updates(state, recorded_keys, **w.run_meta))
    assert [p.name for p in (tmp_path / "inc").iterdir()] == [path.name]
    whole = engine_episode(keys)
    got = read_episode(path)
    whole.meta["start_time"] = got.meta["start_time"]
    assert_same_episode(whole, got)


def test_writer_exception_leaves_no_file(tmp_path):
    from qwopkit.adapter.openqwop.engine import Engine

    engine = Engine()
    with pytest.raises(RuntimeError), EpisodeWriter(tmp_path, player="p", session="s", episode_index=0,
                                                    initial_state=engine.state()) as w:
        w.add_update(1, engine.state())
        raise RuntimeError("recorder crashed")
    assert list(tmp_path.iterdir()) == []


def test_existing_files_are_not_overwritten(tmp_path):
    ep = synthetic_episode(np.random.default_rng(0), player="p", session="s", index=3, steps=5)
    path = write_episode(ep, tmp_path)
    before = path.read_bytes()
    with pytest.raises(EpisodeError, match="already exists"):
        write_episode(ep, tmp_path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_invalid_episodes_are_refused_before_writing(tmp_path):
    ep = synthetic_episode(np.random.default_rng(0), player="p", session="s", index=0, steps=5)
    ep.meta["note"] = "bad\x00note"
    with pytest.raises(EpisodeError, match="NUL"):
        write_episode(ep, tmp_path)
    ep.meta["note"] = ""
    ep.rewards = ep.rewards[:-1]
    with pytest.raises(EpisodeError, match="length mismatch: rewards"):
        write_episode(ep, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_file_names():
    assert episode_filename("kurodo", "2024-05-01", 7) == "kurodo-2024_05_01-0007.h5"
    assert episode_filename("bot:greedy", "s1", 12345) == "bot_greedy-s1-12345.h5"


def test_arrays_are_read_lazily(tmp_path):
    path = write_episode(engine_episode(random_keys(np.random.default_rng(4), 90)), tmp_path)
    with open_episode(path) as ep:
        assert isinstance(ep["state"], h5py.Dataset)
        assert ep["state"][::30].shape[1] == 99
        assert ep.steps == ep.shapes["actions"][0] and ep.updates == ep.shapes["keys"][0]


def test_next_episode_index_counts_finished_and_unfinished_files(tmp_path):
    from qwopkit.dataset import next_episode_index

    assert next_episode_index(tmp_path, "bot:x", "s1") == 0
    for i in (0, 3):
        ep = synthetic_episode(np.random.default_rng(i), player="bot:x", session="s1", index=i, steps=2)
        write_episode(ep, tmp_path)
    assert next_episode_index(tmp_path, "bot:x", "s1") == 4
    assert next_episode_index(tmp_path, "bot:x", "s2") == 0
    (tmp_path / ".bot_x-s1-0007.1a2b3c4d.h5.tmp").write_bytes(b"")  # a run being recorded
    assert next_episode_index(tmp_path, "bot:x", "s1") == 8


def test_unknown_attributes_are_refused_not_dropped(tmp_path):
    with pytest.raises(ValueError, match="unknown episode attributes: colour"):
        default_meta("p", "s", 0, colour="red")
    ep = synthetic_episode(np.random.default_rng(0), player="p", session="s", index=0, steps=2)
    ep.meta["colour"] = "red"
    with pytest.raises(EpisodeError, match="unknown attributes: colour"):
        write_episode(ep, tmp_path)


def test_files_written_before_the_physics_attribute_read_as_the_old_physics(tmp_path):
    from qwopkit.bench.synthetic import synthetic_episode
    from qwopkit.dataset import read_episode, write_episode

    episode = synthetic_episode(np.random.default_rng(0), player="p", session="s", index=0, steps=5)
    path = tmp_path / "p-s-0000.h5"
    write_episode(episode, path)
    assert read_episode(path).meta["physics"] == "openqwop-2"
    with h5py.File(path, "r+") as f:
        del f.attrs["physics"]
    assert read_episode(path).meta["physics"] == "openqwop-1"
    with h5py.File(path, "r+") as f:
        f.attrs["game"] = "qwop-original"
    assert read_episode(path).meta["physics"] == "qwop-original"
