"""The ACER policy network (the seed's), as a Stable-Baselines3 policy, and its zip files.

    policy = ACERPolicy(env.observation_space, env.action_space, lr_schedule=lambda _: 7e-4)
    logits, q = policy(obs_tensor)           # (B, 11) policy logits and (B, 11) Q values
    action, _ = policy.predict(obs, deterministic=True)
    save_policy(policy, "models/bc.zip", info={"trained_by": "qwop-pretrain"})
    policy = load_policy("models/bc.zip")    # also reads ACER's zips (and any SB3 algorithm's)

The network is the seed's: a fixed input standardisation, then a shared trunk of 256 and 128
ReLU units, a policy head `pi` (logits over the 11 actions) and a Q head `q` (one value per
action), as ACER needs. The standardisation (`obs_mean`, `obs_scale`) is a pair of buffers,
identity until set (behaviour cloning sets them from its training data): they travel in the
state dict, so every later learner sees the observations exactly as the network was trained on.

With `average=True` (as ACER builds it) the policy also holds the Polyak-averaged copy of its
trunk and `pi` head (`trunk_average`, `pi_average`) that ACER's trust region measures against,
built beside the live layers the way SB3's DQN builds its target network: same layers, never
touched by the optimiser, moved towards the live weights by `polyak_update`. A state dict without
them (a behaviour-cloning zip) loads with the average set to its live weights: ACER's average
starts as the network it averages.

Zip files are SB3's format (`save_util.save_to_zip_file`: `data` JSON, `policy.pth`, version and
system info), written with the same `data` keys an SB3 algorithm writes (`policy_class`,
`policy_kwargs`, spaces). An ACER algorithm built on SB3's `BaseAlgorithm` with this policy class
starts from such a file with `model.set_parameters(path, exact_match=False)` (only the policy's
weights are stored, not an optimizer state), and its own `model.save(...)` zips are read back
by `load_policy`, so `qwop-eval` takes both.
"""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_zip_file, save_to_zip_file
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor, create_mlp
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from qwopkit.atomic import atomic_open
from qwopkit.errors import InputError

SEED_NET_ARCH = (256, 128)
# The seed's ACER optimiser: RMSProp with alpha 0.99, eps 1e-5 (docs/seed-system.md).
SEED_OPTIMIZER_KWARGS = {"alpha": 0.99, "eps": 1e-5}


class ModelFileError(InputError):
    """A model file that cannot be used; the message names the file."""


