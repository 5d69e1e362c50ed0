"""The bundled example data: real recordings of the bots, small, valid, and exact."""

from __future__ import annotations

from pathlib import Path

from qwopkit.dataset import build_index, validate_file
from qwopkit.recorder.verify import features_problem, resimulate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"


def test_examples_are_small_valid_and_of_different_skill():
    files = sorted(EXAMPLES.glob("*.h5"))
    assert len(files) >= 3
    # Whole runs on the original's physics are long (a stride run lasts 155-180 HUD s, 5,000
    # updates of raw state): two of them and four short runs stay under 10 MB.
    assert sum(f.stat().st_size for f in files) < 10 * 1024 * 1024
    for f in files:
        validate_file(f, deep=True, checks=[features_problem])
    index = build_index(EXAMPLES)
    outcomes = set(zip(index["player"], index["outcome"]))
    assert ("bot-stride", "finished") in outcomes and ("bot-flail", "fell") in outcomes
    assert set(index["player"]) >= {"bot-stride", "bot-shuffle", "bot-flail"}


def test_examples_resimulate_exactly():
    for f in sorted(EXAMPLES.glob("*.h5")):
        report = resimulate(f)
        assert report.max_deviation == 0.0, f.name
