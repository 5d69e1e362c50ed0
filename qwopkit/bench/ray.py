"""Benchmarks of ACER's rollouts on Ray (training/ray_rollouts.py): figures printed, JSON written
(docs/ray.md).

    qwop-bench ray cartpole [--seeds 0 1 2] [--steps 500000]
    qwop-bench ray speed [--seconds 60]
    qwop-bench ray simulate [--workers 1 2 4 8 16 32] [--delay 0.01]

- cartpole: correctness. ACER with SB2's CartPole settings (as qwop-bench acer's: 8 envs, ent_coef 0, a
  64-64 tanh network) but its 8 environments on 2 Ray workers x 4; the mean return of 20 sampled
  evaluation episodes every 25k steps and after 500k steps (the bar: >= 475, as without Ray).
- speed: QWOP-v0 with the seed's network. Training steps/s of ACER without Ray and with 1 and 2
  Ray workers (4 envs each), the learner's updates/s and the share of its time it waited for
  segments, each worker's own collection rate, the policy lag; then, measured alone, the bytes
  of a segment on the wire, the learner's time per update, Ray's cost of fetching a segment and
  of publishing the weights, and the replay's insertion time: the inputs of docs/ray.md's model.
- simulate: a cluster on this machine. Many light workers (processes that import neither torch
  nor the game) each return a real-sized QWOP collection (4 envs x 20 steps) after sleeping as long
  as a real worker takes to collect it on a core of its own (--delay); the learner is the real
  ACER, training (replay ratio 4, then 0) or only taking the segments in (ingest): where the
  steps/s stop growing with the workers is the learner's limit.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import ray

from qwopkit.atomic import write_json_atomic
from qwopkit.console import HelpFormatter
from qwopkit.rl.acer.buffers import Segments
from qwopkit.training.ray_rollouts import Collected

ENV_ID = "qwopkit/QWOP-v0"


def _load() -> str:
    """The machine's load averages (1, 5, 15 min): the CPU is shared, and the figures say with how much."""
    import os

    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _ray_init(args: argparse.Namespace, num_cpus: int) -> None:
    if not ray.is_initialized():
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING,
                 **({"_temp_dir": args.ray_temp} if args.ray_temp else {}))