class ACERPolicy(BasePolicy):
    """Shared MLP trunk with a policy head and a Q head over a discrete action set.

    :param observation_space: a flat Box (the 71 seed features).
    :param action_space: Discrete(n) (11 actions).
    :param lr_schedule: learning-rate schedule for the policy's optimiser (SB3 convention).
    :param net_arch: trunk layer sizes, default the seed's (256, 128).
    :param activation_fn: trunk activation, default ReLU.
    :param optimizer_class, optimizer_kwargs: default the seed's RMSProp (alpha 0.99, eps 1e-5).
    :param use_sde: only False; accepted because SB3's OffPolicyAlgorithm passes it to policies
        unless the algorithm says `sde_support=False` (as DQN does).
    :param average: also build the Polyak-averaged trunk and pi head (ACER's trust region).
    """

    obs_mean: th.Tensor  # buffers (register_buffer), typed for the checker
    obs_scale: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        net_arch: list[int] | tuple[int, ...] = SEED_NET_ARCH,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.RMSprop,
        optimizer_kwargs: dict[str, Any] | None = None,
        use_sde: bool = False,
        average: bool = False,
    ) -> None:
        if use_sde:
            raise ValueError("ACERPolicy has discrete actions: use_sde must be False")
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"ACERPolicy needs a Discrete action space, got {action_space}")
        if optimizer_kwargs is None and optimizer_class is th.optim.RMSprop:
            optimizer_kwargs = dict(SEED_OPTIMIZER_KWARGS)
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images=normalize_images,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
        )
        self.net_arch = list(net_arch)
        self.activation_fn = activation_fn
        n_actions = int(action_space.n)
        self.features_extractor = self.make_features_extractor()
        dim = self.features_extractor.features_dim
        self.register_buffer("obs_mean", th.zeros(dim))
        self.register_buffer("obs_scale", th.ones(dim))
        self.trunk = nn.Sequential(*create_mlp(dim, -1, self.net_arch, activation_fn))
        last = self.net_arch[-1] if self.net_arch else dim
        self.pi = nn.Linear(last, n_actions)
        self.q = nn.Linear(last, n_actions)
        self.action_dist = CategoricalDistribution(n_actions)
        self.average = average
        if average:
            self.trunk_average = copy.deepcopy(self.trunk)
            self.pi_average = copy.deepcopy(self.pi)
            for param in self.average_parameters():
                param.requires_grad_(False)
        make_optimizer: Any = self.optimizer_class  # (SB3 types it as the bare Optimizer)
        self.optimizer = make_optimizer(self.live_parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def live_parameters(self) -> list[nn.Parameter]:
        """The trained parameters (trunk, pi, q): what the optimiser moves."""
        return [*self.trunk.parameters(), *self.pi.parameters(), *self.q.parameters()]

    def averaged_pairs(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """(live, averaged) parameters of the trunk and pi head, in matching order."""
        return [*self.trunk.parameters(), *self.pi.parameters()], self.average_parameters()

    def average_parameters(self) -> list[nn.Parameter]:
        if not self.average:
            raise ValueError("this ACERPolicy was built without an averaged policy (average=False)")
        return [*self.trunk_average.parameters(), *self.pi_average.parameters()]

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """As nn.Module's, but a state dict without the averaged layers sets them to its live ones."""
        if self.average and not any(k.startswith(("trunk_average.", "pi_average.")) for k in state_dict):
            state_dict = dict(state_dict)
            for key in list(state_dict):
                if key.startswith(("trunk.", "pi.")):
                    head, rest = key.split(".", 1)
                    state_dict[f"{head}_average.{rest}"] = state_dict[key]
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch,
            activation_fn=self.activation_fn,
            features_extractor_class=self.features_extractor_class,
            features_extractor_kwargs=self.features_extractor_kwargs,
            optimizer_class=self.optimizer_class,
            optimizer_kwargs=self.optimizer_kwargs,
            lr_schedule=self._dummy_schedule,
            average=self.average,
        )
        return data

    def set_normalization(self, mean: np.ndarray, scale: np.ndarray) -> None:
        """Standardise inputs as (obs - mean) / scale from now on (scales below 1e-6 count as 1)."""
        scale = np.where(np.asarray(scale) < 1e-6, 1.0, scale)
        self.obs_mean.copy_(th.as_tensor(mean, dtype=th.float32))
        self.obs_scale.copy_(th.as_tensor(scale, dtype=th.float32))

    def latent(self, obs: PyTorchObs) -> th.Tensor:
        """The trunk's output (B, 128) for a batch of observations."""
        features = self.extract_features(obs, self.features_extractor)
        return self.trunk((features - self.obs_mean) / self.obs_scale)

    def forward(self, obs: PyTorchObs) -> tuple[th.Tensor, th.Tensor]:
        """Policy logits (B, n) and Q values (B, n)."""
        latent = self.latent(obs)
        return self.pi(latent), self.q(latent)

    def distribution(self, obs: PyTorchObs) -> CategoricalDistribution:
        """pi(.|obs) as SB3's categorical distribution."""
        return self.action_dist.proba_distribution(action_logits=self.pi(self.latent(obs)))

    def average_logits(self, obs: PyTorchObs) -> th.Tensor:
        """Logits of the Polyak-averaged policy (no gradient flows into it)."""
        features = self.extract_features(obs, self.features_extractor)
        return self.pi_average(self.trunk_average((features - self.obs_mean) / self.obs_scale))

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self.distribution(observation).get_actions(deterministic=deterministic)

    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """pi(a|s) as a (B, n) numpy array, for a batch of numpy observations."""
        self.set_training_mode(False)
        obs_tensor, _ = self.obs_to_tensor(obs)
        with th.no_grad():
            return th.softmax(self.pi(self.latent(obs_tensor)), dim=-1).cpu().numpy()


def policy_kwargs_of(policy: BasePolicy) -> dict[str, Any]:
    """The keyword arguments that rebuild `policy` (without spaces and schedule), as SB3 stores them."""
    params = policy._get_constructor_parameters()
    for key in ("observation_space", "action_space", "lr_schedule", "use_sde", "squash_output"):
        params.pop(key, None)
    return params


def save_policy(policy: BasePolicy, path: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Write `policy` as an SB3 zip (atomically: a temporary file renamed into place).

    `info` (JSON-able) goes into the zip's data under "qwopkit", e.g. how the policy was trained.
    """
    path = Path(path)
    if path.suffix == "":
        path = path.with_suffix(".zip")
    data = {
        "policy_class": type(policy),
        "policy_kwargs": policy_kwargs_of(policy),
        "observation_space": policy.observation_space,
        "action_space": policy.action_space,
        "n_envs": 1,
        "num_timesteps": 0,
        "_total_timesteps": 0,
        "qwopkit": info or {},
    }
    with atomic_open(path, "wb") as f:
        save_to_zip_file(cast(io.BufferedIOBase, f), data=data, params={"policy": policy.state_dict()})
    return path


def read_model_info(path: str | Path) -> dict[str, Any]:
    """The zip's "qwopkit" data (how it was trained), {} if none."""
    data, _, _ = _load_zip(Path(path))
    return dict(data.get("qwopkit") or {})


@contextlib.contextmanager
def old_layout_names() -> Iterator[None]:
    """While reading a zip: the class paths of the layout before 0.2 (qwopkit.rl.policies, ...) that
    it names are found without the DeprecationWarning a user's own import of them gets."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"qwopkit\.rl\.\w+ moved to ", category=DeprecationWarning)
        yield


def _load_zip(path: Path) -> tuple[dict[str, Any], dict[str, Any], Any]:
    if not path.exists():
        raise ModelFileError(path, "no such file")
    if not path.is_file():
        raise ModelFileError(path, "not a file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(path, "not a model (not an SB3 zip file)")
    try:
        with old_layout_names():
            data, params, variables = load_from_zip_file(path, device="cpu")
    except Exception as exc:  # json, cloudpickle and torch can each fail in their own ways
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(path, f"not a readable SB3 model ({first})") from None
    if not data or "policy_class" not in data or "policy" not in params:
        raise ModelFileError(path, "not an SB3 model (no policy class or policy weights)")
    return data, params, variables


def load_policy(path: str | Path, device: str = "cpu") -> BasePolicy:
    """Rebuild the policy stored in an SB3 zip (ours or an SB3 algorithm's) and load its weights.

    Raises ModelFileError (one line naming the file) on anything that is not such a model.
    """
    path = Path(path)
    data, params, _ = _load_zip(path)
    policy_class = data["policy_class"]
    if not (isinstance(policy_class, type) and issubclass(policy_class, BasePolicy)):
        raise ModelFileError(path, f"policy class {policy_class!r} is not an SB3 policy")
    kwargs = dict(data.get("policy_kwargs") or {})
    kwargs.pop("device", None)
    try:
        policy = policy_class(data["observation_space"], data["action_space"], BasePolicy._dummy_schedule,
                              **kwargs)
        policy.load_state_dict(params["policy"])
    except (TypeError, KeyError, RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(path, f"cannot rebuild its {policy_class.__name__} ({first})") from None
    policy.set_training_mode(False)
    return policy.to(device)
