"""The curate view: marks for a set of episodes, the undo history, named splits and export.

`mark_panel` (keep / exclude, tags, rating, note) is also drawn by the overview for the ticked
rows and by the episode view for its one episode. Everything written goes through the dataset
library: marks (`mark`), splits (`make_split`), copies (`merge`) and Minari (`export_minari`);
nothing is ever deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from qwopkit.app import data, state
from qwopkit.app.data import Index
from qwopkit.app.folder import DataFolder
from qwopkit.dataset import EpisodeError, export_minari, make_split, merge

RATINGS = (0, 1, 2, 3, 4, 5)  # 0: not rated


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _mark(folder: DataFolder, names: list[str], what: str, key: str) -> None:
    """Button callback: read the panel's inputs and mark the episodes."""
    ss = st.session_state
    if what == "keep":
        state.change_marks(folder, names, kept=True)
    elif what == "exclude":
        state.change_marks(folder, names, exclude_reason=ss.get(f"{key}:reason", "").strip())
    elif what in ("add", "remove"):
        tags = _tags(ss.get(f"{key}:tags", ""))
        if not tags:
            state.flash("error", "tags: type one or more tags, separated by commas")
            return
        state.change_marks(folder, names, **{f"{what}_tags": tags})
    elif what == "rating":
        state.change_marks(folder, names, rating=int(ss.get(f"{key}:rating", 0)))
    elif what == "note":
        state.change_marks(folder, names, note=ss.get(f"{key}:note", ""))


def mark_panel(folder: DataFolder, names: list[str], key: str, *, note: str = "",
               current: dict | None = None) -> None:
    """Buttons and inputs that mark `names` (one episode or many) in one locked write each.

    `current` (one episode's marks) fills the inputs with its rating, note and exclusion reason;
    give such a panel a `key` of its own per episode, so that the inputs follow the episode.
    """
    disabled = not names
    current = current or {}
    click = partial(_mark, folder, list(names))
    c1, c2, c3 = st.columns([1, 1, 3], vertical_alignment="bottom")
    c1.button("Keep", key=f"{key}:keep", on_click=click, args=("keep", key), disabled=disabled,
              width="stretch", help="keep for training (clears the exclusion reason)")
    c2.button("Exclude", key=f"{key}:exclude", on_click=click, args=("exclude", key), disabled=disabled,
              type="primary", width="stretch", help="leave out of training; nothing is deleted")
    c3.text_input("reason for excluding", key=f"{key}:reason", placeholder="e.g. fell at the start",
                  value=current.get("exclude_reason", ""))
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    c1.text_input("tags (comma-separated)", key=f"{key}:tags", placeholder="e.g. clean, leg-swing")
    c2.button("Add tags", key=f"{key}:add", on_click=click, args=("add", key), disabled=disabled,
              width="stretch")
    c3.button("Remove tags", key=f"{key}:remove", on_click=click, args=("remove", key), disabled=disabled,
              width="stretch")
    c1, c2, c3, c4 = st.columns([1.2, 1, 2.6, 1], vertical_alignment="bottom")
    c1.selectbox("rating", RATINGS, key=f"{key}:rating", index=RATINGS.index(current.get("rating", 0)),
                 format_func=lambda r: "★" * r if r else "none")
    c2.button("Set rating", key=f"{key}:rate", on_click=click, args=("rating", key), disabled=disabled,
              width="stretch")
    c3.text_input("note", key=f"{key}:note", placeholder="a note for the curators",
                  value=current.get("note", ""))
    c4.button("Set note", key=f"{key}:setnote", on_click=click, args=("note", key), disabled=disabled,
              width="stretch")
    if note:
        st.caption(note)


def undo_button(folder: DataFolder, where: Any, key: str) -> None:  # `st` or a container of it
    stack = state.undo_stack()
    label = f"Undo: {stack[-1].description}" if stack else "Undo (nothing to undo)"
    where.button(label, key=key, on_click=state.undo_last, args=(folder,), disabled=not stack,
                 help="write back the marks these episodes had before the last change")


# ----------------------------------------------------------------------------- the view
def _target(index: Index) -> list[str]:
    good = index.good["file"].tolist()
    ticked = [n for n in state.selection() if n in set(good)]
    shown = [n for n in state.filtered() if n in set(good)] if "filtered" in st.session_state else good
    options = {f"ticked rows in the overview ({len(ticked)})": ticked,
               f"rows the overview's filters show ({len(shown)})": shown,
               f"every episode in the folder ({len(good)})": good}
    # Ticked rows when there are some, else what the overview shows.
    pick = st.radio("Episodes", list(options), key="curate:target", horizontal=True, index=0 if ticked else 1)
    return options[pick]


