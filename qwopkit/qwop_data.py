"""The `qwop-data` console script: the dataset's command line with the parts above the dataset
plugged in (the library itself knows nothing of the game or the learners).

- `replay`: re-simulation in the bundled engine (qwopkit.recorder.verify.resimulate);
- `validate --deep`: observations checked against the engine's features as well;
- `estimate-mu --classifier bc`: the behaviour-cloning trainer of qwopkit.imitation.

    python -m qwopkit.qwop_data ls examples/data     # the same as `qwop-data ls examples/data`
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from qwopkit.dataset.cli import Tools
from qwopkit.dataset.cli import main as dataset_main


def _bc_classifier(seed: int):
    from qwopkit.imitation import BCConfig, bc_classifier_factory  # torch: only when asked for

    return bc_classifier_factory(BCConfig(seed=seed))


def _resimulate(path):
    from qwopkit.recorder.verify import resimulate  # the engine: only when asked for

    return resimulate(path)


def _features_problem(ep):
    from qwopkit.recorder.verify import features_problem

    return features_problem(ep)


def main(argv: Sequence[str] | None = None) -> int:
    tools = Tools(replay=_resimulate, deep_checks=[_features_problem], bc_classifier=_bc_classifier)
    return dataset_main(argv, tools)


if __name__ == "__main__":
    sys.exit(main())
