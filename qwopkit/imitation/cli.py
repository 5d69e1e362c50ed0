"""`qwop-pretrain`: clone recorded players into the ACER policy (behaviour cloning).

    qwop-pretrain --demos data/*.h5 [--out models/bc.zip] [--split NAME | --valid 0.2] [--seed 0]

Kept episodes only; train / valid by episode; cross-entropy with an entropy bonus; early
stopping on the validation loss. Writes the model (SB3 zip) and its report (JSON) and prints
the report. Every error a user can cause is one line: `qwop-pretrain: error: <file or flag>: <what>`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwopkit.console import HelpFormatter, print_next, run_console
from qwopkit.errors import ExistsError, InputError

from .config import BCConfig
from .presets import PRESETS, Preset, Sources

if TYPE_CHECKING:
    from .bc import Demos

PROG = "qwop-pretrain"
# Library parameters and the flags that set them: the error funnel names the flag.
FLAGS = {"specs": "--demos", "train_actions": "--demos", "train_obs": "--demos", "valid_obs": "--demos",
         "split": "--split", "valid_fraction": "--valid", "lr": "--lr",
         "per_decision": "--recovery", "depth": "--recovery-depth", "overwrite": "--force"}


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
                         help="human: " + _settings(PRESETS["human"]) + "; bot: " + _settings(PRESETS["bot"])
                              + " (default: human unless every episode is a bot's)")
    shaping.add_argument("--drop-settling", action=argparse.BooleanOptionalAction, default=None,
                         help="leave out each run's decisions before its first key press")
    shaping.add_argument("--recovery", type=int, default=None, metavar="N",
                         help="add N recovery decisions per recorded training decision: the engine "
                              "takes other actions from his recorded state, labelled with his next one")
    shaping.add_argument("--recovery-depth", type=int, default=None, metavar="D",
                         help="recovery decisions are 1 to D other actions off his path")


def _settings(preset: Preset) -> str:
    """A preset as the flags that say the same."""
    return (f"{'--drop-settling' if preset.drop_settling else '--no-drop-settling'} "
            f"--recovery {preset.recovery} --recovery-depth {preset.recovery_depth}")


def apply_preset(args: argparse.Namespace, sources: Sources) -> dict[str, Any]:
    """Fill the shaping flags not given from `--preset`, or from the preset the episodes call for
    (their own attributes: a person's, imported or recorded, or a bot's); returns the record kept
    in the report and the model."""
    from .presets import choose_preset, preset_record

    if args.preset:
        name, why = args.preset, "--preset"
    else:
        name, why = choose_preset(sources)
    preset = PRESETS[name]
    given = {k: getattr(args, k) for k in ("drop_settling", "recovery", "recovery_depth")}
    for key, value in given.items():
        if value is None:
            setattr(args, key, getattr(preset, key))
    used = {k: getattr(args, k) for k in given}
    changed = [k for k, v in given.items() if v is not None and v != getattr(preset, k)]
    return {**preset_record(name, why, used), "flags_given": changed}


def shaped(demos: Demos, args: argparse.Namespace, *, seed: int, progress: bool = False) -> Demos:
    """`demos` shaped as add_shaping_options' flags ask (the engine is loaded only then)."""
    if not (args.drop_settling or args.recovery):
        return demos
    from .recovery import shape_demos

    return shape_demos(demos, drop_settling=args.drop_settling, recovery=args.recovery,
                       recovery_depth=args.recovery_depth, seed=seed, progress=progress)


def describe_preset(record: dict[str, Any]) -> str:
    """One line: the preset, why, and the settings used."""
    used = Preset(**record["used"])
    over = f"; given on the command line: {', '.join(record['flags_given'])}" if record["flags_given"] else ""
    return f"preset {record['name']} ({record['why']}): {_settings(used)}{over}"


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
    if not str(args.out).endswith(".zip"):
        raise InputError("--out", f"the model file must end in .zip, got {args.out!r}")
    if Path(args.out).exists() and not args.force:
        raise ExistsError(args.out, "a model is there already")


def run(args: argparse.Namespace) -> int:
    _check(args)
    # torch, SB3 and the trainer: only when the command runs (not for --help or a bad flag).
    from qwopkit.rl.policies import save_policy

    from .bc import load_demos, train_bc
    from .presets import episode_sources
    from .report import build_report, doubts, print_report, report_path, summary, write_report

    config = BCConfig(lr=args.lr, batch_size=args.batch_size, max_epochs=args.epochs, patience=args.patience,
                      ent_coef=args.ent_coef, weight_decay=args.weight_decay, seed=args.seed,
                      class_balance=args.class_balance, obs_noise=args.obs_noise)
    demos = load_demos(args.demos, split=args.split, valid_fraction=args.valid, seed=args.seed)
    sources = episode_sources(demos.train_episodes + demos.valid_episodes)
    preset = apply_preset(args, sources)
    print(f"{PROG}: {describe_preset(preset)}", flush=True)
    if args.drop_settling or args.recovery:
        demos = shaped(demos, args, seed=args.seed, progress=not args.quiet)
        print(f"{PROG}: {demos.shaping['settling_dropped']} settling decisions left out, "
              f"{demos.shaping['recovery_decisions']} recovery decisions added", flush=True)
    print(f"{PROG}: {len(demos.train_episodes)} train episodes ({len(demos.train_actions)} decisions), "
          f"{len(demos.valid_episodes)} valid ({len(demos.valid_actions)} decisions)", flush=True)
    start = time.monotonic()
    result = train_bc(demos.train_obs, demos.train_actions, demos.valid_obs, demos.valid_actions, config,
                      progress=not args.quiet)
    report = build_report(demos, result, config, specs=[str(s) for s in args.demos], model=args.out,
                          seconds=time.monotonic() - start, preset=preset)
    report["warnings"] = doubts(report, sources)
    model = save_policy(result.policy, args.out, info=summary(report))
    written = write_report(report, report_path(model))
    print_report(report)
    print(f"{PROG}: model {model}, report {written}")
    for doubt in report["warnings"]:  # last, where they are seen; and in the report
        print(f"{PROG}: WARNING: {doubt}", file=sys.stderr, flush=True)
    print_next(f"qwop-eval {shlex.quote(str(model))}",
               f"qwop-finetune --demos {' '.join(shlex.quote(str(s)) for s in args.demos)} "
               f"--init {shlex.quote(str(model))}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    return run_console(PROG, lambda: run(args), flags=FLAGS)


if __name__ == "__main__":
    sys.exit(main())
