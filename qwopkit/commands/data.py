"""The `qwop-data` console script: the dataset's command line with the parts above the dataset
plugged in (the library itself knows nothing of the game or the learners).

- `replay`: re-simulation in the bundled engine (qwopkit.recorder.verify.resimulate);
- `validate --deep`: observations checked against the engine's features as well;
- `estimate-mu --classifier bc`: the behaviour-cloning trainer of qwopkit.imitation;
- `import-npz`: the outcome, distance and timing of each imported run, inferred from its features
  (qwopkit.adapter.openqwop.recorded.describe_run).

    python -m qwopkit.commands.data ls examples/data     # the same as `qwop-data ls examples/data`
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


def _describe_run(observations, torso_x):
    from qwopkit.adapter.openqwop.recorded import describe_run  # the game's knowledge of a run

    return describe_run(observations, torso_x)


def main(argv: Sequence[str] | None = None) -> int:
    tools = Tools(replay=_resimulate, deep_checks=[_features_problem], bc_classifier=_bc_classifier,
                  describe_run=_describe_run)
    return dataset_main(argv, tools)


if __name__ == "__main__":
    sys.exit(main())
