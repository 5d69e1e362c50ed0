"""The seed system's own trained agents (rl/seed_models.py): read from their Stable-Baselines 2 zips
without TensorFlow, computed as the TF graph computes them, checked against the top player's
recorded decisions (and a wrong mapping shown to fail that check), run by qwop-eval and started
from by qwop-finetune. The real zips and recordings are used when ../shared is present
(conftest.py's seed_models and seed_demos); synthetic SB2 zips test the reading everywhere."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from finetune_runs import finetune

import qwopkit  # noqa: F401  (registers qwopkit/QWOP-v0)
from qwopkit.rl.acer.policies import ACERPolicy, ModelFileError, load_policy, save_policy
from qwopkit.rl.common.seed_models import (
    SB2Model,
    SeedDQNPolicy,
    acer_policy,
    demo_agreement,
    dqn_policy,
    is_sb2_zip,
    load_model,
    load_seed_acer,
    read_sb2_zip,
    seed_demo_decisions,
)
from qwopkit.spaces import ACTION_NAMES, ACTION_TO_SEED, SEED_ACTION_NAMES, SEED_TO_ACTION
from qwopkit.training.eval_cli import main as eval_main

AGENTS = ("Kuro_Acer_39hr_self30hr", "Kuro_Acer_39hr_self33hr", "FastDQN", "FastDQN_2hr")
# Measured: agreement 0.308 (both ACER agents), 0.366 (FastDQN), 0.342 (FastDQN_2hr) on 22,710
# decisions; chance is 1/11 = 0.091 and always his most frequent action (Q) 0.222. The wrong
# mappings below give 0.006-0.193 (docs/seed-agents.md).
AGREEMENT_BOUND = 0.25
LAST_DENSE = 6  # SeedDQNPolicy's stream: (Linear, LayerNorm, ReLU) x 2, then the output Linear
SPACES = {"observation_space": {"shape": [71], "dtype": "float32"}, "action_space": {"n": 11}}


def write_sb2_zip(path: Path, params: dict[str, np.ndarray], data: dict | None = None) -> Path:
    """An SB2 zip as SB2 writes one: `data` JSON, `parameters` npz, `parameter_list` JSON."""
    buffer = io.BytesIO()
    np.savez(buffer, **params)  # type: ignore[arg-type]  # (numpy's stub types the first keyword)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data", json.dumps(data if data is not None else SPACES))
        z.writestr("parameters", buffer.getvalue())
        z.writestr("parameter_list", json.dumps(list(params)))
    return path


def random_acer_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shapes = {"shared_fc0": (71, 256), "shared_fc1": (256, 128), "vf": (128, 1), "pi": (128, 11),
              "q": (128, 11)}
    params = {}
    for name, shape in shapes.items():
        params[f"model/{name}/w:0"] = rng.normal(0, 0.1, shape).astype(np.float32)
        params[f"model/{name}/b:0"] = rng.normal(0, 0.1, shape[1]).astype(np.float32)
    return params


def random_dqn_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    params: dict[str, np.ndarray] = {"deepq/eps:0": np.array(0.01, np.float32)}
    for stream, out in (("action_value", 11), ("state_value", 1)):
        for i, (n_in, n_out) in enumerate(((71, 256), (256, 128), (128, out))):
            dense = f"deepq/model/{stream}/fully_connected" + (f"_{i}" if i else "")
            params[f"{dense}/weights:0"] = rng.normal(0, 0.1, (n_in, n_out)).astype(np.float32)
            params[f"{dense}/biases:0"] = rng.normal(0, 0.1, n_out).astype(np.float32)
            if i < 2:
                norm = f"deepq/model/{stream}/LayerNorm" + (f"_{i}" if i else "")
                params[f"{norm}/gamma:0"] = rng.uniform(0.5, 1.5, n_out).astype(np.float32)
                params[f"{norm}/beta:0"] = rng.normal(0, 0.1, n_out).astype(np.float32)
    return params


# The TF graphs, written out in numpy from SB2's definitions: kernels (in, out), x @ W + b.
def tf_acer(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SB2 ACER MlpPolicy: (pi logits, Q), in the seed's action order."""
    h = x.astype(np.float64)
    for layer in ("shared_fc0", "shared_fc1"):
        h = np.maximum(h @ params[f"model/{layer}/w:0"] + params[f"model/{layer}/b:0"], 0)
    return tuple(h @ params[f"model/{head}/w:0"] + params[f"model/{head}/b:0"] for head in ("pi", "q"))  # type: ignore[return-value]


