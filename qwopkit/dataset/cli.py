"""`qwop-data`: inspect, validate, merge, split, mark, re-estimate mu, replay, import and export.

The dataset library's command line: the top layer of `qwopkit.dataset`, knowing nothing of the
game or the learners. Three things need more, and are handed in as `Tools` by the console script
(qwopkit/commands/data.py): re-simulating episodes in the engine (`replay`), checking observations
against the engine's features (`validate --deep`), and the behaviour-cloning classifier
(`estimate-mu --classifier bc`). Every error a user can cause is one line,
`qwop-data: error: <file or flag>: <what>`, through the one error funnel (qwopkit.console),
with a non-zero exit; bad files among many are reported as warnings and skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from qwopkit.atomic import clean_leftovers
from qwopkit.console import HelpFormatter, error_line, output_console, print_next, run_console
from qwopkit.dataset.attributes import ATTRIBUTES
from qwopkit.dataset.episodes import EpisodeFile, ExtraCheck, open_episode
from qwopkit.dataset.errors import EpisodeError, EpisodeWarning
from qwopkit.dataset.paths import DEFAULT_DATA, NO_DEFAULT_DATA
from qwopkit.errors import InputError

PROG = "qwop-data"

# Library parameters and the flags that set them: the funnel names the flag in errors.
FLAGS = {"eps": "--eps", "k": "--k", "floor": "--floor", "method": "--method", "by": "--by",
         "valid_fraction": "--valid", "rating": "--rating", "add_tags": "--tag", "remove_tags": "--untag",
         "note": "--note", "exclude_reason": "--exclude", "kept": "--keep", "query": "--query",
         "part": "--part", "folder": "--folder", "name": "NAME", "factory": "--classifier",
         "episodes": "estimate-mu", "seed": "--seed", "mu_eps": "--eps", "player": "--player",
         "session": "--session", "dataset_id": "--id", "path": "--path", "split": "--split",
         "overwrite": "--force"}


@dataclass
class Tools:
    """What the commands need from above the dataset; absent, those commands say so."""

    # path -> a report with .replayed, .max_deviation and .line() (recorder.verify.ResimReport)
    replay: Callable[[Path], Any] | None = None
    deep_checks: list[ExtraCheck] = field(default_factory=list)
    bc_classifier: Callable[[int], Any] | None = None  # seed -> classifier factory for crossfit_mu
    # (features, torso x or None) -> outcome and estimates of an imported run (interop.import_npz)
    describe_run: Callable[..., dict] | None = None


def _out() -> Console:
    # A wide console when piped, so that tables are not squeezed to 80 columns in logs.
    return output_console(width_when_piped=200)


# ----------------------------------------------------------------------------- commands
def cmd_ls(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.index import build_index, filter_index

    if not args.specs:  # none given: the default folder, which a new user may not have yet
        if not DEFAULT_DATA.is_dir():
            raise EpisodeError(DEFAULT_DATA, NO_DEFAULT_DATA + " (qwop-data ls examples/data)")
        args.specs = [str(DEFAULT_DATA)]
    df = build_index(args.specs, progress=True)
    df = filter_index(df, player=args.player, session=args.session, outcome=args.outcome, kept=args.kept,
                      tag=args.tag, imported=args.imported, min_distance=args.min_distance,
                      min_rating=args.min_rating, query=args.query)
    if args.sort:
        if args.sort not in df.columns:
            raise EpisodeError("--sort", f"no column {args.sort!r} ({', '.join(df.columns)})")
        df = df.sort_values(args.sort, kind="stable")
    if args.csv:
        out = df.copy()
        out["tags"] = out["tags"].apply(lambda t: ",".join(t))
        sys.stdout.write(out.to_csv(index=False))
        return 0
    table = Table(title=f"{len(df)} episode(s)")
    numeric = ("distance", "hud_time", "steps", "rating")
    for col in ("file", "player", "outcome", *numeric[:3], "kept", "tags", "rating", "mu_method"):
        table.add_column(col, justify="right" if col in numeric else "left")
    for row in df.itertuples():
        kept = "yes" if row.kept else f"no: {row.exclude_reason}" if row.exclude_reason else "no"
        table.add_row(row.file, row.player, row.outcome, _num(row.distance, "{:.1f} m"),
                      _num(row.hud_time, "{:.1f} s"), str(row.steps), kept, ",".join(row.tags),
                      str(row.rating or "-"), row.mu_method)
    _out().print(table)
    return 0


def _num(value: float, fmt: str) -> str:
    return "-" if value is None or math.isnan(value) else fmt.format(value)


def cmd_info(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.curation import marks_for

    console = _out()
    with EpisodeFile(args.file) as ep:
        table = Table(title=str(ep.path), show_header=False)
        table.add_column("attribute")
        table.add_column("value")
        for attr in ATTRIBUTES:
            value = ep.meta[attr.name]
            if isinstance(value, list) and len(value) > 12:
                value = f"{len(value)} names: {', '.join(value[:4])}, ..."
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
            table.add_row(attr.name, text)
        console.print(table)
        data = Table(title="datasets")
        for col in ("name", "shape", "dtype"):
            data.add_column(col)
        for name in ep.shapes:
            data.add_row(name, str(ep.shapes[name]), str(ep.dtypes[name]))
        console.print(data)
        marks = marks_for(ep.path)
        if marks:
            console.print(f"marks from marks.json (they override the file's): "
                          f"{json.dumps(marks, ensure_ascii=False)}")
        if not ep.has_state:
            console.print("no raw state (imported episode): observations cannot be recomputed")
    return 0


def _folders(specs: Sequence[str]) -> list[Path]:
    """The folders the specs name or hold files in (for --clean)."""
    from qwopkit.dataset.paths import resolve_paths

    out: dict[Path, None] = {}
    for spec in specs:
        if Path(spec).is_dir():
            out[Path(spec)] = None
        else:
            try:
                out.update(dict.fromkeys(p.parent for p in resolve_paths([spec])))
            except EpisodeError:
                pass
    return list(out)


def cmd_validate(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.episodes import validate_file
    from qwopkit.dataset.paths import resolve_paths
    from qwopkit.dataset.progress import track

    if args.clean:
        for folder in _folders(args.specs):
            for removed in clean_leftovers(folder):
                print(f"removed {removed} (left by a writer that is gone)")
    paths = resolve_paths(args.specs)
    bad = 0
    for path in track(paths, "validating", total=len(paths)):
        try:
            validate_file(path, deep=args.deep, checks=tools.deep_checks)
            if args.verbose:
                print(f"ok: {path}")
        except EpisodeError as exc:
            bad += 1
            print(f"{PROG}: invalid: {exc}", file=sys.stderr)
    print(f"{len(paths) - bad} valid, {bad} invalid")
    return 1 if bad else 0


def cmd_merge(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.merge import merge

    report = merge(args.specs, args.out, progress=True)
    for line in report.errors:
        print(f"{PROG}: not merged: {line}", file=sys.stderr)
    print(f"{len(report.copied)} copied, {len(report.already_there)} already there, "
          f"{len(report.errors)} not merged, into {args.out}")
    return 1 if report.errors else 0


def cmd_split(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.splitting import make_split

    split = make_split(args.specs, args.name, by=args.by, valid_fraction=args.valid, seed=args.seed,
                       folder=args.folder, overwrite=args.force, include_excluded=args.include_excluded)
    extra = f" (valid players: {', '.join(split['valid_players'])})" if "valid_players" in split else ""
    left_out = len(split.get("excluded", []))
    if left_out:
        extra += f"; {left_out} excluded episode(s) left out (--include-excluded splits them too)"
    print(f"split {args.name!r}: {len(split['train'])} train, {len(split['valid'])} valid{extra}")
    return 0


def cmd_mark(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.curation import mark

    if not any((args.keep, args.exclude is not None, args.tag, args.untag, args.rating is not None,
                args.note is not None)):
        raise EpisodeError("mark", "nothing to do: give --keep, --exclude, --tag, --untag, --rating "
                           "or --note")
    result = mark(args.files, kept=True if args.keep else None, exclude_reason=args.exclude,
                  add_tags=args.tag, remove_tags=args.untag, rating=args.rating, note=args.note)
    for path, marks in result.items():
        kept = "kept" if marks["kept"] else f"excluded ({marks['exclude_reason']})"
        print(f"{path}: {kept}, tags {marks['tags']}, rating {marks['rating']}")
    return 0


def cmd_estimate_mu(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.mu import estimate_mu

    factory = None
    if args.method == "bc-crossfit" and args.classifier == "bc":
        # The behaviour-cloning trainer of qwopkit.imitation (the policy network itself), handed
        # in by the console script: the dataset library does not depend on the learners.
        if tools.bc_classifier is None:
            raise EpisodeError("--classifier", "bc needs qwopkit.imitation: run the qwop-data command "
                               "(or use --classifier softmax)")
        factory = tools.bc_classifier(args.seed)
    paths = estimate_mu(args.specs, args.method, eps=args.eps, k=args.k, seed=args.seed, floor=args.floor,
                        factory=factory, progress=True)
    print(f"mu ({args.method}) written to {len(paths)} episode(s)")
    return 0


def cmd_replay(args: argparse.Namespace, tools: Tools) -> int:
    """Exit 1 if any file could not be replayed or deviates beyond the tolerance: a gate."""
    from qwopkit.dataset.paths import resolve_paths

    if tools.replay is None:
        raise EpisodeError("replay", "needs the bundled engine: run the qwop-data command")
    if not args.tolerance >= 0:
        raise EpisodeError("--tolerance", f"must be >= 0, got {args.tolerance}")
    replayed = failed = 0
    worst = 0.0
    for path in resolve_paths(args.specs):
        try:
            report = tools.replay(path)
        except EpisodeError as exc:
            print(f"{PROG}: not replayed: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(report.line())
        if report.replayed:
            replayed += 1
            worst = max(worst, report.max_deviation)
        else:
            failed += 1
    print(f"{replayed} replayed (max deviation {worst:.3g}), {failed} not replayed")
    return 1 if failed or worst > args.tolerance else 0


def cmd_export_minari(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.interop import export_minari

    dataset = export_minari(args.specs, args.id, path=args.path, split=args.split, part=args.part,
                            include_excluded=args.include_excluded, progress=True)
    print(f"Minari dataset {args.id!r}: {dataset.total_episodes} episodes, {dataset.total_steps} steps")
    return 0


def cmd_fetch_seed(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.seed import FILES, FOLDER, fetch_seed_demos

    report = fetch_seed_demos(args.out or FOLDER, log=lambda line: print(f"{PROG}: {line}", flush=True))
    print(f"{PROG}: the seed's {len(FILES)} recordings are in {report.folder}/ ({len(report.downloaded)} "
          f"downloaded, {len(report.kept)} there already; every checksum right)")
    out = shlex.quote(str(report.folder))
    print_next(f"qwop-data import-npz {out}/kuro_try*.npz --player kurodo --out data/kurodo"
               "    # the top player's 50 runs as episodes")
    return 0


def cmd_import_npz(args: argparse.Namespace, tools: Tools) -> int:
    from qwopkit.dataset.interop import import_npz

    total = skipped = 0
    for npz in args.files:
        try:  # a bad file is skipped (import_npz wrote nothing of it); the others still import
            written = import_npz(npz, args.out, player=args.player, session=args.session, mu_eps=args.eps,
                                 overwrite=args.force, describe=tools.describe_run)
        except (InputError, OSError) as exc:
            if len(args.files) == 1:  # the one file: its error is the command's
                raise
            line = error_line(exc, flags=FLAGS)
            line = line if line.startswith(str(Path(npz))) else f"{npz}: {line}"
            warnings.warn(f"{line} (skipped)", EpisodeWarning, stacklevel=1)
            skipped += 1
            continue
        outcomes: Counter[str] = Counter()
        for episode_path in written:
            with open_episode(episode_path, marks=False) as episode:
                outcomes[episode.meta["outcome"]] += 1
        print(f"{npz}: {len(written)} episode(s) into {args.out} ("
              + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) + ")")
        total += len(written)
    if skipped:
        print(f"{PROG}: error: {skipped} of {len(args.files)} files skipped", file=sys.stderr)
    return 0 if total and not skipped else 1


# ----------------------------------------------------------------------------- parser
def _rating(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value <= 5:
        raise argparse.ArgumentTypeError(f"must be 0-5, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Inspect, check, curate and convert qwopkit episode "
                                "datasets (one HDF5 file per run).", formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                              formatter_class=HelpFormatter)

    def specs(s: argparse.ArgumentParser, **kwargs: Any) -> None:
        s.add_argument("specs", metavar="SPEC", help="episode files, folders or globs",
                       **({"nargs": "+"} | kwargs))

    s = command("ls", "list episodes as a table (filterable)")
    s.add_argument("specs", metavar="SPEC", nargs="*",
                   help=f"episode files, folders or globs (default: {DEFAULT_DATA}/, where qwop-record "
                        "writes)")
    s.add_argument("--player", help="only this player's episodes")
    s.add_argument("--session", help="only this session's episodes")
    s.add_argument("--outcome", choices=("finished", "fell", "timeout", "aborted", "unknown"),
                   help="only episodes that ended this way")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--kept", dest="kept", action="store_const", const=True, help="only kept episodes")
    g.add_argument("--excluded", dest="kept", action="store_const", const=False, help="only excluded ones")
    s.add_argument("--tag", help="only episodes with this tag")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--imported", dest="imported", action="store_const", const=True,
                   help="only episodes imported from the seed's .npz files")
    g.add_argument("--recorded", dest="imported", action="store_const", const=False,
                   help="only episodes recorded here (by people or bots)")
    s.add_argument("--min-distance", type=float, metavar="METRES", help="only runs at least this far")
    s.add_argument("--min-rating", type=int, metavar="N", help="only episodes rated at least N (1-5)")
    s.add_argument("--query", help="a pandas query over the index columns, e.g. 'steps > 100'")
    s.add_argument("--sort", metavar="COLUMN", help="column to sort by")
    s.add_argument("--csv", action="store_true", help="print CSV (every index column) instead of a table")
    s.set_defaults(func=cmd_ls)

    s = command("info", "attributes and datasets of one episode")
    s.add_argument("file", metavar="FILE", help="an episode file")
    s.set_defaults(func=cmd_info)

    s = command("validate", "check files; exit 1 if any is invalid")
    specs(s)
    s.add_argument("--deep", action="store_true",
                   help="also check the raw state and keys, and observations against the engine's features")
    s.add_argument("--clean", action="store_true",
                   help="first remove temporary files left by writers that are gone "
                        "(runs cut by a crash, killed marks)")
    s.add_argument("-v", "--verbose", action="store_true", help="print valid files too")
    s.set_defaults(func=cmd_validate)

    s = command("merge", "copy valid episodes (with their marks) into one folder")
    specs(s)
    s.add_argument("--out", required=True, metavar="FOLDER", help="destination folder")
    s.set_defaults(func=cmd_merge)

    s = command("split", "make a named, seeded train/valid split of the kept episodes (splits.json)")
    s.add_argument("name", metavar="NAME", help="the split's name (qwop-pretrain --split NAME)")
    specs(s)
    s.add_argument("--by", choices=("episode", "player"), default="episode",
                   help="shuffle episodes, or players (no player in both parts)")
    s.add_argument("--valid", type=float, default=0.2, metavar="FRACTION", help="fraction for validation")
    s.add_argument("--seed", type=int, default=0, help="seed of the shuffle")
    s.add_argument("--folder", help="where splits.json goes (default: the episodes' folder)")
    s.add_argument("--include-excluded", action="store_true",
                   help="split excluded episodes too (readers still skip them)")
    s.add_argument("--force", action="store_true", help="replace a split of the same name")
    s.set_defaults(func=cmd_split)

    s = command("mark", "keep/exclude, tag, rate or annotate episodes")
    s.add_argument("files", nargs="+", metavar="FILE", help="episode files to mark")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--keep", action="store_true", help="keep the episodes (undo an exclusion)")
    g.add_argument("--exclude", metavar="REASON", help="exclude the episodes from learning, saying why")
    s.add_argument("--tag", action="append", default=[], help="add a tag (repeatable)")
    s.add_argument("--untag", action="append", default=[], help="remove a tag (repeatable)")
    s.add_argument("--rating", type=_rating, help="0-5 (0 = unrated)")
    s.add_argument("--note", help="a free-text note (replaces the previous one)")
    s.set_defaults(func=cmd_mark)

    s = command("estimate-mu", "re-estimate mu (the behaviour policy's probabilities) and write it back")
    specs(s)
    s.add_argument("--method", choices=("bc-crossfit", "smoothed"), default="bc-crossfit",
                   help="bc-crossfit: each episode's mu from a classifier that never saw it; "
                        "smoothed: the recorded action with --eps spread over the others")
    s.add_argument("--eps", type=float, default=0.1, help="smoothed: mass shared by the other actions")
    s.add_argument("--k", type=int, default=5, help="bc-crossfit: folds")
    s.add_argument("--seed", type=int, default=0, help="bc-crossfit: seed of the folds and the training")
    s.add_argument("--floor", type=float, default=1e-3, help="bc-crossfit: probability floor")
    s.add_argument("--classifier", choices=("bc", "softmax"), default="bc",
                   help="bc-crossfit: the behaviour-cloning network (bc) or a plain softmax "
                        "regression (softmax, faster)")
    s.set_defaults(func=cmd_estimate_mu)

    s = command("replay", "re-simulate episodes and report deviations from their states")
    specs(s)
    s.add_argument("--tolerance", type=float, default=0.0, help="exit 1 above this deviation")
    s.set_defaults(func=cmd_replay)

    s = command("fetch-seed", "download the seed's published recordings (a top player's and a "
                              "beginner's SB2 .npz files), each checked against its checksum")
    s.add_argument("--out", type=Path, default=None, metavar="FOLDER",
                   help="where they go (default: data/seed-demos, where the tests and qwop-bench look)")
    s.set_defaults(func=cmd_fetch_seed)

    s = command("export-minari", "export kept episodes as a Minari dataset")
    specs(s)
    s.add_argument("--id", default="qwopkit/demos-v0", help="Minari dataset id")
    s.add_argument("--path", metavar="FOLDER",
                   help="Minari datasets root (default: MINARI_DATASETS_PATH or ~/.minari/datasets)")
    s.add_argument("--split", metavar="NAME", help="export one part of this named split")
    s.add_argument("--part", choices=("train", "valid"), default="train", help="with --split: which part")
    s.add_argument("--include-excluded", action="store_true", help="export excluded episodes too")
    s.set_defaults(func=cmd_export_minari)

    s = command("import-npz", "import the seed's SB2 expert .npz files")
    s.add_argument("files", nargs="+", metavar="NPZ", help="SB2 expert .npz files")
    s.add_argument("--out", required=True, metavar="FOLDER", help="destination folder")
    s.add_argument("--player", help="player name (default: the file name before its first _)")
    s.add_argument("--session", help="session name (default: the file name after its first _)")
    s.add_argument("--eps", type=float, default=0.1, help="smoothing of the recorded mu")
    s.add_argument("--force", action="store_true", help="overwrite existing episode files")
    s.set_defaults(func=cmd_import_npz)
    return p


def main(argv: Sequence[str] | None = None, tools: Tools | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 failure, 2 usage). Without `tools`,
    `replay`, the game's `validate --deep` checks and `--classifier bc` are not available."""
    args = build_parser().parse_args(argv)
    return run_console(PROG, lambda: args.func(args, tools or Tools()), flags=FLAGS, where=args.command)
