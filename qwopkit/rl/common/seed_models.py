"""The seed system's own trained agents (Stable-Baselines 2 zips), read without TensorFlow.

    policy = load_model("seed-models/Kuro_Acer_39hr_self30hr.zip")  # an ACERPolicy
    policy = load_model("seed-models/FastDQN_2hr.zip")              # a SeedDQNPolicy
    policy = load_model("models/bc.zip")                            # an SB3 zip, as load_policy
    obs, actions = seed_demo_decisions(sorted(Path("seed-demos").glob("kuro_try*.npz")))
    demo_agreement(policy, obs, actions)  # {"agreement": 0.31, "probability": 0.31, ...}

An SB2 zip holds `data` (JSON: the class's settings, the spaces, policy_kwargs), `parameter_list`
and `parameters` (an npz of the TensorFlow variables by name). TensorFlow layers keep a dense
kernel as (inputs, outputs), torch's Linear as (outputs, inputs): every kernel is transposed.

- ACER (SB2's MlpPolicy with `net_arch=[256, 128]`): a shared trunk `model/shared_fc0..1` (ReLU),
  then three linear heads on its output: `pi` (logits), `q` (one value per action) and `vf`
  (a state value). The trunk, `pi` and `q` are this project's ACERPolicy exactly (its input
  standardisation left at identity: SB2 fed the raw features); `vf` is left out, as ACER's value
  is the expectation of Q under pi.
- DQN (SB2's deepq FeedForwardPolicy, `layers=[256, 128]`, `layer_norm=True`, dueling, the
  default): two streams of the same shape, `action_value` (advantages, 11) and `state_value`
  (1), each dense -> layer norm -> ReLU per layer; Q = V + A - mean(A). The layer norm is
  tf.contrib.layers.layer_norm's: population variance over the units, variance epsilon 1e-12.
  The target network's copy (`deepq/target_q_func/...`) is not needed to act. Deterministic
  actions take argmax Q (SB2's `DQN.predict` default, with which the seed ran its DQN agents);
  sampled ones are drawn from softmax(Q), as SB2's DQN does with `deterministic=False`. (The
  seed ran its ACER agents sampled, `predict(obs, deterministic=False)`.)

The seed numbered its actions in its own order (docs/seed-system.md: 0 QW ... 10 none); this
project's order is different, and the two are mapped by key combination (`ACTION_TO_SEED`): the
output rows of each network's last layer are reordered once at import, so an imported policy
speaks this project's action indices like any other. The agreement with the top player's
recorded decisions (`demo_agreement`) is the check that all of this was done right
(`qwop-bench seed-check`; docs/seed-agents.md has the figures, and what wrong mappings give).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import nn

from qwopkit.rl.acer.policies import ACERPolicy, ModelFileError, load_policy
from qwopkit.spaces import ACTION_TO_SEED, SEED_OBS_FIELDS, SEED_OBS_SIZE, SEED_TO_ACTION

SB2_MEMBERS = ("data", "parameters")
TF_LAYER_NORM_EPS = 1e-12  # tf.contrib.layers.layer_norm's variance_epsilon
ACER_SCOPE = "model"
DQN_SCOPE = "deepq/model"
TORSO_X = SEED_OBS_FIELDS.index("torso.x")
X_COLUMNS = [i for i, name in enumerate(SEED_OBS_FIELDS) if name.endswith(".x")]


@dataclass
class SB2Model:
    """The contents of an SB2 zip: its `data` JSON and its TensorFlow variables by name."""

    path: Path
    data: dict[str, Any]
    params: dict[str, np.ndarray]

    @property
    def kind(self) -> str:
        """The algorithm, by the variables' names: "acer", "dqn", or "" for any other SB2 model."""
        if f"{ACER_SCOPE}/pi/w:0" in self.params and f"{ACER_SCOPE}/q/w:0" in self.params:
            return "acer"
        if f"{DQN_SCOPE}/action_value/fully_connected/weights:0" in self.params:
            return "dqn"
        return ""

    def spaces(self) -> tuple[spaces.Box, spaces.Discrete]:
        """The observation and action spaces, from the JSON (SB2 pickled them, but wrote shape and n
        too); they must be the seed's (71 features, 11 actions), whose action order is mapped."""
        try:
            shape = tuple(int(n) for n in self.data["observation_space"]["shape"])
            n = int(self.data["action_space"]["n"])
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(self.path, "an SB2 zip without a Box observation and a Discrete action "
                                 "space in its data") from None
        if shape != (SEED_OBS_SIZE,) or n != len(ACTION_TO_SEED):
            raise ModelFileError(self.path, f"its spaces ({shape} observations, {n} actions) are not the "
                                 f"seed's ({SEED_OBS_SIZE} features, {len(ACTION_TO_SEED)} actions)")
        return spaces.Box(-np.inf, np.inf, shape, np.float32), spaces.Discrete(n)


