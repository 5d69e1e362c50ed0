"""`qwop-finetune`: ACER in the bundled game, starting from a clone, with recorded runs in its replay.

    qwop-finetune --demos data/*.h5 [--init bc|scratch|MODEL] [--schedule "self:2M,demos:1M,self:2M"]
                  [--out runs/NAME] [--minutes M] [--n-envs 8] [--seed 0] [ACER's options]
    qwop-finetune --resume runs/NAME
    qwop-finetune ... --ray [ADDRESS] [--workers 2] [--envs-per-worker 4] [--sync-every 1]

With `--demos` and no `--init`, the demonstrations are cloned first (qwop-pretrain's trainer,
into the run folder's bc.zip) and ACER starts from the clone; `--init scratch` starts from random
weights, `--init MODEL` from a zip (also the seed's own ACER agent: its SB2 zip is imported into the
run folder's init.zip, rl/common/seed_models.py). With `--ray`, rollout workers on Ray collect the segments
(training/ray_rollouts.py, docs/ray.md). The run folder (training/finetune.py) gets run.json, checkpoints,
logs (CSV and TensorBoard), and at the end model.zip, report.json and curves.png. Errors a
user can cause are one line, `qwop-finetune: error: <file or flag>: <what>`, exit status 1, and
nothing already written is touched.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from collections.abc import Sequence

from qwopkit.adapter.openqwop.physics import TIME_LIMIT
from qwopkit.console import HelpFormatter, print_next, run_console

PROG = "qwop-finetune"

# ACER's arguments and their flags (only the command line speaks of flags).
ACER_FLAGS = {
    "n_steps": "--n-steps", "gamma": "--gamma", "learning_rate": "--lr", "lr_decay": "--lr-decay",
    "q_coef": "--q-coef", "ent_coef": "--ent-coef", "max_grad_norm": "--max-grad-norm",
    "buffer_size": "--buffer-size", "replay_ratio": "--replay-ratio", "replay_start": "--replay-start",
    "replay_batch_size": "--replay-batch-size",
    "correction_term": "--correction-term", "trust_region": "--no-trust-region", "alpha": "--alpha",
    "delta": "--delta", "q_warmup": "--q-warmup",
}
CONFIG_FLAGS = {
    "schedule": "--schedule", "init": "--init", "n_envs": "--n-envs", "vec_env": "--vec-env",
    "time_limit": "--time-limit", "demo_rate": "--demo-rate", "demo_mu": "--demo-mu",
    "eval_every": "--eval-every", "eval_episodes": "--eval-episodes",
    "checkpoint_every": "--checkpoint-every",
    "minutes": "--minutes", "threads": "--threads", "demos": "--demos", "out": "--out",
    "folder": "--resume", "ray": "--ray", "workers": "--workers", "envs_per_worker": "--envs-per-worker",
    "sync_every": "--sync-every", "preset": "--preset",
    **ACER_FLAGS,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, formatter_class=HelpFormatter,
        description="Fine-tune a policy with ACER in the bundled game, recorded runs in its replay.")
    run = p.add_argument_group("the run")
    run.add_argument("--demos", nargs="+", metavar="SPEC",
                     help="episode files, folders or globs whose kept episodes go into the replay")
    run.add_argument("--init", default=None,
                     help="bc (clone --demos first), scratch (random weights) or a model zip (also the "
                          "seed's own ACER agent, its SB2 zip); default bc with --demos, scratch without")
    run.add_argument("--preset", choices=("human", "bot"),
                     help="with --init bc: qwop-pretrain's preset (default: the one the demos call for, "
                          "as qwop-pretrain chooses it)")
    run.add_argument("--schedule", default=None,
                     help="phases of environment steps: 'demos' injects demonstrations, 'self' does not; "
                          "default demos:1M with --demos, self:1M without")
    run.add_argument("--out", default=None, help="run folder (default runs/finetune-<date>-<time>)")
    run.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint "
                                                     "(every other option is read from DIR/run.json)")
    run.add_argument("--minutes", type=float, default=None,
                     help="stop after this much wall-clock time (default: none, when the schedule ends)")
    run.add_argument("--seed", type=int, default=0, help="seed of the environments, sampling and replay")
    run.add_argument("--split", help="use only the train part of this named split of the demos")
    run.add_argument("--n-envs", type=int, default=8, help="environments collected in step")
    run.add_argument("--vec-env", choices=("dummy", "subproc"), default="dummy",
                     help="environments in this process (dummy) or one process each (subproc)")
    run.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="HUD seconds per episode")
    run.add_argument("--demo-rate", type=float, default=1.0,
                     help="demonstration segments injected per on-policy segment in a demos phase")
    run.add_argument("--demo-mu", choices=("dataset", "policy"), default="dataset",
                     help="mu of demonstration steps: the episode file's estimate, or the policy's "
                          "probabilities when injected (the seed's)")
    run.add_argument("--eval-every", type=int, default=50_000, help="environment steps between evaluations")
    run.add_argument("--eval-episodes", type=int, default=5, help="sampled runs per evaluation")
    run.add_argument("--checkpoint-every", type=int, default=100_000,
                     help="environment steps between checkpoints")
    run.add_argument("--threads", type=int, default=1,
                     help="torch threads (one is fastest for this network on a small machine)")
    dist = p.add_argument_group("rollouts on Ray (from the checkout: pip install -e '.[ray]'; docs/ray.md)")
    dist.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                      help="collect on Ray workers: alone, a Ray started on this machine; with an address "
                           "(auto, HOST:PORT, ray://HOST:10001), that cluster's")
    dist.add_argument("--workers", type=int, default=2, help="rollout workers (Ray actors) with --ray")
    dist.add_argument("--envs-per-worker", type=int, default=4,
                      help="environments per worker with --ray (the learner's batch: workers x this, "
                           "in place of --n-envs)")
    dist.add_argument("--sync-every", type=int, default=1,
                      help="learner updates between refreshes of the workers' policy with --ray")
    acer = p.add_argument_group("ACER (defaults: SB2's)")
    acer.add_argument("--n-steps", type=int, default=20, help="steps per segment and environment")
    acer.add_argument("--gamma", type=float, default=0.99, help="discount factor")
    acer.add_argument("--lr", type=float, default=7e-4, help="RMSProp learning rate")
    acer.add_argument("--lr-decay", choices=("linear", "constant"), default="linear",
                      help="learning-rate decay over the schedule")
    acer.add_argument("--q-coef", type=float, default=0.5, help="weight of the Q loss")
    acer.add_argument("--ent-coef", type=float, default=0.01, help="weight of the entropy bonus")
    acer.add_argument("--max-grad-norm", type=float, default=10.0, help="gradient clipping norm")
    acer.add_argument("--buffer-size", type=int, default=5000, help="replay steps per environment")
    acer.add_argument("--replay-ratio", type=float, default=4.0,
                      help="mean replay updates per on-policy update")
    acer.add_argument("--replay-start", type=int, default=1000,
                      help="replay steps per environment before replay updates begin")
    acer.add_argument("--replay-batch-size", type=int, default=None, metavar="SEGMENTS",
                      help="segments per replay update (default: one per environment, SB2's); with a "
                           "lower --replay-ratio, fewer and larger replay updates")
    acer.add_argument("--correction-term", type=float, default=10.0,
                      help="truncation c of importance weights")
    acer.add_argument("--no-trust-region", action="store_true", help="no trust region against the average")
    acer.add_argument("--alpha", type=float, default=0.99, help="Polyak factor of the averaged policy")
    acer.add_argument("--delta", type=float, default=1.0, help="trust-region bound")
    acer.add_argument("--q-warmup", type=int, default=0,
                      help="first environment steps in which only the Q head learns (policy left as loaded)")
    return p


def config_from_args(args: argparse.Namespace):
    from qwopkit.training.finetune import FinetuneConfig

    demos = [str(s) for s in args.demos] if args.demos else None
    return FinetuneConfig(
        out=args.out or time.strftime("runs/finetune-%Y%m%d-%H%M%S"),
        demos=demos,
        init=args.init or ("bc" if demos else "scratch"), preset=args.preset,
        schedule=args.schedule or ("demos:1M" if demos else "self:1M"),
        split=args.split, n_envs=args.n_envs, vec_env=args.vec_env, seed=args.seed,
        time_limit=args.time_limit, demo_rate=args.demo_rate, demo_mu=args.demo_mu,
        eval_every=args.eval_every, eval_episodes=args.eval_episodes,
        checkpoint_every=args.checkpoint_every, minutes=args.minutes, threads=args.threads,
        ray=args.ray, workers=args.workers, envs_per_worker=args.envs_per_worker, sync_every=args.sync_every,
        acer={"n_steps": args.n_steps, "gamma": args.gamma, "learning_rate": args.lr,
              "lr_decay": args.lr_decay, "q_coef": args.q_coef, "ent_coef": args.ent_coef,
              "max_grad_norm": args.max_grad_norm, "buffer_size": args.buffer_size,
              "replay_ratio": args.replay_ratio, "replay_start": args.replay_start,
              "replay_batch_size": args.replay_batch_size,
              "correction_term": args.correction_term, "trust_region": not args.no_trust_region,
              "alpha": args.alpha, "delta": args.delta, "q_warmup": args.q_warmup},
    )


def print_summary(result, log=print) -> None:
    report = result.report
    training, last = report["training"], report["evaluation"]["last"]
    best = training["best_time"]
    log(f"{PROG}: {report['steps']:,} steps in {report['seconds'] / 60:.1f} min "
        f"({report['steps_per_second']:,.0f} steps/s), {training['episodes']:,} training episodes, "
        f"{training['finished']:,} finished")
    if training["first_finish_step"] is not None:
        log(f"{PROG}: first 100 m finish at step {training['first_finish_step']:,}; best HUD time "
            f"{best:.2f} s (at step {training['best_time_step']:,})")
    if last:
        times = "-" if last["best_time"] is None else f"{last['best_time']:.2f} s"
        log(f"{PROG}: last evaluation ({last['step']:,} steps): "
            f"finish rate {100 * last['finish_rate']:.0f}%, "
            f"mean distance {last['mean_distance']:.1f} m, best HUD time {times} "
            f"(distance is the torso's; the finish line counts the first foot across)")
    log(f"{PROG}: model {result.model}, report {result.report_path}"
        + (f", curves {result.curves}" if result.curves else ""))


def run(args: argparse.Namespace) -> int:
    from qwopkit.training.finetune import resume_finetune, run_finetune

    log = lambda line: print(f"{PROG}: {line}", flush=True)  # noqa: E731
    if args.resume:
        result = resume_finetune(args.resume, log=log)
    else:
        result = run_finetune(config_from_args(args), log=log)
    print_summary(result)
    print_next(f"qwop-eval {shlex.quote(str(result.model))}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 failure, 2 usage, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", message=".*swigvarlink.*")
    return run_console(PROG, lambda: run(args), flags=CONFIG_FLAGS)


if __name__ == "__main__":
    sys.exit(main())
