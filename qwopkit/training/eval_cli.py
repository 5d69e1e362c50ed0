"""`qwop-eval`: run a saved policy in the bundled game and report how far and how fast it runs.

    qwop-eval MODEL [--episodes N] [--deterministic] [--seed S] [--frame-skip K] [--watch] [--time-limit T]
              [--json F]
    qwop-eval MODEL --game original --qwop PATH [...]   # in the original game (your own copy)

MODEL is an SB3 zip holding a policy for `qwopkit/QWOP-v0` (qwop-pretrain's, or a learner's), or
one of the seed system's own agents, a Stable-Baselines 2 zip (its ACER or its DQN: rl/common/seed_models.py).
Reports the finish rate, mean and best distance, best and median HUD time of finished runs, and
falls; `--watch` then replays the runs in the game page in Chromium (rl/common/evaluation.py says why a
replay). Errors a user can cause are one line: `qwop-eval: error: <file or flag>: <what>`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from qwopkit.adapter.openqwop.physics import DISTANCE_NOTE, TIME_LIMIT
from qwopkit.atomic import write_text_atomic
from qwopkit.console import HelpFormatter, output_console, print_next, run_console
from qwopkit.errors import InputError

if TYPE_CHECKING:
    from qwopkit.rl.common.evaluation import EvalReport

PROG = "qwop-eval"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Evaluate a policy in the bundled QWOP game: "
                                "finish rate, distances, times and falls.", formatter_class=HelpFormatter)
    p.add_argument("model", metavar="MODEL", help="SB3 model zip (e.g. models/bc.zip), or the seed's SB2 "
                                                 "zip (its ACER or DQN agents)")
    p.add_argument("--episodes", type=int, default=10, help="runs to play")
    p.add_argument("--deterministic", action="store_true",
                   help="take pi's most likely action (the game has no randomness: every run is the "
                        "same, so one run says it all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled actions")
    p.add_argument("--frame-skip", type=int, default=3, metavar="K",
                   help="game updates each decision is held (3 = 0.1 s, the seed's ACER; its FastDQN_2hr: 1)")
    p.add_argument("--time-limit", type=float, default=TIME_LIMIT, metavar="SECONDS",
                   help="HUD seconds per run")
    p.add_argument("--watch", action="store_true", help="replay the runs in the game page in Chromium")
    p.add_argument("--json", metavar="FILE", help="also write the summary and the runs as JSON")
    p.add_argument("--game", choices=("openqwop", "original"), default="openqwop",
                   help="the bundled game, or the original QWOP in headless Chromium (needs --qwop)")
    p.add_argument("--qwop", metavar="PATH", help="--game original: your copy of the original QWOP "
                   "(its folder or .js file; docs/original-adapter.md)")
    return p


def print_report(report: EvalReport, console: Console) -> None:
    s = report.summary()
    mode = "deterministic" if s["deterministic"] else f"sampled, seed {s['seed']}"
    table = Table(title=f"{s['episodes']} run(s), {mode}", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")

    def secs(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f} s"

    table.add_row("finish rate", f"{100 * s['finish_rate']:.0f}%")
    table.add_row("mean distance", f"{s['mean_distance']:.1f} m")
    table.add_row("best distance", f"{s['best_distance']:.1f} m")
    table.add_row("best time (finished)", secs(s["best_time"]))
    table.add_row("median time (finished)", secs(s["median_time"]))
    table.add_row("falls", str(s["falls"]))
    table.add_row("timeouts", str(s["timeouts"]))
    console.print(table)
    runs = Table(title="runs")
    for col in ("run", "outcome", "distance", "HUD time", "decisions"):
        runs.add_column(col, justify="right")
    for i, e in enumerate(report.episodes[:50]):
        runs.add_row(str(i + 1), e.outcome, f"{e.distance:.1f} m", f"{e.hud_time:.2f} s", str(e.steps))
    console.print(runs)
    if any(e.outcome == "finished" for e in report.episodes):
        console.print(DISTANCE_NOTE)


def run(args: argparse.Namespace) -> int:
    if args.episodes < 1:
        raise InputError("--episodes", f"must be at least 1, got {args.episodes}")
    if args.frame_skip < 1:
        raise InputError("--frame-skip", f"must be at least 1, got {args.frame_skip}")
    if args.time_limit <= 0:
        raise InputError("--time-limit", f"must be positive, got {args.time_limit}")
    if args.watch and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise InputError("--watch", "no display (DISPLAY is not set); run under Xvfb or on a desktop")
    if args.game == "original" and not args.qwop:
        raise InputError("--qwop", "--game original needs your copy of the game: --qwop PATH")
    if args.qwop and args.game != "original":
        raise InputError("--qwop", "only with --game original")
    if args.game == "original":
        from qwopkit.adapter.original import locate_game

        locate_game(args.qwop)  # a bad path: one line, before the model loads
    # torch and SB3: only when the command runs (not for --help or a bad flag).
    from qwopkit.dataset.schema import UPDATES_PER_SECOND
    from qwopkit.rl.common.evaluation import evaluate
    from qwopkit.rl.common.seed_models import load_model
    from qwopkit.training.watch import watch

    policy = load_model(args.model)
    episodes = args.episodes
    if args.deterministic and episodes > 1:
        # The game has no randomness: deterministic runs of one policy are identical.
        print(f"{PROG}: --deterministic runs are all the same run (the game has no randomness): "
              f"playing 1, not {episodes}", flush=True)
        episodes = 1
    game: dict[str, Any] = {}
    if args.game == "original":
        game = {"env_id": "qwopkit/QWOP-original-v0", "env_kwargs": {"qwop": args.qwop}}
    report = evaluate(policy, episodes, deterministic=args.deterministic, seed=args.seed,
                      time_limit=args.time_limit, progress=True, frame_skip=args.frame_skip, **game)
    console = output_console()
    console.print(f"model {args.model}" + (" in the original game" if args.game == "original" else ""))
    seconds = args.frame_skip / UPDATES_PER_SECOND
    console.print(f"{args.frame_skip} game update(s) per decision ({seconds:.3f} s)")
    print_report(report, console)
    if args.json:
        out = {"model": str(args.model), "frame_skip": args.frame_skip, "summary": report.summary(),
               "runs": [{"outcome": e.outcome, "distance": e.distance, "hud_time": e.hud_time,
                         "decisions": e.steps} for e in report.episodes]}
        write_text_atomic(args.json, json.dumps(out, indent=1) + "\n")
    if args.watch and args.game == "original":
        from qwopkit.adapter.original.watch import replay_runs
        from qwopkit.rl.common.evaluation import episode_keys

        replay_runs(args.qwop, [episode_keys(e) for e in report.episodes],
                    log=lambda line: print(f"{PROG}: {line}", flush=True))
    elif args.watch:
        from qwopkit.adapter.browser import BrowserError

        try:
            watch(report.episodes, log=lambda line: print(f"{PROG}: {line}", flush=True))
        except (BrowserError, TimeoutError) as exc:
            raise InputError("--watch", str(exc)) from None
    else:
        print_next(f"qwop-eval {shlex.quote(str(args.model))} --watch    # its runs in the game page")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 failure, 2 usage, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    return run_console(PROG, lambda: run(args), where=args.model, flags={"episodes": "--episodes"})


if __name__ == "__main__":
    sys.exit(main())