def render(folder: DataFolder, index: Index) -> None:
    st.header("Curate")
    names = _target(index)
    preview = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    st.caption(preview or "no episodes: tick rows in the overview's table, or choose another set")

    st.subheader("Marks")
    mark_panel(folder, names, "curate")
    stack = state.undo_stack()
    undo_button(folder, st, "curate:undo")
    if stack:
        with st.expander(f"Changes this session ({len(stack)})"):
            for change in reversed(stack):
                st.markdown(f"- {change.description}")

    st.subheader("Splits")
    _splits(folder, names)
    st.subheader("Export")
    _export(folder, names)


def _splits(folder: DataFolder, names: list[str]) -> None:
    try:
        splits = data.load_splits(folder)
    except EpisodeError as exc:  # a damaged splits file: one line, the rest of the page still works
        st.error(f"splits: {exc}")
        splits = {}
    if splits:
        rows = [{"split": name, "by": s.get("by", "?"), "seed": s.get("seed"),
                 "valid fraction": s.get("valid_fraction"), "train": len(s["train"]),
                 "valid": len(s["valid"]),
                 "valid players": ", ".join(s.get("valid_players", [])), "created": s.get("created", "")}
                for name, s in splits.items()]
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.caption("no named splits in this folder yet")
    with st.form("curate:split-form", border=True):
        c1, c2, c3, c4 = st.columns([2, 1.4, 1, 1])
        c1.text_input("split name", key="split:name", value="by-player")
        c2.radio("by", ("episode", "player"), key="split:by", horizontal=True,
                 help="by player: no player is in both parts")
        c3.number_input("valid fraction", 0.0, 0.9, 0.2, 0.05, key="split:valid")
        c4.number_input("seed", 0, 2**31 - 1, 0, key="split:seed")
        st.checkbox("replace a split of the same name", key="split:overwrite")
        st.form_submit_button(f"Make split of {len(names)} episodes", on_click=_make_split,
                              args=(folder, list(names)), disabled=not names)


def _make_split(folder: DataFolder, names: list[str]) -> None:
    ss = st.session_state
    name = ss["split:name"].strip()

    def make() -> dict:
        if not ss["split:overwrite"] and name in data.load_splits(folder):
            raise ValueError(f"there is already a split named {name!r}: tick 'replace a split of the same "
                             "name' to make it again")
        return make_split([folder.episode(n) for n in names], name, by=ss["split:by"],
                          valid_fraction=float(ss["split:valid"]), seed=int(ss["split:seed"]),
                          folder=folder.root, overwrite=bool(ss["split:overwrite"]))

    split = state.attempt(f"split {name!r}", make)
    if split is not None:
        left_out = len(split.get("excluded", []))
        extra = f"; {left_out} excluded episode(s) left out of both parts" if left_out else ""
        state.flash("success",
                    f"Split {name!r}: {len(split['train'])} train, {len(split['valid'])} valid{extra}")


def _export(folder: DataFolder, names: list[str]) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%d")  # a default that stays put while the page reruns
    c1, c2 = st.columns(2)
    with c1.form("curate:copy-form"):
        st.markdown("**Copy** the episodes (marks included) to a folder inside the data folder")
        st.text_input("folder", value=f"exports/selection-{stamp}", key="export:copy")
        st.form_submit_button(f"Copy {len(names)} episodes", on_click=_copy, args=(folder, list(names)),
                              disabled=not names)
    with c2.form("curate:minari-form"):
        st.markdown("**Minari** dataset of the kept episodes, inside the data folder")
        a, b = st.columns(2)
        a.text_input("dataset id", value="qwopkit/demos-v0", key="export:minari-id")
        b.text_input("datasets folder", value="minari", key="export:minari-root")
        st.checkbox("include excluded episodes", key="export:minari-excluded")
        st.form_submit_button(f"Export {len(names)} episodes to Minari", on_click=_minari,
                              args=(folder, list(names)), disabled=not names)


def _copy(folder: DataFolder, names: list[str]) -> None:
    ss = st.session_state

    def copy():
        dest = folder.inside(ss["export:copy"], what="export folder")
        if dest.resolve() == folder.root:
            raise ValueError("the copies need a folder other than the data folder itself")
        return dest, merge([folder.episode(n) for n in names], dest)

    result = state.attempt("copy", copy)
    if result is not None:
        dest, report = result
        where = dest.relative_to(folder.root)
        state.flash("success", f"Copied {len(report.copied)} episodes to {where}/"
                    + (f" ({len(report.already_there)} were already there)" if report.already_there else ""))
        for line in report.errors:
            state.flash("error", f"copy: {line}")


def _minari(folder: DataFolder, names: list[str]) -> None:
    ss = st.session_state
    dataset_id = ss["export:minari-id"].strip()

    def export():
        root = folder.inside(ss["export:minari-root"], what="Minari datasets folder")
        folder.inside(f"{ss['export:minari-root']}/{dataset_id}", what="Minari dataset id")
        export_minari([folder.episode(n) for n in names], dataset_id, path=root,
                      include_excluded=bool(ss["export:minari-excluded"]))
        return root

    root = state.attempt("Minari export", export)
    if root is not None:
        state.flash("success", f"Minari dataset {dataset_id} written under {root.relative_to(folder.root)}/")
