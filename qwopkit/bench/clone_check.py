"""The cloning check: clone recorded runs, run the clone deterministically, compare distances.

    qwop-bench clone-check --demos 'examples/data/bot_stride-*.h5' --seeds 0 1 2 3 4 5

For each seed it does what `qwop-pretrain --seed S` does (same split, same training, the same
shaping flags), then what `qwop-eval MODEL --deterministic --episodes 1` does (and with
`--sampled N`, `qwop-eval MODEL --episodes N --seed 0`), and prints the validation accuracy and
the clone's distance as a share of the mean distance of the cloned (kept) episodes. The goals
(docs/imitation.md): validation accuracy >= 90%, distance >= 80% of the demonstrations' mean;
`--goal M` replaces both by one distance in metres for the deterministic run and the sampled
mean (the top player's clone, docs/kuro.md: 20 m).

    qwop-bench clone-check --demos data/kurodo --seeds 0 1 2 --drop-settling --recovery 5 \
        --recovery-depth 1 --sampled 10 --goal 20
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np
from rich.table import Table

from qwopkit.adapter.openqwop.physics import TIME_LIMIT
from qwopkit.console import HelpFormatter, output_console, run_console
from qwopkit.dataset import build_index
from qwopkit.imitation.bc import BCConfig, cross_entropy, load_demos, train_bc
from qwopkit.imitation.presets import episode_sources
from qwopkit.training.pretrain_cli import add_shaping_options, apply_preset, describe_preset, shaped

ACCURACY_GOAL = 0.90
DISTANCE_GOAL = 0.80


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="qwop-bench clone-check", description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--demos", nargs="+", required=True, metavar="SPEC",
                   help="episode files, folders or globs to clone (kept episodes)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0], help="one clone per seed")
    p.add_argument("--time-limit", type=float, default=TIME_LIMIT, metavar="SECONDS",
                   help="HUD seconds of each clone's run")
    p.add_argument("--sampled", type=int, default=0, help="also this many sampled runs per clone")
    p.add_argument("--goal", type=float, default=None, metavar="METRES",
                   help="distance goal each clone's runs are held to (see above; default: none)")
    add_shaping_options(p)
    p.add_argument("--save", default=None, metavar="DIR", help="keep each clone as DIR/clone-seedS.zip")
    args = p.parse_args(argv)

    return run_console("check", lambda: _check(args))


def _check(args: argparse.Namespace) -> int:
    from qwopkit.rl.common.evaluation import evaluate

    console = output_console()
    index = build_index(args.demos)
    kept = index[index["kept"]]
    table = Table(title="demonstrations cloned (kept episodes)")
    for col in ("file", "outcome", "distance", "HUD time", "decisions"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for row in kept.itertuples():
        table.add_row(row.file, row.outcome, f"{row.distance:.2f} m", f"{row.hud_time:.2f} s", str(row.steps))
    console.print(table)
    console.print(describe_preset(apply_preset(args, episode_sources([str(p) for p in kept["path"]]))))
    target = float(kept["distance"].mean())
    console.print(f"mean distance of the demonstrations: {target:.2f} m; "
                  f"goal {DISTANCE_GOAL:.0%} of it = {DISTANCE_GOAL * target:.2f} m")

    results = Table(title="clones (deterministic runs; the game has no randomness, so one run each)")
    for col in ("seed", "valid episodes", "epochs (best)", "train acc", "valid acc", "outcome", "distance",
                "HUD time", "share", "sampled mean", "goals"):
        results.add_column(col, justify="right")
    shares, accs, sampled_means, distances = [], [], [], []
    for seed in args.seeds:
        start = time.monotonic()
        demos = load_demos(args.demos, seed=seed)
        demos = shaped(demos, args, seed=seed)
        config = BCConfig(seed=seed, class_balance=args.class_balance, obs_noise=args.obs_noise)
        result = train_bc(demos.train_obs, demos.train_actions, demos.valid_obs, demos.valid_actions, config)
        n = demos.train_recorded or len(demos.train_actions)  # recorded ones (recovery ones after them)
        _, train_acc = cross_entropy(result.policy, demos.train_obs[:n], demos.train_actions[:n])
        _, valid_acc = cross_entropy(result.policy, demos.valid_obs, demos.valid_actions)
        run = evaluate(result.policy, 1, deterministic=True, time_limit=args.time_limit).episodes[0]
        sampled = (evaluate(result.policy, args.sampled, seed=0, time_limit=args.time_limit).summary()
                   if args.sampled else None)
        share = run.distance / target
        shares.append(share)
        accs.append(valid_acc)
        distances.append(run.distance)
        if sampled:
            sampled_means.append(sampled["mean_distance"])
        if args.goal is None:
            ok = valid_acc >= ACCURACY_GOAL and share >= DISTANCE_GOAL
        else:
            ok = run.distance >= args.goal and (sampled is None or sampled["mean_distance"] >= args.goal)
        results.add_row(str(seed), ", ".join(f.rsplit("/", 1)[-1] for f in demos.valid_episodes),
                        f"{len(result.history)} ({result.best_epoch})", f"{100 * train_acc:.1f}%",
                        f"{100 * valid_acc:.1f}%", run.outcome, f"{run.distance:.2f} m",
                        f"{run.hud_time:.1f} s", f"{100 * share:.1f}%",
                        "-" if sampled is None else f"{sampled['mean_distance']:.1f} m "
                                                    f"({sampled['finish_rate']:.0%} fin.)",
                        "met" if ok else "NOT met")
        if args.save:
            from qwopkit.rl.acer.policies import save_policy

            save_policy(result.policy, f"{args.save}/clone-seed{seed}.zip")
        console.print(f"seed {seed} done in {time.monotonic() - start:.1f} s", style="dim")
    console.print(results)
    console.print(f"valid accuracy: mean {100 * np.mean(accs):.1f}%, min {100 * np.min(accs):.1f}%; "
                  f"distance: mean {np.mean(distances):.1f} m, min {np.min(distances):.1f} m "
                  f"(share mean {100 * np.mean(shares):.1f}%)"
                  + (f"; sampled mean over seeds {np.mean(sampled_means):.1f} m" if sampled_means else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
