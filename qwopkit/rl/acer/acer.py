"""ACER (Wang et al. 2017, "Sample Efficient Actor-Critic with Experience Replay"), discrete actions,
on Stable-Baselines3's base classes.

    model = ACER("MlpPolicy", "CartPole-v1", seed=0)
    model.learn(500_000, progress_bar=True)
    model.save("acer.zip"); model = ACER.load("acer.zip", env=env)

Demonstrations in its replay are a subclass, `ACERWithDemos` (with_demos.py), and their phases
a callback; rollouts collected elsewhere (Ray) come in through a `SegmentSource` (sources.py).

Each iteration collects one segment of `n_steps` steps from every environment, storing with
each step the probabilities the policy sampled it from (mu), and trains on it once (on-policy);
the segments go into the replay. Then, once the replay holds `replay_start` steps
per environment, a Poisson(`replay_ratio`) number of updates each train on `n_envs` segments
drawn from the replay. Every update is the same:

- Retrace targets Q_ret, computed backwards through each segment with truncated importance
  weights min(1, pi/mu) (`retrace_targets`);
- the policy gradient with importance weights truncated at c (`correction_term`), plus the
  bias-correction term over all actions for the part of the weight above c;
- an entropy bonus (`ent_coef`) and the Q head's squared error to Q_ret (`q_coef`);
- the efficient trust region: the policy part of the gradient, taken with respect to pi's
  probabilities, is projected so that it moves pi away from the Polyak-averaged policy (alpha)
  by at most delta in KL's linearisation (`trust_region_projection`);
- RMSProp as TensorFlow has it (SB3's RMSpropTFLike, as SB2 trained ACER), gradient clipping,
  then the averaged policy moves towards the live one.

Defaults are SB2's ACER. One departure: an episode cut by the time limit is bootstrapped from
its true last observation, not treated as a fall (SB3's on-policy algorithms do the same).
docs/acer.md describes the choices and how they were checked.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HumanOutputFormat, Logger
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_pkl, save_to_pkl
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import LinearSchedule, obs_as_tensor, polyak_update, safe_mean
from stable_baselines3.common.vec_env import VecEnv

from qwopkit.errors import ParameterError
from qwopkit.rl.acer.buffers import SegmentReplayBuffer, Segments
from qwopkit.rl.acer.policies import ACERPolicy, old_layout_names

if TYPE_CHECKING:
    from qwopkit.rl.acer.sources import SegmentSource

SelfACER = TypeVar("SelfACER", bound="ACER")
EPS = 1e-6  # keeps logs and ratios of probabilities finite


def retrace_targets(rewards: np.ndarray, q_taken: np.ndarray, values: np.ndarray, rho_bar: np.ndarray,
                    dones: np.ndarray, end_values: np.ndarray, bootstrap: np.ndarray,
                    gamma: float) -> np.ndarray:
    """Retrace's Q_ret for every step of B segments of n steps (arrays (B, n); bootstrap (B,)).

    Backwards from the value of the observation after the segment (`bootstrap`):
        Q_ret(t) = r_t + gamma * R_{t+1},
        R_t      = rho_bar_t * (Q_ret(t) - Q(x_t, a_t)) + V(x_t),
    where at the last step of an episode (`dones`) R_{t+1} is instead `end_values` (0 after a
    fall or a finish, V of the true last observation after a truncation). numpy, not torch: the
    recursion is a loop over small arrays, where numpy's per-operation cost is a fraction of torch's.
    """
    out = np.empty_like(rewards)
    ret = bootstrap
    for t in range(rewards.shape[1] - 1, -1, -1):
        ret = np.where(dones[:, t], end_values[:, t], ret)
        ret = rewards[:, t] + gamma * ret
        out[:, t] = ret
        ret = rho_bar[:, t] * (ret - q_taken[:, t]) + values[:, t]
    return out


def trust_region_projection(grad: th.Tensor, probs: th.Tensor, average_probs: th.Tensor,
                            delta: float) -> tuple[th.Tensor, th.Tensor]:
    """ACER's efficient trust region, per sample: (projected gradient, step back taken).

    `grad` is the gradient of the objective with respect to pi's probabilities; k, the
    gradient of KL(average || pi) with respect to them, is -average / pi. Where the step
    along `grad` would grow that KL's linearisation by more than delta (k.g > delta), the part
    along k is taken back: g - max(0, (k.g - delta) / |k|^2) k.
    """
    k = -average_probs / (probs + EPS)
    step_back = ((k * grad).sum(-1) - delta) / ((k * k).sum(-1) + EPS)
    step_back = step_back.clamp(min=0.0)
    return grad - step_back.unsqueeze(-1) * k, step_back


class ACER(BaseAlgorithm):
    """Actor-Critic with Experience Replay, discrete actions (SB2's defaults).

    :param policy: "MlpPolicy" (the seed's ACERPolicy) or an ACERPolicy subclass.
    :param env: the environment (Gymnasium env, id or VecEnv; several envs are collected in step).
    :param learning_rate: a float, decayed as `lr_decay` says, or an SB3 schedule.
    :param lr_decay: "linear" (to 0 at the end of `learn`, SB2's default) or "constant"; used only
        when `learning_rate` is a float.
    :param n_steps: steps per segment and environment.
    :param gamma: discount factor.
    :param q_coef: weight of the Q head's loss.
    :param ent_coef: weight of the entropy bonus.
    :param max_grad_norm: gradients are clipped to this norm.
    :param buffer_size: replay size in steps per environment (SB2's meaning).
    :param replay_ratio: mean of the Poisson number of replay updates after each on-policy one.
    :param replay_start: replay updates begin when the replay holds this many steps per environment.
    :param replay_batch_size: segments per replay update; None: `n_envs` (SB2). With it, fewer and
        larger replay updates learn from as many samples (e.g. replay_ratio 2, replay_batch_size
        2 * n_envs in place of 4 and n_envs).
    :param correction_term: c, where the importance weights of the policy gradient are truncated.
    :param trust_region: use the efficient trust region against the averaged policy.
    :param alpha: Polyak averaging factor of the averaged policy (its weight on its own past).
    :param delta: the trust region's bound.
    :param q_warmup: environment steps at the start during which only the Q head learns (the trunk
        and pi are left alone), so that a policy loaded from a clone is not pushed around by a
        critic that is still random. 0 (SB2) starts everything at once.
    :param threads: torch threads while `learn` runs (torch's own setting is restored after it).
        One is fastest for this small network: with torch's default of one per core, the threads
        of every tiny matrix product contend with the environments for the same cores (7x slower
        on a 2-core machine). None leaves torch's setting alone.
    :param stats_window_size, tensorboard_log, policy_kwargs, verbose, seed, device,
        _init_setup_model: as in every SB3 algorithm.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": ACERPolicy}
    policy: ACERPolicy

    def __init__(
        self,
        policy: str | type[ACERPolicy],
        env: GymEnv | str | None,
        learning_rate: float | Schedule = 7e-4,
        lr_decay: str = "linear",
        n_steps: int = 20,
        gamma: float = 0.99,
        q_coef: float = 0.5,
        ent_coef: float = 0.01,
        max_grad_norm: float = 10.0,
        buffer_size: int = 5000,
        replay_ratio: float = 4.0,
        replay_start: int = 1000,
        replay_batch_size: int | None = None,
        correction_term: float = 10.0,
        trust_region: bool = True,
        alpha: float = 0.99,
        delta: float = 1.0,
        q_warmup: int = 0,
        threads: int | None = 1,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "cpu",
        _init_setup_model: bool = True,
    ) -> None:
        # Checked before the environment is made, so that a bad value costs nothing.
        self.check_arguments(learning_rate=learning_rate, lr_decay=lr_decay, n_steps=n_steps, gamma=gamma,
                             buffer_size=buffer_size, replay_ratio=replay_ratio, replay_start=replay_start,
                             replay_batch_size=replay_batch_size,
                             correction_term=correction_term, trust_region=trust_region, alpha=alpha,
                             delta=delta, max_grad_norm=max_grad_norm,
                             q_coef=q_coef, ent_coef=ent_coef, q_warmup=q_warmup, threads=threads)
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         verbose=verbose, device=device, support_multi_env=True, seed=seed,
                         supported_action_spaces=(spaces.Discrete,))
        self.lr_decay = lr_decay
        self.n_steps = n_steps
        self.gamma = gamma
        self.q_coef = q_coef
        self.ent_coef = ent_coef
        self.max_grad_norm = max_grad_norm
        self.buffer_size = buffer_size
        self.replay_ratio = replay_ratio
        self.replay_start = replay_start
        self.replay_batch_size = replay_batch_size
        self.correction_term = correction_term
        self.trust_region = trust_region
        self.alpha = alpha
        self.delta = delta
        self.q_warmup = q_warmup
        self.threads = threads
        self.replay_buffer: SegmentReplayBuffer | None = None
        self.rollout: Segments | None = None  # the segments collect_rollouts gathered last
        self.segment_source: SegmentSource | None = None  # see set_segment_source
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------------------ set-up
    _RULES: ClassVar[dict[str, Any]] = {
        "lr_decay": lambda v: v in ("linear", "constant"), "n_steps": lambda v: v >= 1,
        "gamma": lambda v: 0 <= v <= 1, "buffer_size": lambda v: v >= 1, "replay_ratio": lambda v: v >= 0,
        "replay_start": lambda v: v >= 0,
        "replay_batch_size": lambda v: v is None or v >= 1, "correction_term": lambda v: v > 0,
        "alpha": lambda v: 0 <= v < 1,
        "delta": lambda v: v > 0,
        "max_grad_norm": lambda v: v > 0, "q_coef": lambda v: v >= 0, "ent_coef": lambda v: v >= 0,
        "learning_rate": lambda v: callable(v) or v > 0, "trust_region": lambda v: isinstance(v, bool),
        "q_warmup": lambda v: v >= 0, "threads": lambda v: v is None or (isinstance(v, int) and v >= 1),
    }

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        """Raise ParameterError naming the first argument ACER does not know or cannot use."""
        for name, value in kwargs.items():
            rule = cls._RULES.get(name)
            if rule is None:
                raise ParameterError(name, "not an argument of ACER")
            try:
                ok = bool(rule(value))
            except TypeError:
                ok = False
            if not ok:
                raise ParameterError(name, f"bad value {value!r}")
        if kwargs.get("buffer_size", 5000) < kwargs.get("n_steps", 20):
            raise ParameterError("buffer_size", f"{kwargs.get('buffer_size', 5000)} steps hold no "
                                                f"segment of n_steps {kwargs.get('n_steps', 20)}")

    def _setup_lr_schedule(self) -> None:
        if isinstance(self.learning_rate, (int, float)) and self.lr_decay == "linear":
            self.lr_schedule = LinearSchedule(float(self.learning_rate), 0.0, 1.0)
        else:
            super()._setup_lr_schedule()

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        restored_rng = getattr(self, "_rng", None)  # a loaded model keeps its replay sampler's state
        self.set_random_seed(self.seed)
        if restored_rng is not None:
            self._rng = restored_rng
        if not isinstance(self.observation_space, spaces.Box):
            raise ValueError(f"ACER needs a Box observation space, got {self.observation_space}")
        # Stored as the zip's policy_kwargs, so that every loader rebuilds exactly this network.
        seed_rmsprop = {"optimizer_class": RMSpropTFLike, "optimizer_kwargs": {"alpha": 0.99, "eps": 1e-5}}
        self.policy_kwargs = {**seed_rmsprop, **self.policy_kwargs, "average": True}
        policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule,
                                   **self.policy_kwargs).to(self.device)
        if not isinstance(policy, ACERPolicy):
            raise ValueError(f"ACER needs an ACERPolicy (trunk, pi, q and the averaged policy), got "
                             f"{type(policy).__name__}")
        self.policy = policy
        # Listed once: walking the modules for them at every update costs more than the update's maths.
        self._live_params = self.policy.live_parameters()
        self._polyak_pairs = self.policy.averaged_pairs()
        capacity = (self.buffer_size // self.n_steps) * self.n_envs
        self.replay_buffer = SegmentReplayBuffer(capacity, self.n_steps, self.obs_shape, self.n_actions,
                                                 self.observation_space.dtype)
        if not hasattr(self, "_rng"):
            self._rng = np.random.default_rng(self.seed)

    @property
    def obs_shape(self) -> tuple[int, ...]:
        """The shape of one observation (a Box's)."""
        return tuple(self.observation_space.shape or ())

    @property
    def n_actions(self) -> int:
        return int(cast(spaces.Discrete, self.action_space).n)

    def set_random_seed(self, seed: int | None = None) -> None:
        """Seed Python, numpy, torch, the action space and the envs, and the replay's sampling."""
        super().set_random_seed(seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def set_segment_source(self, source: SegmentSource | None) -> None:
        """Train on segments collected elsewhere (a `SegmentSource`, sources.py; the Ray rollouts of
        qwopkit.training.ray_rollouts are one): each `collect_rollouts` takes `source.collect(self,
        callback)` in place of stepping `env`. None collects from `env` again. Not saved in zips."""
        self.segment_source = source

    @property
    def n_updates(self) -> int:
        """Gradient updates so far (on-policy and replayed)."""
        return self._n_updates

    def record_episode_ends(self, infos: list[dict[str, Any]], dones: np.ndarray) -> None:
        """Note the episodes that ended at one step (SB3's `ep_info_buffer`, behind rollout/ep_rew_mean):
        collect_rollouts does it for each step, a segment source for the steps it collected."""
        self._update_info_buffer(infos, dones)

    @classmethod
    def load(cls: type[SelfACER], path: Any, env: GymEnv | None = None, device: th.device | str = "auto",
             custom_objects: dict[str, Any] | None = None, print_system_info: bool = False,
             force_reset: bool = True, **kwargs: Any) -> SelfACER:
        """SB3's load; a zip written before 0.2 (naming qwopkit.rl.policies) loads without a warning."""
        with old_layout_names():
            return super().load(path, env, device, custom_objects, print_system_info, force_reset, **kwargs)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_live_params", "_polyak_pairs", "segment_source",
                "rollout"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "policy.optimizer"], []

    def save_replay_buffer(self, path: Any) -> None:
        """Pickle the replay (segments and their mu), e.g. for CheckpointCallback(save_replay_buffer=True)."""
        if self.replay_buffer is None:
            raise ValueError("the replay buffer is not set up")
        save_to_pkl(path, self.replay_buffer, self.verbose)

    def load_replay_buffer(self, path: Any) -> None:
        buffer = load_from_pkl(path, self.verbose)
        if not isinstance(buffer, SegmentReplayBuffer):
            raise ValueError(f"{path}: not an ACER replay buffer")
        if buffer.n_steps != self.n_steps or buffer.obs_shape != self.observation_space.shape:
            raise ValueError(f"{path}: its segments ({buffer.n_steps} steps of {buffer.obs_shape}) do not "
                             f"fit this model ({self.n_steps} steps of {self.observation_space.shape})")
        self.replay_buffer = buffer

    # ------------------------------------------------------------------------------ collecting
    def collect_rollouts(self, env: VecEnv, callback: BaseCallback) -> bool:
        """One segment of n_steps from each environment (or from the segment source, if one is set)
        into `self.rollout`; False if a callback stopped training (SB3's contract).

        Callbacks see SB3's usual locals at each step (`new_obs`, `rewards`, `dones`, `infos`).
        """
        if self.segment_source is not None:
            self.rollout = self.segment_source.collect(self, callback)
        else:
            self.rollout = self._collect_segments(env, callback)
        return self.rollout is not None

    def _collect_segments(self, env: VecEnv, callback: BaseCallback) -> Segments | None:
        assert self._last_obs is not None
        n, b = self.n_steps, env.num_envs
        obs_shape = self.obs_shape
        seg = Segments(
            observations=np.zeros((b, n + 1, *obs_shape), self.observation_space.dtype),
            actions=np.zeros((b, n), np.int64),
            rewards=np.zeros((b, n), np.float32),
            mu=np.zeros((b, n, self.n_actions), np.float32),
            dones=np.zeros((b, n), bool),
            terminations=np.zeros((b, n), bool),
            final_observations=np.zeros((b, n, *obs_shape), self.observation_space.dtype),
            demo=np.zeros(b, bool),
        )
        self.policy.set_training_mode(False)
        callback.on_rollout_start()
        for t in range(n):
            with th.no_grad():
                obs_tensor = obs_as_tensor(cast(np.ndarray, self._last_obs), self.device)
                logits = self.policy.pi(self.policy.latent(obs_tensor))
                probs = th.softmax(logits, dim=-1)
                actions = th.multinomial(probs, 1).squeeze(1).cpu().numpy()
            new_obs, rewards, dones, infos = env.step(actions)
            self.num_timesteps += b
            callback.update_locals(locals())
            if not callback.on_step():
                return None
            self._update_info_buffer(infos, dones)
            seg.observations[:, t] = self._last_obs
            seg.actions[:, t] = actions
            seg.rewards[:, t] = rewards
            seg.mu[:, t] = probs.cpu().numpy()
            seg.dones[:, t] = dones
            for i in np.flatnonzero(dones):
                if infos[i].get("TimeLimit.truncated", False) and "terminal_observation" in infos[i]:
                    seg.final_observations[i, t] = infos[i]["terminal_observation"]
                else:
                    seg.terminations[i, t] = True
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones
        seg.observations[:, n] = self._last_obs
        callback.update_locals(locals())
        callback.on_rollout_end()
        return seg

    @th.no_grad()
    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """pi(.|obs) for observations of any leading shape."""
        lead = obs.shape[:-len(self.obs_shape)]
        flat = th.as_tensor(obs.reshape(-1, *self.obs_shape), device=self.device)
        probs = th.softmax(self.policy.pi(self.policy.latent(flat)), dim=-1)
        return probs.cpu().numpy().reshape(*lead, -1)

    # ------------------------------------------------------------------------------ learning
    def _loss(self, seg: Segments) -> tuple[th.Tensor, dict[str, float]]:
        """The loss of one update on B segments (its gradient already trust-region projected)."""
        b, n = seg.actions.shape
        n_actions = self.n_actions
        obs_shape = self.obs_shape
        dev = self.device
        obs = th.as_tensor(seg.observations, device=dev).reshape(b * (n + 1), *obs_shape)
        latent = self.policy.latent(obs)
        warming_up = self.num_timesteps < self.q_warmup
        if warming_up:  # only the Q head learns: the trunk and pi stay as they were loaded
            latent = latent.detach()
        logits, q_all = self.policy.pi(latent), self.policy.q(latent)
        probs_all = th.softmax(logits, dim=-1).reshape(b, n + 1, n_actions)
        q_all = q_all.reshape(b, n + 1, n_actions)
        f, q = probs_all[:, :n], q_all[:, :n]
        actions = th.as_tensor(seg.actions, device=dev).unsqueeze(-1)
        with th.no_grad():
            values_all = (probs_all * q_all).sum(-1)
            values = values_all[:, :n]
            end_values = th.zeros(b, n, device=dev)
            truncated = seg.truncations
            if truncated.any():
                fin_logits, fin_q = self.policy(th.as_tensor(seg.final_observations[truncated], device=dev))
                end_values[th.as_tensor(truncated, device=dev)] = (th.softmax(fin_logits, -1) * fin_q).sum(-1)
            rho = f / (th.as_tensor(seg.mu, device=dev) + EPS)
            rho_taken = rho.gather(-1, actions).squeeze(-1)
            q_taken_now = q.gather(-1, actions).squeeze(-1)
            q_ret = th.as_tensor(retrace_targets(
                seg.rewards, q_taken_now.cpu().numpy(), values.cpu().numpy(),
                rho_taken.clamp(max=1.0).cpu().numpy(), seg.dones, end_values.cpu().numpy(),
                values_all[:, n].cpu().numpy(), self.gamma), device=dev)
            c = self.correction_term
            weight = (q_ret - values) * rho_taken.clamp(max=c)
            bias_weight = (q - values.unsqueeze(-1)) * (1.0 - c / (rho + EPS)).clamp(min=0.0) * f
        log_f = th.log(f + EPS)
        loss_f = -(log_f.gather(-1, actions).squeeze(-1) * weight).mean()
        loss_bc = -(log_f * bias_weight).sum(-1).mean()
        entropy = -(f * log_f).sum(-1).mean()
        loss_q = 0.5 * (q_ret - q.gather(-1, actions).squeeze(-1)).pow(2).mean()
        loss_policy = loss_f + loss_bc - self.ent_coef * entropy
        stats = {"policy_loss": loss_f.item(), "bias_correction_loss": loss_bc.item(),
                 "q_loss": loss_q.item(), "entropy": entropy.item(), "rho_mean": rho_taken.mean().item(),
                 "rho_above_c": (rho_taken > c).float().mean().item(), "value_mean": values.mean().item(),
                 "q_ret_mean": q_ret.mean().item()}
        if warming_up:
            return self.q_coef * loss_q, stats
        if not self.trust_region:
            return loss_policy + self.q_coef * loss_q, stats
        with th.no_grad():
            average = th.softmax(self.policy.average_logits(obs), dim=-1).reshape(b, n + 1, n_actions)[:, :n]
        samples = b * n
        # Per-sample gradient of the policy objective with respect to pi's probabilities.
        grad = th.autograd.grad(-loss_policy * samples, f, retain_graph=True)[0]
        grad, step_back = trust_region_projection(grad, f.detach(), average, self.delta)
        stats["trust_region_step_back"] = step_back.mean().item()
        surrogate = -(f * grad.detach()).sum() / samples  # its gradient is the projected one
        return surrogate + self.q_coef * loss_q, stats

    def train_on(self, segments: Segments) -> dict[str, float]:
        """One gradient update on a batch of segments; returns its figures."""
        if not self.policy.training:  # (walking the modules at every update costs a tenth of one)
            self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        loss, stats = self._loss(segments)
        self.policy.optimizer.zero_grad()
        loss.backward()
        norm = th.nn.utils.clip_grad_norm_(self._live_params, self.max_grad_norm)
        stats["grad_norm"] = float(norm)
        self.policy.optimizer.step()
        if self.num_timesteps >= self.q_warmup:  # (in the warm-up the policy does not move)
            polyak_update(*self._polyak_pairs, 1.0 - self.alpha)
        self._n_updates += 1
        return stats

    def train(self) -> None:
        """The on-policy update on the segments `collect_rollouts` gathered, then they go into the
        replay (`_store_rollout`), then the replay updates."""
        assert self.replay_buffer is not None and self.rollout is not None
        for key, value in self.train_on(self.rollout).items():
            self.logger.record_mean(f"train/{key}", value)
        self._store_rollout(self.rollout)
        replays = 0
        if self.replay_ratio > 0 and self.replay_buffer.steps >= self.replay_start * self.n_envs:
            replays = int(self._rng.poisson(self.replay_ratio))
            for _ in range(replays):
                # (getattr: a zip saved before replay_batch_size existed loads without it)
                size = getattr(self, "replay_batch_size", None) or self.n_envs
                batch = self.replay_buffer.sample(size, self._rng)
                for key, value in self.train_on(batch).items():
                    self.logger.record_mean(f"replay_train/{key}", value)
                self.logger.record_mean("replay_train/demo_share", float(batch.demo.mean()))
        self.logger.record_mean("replay/updates_per_iteration", replays)

    def _store_rollout(self, segments: Segments) -> None:
        """Put the on-policy segments into the replay (ACERWithDemos adds its demonstrations here)."""
        assert self.replay_buffer is not None
        self.replay_buffer.add(segments)

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None,
                     reset_num_timesteps: bool = True, tb_log_name: str = "run",
                     progress_bar: bool = False) -> tuple[int, BaseCallback]:
        # With no logger set and no TensorBoard folder, SB3 makes a logger whose folder is a new,
        # empty tmp/SB3-<date> on every learn(); one that writes to stdout only needs no folder.
        if not self._custom_logger and self.tensorboard_log is None:
            self.set_logger(Logger(folder=None, output_formats=[HumanOutputFormat(sys.stdout)]
                                   if self.verbose >= 1 else []))
        return super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)

    def learn(self: SelfACER, total_timesteps: int, callback: MaybeCallback = None, log_interval: int = 100,
              tb_log_name: str = "ACER", reset_num_timesteps: bool = True,
              progress_bar: bool = False) -> SelfACER:
        threads = th.get_num_threads()
        if self.threads is not None:  # (a zip saved before `threads` existed loads with the default)
            th.set_num_threads(self.threads)
        try:
            return self._learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps,
                               progress_bar)
        finally:
            th.set_num_threads(threads)

    def _learn(self: SelfACER, total_timesteps: int, callback: MaybeCallback, log_interval: int,
               tb_log_name: str, reset_num_timesteps: bool, progress_bar: bool) -> SelfACER:
        iteration = 0
        total_timesteps, callback = self._setup_learn(total_timesteps, callback, reset_num_timesteps,
                                                      tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())
        assert self.env is not None
        while self.num_timesteps < total_timesteps:
            if not self.collect_rollouts(self.env, callback):
                break
            iteration += 1
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            self.train()
            if log_interval is not None and iteration % log_interval == 0:
                self.dump_logs(iteration)
        if log_interval is not None and iteration % log_interval:
            self.dump_logs(iteration)  # the last figures too: a short run (or a resumed tail) has a row
        callback.on_training_end()
        return self

    def dump_logs(self, iteration: int = 0) -> None:
        """Write the logger's figures (SB3's OnPolicyAlgorithm.dump_logs, with the replay's)."""
        assert self.ep_info_buffer is not None and self.replay_buffer is not None
        elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        self.logger.record("time/iterations", iteration, exclude="tensorboard")
        if self.ep_info_buffer:
            self.logger.record("rollout/ep_rew_mean", safe_mean([ep["r"] for ep in self.ep_info_buffer]))
            self.logger.record("rollout/ep_len_mean", safe_mean([ep["l"] for ep in self.ep_info_buffer]))
        self.logger.record("time/fps", int((self.num_timesteps - self._num_timesteps_at_start) / elapsed))
        self.logger.record("time/time_elapsed", int(elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("replay/segments", len(self.replay_buffer))
        self.logger.record("replay/demo_share", self.replay_buffer.demo_share)
        self.logger.dump(step=self.num_timesteps)


__all__ = ["ACER", "retrace_targets", "trust_region_projection"]
