"""The compare view: two or more episodes side by side (curves over time, key timelines).

The episodes default to the rows ticked in the overview (the Compare button puts them here).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qwopkit.app import charts, data, state
from qwopkit.app.data import Index
from qwopkit.app.folder import DataFolder
from qwopkit.dataset import EpisodeError

MAX_RUNS = 8


def render(folder: DataFolder, index: Index) -> None:
    names = index.good["file"].tolist()
    st.header("Compare")
    if "compare" in st.session_state:  # drop names of files that went away
        st.session_state["compare"] = [n for n in st.session_state["compare"] if n in set(names)]
    else:
        st.session_state["compare"] = [n for n in state.selection() if n in set(names)][:MAX_RUNS]
    picked = st.multiselect("episodes", names, key="compare", max_selections=MAX_RUNS,
                            persist_state="session", placeholder="choose two or more episodes")
    if len(picked) < 2:
        st.info("Choose at least two episodes (or tick them in the overview and press Compare).")
        return
    runs = []
    for name in picked:
        try:
            runs.append(data.load_run(folder, name))
        except EpisodeError as exc:
            st.error(str(exc))
    if len(runs) < 2:
        return
    st.dataframe(pd.DataFrame([{
        "episode": r.name, "player": r.meta["player"], "outcome": r.meta["outcome"],
        "distance (m)": r.meta["distance"], "HUD time (s)": r.meta["hud_time"], "decisions": r.steps,
        "source": data.source_of(r.meta["player"], r.meta["imported"]), "kept": r.meta["kept"],
    } for r in runs]), hide_index=True, column_config={
        "distance (m)": st.column_config.NumberColumn(format="%.1f"),
        "HUD time (s)": st.column_config.NumberColumn(format="%.1f")})
    st.subheader("Torso speed, torso height and distance")
    for chart in charts.curves(runs, height=230):
        st.altair_chart(chart, width="stretch")
    st.subheader("Keys held")
    st.altair_chart(charts.key_timeline(runs), width="stretch")