def is_sb2_zip(path: str | Path) -> bool:
    """Whether `path` is an SB2 model zip (`data` and `parameters`; an SB3 zip has `policy.pth` instead)."""
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    return all(m in names for m in SB2_MEMBERS) and "policy.pth" not in names


def read_sb2_zip(path: str | Path) -> SB2Model:
    """The `data` JSON and the variables of an SB2 zip; ModelFileError (naming the file) if it is not one."""
    path = Path(path)
    if not is_sb2_zip(path):
        raise ModelFileError(path, "not a Stable-Baselines 2 model zip (no data and parameters in it)")
    try:
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data").decode("utf-8"))
            with np.load(io.BytesIO(z.read("parameters"))) as npz:
                params = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(path, f"not a readable SB2 model ({first})") from None
    return SB2Model(path, data, params)


def _kernel(model: SB2Model, name: str) -> th.Tensor:
    """A TF dense kernel (in, out) as torch's Linear weight (out, in)."""
    return th.as_tensor(model.params[name].T.copy(), dtype=th.float32)


def _vector(model: SB2Model, name: str) -> th.Tensor:
    return th.as_tensor(model.params[name], dtype=th.float32)


def _shape_error(model: SB2Model, what: str) -> ModelFileError:
    kind = model.kind.upper() or "SB2"
    return ModelFileError(model.path, f"its {kind} network is not one this toolkit reads ({what})")


def _to_our_action_order(state: dict[str, th.Tensor], keys: list[str]) -> None:
    """Output rows from the seed's action order to ours (our action a is the seed's ACTION_TO_SEED[a])."""
    for key in keys:
        state[key] = state[key][th.as_tensor(ACTION_TO_SEED)]


def acer_policy(model: SB2Model) -> ACERPolicy:
    """The seed's ACER MlpPolicy as this project's ACERPolicy (trunk, pi and q; actions in our order)."""
    if model.kind != "acer":
        raise ModelFileError(model.path, "not an SB2 ACER model (no model/pi and model/q variables)")
    observation_space, action_space = model.spaces()
    layers: list[str] = []
    while f"{ACER_SCOPE}/shared_fc{len(layers)}/w:0" in model.params:
        layers.append(f"{ACER_SCOPE}/shared_fc{len(layers)}")
    net_arch = [model.params[f"{layer}/w:0"].shape[1] for layer in layers]
    policy = ACERPolicy(observation_space, action_space, BasePolicy._dummy_schedule, net_arch=net_arch)
    state = {}
    for i, layer in enumerate(layers):  # the trunk is Linear, ReLU, Linear, ReLU
        state[f"trunk.{2 * i}.weight"] = _kernel(model, f"{layer}/w:0")
        state[f"trunk.{2 * i}.bias"] = _vector(model, f"{layer}/b:0")
    for head in ("pi", "q"):
        state[f"{head}.weight"] = _kernel(model, f"{ACER_SCOPE}/{head}/w:0")
        state[f"{head}.bias"] = _vector(model, f"{ACER_SCOPE}/{head}/b:0")
    expected = {k: v.shape for k, v in policy.state_dict().items() if not k.startswith("obs_")}
    if {k: v.shape for k, v in state.items()} != expected:
        raise _shape_error(model, "its layers do not make a shared trunk with pi and q heads")
    _to_our_action_order(state, ["pi.weight", "pi.bias", "q.weight", "q.bias"])
    policy.load_state_dict(state, strict=False)  # obs_mean / obs_scale stay the identity
    policy.set_training_mode(False)
    return policy


