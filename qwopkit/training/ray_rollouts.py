"""ACER's rollouts on Ray: rollout workers as Ray actors, the learner an ordinary ACER model.
Floor: applications. `RayRollouts` is a `SegmentSource` (qwopkit.rl.acer.sources): it reaches the
model only through that interface's public names.

    model = ACER("MlpPolicy", make_vec_env("CartPole-v1", n_envs=8), ...)   # n_envs: the batch
    with RayRollouts("CartPole-v1", workers=2, envs_per_worker=4, sync_every=1) as rollouts:
        rollouts.start(model)                  # Ray (local, or address=... to join a cluster), actors
        model.learn(500_000, callback=...)     # trains on the workers' segments
    model.save("acer.zip")

Each worker (`RolloutWorker`, one Ray actor) runs `envs_per_worker` environments with a copy of
the policy and collects one segment of n_steps per environment at a time, with ACER's own
`collect_rollouts`, so every step keeps the probabilities it was sampled from (mu). The learner
(`RayRollouts.collect`, plugged into ACER with `set_segment_source`) takes the first segments to
arrive from any worker until it has the model's `n_envs` of them, steps the callbacks and
`num_timesteps` for each of their steps, and hands them to ACER's `train` as if it had collected
them itself: on-policy update, into the replay (demonstrations beside them), replay updates.
It never waits for a given worker: a slow or stalled one just delivers less, and its segments,
collected by an older policy, are corrected by ACER's importance weights pi/mu.

A worker always has one collection in flight: as soon as its segments arrive, the next one is
asked for, before the learner trains on them. After every iteration that made at least
`sync_every` updates since the last refresh, the learner puts its acting weights (trunk, pi,
input scaling; not Q, not the average) into Ray's object store once; every request for a
collection names the latest, which the worker loads if it is newer than its own. A segment's
lag is the number of refreshes (policy versions) between the weights it was collected with and
those being trained when it arrives; its mean goes to the logger as `ray/policy_lag` (and in
learner updates as `ray/update_lag`).

A worker that dies (its process killed, its node lost) is replaced by a new actor with the
current weights; the segments it had in flight are lost and training goes on
(`ray/workers_replaced`). One that dies three times in a row without delivering anything is
an error (it cannot start). Without an address, `start` starts a local Ray on this machine and
shuts it down on `close`; with one, it joins that cluster (every node needs qwopkit installed).
Checkpoints and resuming are the learner's own (training/checkpoints.py): the workers hold no state
worth keeping. docs/ray.md has the figures and the model of larger clusters.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import ray
from ray import cloudpickle
from ray.exceptions import RayActorError

from qwopkit.errors import ParameterError
from qwopkit.rl.acer.buffers import Segments

if TYPE_CHECKING:  # (not imported at run time: this module stays free of torch for light stand-ins)
    from stable_baselines3.common.callbacks import BaseCallback

    from qwopkit.rl.acer import ACER

# Layers the workers do not need to act: the Q head and the averaged policy stay with the learner.
LEARNER_ONLY = ("q.", "trunk_average.", "pi_average.")
FAILURES_IN_A_ROW = 3


@dataclass
class Collected:
    """What one worker sends for one collection: `envs_per_worker` segments and how they came about."""

    segments: Segments
    # (step, env, info) of every step that ended an episode (Monitor's "episode", QWOP's outcome, ...)
    episode_infos: list[tuple[int, int, dict[str, Any]]]
    version: int  # the policy version (refresh count) the segments were collected with
    worker: int  # the slot of the worker that collected them
    seconds: float  # time the worker spent collecting them
    cpu_seconds: float = 0.0  # CPU time of its thread (a worker with a core to itself takes about this)


def _episode_ends_callback() -> Any:
    """Inside a worker: a callback that notes the infos of the steps that ended an episode."""
    from stable_baselines3.common.callbacks import BaseCallback

    class EpisodeEnds(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.ends: list[tuple[int, int, dict[str, Any]]] = []

        def _on_step(self) -> bool:
            t, dones, infos = self.locals["t"], self.locals["dones"], self.locals["infos"]
            for i in np.flatnonzero(dones):
                # The true last observation travels in the segments' final_observations.
                info = {k: v for k, v in infos[i].items() if k != "terminal_observation"}
                self.ends.append((int(t), int(i), info))
            return True

    return EpisodeEnds()


class RolloutWorker:
    """One rollout worker (made a Ray actor by RayRollouts): environments and a copy of the policy.

    :param env: a Gymnasium id (e.g. "qwopkit:qwopkit/QWOP-v0", whose module registers it) or a
        function making one environment; `env_kwargs` go to it.
    :param n_envs: environments collected in step (one segment each per collection).
    :param seed: seed of the environments (seed, seed+1, ...) and of the action sampling.
    :param policy: the learner's policy class and keyword arguments, cloudpickled (unpacked here, so
        that Ray's own unpacking of the arguments imports nothing heavy for stand-ins that ignore them).
    :param n_steps: the learner's segment length.
    """

    def __init__(self, env: str | Callable[..., Any], env_kwargs: dict[str, Any] | None, n_envs: int,
                 seed: int, policy: bytes, n_steps: int, threads: int = 1) -> None:
        import torch as th
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.logger import Logger

        from qwopkit.rl.acer import ACER

        warnings.filterwarnings("ignore", message=".*swigvarlink.*")
        th.set_num_threads(threads)
        policy_class, policy_kwargs = cloudpickle.loads(policy)
        venv = make_vec_env(env, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs)
        # An ACER that only collects: its collect_rollouts is the one the learner would run.
        self.collector = ACER(policy_class, venv, n_steps=n_steps, buffer_size=n_steps, replay_ratio=0.0,
                              seed=seed, policy_kwargs=policy_kwargs, device="cpu")
        self.collector.set_logger(Logger(folder=None, output_formats=[]))
        self.collector._last_obs = venv.reset()  # type: ignore[assignment]
        self.collector._last_episode_starts = np.ones(n_envs, bool)
        self.collector.ep_info_buffer = deque(maxlen=1)
        self.collector.ep_success_buffer = deque(maxlen=1)
        self.version = -1
        self.slot = -1

    def ready(self, slot: int) -> dict[str, Any]:
        """Take a slot; returns where the worker runs (for logs and tests)."""
        self.slot = slot
        return {"pid": os.getpid(), "node": ray.util.get_node_ip_address()}

    def set_weights(self, weights: dict[str, np.ndarray], version: int) -> None:
        import torch as th

        state = {k: th.tensor(v) for k, v in weights.items()}  # (a copy: Ray's arrays are read-only)
        self.collector.policy.load_state_dict(state, strict=False)
        self.version = version

    def collect(self, weights: dict[str, np.ndarray] | None = None, version: int = -1) -> Collected:
        """One segment per environment, with `weights` (policy version `version`) if newer than the
        ones held. The learner passes its latest with every request, so that no refreshes queue up
        behind a worker that is slow or stalled."""
        if weights is not None and version != self.version:
            self.set_weights(weights, version)
        started, cpu = time.perf_counter(), time.thread_time()
        ends = _episode_ends_callback()
        ends.init_callback(self.collector)
        assert self.collector.env is not None
        collected = self.collector.collect_rollouts(self.collector.env, ends)
        segments = self.collector.rollout
        assert collected and segments is not None  # (this callback never stops collection)
        return Collected(segments, ends.ends, self.version, self.slot, time.perf_counter() - started,
                         time.thread_time() - cpu)


def acting_weights(model: Any) -> dict[str, np.ndarray]:
    """The learner's weights a worker acts with, as numpy arrays (Ray ships those without copies)."""
    return {k: v.detach().cpu().numpy() for k, v in model.policy.state_dict().items()
            if not k.startswith(LEARNER_ONLY)}


