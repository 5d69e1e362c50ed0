"""`qwop-run`: the main job, the whole pipeline on the bundled game and the bundled data.

1. A scripted runner (default `stride`) does one 100 m run headless on the bundled game.
2. Behaviour cloning: the bundled recordings of that bot (examples/data) are cloned into the
   ACER policy network (`qwop-pretrain`), written with its report to a new folder of its own,
   runs/qwop-run-<date>-<time>/bc.zip: a second run never overwrites the first.
3. Fine-tuning: ACER starts from the clone with the same recordings in its replay
   (`qwop-finetune`), for about a minute (`--finetune-minutes`), into the same folder.
4. Evaluation: the fine-tuned policy runs 5 times in the environment, actions sampled (`qwop-eval`).
It ends by printing the command to run next.
"""

from __future__ import annotations

import argparse
import glob
import shlex
import sys
import time

from qwopkit.adapter.openqwop.bots import BOTS, get_bot, play
from qwopkit.adapter.openqwop.physics import DISTANCE_NOTE
from qwopkit.console import HelpFormatter, as_a_step, new_folder, print_next, run_console
from qwopkit.errors import InputError

PROG = "qwop-run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description="The main job: a scripted 100 m run, "
                                     "then clone the bundled recordings, fine-tune the clone with ACER "
                                     "and evaluate it.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--bot", default="stride", help=f"scripted player ({', '.join(sorted(BOTS))})")
    parser.add_argument("--time-limit", type=float, default=300.0, metavar="SECONDS",
                        help="HUD seconds before the bot's run counts as a timeout (default 300)")
    parser.add_argument("--demos", default="examples/data/bot_stride-*.h5",
                        help="recordings to clone (default: the bundled stride runs)")
    parser.add_argument("--finetune-minutes", type=float, default=1.0, metavar="MINUTES",
                        help="wall-clock minutes of fine-tuning (default 1; 0 skips it)")
    parser.add_argument("--runs", default="runs",
                        help="where each run gets a new folder qwop-run-<date>-<time> (default runs/)")
    parser.add_argument("--bot-only", action="store_true", help="only step 1 (no cloning)")
    args = parser.parse_args(argv)
    if args.time_limit <= 0:
        parser.error(f"--time-limit must be positive, got {args.time_limit}")
    if args.finetune_minutes < 0:
        parser.error(f"--finetune-minutes must be 0 or more, got {args.finetune_minutes}")
    try:
        program = get_bot(args.bot)
    except ValueError as err:
        parser.error(f"--bot: {err}")
    return run_console(PROG, lambda: _run(args, program))


def _run(args: argparse.Namespace, program) -> int:
    print(f"{PROG}: 1/4 the scripted runner '{args.bot}' on the bundled game", flush=True)
    started = time.perf_counter()
    result = play(program, max_updates=int(args.time_limit * 30))
    wall = time.perf_counter() - started
    print(f"bot {args.bot}: {result.status}  distance {result.distance:.1f} m  "
          f"HUD time {result.hud_time:.2f} s  ({result.updates} updates simulated in {wall:.2f} s)",
          flush=True)
    if result.status == "finished":
        print(f"  ({DISTANCE_NOTE})", flush=True)
    if args.bot_only:
        return 0

    if not glob.glob(args.demos):
        raise InputError("--demos", f"no episode files match {args.demos!r} (run from the "
                         "repository's root, or pass --demos)")
    from qwopkit.training.eval_cli import main as evaluate
    from qwopkit.training.finetune_cli import main as finetune
    from qwopkit.training.pretrain_cli import main as pretrain

    run = new_folder(args.runs, "qwop-run")
    clone = f"{run}/bc.zip"
    print(f"\n{PROG}: 2/4 behaviour cloning of {args.demos} (into {run})", flush=True)
    with as_a_step():
        status = pretrain(["--demos", args.demos, "--out", clone, "--quiet"])
    if status != 0:
        return status
    model = clone
    if args.finetune_minutes > 0:
        # The learning rate decays over the steps the budget allows at about 5,000 steps/s.
        steps = max(int(args.finetune_minutes * 60 * 5_000), 10_000)
        print(f"\n{PROG}: 3/4 fine-tuning the clone with ACER, the recordings in its replay, "
              f"for {args.finetune_minutes:g} min (qwop-finetune, into {run})", flush=True)
        with as_a_step():
            status = finetune(["--demos", args.demos, "--init", clone, "--schedule", f"demos:{steps}",
                               "--minutes", str(args.finetune_minutes), "--out", run,
                               "--eval-every", str(steps // 4), "--checkpoint-every", str(steps // 2)])
        if status != 0:
            return status
        model = f"{run}/model.zip"
    else:
        print(f"\n{PROG}: 3/4 fine-tuning skipped (--finetune-minutes 0)", flush=True)
    if model != clone:
        print(f"{PROG}: written: model {model}, report {run}/report.json, curves {run}/curves.png "
              f"(the clone: {clone})", flush=True)
    else:
        print(f"{PROG}: written: the clone {clone}, its report {run}/bc.report.json", flush=True)
    # Sampled runs, as the policy was trained to act: after a minute of fine-tuning it is still
    # stochastic, and its single most likely action path says less than five seeded runs.
    print(f"\n{PROG}: 4/4 the {'fine-tuned policy' if model != clone else 'clone'} runs in the "
          f"environment (5 runs, actions sampled, seed 0)", flush=True)
    status = evaluate([model, "--episodes", "5", "--seed", "0"])  # ends with its next command
    if status == 0:
        print_next(f"qwop-finetune --demos {shlex.quote(args.demos)} --init {shlex.quote(model)} "
                   "--minutes 20    # longer fine-tuning")
    return status


if __name__ == "__main__":
    sys.exit(main())