class SeedDQNPolicy(BasePolicy):
    """SB2's DQN MLP policy (layer norm, dueling) in torch; Q values in this project's action order.

    :param observation_space: a flat Box (the 71 seed features).
    :param action_space: Discrete(n).
    :param net_arch: hidden layer sizes of each stream, the seed's (256, 128).
    :param layer_norm: a layer norm (TF's, epsilon 1e-12) after each hidden dense layer.
    :param dueling: a state-value stream, Q = V + A - mean(A) (SB2's default); else Q = A.
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space,
                 net_arch: Sequence[int] = (256, 128), layer_norm: bool = True, dueling: bool = True) -> None:
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"SeedDQNPolicy needs a Discrete action space, got {action_space}")
        super().__init__(observation_space, action_space)
        self.net_arch, self.layer_norm, self.dueling = list(net_arch), layer_norm, dueling
        dim = int(np.prod(observation_space.shape or (1,)))
        self.action_value = self._stream(dim, int(action_space.n))
        self.state_value = self._stream(dim, 1) if dueling else None

    def _stream(self, dim: int, out: int) -> nn.Sequential:
        modules: list[nn.Module] = []
        for size in self.net_arch:
            modules.append(nn.Linear(dim, size))
            if self.layer_norm:
                modules.append(nn.LayerNorm(size, eps=TF_LAYER_NORM_EPS))
            modules.append(nn.ReLU())
            dim = size
        modules.append(nn.Linear(dim, out))
        return nn.Sequential(*modules)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(net_arch=self.net_arch, layer_norm=self.layer_norm, dueling=self.dueling)
        return data

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        """Q values (B, n)."""
        x = th.as_tensor(obs).float().flatten(1)
        advantages = self.action_value(x)
        if self.state_value is None:
            return advantages
        return self.state_value(x) + advantages - advantages.mean(dim=1, keepdim=True)

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        q = self(observation)
        if deterministic:
            return q.argmax(dim=1)
        return th.distributions.Categorical(logits=q).sample()  # softmax(Q), as SB2's DQN step

    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """softmax(Q) as a (B, n) numpy array: what SB2's DQN samples from."""
        self.set_training_mode(False)
        obs_tensor, _ = self.obs_to_tensor(obs)
        with th.no_grad():
            return th.softmax(self(obs_tensor), dim=-1).cpu().numpy()


def dqn_policy(model: SB2Model) -> SeedDQNPolicy:
    """The seed's DQN (SB2 deepq MLP policy) as a SeedDQNPolicy, actions in our order."""
    if model.kind != "dqn":
        raise ModelFileError(model.path, "not an SB2 DQN model (no deepq/model/action_value variables)")
    observation_space, action_space = model.spaces()
    scope = f"{DQN_SCOPE}/action_value"
    dense = ["fully_connected"]
    while f"{scope}/fully_connected_{len(dense)}/weights:0" in model.params:
        dense.append(f"fully_connected_{len(dense)}")
    net_arch = [model.params[f"{scope}/{d}/weights:0"].shape[1] for d in dense[:-1]]
    layer_norm = f"{scope}/LayerNorm/gamma:0" in model.params
    dueling = f"{DQN_SCOPE}/state_value/fully_connected/weights:0" in model.params
    policy = SeedDQNPolicy(observation_space, action_space, net_arch, layer_norm, dueling)
    state = {}
    for stream in ("action_value", "state_value") if dueling else ("action_value",):
        index = 0  # position in the torch Sequential: Linear, [LayerNorm], ReLU per hidden layer
        for i, d in enumerate(dense):
            prefix = f"{DQN_SCOPE}/{stream}/{d}"
            state[f"{stream}.{index}.weight"] = _kernel(model, f"{prefix}/weights:0")
            state[f"{stream}.{index}.bias"] = _vector(model, f"{prefix}/biases:0")
            index += 1
            if i < len(dense) - 1 and layer_norm:
                norm = f"{DQN_SCOPE}/{stream}/LayerNorm" + (f"_{i}" if i else "")
                state[f"{stream}.{index}.weight"] = _vector(model, f"{norm}/gamma:0")
                state[f"{stream}.{index}.bias"] = _vector(model, f"{norm}/beta:0")
                index += 1
            index += 1  # the ReLU
    expected = {k: v.shape for k, v in policy.state_dict().items()}
    if {k: v.shape for k, v in state.items()} != expected:
        raise _shape_error(model, "its variables do not make SB2's MLP Q network")
    last = len(policy.action_value) - 1
    _to_our_action_order(state, [f"action_value.{last}.weight", f"action_value.{last}.bias"])
    policy.load_state_dict(state)
    policy.set_training_mode(False)
    return policy


