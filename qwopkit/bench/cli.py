"""`qwop-bench`: every benchmark and diagnostic, one subject each, figures printed. Floor: applications.

    qwop-bench env|fidelity|record|dataset|app|startup|original [--seconds S] [--qwop PATH]
    qwop-bench acer|ray|seed-check|clone-check|recipe|technique ARGS...   (each subject's own options)

qwopkit.bench holds one module per subject (game.py, fidelity.py, fidelity_original.py,
recorder.py, dataset.py, app.py, original.py, acer.py, ray.py, seed_check.py, clone_check.py,
recipe.py, seeds.py, technique.py, bot_search.py) and synthetic.py, the made-up episodes the
tests and the dataset benchmark use. docs/benchmarks.md keeps the latest figures.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from qwopkit.bench.game import bench_env, bench_fidelity, bench_startup

WHAT = {"env": "engine updates/s and environment actions/s, against BipedalWalker-v3",
        "fidelity": "closeness to the original game's recordings (needs the seed's files), or with "
                    "--original PATH to the original game itself",
        "record": "the real-time recording loop: update timing and key latency (needs X)",
        "dataset": "the dataset library: indexing 2,000 files and loading 1M transitions",
        "app": "the app's overview on 2,000 episodes, in the script and in a real browser",
        "startup": "how long each console script takes to answer --help",
        "original": "decisions/s of the original game in Chromium (needs --qwop PATH)"}
# Subjects with options of their own: `qwop-bench SUBJECT --help` shows them.
SUBJECTS = {"acer": ("qwopkit.bench.acer", "the ACER learner: CartPole, training speed, 20-minute runs"),
            "ray": ("qwopkit.bench.ray", "ACER's rollouts on Ray: throughput, lag, a killed worker"),
            "seed-check": ("qwopkit.bench.seed_check",
                           "the seed's imported agents against his recorded decisions"),
            "clone-check": ("qwopkit.bench.clone_check",
                            "cloning seeds: accuracy and how far each clone runs"),
            "recipe": ("qwopkit.bench.recipe", "the table and curves of fine-tuning runs' reports"),
            "technique": ("qwopkit.bench.technique", "the gait: key-combination shares and thigh phases"),
            "seeds": ("qwopkit.bench.seeds", "several seeds of several methods: medians, ranges, IQM"),
            "bot-search": ("qwopkit.bench.bot_search",
                           "a search for key programs that run (the bots' origin)")}


def build_parser() -> argparse.ArgumentParser:
    from qwopkit.console import HelpFormatter

    parser = argparse.ArgumentParser(prog="qwop-bench", formatter_class=HelpFormatter,
                                     description="Print benchmark figures (docs/benchmarks.md keeps the "
                                     "latest): " + "; ".join(f"{k}: {v}" for k, v in WHAT.items())
                                     + "; and, each with its own options (qwop-bench SUBJECT --help): "
                                     + "; ".join(f"{k}: {v[1]}" for k, v in SUBJECTS.items()) + ".")
    parser.add_argument("what", choices=[*WHAT, *SUBJECTS], help="which benchmark to run")
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of each measurement (default: env 5, record 20)")
    parser.add_argument("--plot", metavar="PNG", default=None,
                        help="fidelity: also draw the one-step errors into this figure")
    parser.add_argument("--qwop", "--original", dest="qwop", metavar="PATH", default=None,
                        help="original, and fidelity against the original game itself: your copy of "
                             "the original QWOP (its folder or .js file)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from qwopkit.console import run_console

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBJECTS:
        module = importlib.import_module(SUBJECTS[argv[0]][0])
        return int(module.main(argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.what == "original" and not args.qwop:
        parser.error("original: give your copy of the game with --qwop PATH")
    if args.what == "record" and not os.environ.get("DISPLAY"):
        parser.error("record: needs an X display for the key listener (set DISPLAY; Xvfb works)")
    return run_console("qwop-bench", lambda: _run(args), flags={"qwop": "--qwop"})


def _run(args: argparse.Namespace) -> int:
    if args.what == "env":
        bench_env(args.seconds or 5.0)
    elif args.what == "fidelity" and args.qwop:
        from qwopkit.bench.fidelity_original import compare

        compare(Path(args.qwop))
    elif args.what == "fidelity":
        bench_fidelity(args.plot)
    elif args.what == "record":
        from qwopkit.bench.recorder import bench_record

        bench_record(args.seconds or 20.0)
    elif args.what == "app":
        from qwopkit.bench.app import run_app_bench

        run_app_bench()
    elif args.what == "startup":
        bench_startup()
    elif args.what == "original":
        from qwopkit.bench.original import bench_original

        bench_original(Path(args.qwop), args.seconds or 10.0)
    else:
        from qwopkit.bench.dataset import run_index_bench, run_transitions_bench

        run_index_bench()
        run_transitions_bench()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
