"""`qwop-pretrain`: clone recorded players into the ACER policy (behaviour cloning). Floor: applications.

    qwop-pretrain --demos data/*.h5 [--out models/bc.zip] [--split NAME | --valid 0.2] [--seed 0]

Kept episodes only; train / valid by episode; cross-entropy with an entropy bonus; early
stopping on the validation loss. Writes the model (SB3 zip) and its report (JSON) and prints
the report. Every error a user can cause is one line: `qwop-pretrain: error: <file or flag>: <what>`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwopkit.console import HelpFormatter, output_console, print_next, run_console
from qwopkit.errors import InputError
from qwopkit.imitation.config import BCConfig
from qwopkit.imitation.presets import PRESETS, Preset, Sources
from qwopkit.imitation.pretrain import SHAPING, resolve_preset, shape

if TYPE_CHECKING:
    from rich.console import Console

    from qwopkit.imitation.bc import Demos
    from qwopkit.imitation.pretrain import PreparedDemos

PROG = "qwop-pretrain"
# Library parameters and the flags that set them: the error funnel names the flag.
FLAGS = {"specs": "--demos", "train_actions": "--demos", "train_obs": "--demos", "valid_obs": "--demos",
         "split": "--split", "valid_fraction": "--valid", "lr": "--lr",
         "per_decision": "--recovery", "depth": "--recovery-depth", "overwrite": "--force", "out": "--out",
         "preset": "--preset"}


def build_parser() -> argparse.ArgumentParser:
    d = BCConfig()
    p = argparse.ArgumentParser(prog=PROG, description="Clone recorded runs into the ACER policy network "
                                "(behaviour cloning); writes the model and its report.",
                                formatter_class=HelpFormatter)
    p.add_argument("--demos", nargs="+", required=True, metavar="SPEC",
                   help="episode files, folders or globs (kept episodes are used)")
    p.add_argument("--out", default="models/bc.zip", help="model file to write (SB3 zip)")
    p.add_argument("--force", action="store_true", help="replace the model (and its report) at --out")
    p.add_argument("--split", metavar="NAME", help="a named split of the episodes' splits.json "
                   "(qwop-data split); default: a seeded split by episode made in memory")
    p.add_argument("--valid", type=float, default=0.2, metavar="FRACTION",
                   help="validation fraction of the episodes, without --split")
    p.add_argument("--seed", type=int, default=d.seed, help="split and training seed")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="decisions per minibatch")
    p.add_argument("--epochs", type=int, default=d.max_epochs, help="at most this many epochs")
    p.add_argument("--patience", type=int, default=d.patience,
                   help="stop after this many epochs without a better validation loss")
    p.add_argument("--ent-coef", type=float, default=d.ent_coef, help="entropy bonus coefficient")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="Adam's weight decay")
    add_shaping_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def add_shaping_options(p: argparse.ArgumentParser) -> None:
    """The flags that shape what a clone learns from (qwop-pretrain's, and the cloning check's)."""
    d = BCConfig()
    p.add_argument("--class-balance", type=float, default=d.class_balance,
                   help="weigh each action's decisions by count^-X in the loss (0: as recorded, 1: balanced)")
    p.add_argument("--obs-noise", type=float, default=d.obs_noise,
                   help="Gaussian noise on the training inputs, in standard deviations of each feature")
    shaping = p.add_argument_group("shaping the demonstrations (docs/imitation.md); a preset sets the "
                                   "three below, each flag given replaces its value")
    shaping.add_argument("--preset", choices=sorted(PRESETS),
                         help="human: " + preset_flags(PRESETS["human"])
                              + "; bot: " + preset_flags(PRESETS["bot"])
                              + " (default: human unless every episode is a bot's)")
    shaping.add_argument("--drop-settling", action=argparse.BooleanOptionalAction, default=None,
                         help="leave out each run's decisions before its first key press")
    shaping.add_argument("--recovery", type=int, default=None, metavar="N",
                         help="add N recovery decisions per recorded training decision: the engine "
                              "takes other actions from his recorded state, labelled with his next one")
    shaping.add_argument("--recovery-depth", type=int, default=None, metavar="D",
                         help="recovery decisions are 1 to D other actions off his path")


def preset_flags(preset: Preset) -> str:
    """A preset as the flags that say the same."""
    return (f"{'--drop-settling' if preset.drop_settling else '--no-drop-settling'} "
            f"--recovery {preset.recovery} --recovery-depth {preset.recovery_depth}")


def describe_preset(record: dict[str, Any]) -> str:
    """One line: the preset, why, and the settings used (as flags)."""
    used = Preset(**record["used"])
    over = f"; given on the command line: {', '.join(record['flags_given'])}" if record["flags_given"] else ""
    return f"preset {record['name']} ({record['why']}): {preset_flags(used)}{over}"


def preparation_lines(prepared: PreparedDemos) -> list[str]:
    """What a clone is about to learn from, in lines (qwop-pretrain's, and qwop-finetune --init bc's)."""
    demos = prepared.demos
    lines = [describe_preset(prepared.preset)]
    if demos.shaping:
        lines.append(f"{demos.shaping['settling_dropped']} settling decisions left out, "
                     f"{demos.shaping['recovery_decisions']} recovery decisions added")
    lines.append(f"{len(demos.train_episodes)} train episodes ({len(demos.train_actions)} decisions), "
                 f"{len(demos.valid_episodes)} valid ({len(demos.valid_actions)} decisions)")
    return lines


def apply_preset(args: argparse.Namespace, sources: Sources) -> dict[str, Any]:
    """The shaping record for these flags (qwopkit.imitation.pretrain.resolve_preset), the flags
    not given filled from it (the cloning check shapes its demonstrations with them)."""
    record = resolve_preset(sources, args.preset, "--preset", **{k: getattr(args, k) for k in SHAPING})
    for key, value in record["used"].items():
        setattr(args, key, value)
    return record


def shaped(demos: Demos, args: argparse.Namespace, *, seed: int, progress: bool = False) -> Demos:
    """`demos` shaped as the flags (after apply_preset) say."""
    return shape(demos, {k: getattr(args, k) for k in SHAPING}, seed=seed, progress=progress)


def _check(args: argparse.Namespace) -> None:
    checks = (("--lr", args.lr, args.lr > 0), ("--batch-size", args.batch_size, args.batch_size >= 1),
              ("--epochs", args.epochs, args.epochs >= 1), ("--patience", args.patience, args.patience >= 1),
              ("--ent-coef", args.ent_coef, args.ent_coef >= 0),
              ("--weight-decay", args.weight_decay, args.weight_decay >= 0),
              ("--class-balance", args.class_balance, 0 <= args.class_balance <= 1),
              ("--obs-noise", args.obs_noise, args.obs_noise >= 0),
              ("--recovery", args.recovery, args.recovery is None or args.recovery >= 0),
              ("--recovery-depth", args.recovery_depth,
               args.recovery_depth is None or args.recovery_depth >= 1),
              ("--valid", args.valid, 0 < args.valid < 1))
    for flag, value, ok in checks:
        if not ok:
            raise InputError(flag, f"bad value {value}")
    from qwopkit.imitation.pretrain import check_output

    check_output(args.out, overwrite=args.force)


def run(args: argparse.Namespace) -> int:
    _check(args)
    # torch, SB3 and the trainer: only when the command runs (not for --help or a bad flag).
    from qwopkit.imitation.pretrain import prepare_demos, train_clone

    config = BCConfig(lr=args.lr, batch_size=args.batch_size, max_epochs=args.epochs, patience=args.patience,
                      ent_coef=args.ent_coef, weight_decay=args.weight_decay, seed=args.seed,
                      class_balance=args.class_balance, obs_noise=args.obs_noise)
    prepared = prepare_demos(args.demos, seed=args.seed, split=args.split, valid_fraction=args.valid,
                             preset=args.preset, preset_why="--preset", drop_settling=args.drop_settling,
                             recovery=args.recovery, recovery_depth=args.recovery_depth,
                             progress=not args.quiet)
    for line in preparation_lines(prepared):
        print(f"{PROG}: {line}", flush=True)
    result = train_clone(prepared, args.out, config=config, overwrite=args.force, progress=not args.quiet)
    print_report(result.report)
    print(f"{PROG}: model {result.model}, report {result.report_path}")
    for doubt in result.warnings:  # last, where they are seen; and in the report
        print(f"{PROG}: WARNING: {doubt}", file=sys.stderr, flush=True)
    print_next(f"qwop-eval {shlex.quote(str(result.model))}",
               f"qwop-finetune --demos {' '.join(shlex.quote(str(s)) for s in args.demos)} "
               f"--init {shlex.quote(str(result.model))}")
    return 0


def _names(paths: list[str], most: int = 8) -> str:
    names = [Path(p).name for p in paths]
    more = f" and {len(names) - most} more (see the report file)" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """The report as two tables: summary, and the validation confusion of the actions that occur."""
    import numpy as np
    from rich.table import Table

    console = console or output_console()
    table = Table(title="behaviour cloning", show_header=True)
    for col in ("", "episodes", "transitions", "loss", "accuracy"):
        table.add_column(col, justify="left" if not col else "right")
    for part in ("train", "valid"):
        r = report[part]
        table.add_row(part, str(len(report["episodes"][part])), str(r["transitions"]), f"{r['loss']:.4f}",
                      f"{100 * r['accuracy']:.1f}%")
    console.print(table)
    stop = "early stopping" if report["stopped_early"] else "epoch limit"
    console.print(f"best epoch {report['best_epoch']} of {report['epochs']} ({stop}), "
                  f"{report['seconds']:.1f} s")
    for part in ("train", "valid"):
        console.print(f"{part} episodes: {_names(report['episodes'][part])}")

    cm = np.array(report["valid"]["confusion"])
    used = [i for i in range(len(report["actions"])) if cm[i].sum() or cm[:, i].sum()]
    table = Table(title="validation confusion (rows: recorded, columns: predicted)")
    table.add_column("recorded")
    for i in used:
        table.add_column(report["actions"][i], justify="right")
    table.add_column("recall", justify="right")
    for i in used:
        recall = report["per_action"][i]["valid_recall"]
        table.add_row(report["actions"][i], *(str(cm[i, j]) for j in used),
                      "-" if recall is None else f"{100 * recall:.1f}%")
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    return run_console(PROG, lambda: run(args), flags=FLAGS)


if __name__ == "__main__":
    sys.exit(main())