def load_seed_model(path: str | Path) -> BasePolicy:
    """The policy of one of the seed's SB2 zips: its ACER as an ACERPolicy, its DQN as a SeedDQNPolicy."""
    model = read_sb2_zip(path)
    if model.kind == "acer":
        return acer_policy(model)
    if model.kind == "dqn":
        return dqn_policy(model)
    raise ModelFileError(model.path, "an SB2 model that is neither the seed's ACER (MlpPolicy) nor its DQN")


def load_seed_acer(path: str | Path) -> ACERPolicy:
    """The seed's ACER agent of an SB2 zip as an ACERPolicy (what `qwop-finetune --init` starts from)."""
    model = read_sb2_zip(path)
    if model.kind == "dqn":
        raise ModelFileError(model.path, "the seed's DQN agent has no policy head: only its ACER agents can "
                                         "start ACER")
    return acer_policy(model)


def load_model(path: str | Path) -> BasePolicy:
    """Any policy qwop-eval runs: an SB3 zip (`load_policy`) or the seed's SB2 zip (`load_seed_model`)."""
    return load_seed_model(path) if is_sb2_zip(path) else load_policy(path)


def default_seed_models() -> Path:
    """$QWOPKIT_SEED_MODELS, else the project's shared/data/seed-models beside the checkout."""
    env = os.environ.get("QWOPKIT_SEED_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[4] / "shared" / "data" / "seed-models"


# ----------------------------------------------------------------------------- the check
def seed_demo_decisions(paths: Sequence[str | Path]) -> tuple[np.ndarray, np.ndarray]:
    """Every decision of the seed's SB2 `.npz` recordings: (N, 71) float32 features with x relative
    to the torso (as the seed's agents saw them), and (N,) actions in this project's order."""
    observations, actions = [], []
    for path in paths:
        try:
            with np.load(path) as npz:
                obs, act = np.asarray(npz["obs"], np.float64), np.asarray(npz["actions"]).reshape(-1)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelFileError(path, f"not one of the seed's recordings ({exc})") from None
        if obs.ndim != 2 or obs.shape[1] != SEED_OBS_SIZE or len(act) != len(obs):
            raise ModelFileError(path, f"obs {obs.shape} and actions {act.shape}: not the seed's 71 features")
        if np.any(obs[:, TORSO_X] != 0):  # the early recordings kept absolute x
            obs = obs.copy()
            obs[:, X_COLUMNS] -= obs[:, [TORSO_X]]
        observations.append(obs.astype(np.float32))
        actions.append(SEED_TO_ACTION[act.astype(np.int64)])
    return np.concatenate(observations), np.concatenate(actions)


def demo_agreement(policy: Any, obs: np.ndarray, actions: np.ndarray) -> dict[str, float]:
    """How well a policy predicts a player's recorded decisions (actions in this project's order).

    `agreement`: the share of decisions where the policy's most likely action is his; `probability`:
    the mean probability it gives to his action; `chance`: 1 / the number of actions; `majority`:
    the share of his most frequent action (what always predicting it would score).
    """
    probs = np.concatenate([policy.action_probabilities(obs[i:i + 4096]) for i in range(0, len(obs), 4096)])
    picked = probs[np.arange(len(actions)), actions]
    return {"decisions": float(len(actions)),
            "agreement": float(np.mean(probs.argmax(axis=1) == actions)),
            "probability": float(np.mean(picked)),
            "chance": 1.0 / probs.shape[1],
            "majority": float(np.bincount(actions, minlength=probs.shape[1]).max() / len(actions))}

