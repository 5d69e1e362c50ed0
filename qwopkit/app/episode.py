"""The episode view: the run replayed by the game's own page, its marks, keys, curves and mu.

The episode comes from the selectbox, which is bound to the URL (`?view=Episode&episode=NAME`):
a name from the URL that is not one of the folder's episodes is refused with one line, and
nothing outside the folder is ever opened.
"""

from __future__ import annotations

import math

import streamlit as st

from qwopkit.app import charts, data, state
from qwopkit.app.curate import mark_panel
from qwopkit.app.data import Index, Run
from qwopkit.app.folder import DataFolder
from qwopkit.app.replay import HEIGHT, replay_document
from qwopkit.dataset import EpisodeError


def _step(names: list[str], current: str, by: int) -> None:
    """Button callback: the previous / next episode of the overview's filtered rows."""
    if current in names:
        st.session_state["episode"] = names[(names.index(current) + by) % len(names)]


def _refuse_bad_url_name(folder: DataFolder, names: list[str]) -> None:
    asked = st.query_params.get("episode")
    if asked and asked not in names:
        try:
            folder.episode(asked)
            problem = f"{asked}: not a readable episode of this folder"
        except EpisodeError as exc:
            problem = str(exc)
        st.error(f"episode from the address: {problem}")


def _number(value: float, fmt: str) -> str:
    return fmt.format(value) if isinstance(value, float) and math.isfinite(value) else "-"


def summary(run: Run) -> None:
    m = run.meta
    cols = st.columns([1.4, 1, 1, 1, 1.2, 1])
    cols[0].metric("outcome", m["outcome"])
    cols[1].metric("distance", _number(m["distance"], "{:.1f} m"))
    cols[2].metric("HUD time", _number(m["hud_time"], "{:.1f} s"))
    cols[3].metric("decisions", f"{run.steps:,}")
    cols[4].metric("kept", "yes" if m["kept"] else "excluded")
    cols[5].metric("rating", "★" * m["rating"] if m["rating"] else "-")
    details = [f"player **{m['player']}**", f"session {m['session']}", f"recorded {m['start_time'] or '-'}",
               f"mu: {m['mu_method']}", f"source: {data.source_of(m['player'], m['imported'])}",
               f"frame skip {m['frame_skip']}"]
    if m["tags"]:
        details.append("tags: " + ", ".join(m["tags"]))
    if not m["kept"] and m["exclude_reason"]:
        details.append(f"excluded because: {m['exclude_reason']}")
    if m["note"]:
        details.append(f"note: {m['note']}")
    st.markdown(" · ".join(details))


def render(folder: DataFolder, index: Index) -> None:
    names = index.good["file"].tolist()
    st.header("Episode")
    _refuse_bad_url_name(folder, names)
    if not names:
        st.info("No episodes in this folder yet.")
        return
    c1, c2, c3 = st.columns([6, 1, 1], vertical_alignment="bottom")
    name = c1.selectbox("episode", names, key="episode", bind="query-params")
    order = [n for n in state.filtered() if n in set(names)] or names
    c2.button("◀ previous", key="episode:prev", on_click=_step, args=(order, name, -1), width="stretch")
    c3.button("next ▶", key="episode:next", on_click=_step, args=(order, name, 1), width="stretch")
    try:
        run = data.load_run(folder, name)
    except EpisodeError as exc:
        st.error(str(exc))
        return
    summary(run)

    document = replay_document(run)
    if document is None:
        st.warning(run.replay_note or "This run cannot be replayed.")
    else:
        st.iframe(document, height=HEIGHT)
        st.caption(run.replay_note or "Replay drawn by the game's own page from the recorded states "
                                      "(30 per second). Space plays and pauses; ← → step one update.")

    with st.expander("Marks", expanded=True):
        mark_panel(folder, [name], f"episode:{name}", current=run.meta)

    if not run.steps:  # legal (a run that ended before its first decision): nothing to chart
        st.info("This run has no decisions: there are no keys, curves or mu to draw.")
        return
    st.subheader("Keys held")
    st.altair_chart(charts.key_timeline([run]), width="stretch")
    st.subheader("Torso speed, torso height and distance")
    for where, chart in zip(st.columns(3), charts.curves([run])):
        where.altair_chart(chart, width="stretch")
    st.subheader("Behaviour-policy estimate mu")
    st.caption("mu(a | s) of each of the 11 actions at each decision (brighter: more likely); the red "
               "ticks are the actions taken. Dark columns with no bright cell are decisions where the "
               "estimate is unsure.")
    st.altair_chart(charts.mu_heatmap(run), width="stretch")
