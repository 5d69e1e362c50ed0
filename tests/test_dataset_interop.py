"""Interop: Minari export loaded back by the real `minari`, and the seed's SB2 .npz import."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from qwopkit.adapter.features import ACTION_NAMES, ACTION_TO_SEED, SEED_ACTION_NAMES, SEED_OBS_FIELDS
from qwopkit.bench.fidelity import default_seed_demos
from qwopkit.bench.synthetic import engine_episode, random_keys
from qwopkit.dataset import (
    EpisodeError,
    export_minari,
    import_npz,
    make_split,
    mark,
    read_episode,
    validate_file,
    write_episode,
)
from qwopkit.recorder.verify import resimulate

X_COLUMNS = [i for i, n in enumerate(SEED_OBS_FIELDS) if n.endswith(".x")]
SEED_DEMOS = default_seed_demos()


def _npz(path, lengths, *, absolute, seed=0):
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    obs = rng.standard_normal((n, 71))
    obs[:, 69] = np.linspace(2.5, 40.0, n) if absolute else 0.0
    starts = np.zeros(n, bool)
    starts[np.cumsum([0, *lengths[:-1]])] = True
    np.savez(path, obs=obs, actions=rng.integers(0, 11, (n, 1)), rewards=rng.standard_normal(n),
             episode_returns=np.zeros(len(lengths)), episode_starts=starts)
    return path, obs


def test_import_npz_with_absolute_x(tmp_path):
    path, obs = _npz(tmp_path / "human_try9.npz", [5, 8], absolute=True)
    files = import_npz(path, tmp_path / "out")
    assert [f.name for f in files] == ["human-try9-0000.h5", "human-try9-0001.h5"]
    raw = np.load(path)
    second = read_episode(files[1])
    assert second.steps == 8 and second.observations.shape == (9, 71)
    rows = obs[5:13]
    expected = rows.copy()
    expected[:, X_COLUMNS] -= rows[:, 69:70]  # x relative to the torso, as in the seed's layout
    np.testing.assert_allclose(second.observations[:-1], expected.astype(np.float32))
    np.testing.assert_array_equal(second.observations[-1], second.observations[-2])
    assert (second.observations[:, 69] == 0).all()
    # Actions are mapped by key combination, never by index.
    seed_actions = raw["actions"][5:13, 0]
    assert [ACTION_NAMES[a] for a in second.actions] == [SEED_ACTION_NAMES[a] for a in seed_actions]
    np.testing.assert_array_equal(second.rewards, raw["rewards"][5:13].astype(np.float32))
    assert second.terminations[-1] and not second.truncations.any()
    assert second.infos["distance"][0] == pytest.approx(rows[0, 69] / 10)
    meta = second.meta
    assert (meta["imported"], meta["game"], meta["source"], meta["outcome"]) == (
        True, "qwop-original", "human_try9.npz", "unknown")
    assert meta["state_fields"] == [] and second.state is None and second.keys is None
    assert meta["mu_method"] == "smoothed" and second.mu[0, second.actions[0]] == pytest.approx(0.9)
    validate_file(files[1], deep=True)
    assert "no raw state" in resimulate(files[1]).reason


def test_import_npz_with_relative_x_keeps_observations(tmp_path):
    path, obs = _npz(tmp_path / "kuro_try9.npz", [4], absolute=False)
    ep = read_episode(import_npz(path, tmp_path, player="kurodo", session="seed")[0])
    assert (ep.meta["player"], ep.meta["session"]) == ("kurodo", "seed")
    np.testing.assert_array_equal(ep.observations[:-1], obs.astype(np.float32))
    assert math.isnan(ep.meta["distance"])


def test_bad_npz_files(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, obs=np.zeros((3, 71)), actions=np.zeros((3, 1), int))
    with pytest.raises(EpisodeError, match=r"bad.npz: missing array\(s\) rewards, episode_returns, "):
        import_npz(bad, tmp_path)
    short, _ = _npz(tmp_path / "short.npz", [3], absolute=False)
    data = dict(np.load(short))
    data["rewards"] = data["rewards"][:2]
    np.savez(short, **data)
    with pytest.raises(EpisodeError, match="length mismatch: rewards has 2 rows, obs has 3"):
        import_npz(short, tmp_path)
    noise = tmp_path / "noise.npz"
    noise.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(EpisodeError, match="noise.npz: not a readable .npz file"):
        import_npz(noise, tmp_path)
    assert not list(tmp_path.glob("*.h5"))


@pytest.fixture
def seed_demos() -> Path:
    if not (SEED_DEMOS / "kuro_try1.npz").exists():
        pytest.skip(f"the seed's recordings are not at {SEED_DEMOS}: `qwop-data fetch-seed` gets them "
                    "(or set QWOPKIT_SEED_DEMOS to their folder)")
    return SEED_DEMOS


def test_import_the_seeds_real_recordings(tmp_path, seed_demos):
    for name in ("kuro_try1", "human_try1"):
        raw = np.load(seed_demos / f"{name}.npz")
        files = import_npz(seed_demos / f"{name}.npz", tmp_path)
        assert len(files) == int(raw["episode_starts"].sum()) == 10
        episodes = [read_episode(f) for f in files]
        assert sum(e.steps for e in episodes) == len(raw["obs"])
        actions = np.concatenate([e.actions for e in episodes])
        np.testing.assert_array_equal(ACTION_TO_SEED[actions], raw["actions"][:, 0])
        obs = np.concatenate([e.observations[:-1] for e in episodes])
        assert np.abs(obs[:, 69]).max() == 0  # every import is in the seed's relative layout
        for f in files:
            validate_file(f, deep=True)


def test_export_to_minari_and_load_it_back(tmp_path, monkeypatch):
    import minari

    data = tmp_path / "data"
    rng = np.random.default_rng(5)
    paths = [write_episode(engine_episode(random_keys(rng, 60), episode_index=i), data) for i in range(4)]
    mark(paths[:1], exclude_reason="bad run")
    root = tmp_path / "minari"
    dataset = export_minari(data, "qwopkit/test-v0", path=root)
    assert dataset.total_episodes == 3
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    loaded = minari.load_dataset("qwopkit/test-v0")
    assert loaded.total_episodes == 3
    assert loaded.total_steps == sum(read_episode(p).steps for p in paths[1:])
    assert loaded.observation_space.shape == (71,) and loaded.observation_space.dtype == np.float32
    assert loaded.action_space.n == 11
    for got, path in zip(loaded.iterate_episodes(), paths[1:], strict=True):
        ep = read_episode(path)
        np.testing.assert_array_equal(got.observations, ep.observations)
        np.testing.assert_array_equal(got.actions, ep.actions)
        np.testing.assert_array_equal(got.rewards, ep.rewards)
        np.testing.assert_array_equal(got.terminations, ep.terminations)
        np.testing.assert_array_equal(got.infos["distance"], ep.infos["distance"])
    assert loaded.storage.metadata["algorithm_name"] == "scripted bots (qwopkit's bot players)"  # bot:test
    # The environment is stored with its arguments: Minari can make it again.
    for env in (loaded.recover_environment(), loaded.recover_environment(eval_env=True)):
        assert env.spec.id == "qwopkit/QWOP-v0" and env.unwrapped.frame_skip == 3
        obs, _ = env.reset(seed=0)
        assert obs.shape == (71,) and env.action_space.n == 11
        env.close()
    with pytest.raises(EpisodeError, match="qwopkit/test-v0: .*already exists"):
        export_minari(data, "qwopkit/test-v0", path=root)
    make_split(data, "s", valid_fraction=0.5, seed=0)
    valid = export_minari(data, "qwopkit/valid-v0", path=root, split="s", part="valid", include_excluded=True)
    assert valid.total_episodes == 2


def test_minari_export_says_who_played_and_keeps_one_frame_skip(tmp_path, monkeypatch):
    import minari

    rng = np.random.default_rng(6)
    bots = tmp_path / "bots"
    for i in range(2):
        write_episode(engine_episode(random_keys(rng, 40), player="bot-stride", episode_index=i), bots)
    root = tmp_path / "minari"
    export_minari(bots, "qwopkit/bots-v0", path=root)
    people = tmp_path / "people"
    write_episode(engine_episode(random_keys(rng, 40), player="ann", episode_index=0), people)
    export_minari(people, "qwopkit/people-v0", path=root)
    export_minari([bots, people], "qwopkit/mixed-v0", path=root)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    names = [minari.load_dataset(f"qwopkit/{name}-v0").storage.metadata["algorithm_name"]
             for name in ("bots", "people", "mixed")]
    assert names == ["scripted bots (qwopkit's bot players)", "human demonstrations",
                     "human demonstrations and scripted bots (qwopkit's bot players)"]
    write_episode(engine_episode(random_keys(rng, 40), player="cyd", frame_skip=5), people)
    with pytest.raises(EpisodeError, match="frame_skip 5, but .* has 3: one Minari dataset has one "):
        export_minari(people, "qwopkit/two-v0", path=root)


# ----------------------------------------------------------------------------- outcomes of imports
def _engine_npz(path, runs, *, frame_skip=3, absolute=False):
    """An SB2 file of the engine's own runs (per-update key sequences), recorded the seed's way:
    the features before each decision and its action, nothing after the last one."""
    from qwopkit.adapter.features import action_of_keys, seed_observation
    from qwopkit.adapter.openqwop import run_keys

    obs, actions, starts = [], [], []
    for keys in runs:
        states = run_keys(keys)
        ended = np.flatnonzero(states[:, -2:].any(1))
        stop = int(ended[0]) if len(ended) else len(keys)
        rows = states[:stop:frame_skip]
        features = seed_observation(rows).astype(np.float64)
        if absolute:
            features[:, X_COLUMNS] += rows[:, [0]]  # as early recordings kept them
        obs.append(features)
        actions += [ACTION_TO_SEED[action_of_keys(int(k))] for k in keys[:stop:frame_skip]]
        starts += [True] + [False] * (len(rows) - 1)
    obs = np.concatenate(obs)
    np.savez(path, obs=obs, actions=np.array(actions)[:, None], rewards=np.zeros(len(obs)),
             episode_returns=np.zeros(len(runs)), episode_starts=np.array(starts))
    return path


def _bot_keys(name, n):
    from qwopkit.adapter.openqwop.bots import get_bot

    return np.fromiter(get_bot(name).keys(), dtype=np.int64, count=n)


def test_import_reads_each_runs_outcome_distance_and_time_from_its_features(tmp_path, monkeypatch):
    from qwopkit.adapter.openqwop.recorded import describe_run
    from qwopkit.dataset import interop

    # The bot needs 155 s for 100 m on the original's physics, longer than any run the seed kept
    # (it cut runs at 120 s, which the import reads as a timeout): lift that rule for this file.
    monkeypatch.setattr(interop, "SEED_TIME_LIMIT_DECISIONS", 2000)
    runs = [_bot_keys("stride", 5400), _bot_keys("flail", 600), np.zeros(150, np.int64)]
    path = _engine_npz(tmp_path / "kuro_try7.npz", runs)
    plain = [read_episode(f) for f in import_npz(path, tmp_path / "plain")]
    assert [e.meta["outcome"] for e in plain] == ["unknown"] * 3  # no describer: nothing inferred
    episodes = [read_episode(f) for f in import_npz(path, tmp_path / "out", player="kurodo",
                                                    describe=describe_run)]
    assert [e.meta["outcome"] for e in episodes] == ["finished", "fell", "unknown"]
    finished = episodes[0]
    assert finished.meta["distance"] == pytest.approx(100.0, abs=2.0)
    assert finished.meta["hud_time"] == pytest.approx(155.0, rel=0.05)  # docs/game.md: the bot's 155.00 s
    assert finished.meta["frame_skip"] == 3 and finished.terminations[-1]
    assert np.isfinite(finished.infos["distance"]).all() and np.diff(finished.infos["hud_time"]).min() >= 0
    for episode in episodes:
        assert episode.meta["tags"] == ["original-game"] and episode.meta["imported"]
        assert episode.meta["game"] == "qwop-original" and episode.meta["player"] == "kurodo"
    assert episodes[2].terminations[-1]  # unknown ends as every import did: terminated


def test_import_of_a_slower_recorder_with_absolute_x(tmp_path):
    from qwopkit.adapter.openqwop.recorded import describe_run

    path = _engine_npz(tmp_path / "human_try7.npz", [_bot_keys("stride", 1200)], frame_skip=6, absolute=True)
    episode = read_episode(import_npz(path, tmp_path, player="beginner", describe=describe_run)[0])
    raw = np.load(path)["obs"]
    assert episode.meta["frame_skip"] == 6  # ~6 updates per decision, as the beginner's recorder
    assert episode.meta["distance"] == pytest.approx(raw[-1, 69] / 10)  # the recorded x, not an estimate
    assert (episode.observations[:, 69] == 0).all()


def test_qwop_data_import_npz_prints_the_outcomes(tmp_path, capsys):
    from qwopkit.commands.data import main

    path = _engine_npz(tmp_path / "kuro_try7.npz", [_bot_keys("flail", 600), _bot_keys("flail", 300)])
    assert main(["import-npz", str(path), "--player", "kurodo", "--out", str(tmp_path / "data")]) == 0
    printed = capsys.readouterr().out
    assert "2 episode(s) into" in printed and "(2 fell)" in printed
    assert main(["ls", str(tmp_path / "data"), "--csv"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("fell") == 2 and "original-game" in listing and "kurodo" in listing


def test_import_the_top_player_and_the_beginner_with_outcomes(tmp_path, seed_demos):
    from qwopkit.commands.data import main

    kuro = sorted(str(p) for p in seed_demos.glob("kuro_try*.npz"))
    human = sorted(str(p) for p in seed_demos.glob("human_try*.npz"))
    assert main(["import-npz", *kuro, "--player", "kurodo", "--out", str(tmp_path / "kurodo")]) == 0
    assert main(["import-npz", *human, "--player", "beginner", "--out", str(tmp_path / "beginner")]) == 0
    from qwopkit.dataset import build_index

    index = build_index([tmp_path / "kurodo", tmp_path / "beginner"])
    counts = index.groupby(["player", "outcome"]).size().to_dict()
    assert counts == {("beginner", "fell"): 50, ("kurodo", "fell"): 12, ("kurodo", "finished"): 38}
    finished = index[index["outcome"] == "finished"]
    assert finished["distance"].between(99, 102).all() and finished["hud_time"].between(50, 70).all()
    # His recorder took ~3.4 updates per decision, the beginner's ~6.4 (docs/kuro.md).
    assert set(index[index["player"] == "kurodo"]["frame_skip"]) == {3}
    assert set(index[index["player"] == "beginner"]["frame_skip"]) <= {6, 7}


def test_a_minari_id_that_is_a_path_is_refused_before_any_folder_is_made(tmp_path, capsys):
    from qwopkit.commands.data import main

    data = tmp_path / "data"
    write_episode(engine_episode(random_keys(np.random.default_rng(7), 40)), data)
    root = tmp_path / "minari"
    for bad in (f"{tmp_path}/x/demos-v0", "../x/demos-v0", "qwopkit/demos"):
        with pytest.raises(EpisodeError, match="dataset id"):
            export_minari(data, bad, path=root)
        assert main(["export-minari", str(data), "--id", bad, "--path", str(root)]) == 1
        err = capsys.readouterr().err
        assert "dataset id" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no folder made anywhere


def test_import_npz_of_damaged_files_skips_each_with_one_line_and_writes_none_of_its_episodes(tmp_path):
    """Good files among bad ones are imported; a bad file leaves nothing in --out (its bad
    episode is the last of ten), and each is one line naming it: no traceback, no numpy warning."""
    import io
    import subprocess
    import sys
    import zipfile

    runs = [_bot_keys("flail", 150) for _ in range(10)]
    good = _engine_npz(tmp_path / "kuro_good1.npz", runs)
    data = dict(np.load(good))
    np.savez(tmp_path / "kuro_good2.npz", **data)
    bad = {}
    huge_last = dict(data, obs=data["obs"].copy())
    huge_last["obs"][-1, 5] = 1e300  # finite in the file, infinite as the episode's float32
    bad["kuro_hugelast.npz"] = huge_last
    huge_row = dict(data, obs=data["obs"].copy())
    huge_row["obs"][2, :] = 1e200  # the run's estimates from its features overflow to NaN
    bad["kuro_hugerow.npz"] = huge_row
    nan = dict(data, obs=data["obs"].copy())
    nan["obs"][-1, 3] = np.nan
    bad["kuro_nan.npz"] = nan
    for name, arrays in bad.items():
        np.savez(tmp_path / name, **arrays)
    with zipfile.ZipFile(tmp_path / "kuro_garbled.npz", "w") as z:  # a damaged .npy header
        for key, value in data.items():
            buf = io.BytesIO()
            np.save(buf, value)
            raw = buf.getvalue()
            z.writestr(key + ".npy", raw.replace(b"'shape': (", b"'shape': ((", 1) if key == "obs" else raw)
    names = ["kuro_good1.npz", "kuro_hugelast.npz", "kuro_garbled.npz", "kuro_hugerow.npz", "kuro_nan.npz",
             "kuro_good2.npz"]
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "qwopkit.commands.data", "import-npz",
                           *[str(tmp_path / n) for n in names], "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 5, proc.stderr  # one per bad file and the closing count
    for name, line in zip(names[1:5], lines, strict=False):
        assert line.startswith(f"qwop-data: warning: {tmp_path / name}: "), line
        assert line.endswith("(skipped)"), line
    assert lines[-1] == "qwop-data: error: 4 of 6 files skipped"
    assert "kuro_good1.npz: 10 episode(s)" in proc.stdout and "kuro_good2.npz: 10 episode(s)" in proc.stdout
    written = sorted(p.name.rsplit("-", 1)[0] for p in out.iterdir())
    assert written == ["kuro-good1"] * 10 + ["kuro-good2"] * 10
    # An import that would replace a file (without --force) writes none of its episodes either.
    (out / "kuro-good2-0000.h5").unlink()
    with pytest.raises(EpisodeError, match="kuro-good2-0001.h5: already exists"):
        import_npz(tmp_path / "kuro_good2.npz", out)
    assert not (out / "kuro-good2-0000.h5").exists()
