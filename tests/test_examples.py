"""The bundled example data: real recordings of the bots, small, valid, and exact."""

from __future__ import annotations

from pathlib import Path

from qwopkit.dataset import build_index, validate_file
from qwopkit.recorder.verify import features_problem, resimulate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"


def test_examples_are_small_valid_and_of_different_skill():
    files = sorted(EXAMPLES.glob("*.h5"))
    assert len(files) >= 3
    assert sum(f.stat().st_size for f in files) < 5 * 1024 * 1024
    for f in files:
        validate_file(f, deep=True, checks=[features_problem])
    index = build_index(EXAMPLES)
    outcomes = dict(zip(index["player"], index["outcome"]))
    assert outcomes["bot-stride"] == "finished" and outcomes["bot-flail"] == "fell"
    assert set(index["player"]) >= {"bot-stride", "bot-shuffle", "bot-flail"}


def test_examples_resimulate_exactly():
    for f in sorted(EXAMPLES.glob("*.h5")):
        report = resimulate(f)
        assert report.max_deviation == 0.0, f.name
