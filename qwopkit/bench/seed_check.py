"""`qwop-bench seed-check`: how well the seed system's own agents predict the top
player's recorded decisions, the check that their import (rl/common/seed_models.py) is right.

    qwop-bench seed-check [--models DIR] [--demos DIR]

For each SB2 zip in the models folder: the share of his decisions (kuro_try*.npz) where the
agent's most likely action is his ("agreement"), the mean probability it gives his action, and
the agreement the same network would have with its outputs left in the seed's action order
("unmapped"), beside chance and always answering his most frequent action. docs/seed-agents.md
has the figures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.bench.fidelity import default_seed_demos
from qwopkit.console import HelpFormatter, run_console
from qwopkit.errors import InputError
from qwopkit.spaces import SEED_TO_ACTION


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 an error a user caused)."""
    prog = "qwop-bench seed-check"
    parser = argparse.ArgumentParser(prog=prog, formatter_class=HelpFormatter,
                                     description="How well the seed's own agents predict the top player's "
                                                 "recorded decisions (the check of their import).")
    parser.add_argument("--models", type=Path, default=None,
                        help="folder of the seed's SB2 zips (default: QWOPKIT_SEED_MODELS, else "
                             "shared/data/seed-models beside the checkout)")
    parser.add_argument("--demos", type=Path, default=None,
                        help="folder of kuro_try*.npz (default: QWOPKIT_SEED_DEMOS, else "
                             "shared/data/seed-demos beside the checkout)")
    args = parser.parse_args(argv)

    def run() -> int:
        # torch and SB3: only when the command runs (not for --help).
        from qwopkit.rl.common.seed_models import (
            default_seed_models,
            demo_agreement,
            load_model,
            seed_demo_decisions,
        )

        models = sorted((args.models or default_seed_models()).glob("*.zip"))
        demos = sorted((args.demos or default_seed_demos()).glob("kuro_try*.npz"))
        if not models:
            raise InputError("--models", f"no *.zip in {args.models or default_seed_models()}")
        if not demos:
            raise InputError("--demos", f"no kuro_try*.npz in {args.demos or default_seed_demos()}")
        obs, actions = seed_demo_decisions(demos)
        print(f"{len(actions)} decisions of the top player ({len(demos)} files)")
        print(f"{'model':32} {'agreement':>9} {'p(his)':>7} {'unmapped':>9}")
        for path in models:
            policy: Any = load_model(path)
            figures = demo_agreement(policy, obs, actions)
            # The same network with its outputs left in the seed's order: what a missing reorder gives.
            unmapped = np.mean(policy.action_probabilities(obs)[:, SEED_TO_ACTION].argmax(axis=1) == actions)
            print(f"{path.name:32} {figures['agreement']:9.3f} {figures['probability']:7.3f} {unmapped:9.3f}")
        print(f"chance {figures['chance']:.3f}; always his most frequent action {figures['majority']:.3f}")
        return 0

    return run_console(prog, run, flags={"models": "--models", "demos": "--demos"})


if __name__ == "__main__":
    sys.exit(main())