@dataclass
class RolloutStats:
    """What the learner saw of its workers (tests and benchmarks read it; the logger gets the means)."""

    arrivals: dict[int, int] = field(default_factory=dict)  # collections received, per worker slot
    lags: deque = field(default_factory=lambda: deque(maxlen=10_000))  # policy versions, per arrival
    replaced: int = 0
    published: int = 0
    weight_bytes: int = 0
    wait_seconds: float = 0.0  # learner time spent waiting for the next arrival


class RayRollouts:
    """Rollout workers on Ray feeding an ACER learner (see the module docstring).

    :param env: Gymnasium id or environment factory the workers run (with `env_kwargs`).
    :param workers: number of rollout workers (Ray actors).
    :param envs_per_worker: environments each worker collects in step.
    :param sync_every: learner updates between refreshes of the workers' policy (a refresh happens
        at the end of the first iteration that has made at least that many).
    :param seed: the workers' seeds are seed + 1000 * k for the k-th worker started (replacements too).
    :param address: "local" starts a Ray on this machine (shut down on close); any other Ray address
        ("auto", "HOST:PORT", "ray://HOST:10001") joins that cluster. Ignored if Ray is already
        initialised in this process.
    :param cpus_per_worker: CPUs each worker asks Ray for.
    :param patience: seconds without any segment arriving before the learner gives up.
    :param ray_init_kwargs: more arguments for ray.init (e.g. _temp_dir).
    :param worker_class: the actor's class (RolloutWorker; the benchmarks pass lighter stand-ins).
    :param log: where to say what was started.
    """

    def __init__(self, env: str | Callable[..., Any], *, workers: int = 2, envs_per_worker: int = 4,
                 sync_every: int = 1, env_kwargs: dict[str, Any] | None = None, seed: int = 0,
                 address: str = "local", cpus_per_worker: float = 1.0, patience: float = 300.0,
                 ray_init_kwargs: dict[str, Any] | None = None, worker_class: type = RolloutWorker,
                 log: Callable[[str], Any] | None = None) -> None:
        for name, ok in (("workers", workers >= 1), ("envs_per_worker", envs_per_worker >= 1),
                         ("sync_every", sync_every >= 1), ("cpus_per_worker", cpus_per_worker >= 0),
                         ("patience", patience > 0)):
            if not ok:
                raise ParameterError(name, f"bad value {locals()[name]!r}")
        self.env = env
        self.env_kwargs = dict(env_kwargs or {})
        self.workers = workers
        self.envs_per_worker = envs_per_worker
        self.sync_every = sync_every
        self.seed = seed
        self.address = address
        self.cpus_per_worker = cpus_per_worker
        self.patience = patience
        self.ray_init_kwargs = dict(ray_init_kwargs or {})
        self.worker_class = worker_class
        self.log = log or (lambda line: None)
        self.stats = RolloutStats()
        self.version = 0
        self._actor_class: Any = None
        self._handles: list[Any] = []
        self._in_flight: dict[Any, int] = {}  # object ref -> worker slot
        self._failures = [0] * workers
        self._spawned = 0
        self._weights_ref: Any = None
        self._updates_at_version: dict[int, int] = {}
        self._updates_at_publish = 0
        self._leftover: list[Segments] = []
        self._owns_ray = False
        self._model: Any = None

    @property
    def n_envs(self) -> int:
        """Environments on all workers together (the learner's n_envs that matches one vectorised run)."""
        return self.workers * self.envs_per_worker

    # ------------------------------------------------------------------------------ life
    def start(self, model: ACER) -> RayRollouts:
        """Start Ray if needed and the workers with `model`'s policy; `model.learn` then trains on them."""
        if not hasattr(model, "set_segment_source"):  # (duck-typed: ACER is not imported here, see above)
            raise ParameterError("model", "needs an ACER model")
        self._model = model
        if not ray.is_initialized():
            self._init_ray()
        self._actor_class = ray.remote(num_cpus=self.cpus_per_worker)(self.worker_class)
        self._handles = [self._spawn() for _ in range(self.workers)]
        try:
            places = ray.get([h.ready.remote(slot) for slot, h in enumerate(self._handles)],
                             timeout=self.patience)
        except ray.exceptions.GetTimeoutError:
            self.close()
            cpus = self.workers * self.cpus_per_worker
            raise ParameterError("workers", f"{self.workers} workers did not start in {self.patience:g} s "
                                            f"(does Ray have {cpus:g} free CPUs?)") from None
        except RayActorError as exc:
            self.close()
            raise RuntimeError(f"a rollout worker could not start: {exc}") from None
        nodes = sorted({p["node"] for p in places})
        self.log(f"rollouts: {self.workers} Ray workers x {self.envs_per_worker} envs on "
                 f"{len(nodes)} node{'s' if len(nodes) > 1 else ''} ({', '.join(nodes)}), "
                 f"policy refreshed every {self.sync_every} update{'s' if self.sync_every > 1 else ''}")
        self._publish(model)
        for slot in range(self.workers):
            self._submit(slot)
        model.set_segment_source(self)
        return self

    def _init_ray(self) -> None:
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                                  **self.ray_init_kwargs}
        if self.address == "local":
            # Enough CPUs for every worker: more workers than cores share them rather than wait forever.
            needed = math.ceil(self.workers * self.cpus_per_worker)
            kwargs.setdefault("num_cpus", max(os.cpu_count() or 1, needed))
        check_address(self.address)
        try:
            ray.init(address=self.address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ParameterError("ray", f"cannot reach Ray at {self.address}: {reason}") from None
        self._owns_ray = True

    def close(self) -> None:
        """End the workers (and the local Ray this object started); the model collects from its env again."""
        for handle in self._handles:
            try:
                ray.kill(handle, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self._handles, self._in_flight, self._leftover = [], {}, []
        if self._model is not None and self._model.segment_source is self:
            self._model.set_segment_source(None)
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    def __enter__(self) -> RayRollouts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        """The process id of each worker slot (tests kill them)."""
        return [p["pid"] for p in ray.get([h.ready.remote(slot) for slot, h in enumerate(self._handles)])]

    # ------------------------------------------------------------------------------ workers
    def _spawn(self) -> Any:
        model = self._model
        seed = self.seed + 1000 * self._spawned
        self._spawned += 1
        policy = cloudpickle.dumps((model.policy_class, model.policy_kwargs))
        return self._actor_class.remote(self.env, self.env_kwargs, self.envs_per_worker, seed, policy,
                                        model.n_steps)

    def _submit(self, slot: int) -> None:
        self._in_flight[self._handles[slot].collect.remote(self._weights_ref, self.version)] = slot

    def _replace(self, slot: int, error: Exception) -> None:
        self._failures[slot] += 1
        if self._failures[slot] >= FAILURES_IN_A_ROW:
            raise RuntimeError(f"rollout worker {slot} died {FAILURES_IN_A_ROW} times in a row without "
                               f"delivering a segment: {str(error).splitlines()[0]}")
        try:
            ray.kill(self._handles[slot], no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass
        self.stats.replaced += 1
        handle = self._handles[slot] = self._spawn()
        handle.ready.remote(slot)
        self._submit(slot)
        self.log(f"rollouts: worker {slot} died ({type(error).__name__}); replaced")

    def _publish(self, model: Any) -> None:
        weights = acting_weights(model)
        self.version += 1
        self._weights_ref = ray.put(weights)  # once into the object store, fetched by every worker
        self._updates_at_version[self.version] = model.n_updates
        self._updates_at_version.pop(self.version - 1000, None)
        self._updates_at_publish = model.n_updates
        self.stats.published += 1
        self.stats.weight_bytes = sum(v.nbytes for v in weights.values())

    def _next_arrival(self) -> Collected:
        """The next collection any worker delivers (replacing the workers found dead on the way)."""
        while True:
            waited = time.perf_counter()
            ready, _ = ray.wait(list(self._in_flight), num_returns=1, timeout=self.patience)
            self.stats.wait_seconds += time.perf_counter() - waited
            if not ready:
                raise ParameterError("workers", f"no segment from any of {self.workers} workers in "
                                                f"{self.patience:g} s (does Ray have the CPUs for them?)")
            slot = self._in_flight.pop(ready[0])
            try:
                item: Collected = ray.get(ready[0])
            except RayActorError as exc:
                self._replace(slot, exc)
                continue
            self._failures[slot] = 0
            self._submit(slot)  # the worker goes on while the learner trains
            return item

    # ------------------------------------------------------------------------------ the learner's side
    def collect(self, model: ACER, callback: BaseCallback) -> Segments | None:
        """The next `model.n_envs` segments, whoever sends them (ACER.learn calls this each iteration)."""
        if model.n_updates - self._updates_at_publish >= self.sync_every:
            self._publish(model)
        parts, count = list(self._leftover), sum(len(s) for s in self._leftover)
        callback.on_rollout_start()
        while count < model.n_envs:
            item = self._next_arrival()
            lag = self.version - item.version
            self.stats.lags.append(lag)
            self.stats.arrivals[item.worker] = self.stats.arrivals.get(item.worker, 0) + 1
            model.logger.record_mean("ray/policy_lag", lag)
            model.logger.record_mean("ray/update_lag",
                                     model.n_updates - self._updates_at_version.get(item.version, 0))
            model.logger.record_mean("ray/collect_seconds", item.seconds)
            if not self._step_callbacks(model, callback, item):
                return None
            parts.append(item.segments)
            count += len(item.segments)
        model.logger.record("ray/workers_replaced", self.stats.replaced)
        model.logger.record("ray/policy_version", self.version)
        # (a copy even of one part: Ray's arrays are read-only views of its object store)
        batch = Segments.concatenate(parts)
        if len(batch) > model.n_envs:  # a worker's envs do not divide the learner's batch: keep the rest
            self._leftover = [_take(batch, slice(model.n_envs, None))]
            batch = _take(batch, slice(0, model.n_envs))
        else:
            self._leftover = []
        callback.on_rollout_end()
        return batch

    def _step_callbacks(self, model: ACER, callback: BaseCallback, item: Collected) -> bool:
        """Count the collection's steps and show each to the callbacks, as collect_rollouts does."""
        seg = item.segments
        m = len(seg)
        ends: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for t, i, info in item.episode_infos:
            ends.setdefault(t, []).append((i, info))
        for t in range(seg.n_steps):
            infos: list[dict[str, Any]] = [{} for _ in range(m)]
            for i, info in ends.get(t, []):
                infos[i] = info
            dones = seg.dones[:, t]
            model.num_timesteps += m
            callback.update_locals({"dones": dones, "infos": infos, "rewards": seg.rewards[:, t],
                                    "new_obs": seg.observations[:, t + 1], "worker": item.worker})
            if not callback.on_step():
                return False
            model.record_episode_ends(infos, dones)
        return True


def check_address(address: str, seconds: float = 10.0) -> None:
    """Raise ParameterError naming `ray` if a HOST:PORT address (also after ray://) takes no TCP
    connection: for such an address ray.init retries for minutes before it says anything."""
    host_port = address.split("://", 1)[-1]
    host, sep, port = host_port.rpartition(":")
    if not sep or not port.isdigit():
        return  # "local", "auto": Ray looks them up itself, at once
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except OSError as exc:
        raise ParameterError("ray", f"cannot reach Ray at {address}: {exc.strerror or exc}") from None


def _take(segments: Segments, rows: slice) -> Segments:
    return Segments(**{name: values[rows] for name, values in segments.arrays().items()})


__all__ = ["Collected", "RayRollouts", "RolloutStats", "RolloutWorker", "acting_weights", "check_address"]
