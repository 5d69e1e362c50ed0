"""Altair charts shared by the views: the overview's summaries, and curves, key timelines and mu per run.

Long runs are thinned for drawing only (at most MAX_POINTS points per curve, mu averaged over
groups of decisions): a browser draws 3,000 points per line no better than 1,500.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from qwopkit.adapter.features import ACTION_NAMES
from qwopkit.app.data import Run

MAX_POINTS = 1500
MAX_DECISIONS = 1200  # mu heatmap columns
KEYS = (("Q", 1), ("W", 2), ("O", 4), ("P", 8))
KEY_COLOURS = alt.Scale(domain=[k for k, _ in KEYS], range=["#d23a2c", "#e8a33d", "#2f62b0", "#3c9a5f"])
OUTCOME_COLOURS = alt.Scale(domain=["finished", "fell", "timeout", "aborted", "unknown"],
                            range=["#3c9a5f", "#d23a2c", "#e8a33d", "#8a8a8a", "#7f6fb0"])


# Fill the container's width at the chart's own height (Streamlit's default sizing squeezes the
# height of a chart drawn at the container's width).
FIT = alt.AutoSizeParams(type="fit-x", contains="padding")


def _every(n: int, limit: int) -> int:
    return max(1, -(-n // limit))


# ----------------------------------------------------------------------------- per run
def curves_frame(runs: list[Run]) -> pd.DataFrame:
    """Long table of torso speed, torso height and distance against time, one block per run."""
    parts = []
    for run in runs:
        k = _every(len(run.time), MAX_POINTS)
        for quantity, values in (("torso speed (m/s)", run.torso_speed),
                                 ("torso height (m)", run.torso_height), ("distance (m)", run.distance)):
            label = run.name
            if quantity.startswith("distance") and run.distance_estimated:
                label += " (estimated from the torso's speed)"
            parts.append(pd.DataFrame({"time": run.time[::k], "value": values[::k], "quantity": quantity,
                                       "episode": label}))
    return pd.concat(parts, ignore_index=True)


def curves(runs: list[Run], height: int = 200) -> list[alt.Chart]:
    """A chart per quantity (torso speed, torso height, distance), time on x, a line per run."""
    data = curves_frame(runs)
    out = []
    for quantity, part in data.groupby("quantity", sort=False):
        out.append(alt.Chart(part).mark_line(strokeWidth=1.3).encode(
            x=alt.X("time:Q", title="time (s)"),
            y=alt.Y("value:Q", title=quantity, scale=alt.Scale(zero=False)),
            color=alt.Color("episode:N", legend=alt.Legend(orient="top", title=None, labelLimit=400)
                            if len(runs) > 1 else None),
            tooltip=["episode", alt.Tooltip("time:Q", format=".2f"), alt.Tooltip("value:Q", format=".2f",
                                                                                  title=quantity)],
        ).properties(height=height, title=quantity, autosize=FIT))
    return out


def key_intervals(run: Run) -> pd.DataFrame:
    """(key, start, end) for every stretch a key was held, in seconds."""
    rows = []
    for key, bit in KEYS:
        held = np.concatenate([[False], (run.keys & bit) > 0, [False]])
        edges = np.flatnonzero(np.diff(held.astype(np.int8)))
        t0, step = run.key_time[0] if len(run.key_time) else 0.0, run.key_step
        for a, b in zip(edges[::2], edges[1::2]):
            rows.append((run.name, key, t0 + a * step, t0 + b * step))
    return pd.DataFrame(rows, columns=["episode", "key", "start", "end"])


def key_timeline(runs: list[Run], lane: int = 16) -> alt.Chart:
    """Which of Q, W, O, P were held at each update: a bar per held stretch, a lane per key (and run)."""
    data = pd.concat([key_intervals(r) for r in runs], ignore_index=True)
    keys = [k for k, _ in KEYS]
    many = len(runs) > 1
    encoding = {
        "x": alt.X("start:Q", title="time (s)"), "x2": "end:Q",
        "color": alt.Color("key:N", scale=KEY_COLOURS, legend=alt.Legend(orient="top", title=None) if many
                           else None),
        "tooltip": ["episode", "key", alt.Tooltip("start:Q", format=".2f"),
                    alt.Tooltip("end:Q", format=".2f")],
    }
    if many:  # a row per run, its four keys side by side within it
        encoding["y"] = alt.Y("episode:N", title=None, sort=[r.name for r in runs],
                              axis=alt.Axis(labelLimit=320))
        encoding["yOffset"] = alt.YOffset("key:N", sort=keys, scale=alt.Scale(domain=keys))
        height = lane * 4 * len(runs) + 8 * len(runs)
    else:
        encoding["y"] = alt.Y("key:N", sort=keys, title=None, scale=alt.Scale(domain=keys, paddingInner=0.25),
                              axis=alt.Axis(labelOverlap=False))
        height = lane * 4
    return alt.Chart(data).mark_bar().encode(**encoding).properties(height=height, autosize=FIT)


def mu_frame(run: Run) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """mu as (decision, action, mu) rows and the taken actions, averaged over groups of k decisions."""
    t = len(run.actions)
    k = _every(t, MAX_DECISIONS)
    groups = -(-t // k)
    padded = np.full((groups * k, run.mu.shape[1]), np.nan)
    padded[:t] = run.mu
    mu = np.nanmean(padded.reshape(groups, k, -1), axis=1)
    start = np.arange(groups) * k
    heat = pd.DataFrame({
        "decision": np.repeat(start, mu.shape[1]).astype(float),  # floats: Vega cannot plot Arrow's int64
        "action": np.tile(np.array(ACTION_NAMES), groups),
        "mu": mu.reshape(-1),
    })
    taken = pd.DataFrame({"decision": np.arange(t, dtype=float),
                          "action": np.array(ACTION_NAMES)[run.actions],
                          "mu of the taken action": run.mu[np.arange(t), run.actions]})
    return heat, taken, k


def mu_heatmap(run: Run, height: int = 300) -> alt.LayerChart | alt.FacetChart:  # as alt.layer
    """mu(a | s) for the 11 actions (rows) at every decision (columns); the taken action marked."""
    heat, taken, k = mu_frame(run)
    x = alt.X("decision:Q", title="decision" + (f" (mean of each {k})" if k > 1 else ""),
              scale=alt.Scale(domain=[0, max(1, len(run.actions))], nice=False))
    y = alt.Y("action:N", sort=list(ACTION_NAMES), title=None, axis=alt.Axis(labelOverlap=False))
    rects = alt.Chart(heat).mark_rect().encode(
        x=x, x2=alt.X2("end:Q"), y=y,
        color=alt.Color("mu:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]), title="mu"),
        tooltip=["decision", "action", alt.Tooltip("mu:Q", format=".3f")],
    ).transform_calculate(end=f"datum.decision + {k}")
    marks = alt.Chart(taken).mark_tick(color="#ff4b4b", thickness=1.5, size=6).encode(
        x=alt.X("decision:Q"), y=y,
        tooltip=["decision", "action", alt.Tooltip("mu of the taken action:Q", format=".3f")],
    )
    return alt.layer(rects, marks).properties(height=height, autosize=FIT)


# ----------------------------------------------------------------------------- overview
def player_colours(players: list[str]) -> alt.Scale:
    """One colour per player, the same in every chart of the page."""
    return alt.Scale(domain=sorted(players), scheme="tableau10" if len(players) <= 10 else "tableau20")


MAX_DOTS = 300  # runs drawn one by one in the per-player charts; above it, only the boxes


def per_player(df: pd.DataFrame, column: str, title: str,
               colours: alt.Scale) -> alt.LayerChart | alt.FacetChart:
    """One number per run (distance, HUD time) for each player: a box (quartiles, whiskers to the
    extremes) and, for a few hundred runs or fewer, every run as a dot.

    The boxes are computed here, not by Vega: a browser then gets a handful of rows for
    thousands of runs.
    """
    data = df[["player", column, "file", "outcome"]].dropna(subset=[column])
    stats = data.groupby("player")[column].describe()[["min", "25%", "50%", "75%", "max", "count"]]
    stats = stats.rename(columns={"25%": "q1", "50%": "median", "75%": "q3"}).reset_index()
    x = alt.X("player:N", title=None, axis=alt.Axis(labelAngle=-30))
    colour = alt.Color("player:N", scale=colours, legend=None)
    tip: list[Any] = ["player", alt.Tooltip("count:Q", title="runs"), alt.Tooltip("min:Q", format=".1f"),
           alt.Tooltip("median:Q", format=".1f"), alt.Tooltip("max:Q", format=".1f")]
    base = alt.Chart(stats).encode(x=x, color=colour, tooltip=tip)
    layers = [base.mark_rule().encode(y=alt.Y("min:Q", title=title), y2="max:Q"),
              base.mark_bar(size=26, opacity=0.35).encode(y="q1:Q", y2="q3:Q"),
              base.mark_tick(size=26, thickness=2, color="#333").encode(y="median:Q")]
    if len(data) <= MAX_DOTS:
        layers.append(alt.Chart(data).mark_circle(size=28, opacity=0.8).encode(
            x=x, y=f"{column}:Q", color=colour,
            xOffset=alt.XOffset("jitter:Q", scale=alt.Scale(domain=[-1, 1])),
            tooltip=["file", "player", "outcome", alt.Tooltip(f"{column}:Q", format=".1f")],
        ).transform_calculate(jitter="(random() - 0.5) * 0.8"))
    return alt.layer(*layers).properties(height=220, title=f"{title} per player", autosize=FIT)


def runs_over_time(df: pd.DataFrame, colours: alt.Scale) -> alt.Chart:
    """Runs recorded per minute, hour or day (whichever suits the span), by player."""
    data = df[["player", "start_time"]].dropna()
    span = (data["start_time"].max() - data["start_time"].min()) if len(data) else pd.Timedelta(0)
    if span <= pd.Timedelta(hours=3):
        freq, fmt, label = "min", "%m-%d %H:%M", "minute"
    elif span <= pd.Timedelta(days=3):
        freq, fmt, label = "h", "%m-%d %H:00", "hour"
    else:
        freq, fmt, label = "D", "%Y-%m-%d", "day"
    counts = (data.assign(when=data["start_time"].dt.floor(freq).dt.strftime(fmt))
                  .groupby(["when", "player"], as_index=False).size().rename(columns={"size": "runs"}))
    counts["runs"] = counts["runs"].astype(float)  # Arrow's int64 reaches Vega as a BigInt it cannot plot
    return alt.Chart(counts).mark_bar().encode(
        x=alt.X("when:O", title=f"recorded (per {label}, UTC)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("runs:Q", title="runs"),
        color=alt.Color("player:N", scale=colours, legend=alt.Legend(orient="right", title=None)),
        tooltip=["player", alt.Tooltip("when:O", title=label), "runs"],
    ).properties(height=220, title="runs over time", autosize=FIT)


def finish_rate(df: pd.DataFrame, colours: alt.Scale) -> alt.Chart:
    """Share of each player's runs that finished 100 m."""
    data = (df.assign(finished=df["outcome"] == "finished").groupby("player", as_index=False)
              .agg(rate=("finished", "mean"), runs=("finished", "size")).astype({"runs": float}))
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("player:N", title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("rate:Q", title="finish rate", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("player:N", scale=colours, legend=None),
        tooltip=["player", alt.Tooltip("rate:Q", format=".0%"), "runs"],
    ).properties(height=220, title="finish rate per player", autosize=FIT)