def tf_dqn(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """SB2 deepq MLP policy with layer_norm and dueling: Q, in the seed's action order."""

    def stream(name: str) -> np.ndarray:
        h = x.astype(np.float64)
        for dense, norm in (("fully_connected", "LayerNorm"), ("fully_connected_1", "LayerNorm_1")):
            scope = f"deepq/model/{name}/{dense}"
            h = h @ params[f"{scope}/weights:0"] + params[f"{scope}/biases:0"]
            mean, var = h.mean(axis=1, keepdims=True), h.var(axis=1, keepdims=True)
            h = (h - mean) / np.sqrt(var + 1e-12) * params[f"deepq/model/{name}/{norm}/gamma:0"]
            h = np.maximum(h + params[f"deepq/model/{name}/{norm}/beta:0"], 0)
        last = f"deepq/model/{name}/fully_connected_2"
        return h @ params[f"{last}/weights:0"] + params[f"{last}/biases:0"]

    advantages = stream("action_value")
    return stream("state_value") + advantages - advantages.mean(axis=1, keepdims=True)


def logits_and_q(policy: ACERPolicy, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with th.no_grad():
        logits, q = policy(th.as_tensor(x, dtype=th.float32))
    return logits.numpy(), q.numpy()


def dqn_q(policy: SeedDQNPolicy, x: np.ndarray) -> np.ndarray:
    with th.no_grad():
        return policy(th.as_tensor(x, dtype=th.float32)).numpy()


# ----------------------------------------------------------------------------- reading (synthetic zips)
def test_an_sb2_acer_zip_becomes_the_acer_policy_computing_the_tf_graph(tmp_path):
    params = random_acer_params(np.random.default_rng(0))
    params["model/pi/b:0"][SEED_ACTION_NAMES.index("Q")] = 50.0  # the seed's index 3
    path = write_sb2_zip(tmp_path / "acer.zip", params)
    assert is_sb2_zip(path)
    policy = load_model(path)
    assert isinstance(policy, ACERPolicy) and policy.net_arch == [256, 128]
    x = np.random.default_rng(1).normal(0, 1, (64, 71)).astype(np.float32)
    logits, q = logits_and_q(policy, x)
    tf_logits, tf_q = tf_acer(params, x)
    # Our action a is the seed's ACTION_TO_SEED[a]: the same numbers, columns reordered by key combination.
    np.testing.assert_allclose(logits, tf_logits[:, ACTION_TO_SEED], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(q, tf_q[:, ACTION_TO_SEED], rtol=1e-4, atol=1e-4)
    assert set(policy.predict(x, deterministic=True)[0]) == {ACTION_NAMES.index("Q")}
    # It is an ACERPolicy like any other: saved and loaded as an SB3 zip, the same network.
    again = load_policy(save_policy(policy, tmp_path / "imported.zip"))
    np.testing.assert_array_equal(logits_and_q(again, x)[0], logits)  # type: ignore[arg-type]


def test_an_sb2_dqn_zip_becomes_a_q_network_computing_the_tf_graph(tmp_path):
    params = random_dqn_params(np.random.default_rng(2))
    params["deepq/model/action_value/fully_connected_2/biases:0"][SEED_ACTION_NAMES.index("none")] = 50.0
    policy = load_model(write_sb2_zip(tmp_path / "dqn.zip", params))
    assert isinstance(policy, SeedDQNPolicy) and policy.layer_norm and policy.dueling
    x = np.random.default_rng(3).normal(0, 1, (64, 71)).astype(np.float32)
    np.testing.assert_allclose(dqn_q(policy, x), tf_dqn(params, x)[:, ACTION_TO_SEED], rtol=1e-4, atol=1e-4)
    assert set(policy.predict(x, deterministic=True)[0]) == {ACTION_NAMES.index("none")}
    # Sampled: from softmax(Q), as SB2's DQN(deterministic=False); one Q far above the rest: always it.
    assert set(policy.predict(x, deterministic=False)[0]) == {ACTION_NAMES.index("none")}
    np.testing.assert_allclose(policy.action_probabilities(x).sum(axis=1), 1.0, rtol=1e-5)


def test_files_that_are_not_the_seeds_agents_are_one_line_naming_the_file(tmp_path):
    rng = np.random.default_rng(4)
    other = write_sb2_zip(tmp_path / "ppo.zip", {"model/pi_fc0/w:0": np.zeros((71, 64), np.float32)})
    dqn = write_sb2_zip(tmp_path / "dqn.zip", random_dqn_params(rng))
    wrong_width = random_acer_params(rng)
    wrong_width["model/pi/w:0"] = np.zeros((64, 11), np.float32)
    no_spaces = write_sb2_zip(tmp_path / "nospaces.zip", random_acer_params(rng), data={})
    four = write_sb2_zip(tmp_path / "four.zip", random_acer_params(rng),
                         data={**SPACES, "action_space": {"n": 4}})
    text = tmp_path / "notes.zip"
    text.write_text("not a zip")
    cases = [
        (lambda: load_model(other), "ppo.zip: an SB2 model that is neither the seed's ACER"),
        (lambda: load_model(write_sb2_zip(tmp_path / "wide.zip", wrong_width)),
         "wide.zip: its ACER network is not one this toolkit reads"),
        (lambda: load_model(no_spaces), "nospaces.zip: an SB2 zip without a Box observation"),
        (lambda: load_model(four), "four.zip: its spaces ((71,) observations, 4 actions) are not the seed's"),
        (lambda: load_seed_acer(dqn), "dqn.zip: the seed's DQN agent has no policy head"),
        (lambda: read_sb2_zip(text), "notes.zip: not a Stable-Baselines 2 model zip"),
        (lambda: load_model(text), "notes.zip: not a model (not an SB3 zip file)"),
        (lambda: load_model(tmp_path / "missing.zip"), "missing.zip: no such file"),
    ]
    for call, message in cases:
        with pytest.raises(ModelFileError) as caught:
            call()
        assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "tensorflow" not in sys.modules


def test_recorded_decisions_are_read_as_the_agents_saw_them(tmp_path):
    rng = np.random.default_rng(6)
    obs = rng.normal(0, 1, (5, 71))
    obs[:, 69] = [3.0, 4.0, 5.0, 6.0, 7.0]  # an early recording: absolute x
    np.savez(tmp_path / "human_try9.npz", obs=obs, actions=np.arange(5).reshape(5, 1))
    features, actions = seed_demo_decisions([tmp_path / "human_try9.npz"])
    x = [3] + [19 + 5 * i for i in range(11)]  # head.x, then each limb's and the torso's x
    np.testing.assert_allclose(features[:, x], (obs[:, x] - obs[:, [69]]).astype(np.float32))
    others = [i for i in range(71) if i not in x]
    np.testing.assert_array_equal(features[:, others], obs[:, others].astype(np.float32))
    assert [ACTION_NAMES[a] for a in actions] == ["QW", "QO", "QP", "Q", "WO"]  # by key combination
    with pytest.raises(ModelFileError, match="human_try9.npz: obs"):
        np.savez(tmp_path / "human_try9.npz", obs=obs[:, :70], actions=np.arange(5).reshape(5, 1))
        seed_demo_decisions([tmp_path / "human_try9.npz"])


# ----------------------------------------------------------------------------- the real agents
def test_the_seeds_zips_are_read_into_its_networks(seed_models):
    env = gym.make("qwopkit/QWOP-v0")
    x = np.random.default_rng(5).normal(0, 1, (32, 71)).astype(np.float32)
    for name in AGENTS:
        model = read_sb2_zip(seed_models / f"{name}.zip")
        policy = load_model(model.path)
        assert policy.observation_space == env.observation_space and policy.action_space == env.action_space
        if name.startswith("Kuro_Acer"):
            assert model.kind == "acer" and isinstance(policy, ACERPolicy) and policy.net_arch == [256, 128]
            expected = tf_acer(model.params, x)[0][:, ACTION_TO_SEED]
            np.testing.assert_allclose(logits_and_q(policy, x)[0], expected, rtol=1e-4, atol=1e-4)
        else:
            assert model.kind == "dqn" and isinstance(policy, SeedDQNPolicy)
            assert policy.net_arch == [256, 128] and policy.layer_norm and policy.dueling
            np.testing.assert_allclose(dqn_q(policy, x), tf_dqn(model.params, x)[:, ACTION_TO_SEED],
                                       rtol=1e-4, atol=1e-4)
    env.close()
    assert "tensorflow" not in sys.modules


def kuro_decisions(seed_demos: Path) -> tuple[np.ndarray, np.ndarray]:
    return seed_demo_decisions(sorted(seed_demos.glob("kuro_try*.npz")))


def test_the_agents_predict_the_top_players_decisions(seed_models, seed_demos):
    obs, actions = kuro_decisions(seed_demos)
    assert len(actions) == 22710
    for name in AGENTS:
        figures = demo_agreement(load_model(seed_models / f"{name}.zip"), obs, actions)
        assert figures["chance"] == pytest.approx(1 / 11) and figures["majority"] < AGREEMENT_BOUND
        assert figures["agreement"] > AGREEMENT_BOUND, (name, figures)


def wrong_mappings(model: SB2Model) -> dict[str, object]:
    """The same zip imported wrongly, in the ways an importer could get it wrong."""
    import_ = acer_policy if model.kind == "acer" else dqn_policy
    policy = import_(model)
    wrong: dict[str, object] = {}
    # 1. The outputs left in the seed's order (as if both orders were the same).
    unmapped = import_(model)
    layers = [m for name, m in unmapped.named_modules() if name in ("pi", "q", f"action_value.{LAST_DENSE}")]
    for layer in layers:
        with th.no_grad():
            layer.weight.copy_(layer.weight[th.as_tensor(SEED_TO_ACTION)])
            layer.bias.copy_(layer.bias[th.as_tensor(SEED_TO_ACTION)])
    wrong["unmapped"] = unmapped
    # 2. TF's (in, out) kernels reshaped to torch's (out, in) instead of transposed.
    reshaped = {k: (v.reshape(v.shape[::-1]).T if v.ndim == 2 else v) for k, v in model.params.items()}
    wrong["reshaped"] = import_(SB2Model(model.path, model.data, reshaped))
    # 3. The features fed in another order (the first kernel's input rows shuffled).
    shuffled = dict(model.params)
    first = {"acer": "model/shared_fc0/w:0",
             "dqn": "deepq/model/action_value/fully_connected/weights:0"}[model.kind]
    shuffled[first] = shuffled[first][np.random.default_rng(0).permutation(71)]
    wrong["shuffled features"] = import_(SB2Model(model.path, model.data, shuffled))
    wrong["right"] = policy
    return wrong


def test_a_wrong_mapping_fails_the_check(seed_models, seed_demos):
    obs, actions = kuro_decisions(seed_demos)
    for name in ("Kuro_Acer_39hr_self30hr", "FastDQN_2hr"):
        policies = wrong_mappings(read_sb2_zip(seed_models / f"{name}.zip"))
        figures = {how: demo_agreement(p, obs, actions)["agreement"] for how, p in policies.items()}
        assert figures.pop("right") > AGREEMENT_BOUND
        assert all(f < AGREEMENT_BOUND for f in figures.values()), (name, figures)


# ----------------------------------------------------------------------------- the commands
def test_the_check_command_prints_each_agents_figures(seed_models, seed_demos, tmp_path):
    from qwopkit.bench.seed_check import main as check_main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert check_main(["--models", str(seed_models), "--demos", str(seed_demos)]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.getvalue().splitlines() if ".zip" in line}
    assert {f"{name}.zip" for name in AGENTS} <= set(rows)
    for name in AGENTS:
        agreement, _, unmapped = map(float, rows[f"{name}.zip"])
        assert agreement > AGREEMENT_BOUND > 0.1 > unmapped
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err := io.StringIO()):
        assert check_main(["--models", str(seed_models), "--demos", str(tmp_path)]) == 1
    expected = f"qwop-bench seed-check: error: --demos: no kuro_try*.npz in {tmp_path}"
    assert err.getvalue().strip() == expected


def test_qwop_eval_runs_a_seed_agent_at_its_own_decision_length(seed_models, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    args = [str(seed_models / "FastDQN_2hr.zip"), "--deterministic", "--frame-skip", "1",
            "--time-limit", "10", "--json", str(tmp_path / "eval.json")]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = eval_main(args)
    assert code == 0, err.getvalue()
    assert "1 game update(s) per decision (0.033 s)" in out.getvalue()
    report = json.loads((tmp_path / "eval.json").read_text())
    run = report["runs"][0]
    assert report["frame_skip"] == 1 and run["decisions"] == 300  # 10 s of 1-update decisions
    assert run["outcome"] == "timeout" and run["distance"] > 10  # it runs (about 2 m/s at that pace)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err := io.StringIO()):
        assert eval_main([str(seed_models / "FastDQN_2hr.zip"), "--frame-skip", "0"]) == 1
    assert err.getvalue().strip() == "qwop-eval: error: --frame-skip: must be at least 1, got 0"


@pytest.mark.slow
def test_qwop_finetune_starts_from_the_seeds_acer_agent(seed_models, seed_demos, tmp_path):
    out = tmp_path / "run"
    acer_zip = seed_models / "Kuro_Acer_39hr_self30hr.zip"
    # A learning rate of 1e-12: the run's model stays the network it started from, to compare.
    r = finetune("--init", acer_zip, "--schedule", "self:1k", "--out", out, "--n-envs", "2", "--lr", "1e-12",
                 "--eval-every", "1000", "--eval-episodes", "1", "--checkpoint-every", "1000",
                 "--replay-start", "100")
    assert r.returncode == 0, r.stderr
    assert f"the seed's ACER agent {acer_zip}, imported into {out / 'init.zip'}" in r.stdout
    obs, _ = kuro_decisions(seed_demos)
    seed = load_seed_acer(acer_zip).action_probabilities(obs[:2000])
    for name in ("init.zip", "model.zip"):
        started = load_policy(out / name)
        np.testing.assert_allclose(started.action_probabilities(obs[:2000]), seed, atol=1e-4)  # type: ignore[attr-defined]
    # The DQN agents have no policy head to start ACER from: one line, nothing written.
    r = finetune("--init", seed_models / "FastDQN.zip", "--out", tmp_path / "dqn")
    assert r.returncode == 1 and not (tmp_path / "dqn").exists()
    assert r.stderr.strip().endswith("FastDQN.zip: the seed's DQN agent has no policy head: only its ACER "
                                     "agents can start ACER")
