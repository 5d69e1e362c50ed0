"""Benchmarks of the ACER learner: figures printed, reports and curves written (docs/acer.md has the latest).

    qwop-bench acer cartpole [--seeds 0 1 2] [--steps 500000]
    qwop-bench acer speed [--seconds 60] [--learners acer8 acer8-batched dqn8 ppo8 ...]
    qwop-bench acer qwop [--minutes 20] [--seed 0] [--runs ppo acer acer-demos ...]
    qwop-bench acer summary [--out runs/bench]   # the table and curves again
    qwop-bench acer zoo [--envs Acrobot-v1 MountainCar-v0 LunarLander-v3] [--seeds 0]

- cartpole: correctness on a known task. ACER with SB2's settings for CartPole-v1 (rl-baselines-zoo:
  8 envs, ent_coef 0, a 64-64 tanh network), 500k steps per seed; the mean return of 20 sampled
  evaluation episodes every 25k steps and at the end (the bar: >= 475; SB2's ACER reached 498.6).
- speed: training steps per second of ACER (8 envs from make_vec_env, 8 on the batched QWOPVecEnv,
  1 env) against SB3's DQN (its defaults, 1 and 8 envs), SB3's PPO (its defaults, 8 envs) and
  sb3-contrib's QR-DQN (its defaults, 1 env) on QWOP-v0, each for the same wall-clock time, in the
  same run (--learners picks some).
- qwop: learning in the bundled game at a fixed wall-clock budget per run, same seed: SB3 PPO (8 envs,
  its defaults), ACER from scratch, ACER from the clone of the bundled stride recordings with
  those recordings in its replay throughout, and the same with them for the first 1M steps only.
  For each: first 100 m finish (step and minutes), best HUD time, steps/s, and the curves against
  steps and against minutes (one PNG for all runs).

- zoo: ACER on the classic tasks beyond CartPole that Stable-Baselines 2's rl-baselines-zoo
  trained its ACER on, with the zoo's settings (hyperparams/acer.yml: 16 envs, its steps, its
  gamma, ent_coef and observation normalisation; SB2's MlpPolicy, 64-64 tanh), then the mean
  return of 100 deterministic episodes (as the zoo's benchmark.md measured, deterministic),
  beside the zoo's published figure. LunarLander-v2 is v3 in Gymnasium (the same task, bugs fixed).

Every run uses one torch thread (the fastest for these small networks here) and writes its report
(training/report.py) under --out.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch as th

from qwopkit.atomic import atomic_write, write_json_atomic
from qwopkit.console import HelpFormatter

ENV_ID = "qwopkit/QWOP-v0"


def _machine() -> str:
    import os

    cpu = platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8")
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {th.__version__}"


# ----------------------------------------------------------------------------- CartPole
def cartpole(args: argparse.Namespace) -> int:
    from stable_baselines3.common.callbacks import EvalCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from torch import nn

    from qwopkit.rl.acer import ACER

    out = Path(args.out)
    results = []
    for seed in args.seeds:
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=10_000 + seed)
        model = ACER("MlpPolicy", env, ent_coef=0.0, seed=seed,
                     policy_kwargs={"net_arch": [64, 64], "activation_fn": nn.Tanh})
        evals = EvalCallback(eval_env, eval_freq=max(args.eval_every // 8, 1), n_eval_episodes=20,
                             deterministic=False, log_path=str(out / f"cartpole-seed{seed}"), verbose=0)
        started = time.perf_counter()
        model.learn(args.steps, callback=evals)
        seconds = time.perf_counter() - started
        final, final_std = evaluate_policy(model, Monitor(gym.make("CartPole-v1")), n_eval_episodes=20,
                                           deterministic=False)
        curve = np.load(out / f"cartpole-seed{seed}" / "evaluations.npz")
        first = next((int(s) for s, r in zip(curve["timesteps"], curve["results"].mean(1)) if r >= 475), None)
        row = {"seed": seed, "steps": model.num_timesteps, "seconds": round(seconds, 1),
               "final_mean": float(cast(float, final)), "final_std": float(cast(float, final_std)),
               "first_step_at_475": first,
               "curve": {"step": curve["timesteps"].tolist(), "mean": curve["results"].mean(1).tolist()}}
        results.append(row)
        print(f"seed {seed}: mean return of 20 sampled episodes {final:.1f} +- {final_std:.1f} after "
              f"{model.num_timesteps:,} steps ({seconds:.0f} s); first evaluation >= 475 at "
              f"{'-' if first is None else f'{first:,}'} steps", flush=True)
        env.close()
        eval_env.close()
    write_json_atomic(out / "cartpole.json", {"machine": _machine(), "runs": results})
    _plot_cartpole(results, out / "acer-cartpole.png")
    passed = all(r["final_mean"] >= 475 for r in results)
    mean = np.mean([r["final_mean"] for r in results])
    print(f"{'all' if passed else 'not all'} seeds reach 475 (mean {mean:.1f}); "
          f"curve {out / 'acer-cartpole.png'}")
    return 0 if passed else 1


# rl-baselines-zoo (SB2), hyperparams/acer.yml and benchmark.md: settings and published mean return.
ZOO: dict[str, dict[str, Any]] = {
    "Acrobot-v1": {"n_envs": 16, "steps": 500_000, "normalize": True, "kwargs": {"ent_coef": 0.0},
                   "published": (-90.85, 32.797)},
    "MountainCar-v0": {"n_envs": 16, "steps": 1_000_000, "normalize": True, "kwargs": {"ent_coef": 0.0},
                       "published": (-131.21, 32.541)},
    "LunarLander-v3": {"n_envs": 16, "steps": 1_000_000, "normalize": False, "kwargs": {"gamma": 0.999},
                       "published": (185.21, 64.829)},  # the zoo's LunarLander-v2
}


def zoo(args: argparse.Namespace) -> int:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize
    from torch import nn

    from qwopkit.rl.acer import ACER

    out = Path(args.out)
    rows = []
    for env_id in args.envs:
        z = ZOO[env_id]
        for seed in args.seeds:
            env = make_vec_env(env_id, n_envs=z["n_envs"], seed=seed)
            if z["normalize"]:
                env = VecNormalize(env, gamma=z["kwargs"].get("gamma", 0.99))
            model = ACER("MlpPolicy", env, seed=seed, **z["kwargs"],
                         policy_kwargs={"net_arch": [64, 64], "activation_fn": nn.Tanh})
            started = time.perf_counter()
            model.learn(z["steps"])
            seconds = time.perf_counter() - started
            eval_env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
            if z["normalize"]:  # the training statistics, frozen; returns as the task gives them
                assert isinstance(env, VecNormalize)
                eval_env = VecNormalize(eval_env, training=False, norm_reward=False)
                eval_env.obs_rms = env.obs_rms
            mean, std = evaluate_policy(model, eval_env, n_eval_episodes=100, deterministic=True)
            published = z["published"]
            row = {"env": env_id, "seed": seed, "steps": model.num_timesteps, "seconds": round(seconds, 1),
                   "mean_return": float(cast(float, mean)), "std_return": float(cast(float, std)),
                   "zoo_mean": published[0], "zoo_std": published[1]}
            rows.append(row)
            print(f"{env_id} seed {seed}: {row['mean_return']:.2f} +- {row['std_return']:.2f} over 100 "
                  f"deterministic episodes after {model.num_timesteps:,} steps ({seconds:.0f} s); "
                  f"the zoo's SB2 ACER: {published[0]:.2f} +- {published[1]:.2f}", flush=True)
            env.close()
            eval_env.close()
    write_json_atomic(out / "zoo.json", {"machine": _machine(), "runs": rows})
    return 0


def _plot_cartpole(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for row in results:
        ax.plot(row["curve"]["step"], row["curve"]["mean"], label=f"seed {row['seed']}")
    ax.axhline(475, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("mean return, 20 sampled episodes")
    ax.set_title("ACER on CartPole-v1 (SB2's settings)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# ----------------------------------------------------------------------------- speed
def _steps_per_second(model: Any, seconds: float) -> float:
    from qwopkit.rl.common.callbacks import WallClockLimit

    # Timed around learn: PPO finishes the training phase it is in when the limit passes.
    start = time.monotonic()
    model.learn(10**9, callback=WallClockLimit(seconds))
    return model.num_timesteps / (time.monotonic() - start)


# The learners --learners picks from, by key, with the label they are reported under.
LEARNERS = {
    "acer8": "ACER, 8 envs",
    "acer8-batched": "ACER, 8 envs, batched (QWOPVecEnv)",
    "acer8-fewer": "ACER, 8 envs, half the replay updates on twice the segments",
    "acer1": "ACER, 1 env",
    "dqn1": "DQN (SB3 defaults), 1 env",
    "dqn8": "DQN (SB3 defaults), 8 envs",
    "ppo8": "PPO (SB3 defaults), 8 envs",
    "qrdqn1": "QR-DQN (sb3-contrib defaults), 1 env",
}


def _silent(model: Any) -> Any:
    """An SB3 peer without SB3's default logger, which makes an empty tmp/SB3-<date> folder on
    every learn() (ACER avoids it itself)."""
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def _learner(key: str, seed: int) -> Any:
    from sb3_contrib import QRDQN
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.env_util import make_vec_env

    from qwopkit.rl.acer import ACER
    from qwopkit.rl.common.vec_env import QWOPVecEnv

    def env(n):
        return make_vec_env(ENV_ID, n_envs=n, seed=seed)

    # Each learner collects and trains past its learning start in the measured time.
    if key == "acer8":
        return ACER("MlpPolicy", env(8), seed=seed)
    if key == "acer8-fewer":  # as many replayed samples per step: 2 x 16 segments in place of 4 x 8
        return ACER("MlpPolicy", env(8), seed=seed, replay_ratio=2.0, replay_batch_size=16)
    if key == "acer8-batched":
        return ACER("MlpPolicy", QWOPVecEnv(8), seed=seed)
    if key == "acer1":
        return ACER("MlpPolicy", env(1), seed=seed)
    if key in ("dqn1", "dqn8"):
        return _silent(DQN("MlpPolicy", env(int(key[-1])), seed=seed, learning_starts=1000))
    if key == "ppo8":
        return _silent(PPO("MlpPolicy", env(8), seed=seed))
    return _silent(QRDQN("MlpPolicy", env(1), seed=seed, learning_starts=1000))


def speed(args: argparse.Namespace) -> int:
    rates = {}
    for key in args.learners:
        name = LEARNERS[key]
        rates[name] = _steps_per_second(_learner(key, args.seed), args.seconds)
        print(f"{name}: {rates[name]:,.0f} training steps/s", flush=True)
    by_envs = {"DQN (SB3 defaults), 1 env": ("ACER, 1 env",),
               "DQN (SB3 defaults), 8 envs": ("ACER, 8 envs", "ACER, 8 envs, batched (QWOPVecEnv)"),
               "PPO (SB3 defaults), 8 envs": ("ACER, 8 envs", "ACER, 8 envs, batched (QWOPVecEnv)")}
    for other, acers in by_envs.items():
        for name in acers:
            if other in rates and name in rates:
                print(f"{name} / {other}: {rates[name] / rates[other]:.2f}x")
    write_json_atomic(Path(args.out) / "speed.json", {"machine": _machine(), "seconds_each": args.seconds,
                                                      "rates": rates})
    return 0


# ----------------------------------------------------------------------------- QWOP
RUNS = ("ppo", "acer", "acer-demos", "acer-demos-then-self")
LABELS = {"ppo": "PPO", "acer": "ACER from scratch", "acer-demos": "ACER from the clone, demos in replay",
          "acer-demos-then-self": "ACER from the clone, demos for 1M steps then self-play"}
STRIDE_DEMOS = "examples/data/bot_stride-*.h5"


def _qwop_run(kind: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.env_util import make_vec_env

    from qwopkit.imitation.pretrain import pretrain
    from qwopkit.rl.acer import ACERWithDemos, PhaseScheduleCallback
    from qwopkit.rl.common.callbacks import QWOPEvalCallback, RunProgressCallback, WallClockLimit
    from qwopkit.rl.common.demos import load_demonstrations
    from qwopkit.training.report import build_report

    env = make_vec_env(ENV_ID, n_envs=8, seed=args.seed)
    progress = RunProgressCallback(log_seconds=30, out=sys.stderr)
    evals = QWOPEvalCallback(eval_freq=args.eval_every, episodes=5, seed=args.seed, progress=progress)
    callbacks: list[Any] = [progress, evals, WallClockLimit(args.minutes * 60)]
    steps = 10**9  # the wall-clock budget ends the run
    config: dict[str, Any] = {"kind": kind, "seed": args.seed, "minutes": args.minutes, "n_envs": 8}
    model: BaseAlgorithm
    if kind == "ppo":
        model = _silent(PPO("MlpPolicy", env, seed=args.seed))
    else:
        demos = None
        if kind.startswith("acer-demos"):
            demos = load_demonstrations(args.demos, observation_shape=(71,), n_actions=11)
        if kind == "acer-demos-then-self":
            schedule = f"demos:1M,self:{args.acer_steps - 1_000_000}"
            config["schedule"] = schedule
            callbacks.insert(0, PhaseScheduleCallback(schedule))
        model = ACERWithDemos("MlpPolicy", env, seed=args.seed, demos=demos)
        if kind.startswith("acer-demos"):
            clone = pretrain(args.demos, out / "bc.zip", seed=args.seed, overwrite=True)
            model.set_parameters(str(clone.model), exact_match=False)
            config["demos"] = args.demos
        # The linear learning-rate decay runs over the steps the budget is expected to allow.
        steps = args.acer_steps
    model.learn(steps, callback=callbacks)
    report = build_report(config=config, progress=progress, evals=evals.history, steps=model.num_timesteps,
                          algorithm=LABELS[kind])
    env.close()
    with atomic_write(out / f"{kind}.zip") as tmp:
        model.save(tmp)
    write_json_atomic(out / f"{kind}.report.json", report)
    return report


def qwop(args: argparse.Namespace) -> int:
    out = Path(args.out)
    th.set_num_threads(1)
    for kind in args.runs:
        print(f"== {kind}: {args.minutes:g} min", flush=True)
        _qwop_run(kind, args, out)
    return summary(argparse.Namespace(out=args.out, runs=args.runs))


def summary(args: argparse.Namespace) -> int:
    """The comparison table and the curves of the runs whose reports are in --out."""
    from qwopkit.training.report import best_time_by, plot_curves

    out = Path(args.out)
    reports = {kind: json.loads((out / f"{kind}.report.json").read_text(encoding="utf-8"))
               for kind in args.runs if (out / f"{kind}.report.json").exists()}
    if not reports:
        print(f"no reports in {out}", file=sys.stderr)
        return 1
    minutes = max(r["config"]["minutes"] for r in reports.values())
    figure = out / f"acer-qwop-{minutes:g}min.png"  # the name docs/acer.md shows it under
    plot_curves({r["algorithm"]: r for r in reports.values()}, figure,
                title=f"QWOP-v0, {minutes:g} min each, seed {next(iter(reports.values()))['config']['seed']} "
                      f"({_machine()})")
    marks = [m for m in (1, 2, 5, 10, 15, 20, 30, 60) if m <= minutes]
    print(f"\n{'run':<55} {'steps':>10} {'steps/s':>8} {'first finish':>22} "
          + " ".join(f"{f'best@{m}min':>11}" for m in marks) + f" {'last eval':>16}")
    for r in reports.values():
        t = r["training"]
        first = "-" if t["first_finish_step"] is None else \
            f"{t['first_finish_step']:,} ({t['first_finish_seconds'] / 60:.1f} min)"
        bests = " ".join(f"{'-' if (b := best_time_by(r, m)) is None else f'{b:.2f} s':>11}" for m in marks)
        last = r["evaluation"]["last"] or {}
        ev = f"{100 * last.get('finish_rate', 0):.0f}%, {last.get('mean_distance', float('nan')):.1f} m"
        print(f"{r['algorithm']:<55} {r['steps']:>10,} {r['steps_per_second']:>8,.0f} {first:>22} "
              f"{bests} {ev:>16}")
    print(f"curves: {figure}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="qwop-bench acer", description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cartpole", help="ACER on CartPole-v1, 500k steps per seed",
                       description="Correctness: ACER with SB2's settings on CartPole-v1, the mean return of "
                                   "20 sampled episodes per evaluation (the bar: 475).",
                       formatter_class=HelpFormatter)
    c.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    c.add_argument("--steps", type=int, default=500_000, help="environment steps per seed")
    c.add_argument("--eval-every", type=int, default=25_000, help="environment steps between evaluations")
    s = sub.add_parser("speed", help="training steps/s of ACER, DQN and QR-DQN on QWOP-v0",
                       description="Training steps per second on QWOP-v0 of ACER, SB3's DQN and sb3-contrib's"
                                   " QR-DQN, each for the same wall-clock time, in one run.",
                       formatter_class=HelpFormatter)
    s.add_argument("--seconds", type=float, default=60.0, help="wall-clock seconds per learner")
    s.add_argument("--seed", type=int, default=0, help="seed")
    s.add_argument("--learners", nargs="+", choices=list(LEARNERS), default=list(LEARNERS),
                   help="which learners, in this order (acer8-batched: ACER on qwopkit.rl.common.vec_env."
                        "QWOPVecEnv, all games stepped in one call to the physics core)")
    q = sub.add_parser("qwop", help="PPO, ACER and ACER with demos at a fixed wall-clock budget",
                       description="Learning in the bundled game at a fixed wall-clock budget per run, same "
                                   "seed: PPO, ACER from scratch, ACER from the clone with demos in replay.",
                       formatter_class=HelpFormatter)
    q.add_argument("--minutes", type=float, default=20.0, help="wall-clock minutes per run")
    q.add_argument("--seed", type=int, default=0, help="seed of every run")
    q.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS), help="which runs")
    q.add_argument("--demos", default=STRIDE_DEMOS, help="recordings cloned and replayed by acer-demos")
    q.add_argument("--acer-steps", type=int, default=8_000_000,
                   help="steps ACER's learning rate decays over (about what the budget allows)")
    q.add_argument("--eval-every", type=int, default=250_000, help="environment steps between evaluations")
    z = sub.add_parser("zoo", help="ACER on Acrobot, MountainCar and LunarLander with rl-baselines-zoo's "
                                   "settings, beside its published SB2 figures",
                       description="ACER on the zoo's classic tasks with the zoo's settings; the mean return "
                                   "of 100 deterministic episodes beside SB2's published one.",
                       formatter_class=HelpFormatter)
    z.add_argument("--envs", nargs="+", choices=list(ZOO), default=list(ZOO), help="which tasks")
    z.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds")
    m = sub.add_parser("summary", help="the table and curves of the qwop runs already in --out",
                       description="The comparison table (best HUD time at wall-clock marks) and the curves "
                                   "of the qwop runs whose reports are in --out.",
                       formatter_class=HelpFormatter)
    m.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS), help="which runs")
    for sp in (c, s, q, z, m):
        sp.add_argument("--out", default="runs/bench", help="where reports and curves go")
    args = p.parse_args(argv)
    th.set_num_threads(1)
    commands = {"cartpole": cartpole, "speed": speed, "qwop": qwop, "zoo": zoo, "summary": summary}
    return commands[args.what](args)


if __name__ == "__main__":
    sys.exit(main())