# ----------------------------------------------------------------------------- CartPole
def cartpole(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from torch import nn

    from qwopkit.bench.acer import _machine, _plot_cartpole
    from qwopkit.rl.acer import ACER
    from qwopkit.training.ray_rollouts import RayRollouts

    class EvalEvery(BaseCallback):
        """The mean return of 20 sampled episodes every `every` environment steps."""

        def __init__(self, every: int, seed: int) -> None:
            super().__init__()
            self.every, self.next = every, every
            self.env = Monitor(gym.make("CartPole-v1"))
            self.env.reset(seed=10_000 + seed)
            self.steps: list[int] = []
            self.means: list[float] = []

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next:
                mean, _ = evaluate_policy(self.model, self.env, n_eval_episodes=20, deterministic=False)
                self.steps.append(self.num_timesteps)
                self.means.append(float(cast(float, mean)))
                self.next += self.every
            return True

    _ray_init(args, num_cpus=2)
    out = Path(args.out)
    results = []
    for seed in args.seeds:
        model = ACER("MlpPolicy", make_vec_env("CartPole-v1", n_envs=args.workers * args.envs_per_worker,
                                               seed=seed), ent_coef=0.0, seed=seed,
                     policy_kwargs={"net_arch": [64, 64], "activation_fn": nn.Tanh})
        evals = EvalEvery(args.eval_every, seed)
        started = time.perf_counter()
        with RayRollouts("CartPole-v1", workers=args.workers, envs_per_worker=args.envs_per_worker,
                         sync_every=args.sync_every, seed=seed) as rollouts:
            rollouts.start(model)
            model.learn(args.steps, callback=evals)
            lags = np.array(rollouts.stats.lags)
            arrivals = dict(rollouts.stats.arrivals)
        seconds = time.perf_counter() - started
        final, final_std = evaluate_policy(model, Monitor(gym.make("CartPole-v1")), n_eval_episodes=20,
                                           deterministic=False)
        first = next((s for s, m in zip(evals.steps, evals.means) if m >= 475), None)
        row = {"seed": seed, "steps": model.num_timesteps, "seconds": round(seconds, 1),
               "final_mean": float(cast(float, final)), "final_std": float(cast(float, final_std)),
               "first_step_at_475": first,
               "lag_mean": float(lags.mean()), "lag_max": int(lags.max()), "arrivals": arrivals,
               "curve": {"step": evals.steps, "mean": evals.means}}
        results.append(row)
        print(f"seed {seed}: mean return of 20 sampled episodes {final:.1f} +- {final_std:.1f} after "
              f"{model.num_timesteps:,} steps ({seconds:.0f} s, {args.workers} Ray workers x "
              f"{args.envs_per_worker} envs); first evaluation >= 475 at "
              f"{'-' if first is None else f'{first:,}'} steps; policy lag mean {lags.mean():.2f}, "
              f"max {lags.max()} versions", flush=True)
    write_json_atomic(out / "ray-cartpole.json", {"machine": _machine(), "workers": args.workers,
                                                  "envs_per_worker": args.envs_per_worker, "runs": results})
    _plot_cartpole(results, out / "ray-cartpole.png")
    passed = all(r["final_mean"] >= 475 for r in results)
    print(f"{'all' if passed else 'not all'} seeds reach 475 (mean "
          f"{np.mean([r['final_mean'] for r in results]):.1f}); curve {out / 'ray-cartpole.png'}")
    return 0 if passed else 1


# ----------------------------------------------------------------------------- speed on QWOP-v0
def _timed_learn(model: Any, seconds: float) -> tuple[float, int, float]:
    """(steps/s, updates, the learner thread's CPU seconds per step) of `seconds` of learning. The
    CPU time hardly depends on how much of the shared machine the process got: 1 / it is about the
    steps/s a learner would take with a core of its own (Ray's background threads not counted)."""
    from qwopkit.rl.common.callbacks import WallClockLimit

    steps, updates = model.num_timesteps, model.n_updates
    started, cpu = time.perf_counter(), time.thread_time()
    model.learn(10**9, callback=WallClockLimit(seconds), reset_num_timesteps=False)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    done = model.num_timesteps - steps
    return done / elapsed, int(model.n_updates - updates), cpu / max(done, 1)


def speed(args: argparse.Namespace) -> int:
    from stable_baselines3.common.env_util import make_vec_env

    from qwopkit.bench.acer import _machine
    from qwopkit.rl.acer import ACER
    from qwopkit.training.ray_rollouts import RayRollouts

    _ray_init(args, num_cpus=2)
    m = args.envs_per_worker
    rows: dict[str, Any] = {}

    def acer(n_envs: int) -> ACER:
        return ACER("MlpPolicy", make_vec_env(ENV_ID, n_envs=n_envs, seed=0), seed=0)

    model = acer(2 * m)
    rate, updates, cpu = _timed_learn(model, args.seconds)
    rows["no Ray, 1 process"] = {"envs": 2 * m, "steps_per_s": rate, "updates_per_s": updates / args.seconds,
                                 "cpu_us_per_step": 1e6 * cpu, "load": _load()}
    print(f"ACER without Ray, {2 * m} envs: {rate:,.0f} steps/s, {updates / args.seconds:,.1f} updates/s; "
          f"{1e6 * cpu:.0f} us of CPU per step, so {1 / cpu:,.0f} steps/s on a core of its own ({_load()})",
          flush=True)
    for workers in (1, 2):
        model = acer(workers * m)
        with RayRollouts(f"qwopkit:{ENV_ID}", workers=workers, envs_per_worker=m, seed=0) as rollouts:
            rollouts.start(model)
            model.learn(2000)  # workers warm, replay past its start
            wait_before = rollouts.stats.wait_seconds
            arrivals_before = sum(rollouts.stats.arrivals.values())
            rate, updates, cpu = _timed_learn(model, args.seconds)
            waited = rollouts.stats.wait_seconds - wait_before
            arrivals = sum(rollouts.stats.arrivals.values()) - arrivals_before
            lags = np.array(list(rollouts.stats.lags)[-arrivals:])
            # One worker alone: its collection time for m segments, measured inside it.
            alone = [ray.get(rollouts._handles[0].collect.remote()) for _ in range(20)]
            weight_bytes = rollouts.stats.weight_bytes
        per_worker = m * model.n_steps / float(np.median([c.seconds for c in alone]))
        per_worker_core = m * model.n_steps / float(np.median([c.cpu_seconds for c in alone]))
        name = f"Ray, {workers} worker{'s' if workers > 1 else ''} x {m} envs"
        rows[name] = {"envs": workers * m, "steps_per_s": rate, "updates_per_s": updates / args.seconds,
                      "learner_wait_share": waited / args.seconds, "lag_mean": float(lags.mean()),
                      "lag_max": int(lags.max()), "worker_alone_steps_per_s": per_worker,
                      "worker_steps_per_core_s": per_worker_core,
                      "learner_cpu_us_per_step": 1e6 * cpu, "load": _load()}
        print(f"{name}: {rate:,.0f} steps/s, {updates / args.seconds:,.1f} learner updates/s of "
              f"{workers * m} segments, learner waited {100 * waited / args.seconds:.0f}% of the time, "
              f"policy lag mean {lags.mean():.2f} (max {lags.max()}) versions; one worker alone collects "
              f"{per_worker:,.0f} steps/s ({per_worker_core:,.0f} per second of its CPU); the learner "
              f"spent {1e6 * cpu:.0f} us of CPU per step "
              f"({_load()})", flush=True)
    parts = _parts(args, acer, weight_bytes)
    write_json_atomic(Path(args.out) / "ray-speed.json", {"machine": _machine(), "seconds_each": args.seconds,
                                                          "rates": rows, "parts": parts})
    return 0


def _parts(args: argparse.Namespace, acer: Any, weight_bytes: int) -> dict[str, float]:
    """The model's inputs, each measured alone (in this thread's CPU time: the machine is shared)."""
    from stable_baselines3.common.logger import Logger

    from qwopkit.training.ray_rollouts import RolloutWorker

    m = args.envs_per_worker
    model = acer(8)
    model.set_logger(Logger(folder=None, output_formats=[]))
    policy = ray.cloudpickle.dumps((model.policy_class, model.policy_kwargs))
    worker: Any = ray.remote(num_cpus=1)(RolloutWorker).remote(f"qwopkit:{ENV_ID}", None, m, 0, policy,
                                                          model.n_steps)
    collected: Any = ray.get(worker.collect.remote())
    ray.kill(worker)
    wire = len(pickle.dumps(collected, protocol=5)) / m
    seg = collected.segments
    dense = sum(v.nbytes for v in seg.arrays().values()) / m
    final_share = seg.final_observations.nbytes / m / dense
    # Ray's fetch of one collection from the object store into the learner (same node: no network).
    refs = [ray.put(collected) for _ in range(50)]
    started = time.thread_time()
    for ref in refs:
        ray.get(ref)
    fetch = (time.thread_time() - started) / 50 / m
    from qwopkit.training.ray_rollouts import acting_weights

    weights = acting_weights(model)
    started = time.thread_time()
    for _ in range(50):
        ray.put(weights)
    publish = (time.thread_time() - started) / 50
    # The learner's update on a batch of B segments (on-policy and replay updates are the same work).
    batch = Segments.concatenate([seg] * (8 // m))
    for _ in range(5):
        model.train_on(batch)
    started = time.thread_time()
    for _ in range(40):
        model.train_on(batch)
    update = (time.thread_time() - started) / 40
    # Replay insertion of 8 segments.
    started = time.thread_time()
    for _ in range(200):
        model.replay_buffer.add(batch)
    insert = (time.thread_time() - started) / 200 / 8
    steps = model.n_steps
    parts = {"wire_bytes_per_segment": wire, "dense_bytes_per_segment": dense, "final_obs_share": final_share,
             "wire_bytes_per_step": wire / steps, "weight_bytes": weight_bytes,
             "fetch_seconds_per_segment": fetch, "publish_seconds": publish,
             "update_seconds_8_segments": update, "update_samples_per_s": 8 * steps / update,
             "insert_seconds_per_segment": insert}
    print(f"a segment of {steps} steps: {wire:,.0f} bytes on the wire ({wire / steps:,.0f} per step; "
          f"{100 * final_share:.0f}% of it the final_observations, zero but at truncations); the acting "
          f"weights: {weight_bytes:,} bytes per refresh and worker")
    print(f"learner: one update on 8 segments ({8 * steps} samples) {1000 * update:.1f} ms "
          f"({8 * steps / update:,.0f} samples/s); fetching a segment from the object store "
          f"{1e6 * fetch:.0f} us; replay insertion {1e6 * insert:.1f} us per segment; publishing the "
          f"weights (ray.put) {1000 * publish:.2f} ms")
    return parts


# ----------------------------------------------------------------------------- the simulated cluster
class LightWorker:
    """A stand-in for a rollout worker on a machine of its own: after `delay` seconds (the time a
    real worker takes to collect), it returns a real-sized collection of QWOP-shaped segments.
    Imports neither torch nor the game, so that dozens fit on this machine."""

    def __init__(self, env: Any, env_kwargs: dict[str, Any] | None, n_envs: int, seed: int, policy: bytes,
                 n_steps: int) -> None:
        kwargs = dict(env_kwargs or {})
        self.delay = float(kwargs.get("delay", 0.01))
        rng = np.random.default_rng(seed)
        d, a, n = int(kwargs.get("obs_dim", 71)), int(kwargs.get("n_actions", 11)), n_steps
        mu = rng.dirichlet(np.ones(a), (n_envs, n)).astype(np.float32)
        dones = rng.random((n_envs, n)) < 0.005
        self.segments = Segments(
            observations=rng.standard_normal((n_envs, n + 1, d)).astype(np.float32),
            actions=np.array([[rng.choice(a, p=p / p.sum()) for p in row] for row in mu], np.int64),
            rewards=rng.standard_normal((n_envs, n)).astype(np.float32), mu=mu, dones=dones,
            terminations=dones.copy(), final_observations=np.zeros((n_envs, n, d), np.float32),
            demo=np.zeros(n_envs, bool))
        self.version, self.slot = -1, -1

    def ready(self, slot: int) -> dict[str, Any]:
        import os

        self.slot = slot
        return {"pid": os.getpid(), "node": ray.util.get_node_ip_address()}

    def collect(self, weights: Any = None, version: int = -1) -> Collected:
        if weights is not None:
            self.version = version
        time.sleep(self.delay)
        return Collected(self.segments, [], self.version, self.slot, self.delay)


def simulate(args: argparse.Namespace) -> int:
    from stable_baselines3.common.env_util import make_vec_env

    from qwopkit.bench.acer import _machine
    from qwopkit.rl.acer import ACER
    from qwopkit.training.ray_rollouts import RayRollouts

    m, n_steps = args.envs_per_worker, 20
    _ray_init(args, num_cpus=2)
    rows = []
    for mode in args.modes:
        for workers in args.workers:
            # The learner's batch stays 8 segments (the default run's), however many workers send them.
            model = ACER("MlpPolicy", make_vec_env(ENV_ID, n_envs=8, seed=0), seed=0, replay_start=0,
                         replay_ratio=4.0 if mode == "train" else 0.0)  # (ingest trains on nothing)
            env_kwargs = {"delay": args.delay, "obs_dim": 71, "n_actions": 11}
            with RayRollouts(ENV_ID, workers=workers, envs_per_worker=m, env_kwargs=env_kwargs,
                             cpus_per_worker=0, worker_class=LightWorker) as rollouts:
                rollouts.start(model)
                if mode == "ingest":
                    rate, updates, cpu = _ingest(model, rollouts, args.seconds)
                else:
                    model.learn(2000)
                    rate, updates, cpu = _timed_learn(model, args.seconds)
                lags = np.array(list(rollouts.stats.lags)[-200:])
            offered = workers * m * n_steps / args.delay
            row = {"mode": mode, "workers": workers, "offered_steps_per_s": offered, "steps_per_s": rate,
                   "updates_per_s": updates / args.seconds, "lag_mean": float(lags.mean()),
                   "learner_cpu_us_per_step": 1e6 * cpu, "steps_per_learner_core_s": 1 / cpu, "load": _load()}
            rows.append(row)
            print(f"{mode:>6}, {workers:3d} light workers: offered {offered:9,.0f} steps/s, taken "
                  f"{rate:9,.0f} steps/s ({100 * rate / offered:3.0f}%), {updates / args.seconds:6.1f} "
                  f"updates/s, lag mean {lags.mean():5.2f} versions; learner CPU {1e6 * cpu:5.1f} us/step = "
                  f"{1 / cpu:9,.0f} steps/s per learner core ({_load()})", flush=True)
    write_json_atomic(Path(args.out) / "ray-simulate.json", {"machine": _machine(), "delay": args.delay,
                                                             "envs_per_worker": m, "rows": rows})
    return 0


def _ingest(model: Any, rollouts: Any, seconds: float) -> tuple[float, int, float]:
    """Take segments in (fetch, count, callbacks, replay insertion) without training on them."""
    from stable_baselines3.common.callbacks import CallbackList

    _, callback = model._setup_learn(10**9, CallbackList([]))
    steps = model.num_timesteps
    started, cpu = time.perf_counter(), time.thread_time()
    while time.perf_counter() - started < seconds:
        model.replay_buffer.add(rollouts.collect(model, callback))
    done = model.num_timesteps - steps
    return done / (time.perf_counter() - started), 0, (time.thread_time() - cpu) / max(done, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="qwop-bench ray", description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cartpole", help="ACER on CartPole-v1 with 2 Ray workers, 500k steps per seed",
                       description="Correctness: ACER with SB2's CartPole settings, its environments on "
                                   "Ray workers; the mean return of 20 sampled episodes (the bar: 475).",
                       formatter_class=HelpFormatter)
    c.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    c.add_argument("--steps", type=int, default=500_000, help="environment steps per seed")
    c.add_argument("--eval-every", type=int, default=25_000, help="environment steps between evaluations")
    c.add_argument("--workers", type=int, default=2, help="Ray workers")
    c.add_argument("--envs-per-worker", type=int, default=4, help="environments per worker")
    c.add_argument("--sync-every", type=int, default=1, help="learner updates between policy refreshes")
    s = sub.add_parser("speed", help="steps/s on QWOP-v0 without Ray, with 1 and 2 workers; model inputs",
                       description="Training steps/s on QWOP-v0 without Ray and with 1 and 2 workers, "
                                   "then the inputs of docs/ray.md's model (segment bytes, update time, "
                                   "fetch, publish and insertion costs).",
                       formatter_class=HelpFormatter)
    s.add_argument("--seconds", type=float, default=60.0, help="wall-clock seconds per configuration")
    s.add_argument("--envs-per-worker", type=int, default=4, help="environments per worker")
    m = sub.add_parser("simulate", help="many light workers with an artificial delay feed the real learner",
                       description="A cluster on this machine: light workers that sleep as long as a real "
                                   "one collects feed the real ACER learner; where steps/s stop growing "
                                   "is its limit.",
                       formatter_class=HelpFormatter)
    m.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32], help="light workers")
    m.add_argument("--delay", type=float, default=0.01,
                   help="seconds a light worker takes per collection (a real one's on a core of its own)")
    m.add_argument("--envs-per-worker", type=int, default=4, help="segments per collection")
    m.add_argument("--modes", nargs="+", choices=("ingest", "onpolicy", "train"), default=["ingest", "train"],
                   help="ingest: take segments in only; onpolicy: replay ratio 0; train: replay ratio 4")
    m.add_argument("--seconds", type=float, default=20.0, help="wall-clock seconds per configuration")
    for sp in (c, s, m):
        sp.add_argument("--out", default="runs/bench", help="where the JSON figures go")
        sp.add_argument("--ray-temp", default=None, help="Ray's session folder (default Ray's own)")
    args = p.parse_args(argv)
    import torch as th

    th.set_num_threads(1)
    try:
        return {"cartpole": cartpole, "speed": speed, "simulate": simulate}[args.what](args)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
