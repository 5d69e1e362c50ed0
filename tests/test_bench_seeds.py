"""qwop-bench seeds: the statistics over seeds (IQM as rliable computes it, its bootstrap
interval, medians and ranges) and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qwopkit.bench.seeds import UNFINISHED, best_time_by, iqm, iqm_interval, main, spread


def _report(seed: int, best: list[float | None], seconds: list[float], first: float | None) -> dict:
    return {"kind": "qwopkit-training-report", "config": {"seed": seed}, "steps": 1000 * (seed + 1),
            "seconds": seconds[-1], "curve": {"best_time": best, "seconds": seconds},
            "training": {"first_finish_step": None if first is None else 100,
                         "first_finish_seconds": first},
            "evaluation": {"last": None, "history": []}}


def test_iqm_is_the_trimmed_mean_rliable_uses():
    # scipy.stats.trim_mean(x, 0.25): int(n/4) values cut from each end.
    assert iqm([1, 2, 3, 4]) == 2.5
    assert iqm([1, 2, 10]) == pytest.approx(13 / 3)  # n=3 cuts nothing
    assert iqm([5, 1, 100, 2, 3, 4, 7, 6]) == pytest.approx(np.mean([3, 4, 5, 6]))
    point, low, high = iqm_interval([50.0, 47.0, 49.0, 60.0], reps=500)
    assert point == iqm([50.0, 47.0, 49.0, 60.0]) and low <= point <= high and high - low > 1


def test_best_time_by_a_mark_and_unfinished_seeds():
    report = _report(0, [None, 80.0, 60.0, 55.0], [30, 90, 250, 700], first=90)
    assert best_time_by(report, 1) == UNFINISHED  # nothing finished in the first minute
    assert [best_time_by(report, m) for m in (2, 5, 20)] == [80.0, 60.0, 55.0]
    s = spread([47.0, None, 49.0])
    assert (s["median"], s["min"], s["max"], s["iqm"]) == (48.0, 47.0, 49.0, None)  # no IQM with a gap


def test_the_command_prints_the_table_and_writes_json(tmp_path: Path, capsys):
    for seed, best in enumerate((50.0, 48.0, 52.0)):
        (tmp_path / f"a{seed}.json").write_text(json.dumps(_report(seed, [70.0, best], [50, 1200], 50)))
    out = tmp_path / "figures.json"
    plot = tmp_path / "c.png"
    assert main(["--run", f"A={tmp_path}/a*.json", "--json", str(out), "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "| A | 3 | 70.00 [70.00-70.00]" in printed and "50.00 [48.00-52.00] IQM 50.00" in printed
    figures = json.loads(out.read_text())
    assert figures["A"]["best_time_by_minutes"]["20"]["values"] == [50.0, 48.0, 52.0]
    assert plot.stat().st_size > 0
    assert main(["--run", f"A={tmp_path}/nothing*.json"]) == 1
    assert "qwop-bench seeds: error: --run: " in capsys.readouterr().err
