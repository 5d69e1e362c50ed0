"""One browser session's state: the view, the ticked rows, the undo stack, messages after an action.

Streamlit forgets a widget's value when a run does not draw the widget (switching views would
reset the filters), so `remember` keeps a copy under another key and puts it back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from qwopkit.app import marking
from qwopkit.app.folder import DataFolder
from qwopkit.dataset import EpisodeError

VIEWS = ("Overview", "Episode", "Compare", "Curate")
UNDO_DEPTH = 50


def remember(key: str, default: Any) -> None:
    """Restore widget `key` from its kept copy (or `default`) before the widget is drawn."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"kept:{key}", default)


def keep(key: str) -> None:
    """Keep a copy of widget `key`'s value for the runs that do not draw it."""
    if key in st.session_state:
        st.session_state[f"kept:{key}"] = st.session_state[key]


def go(view: str, **params: str | list[str]) -> None:
    """Switch to a view (for on_click callbacks: they run before the widgets are drawn)."""
    st.session_state["view"] = view
    for key, value in params.items():
        st.session_state[key] = value


def selection() -> list[str]:
    """File names of the rows ticked in the overview's table."""
    return list(st.session_state.get("selection", []))


def set_selection(names: list[str]) -> None:
    st.session_state["selection"] = list(names)


def filtered() -> list[str]:
    """File names of the rows the overview's filters let through (the last time it was drawn)."""
    return list(st.session_state.get("filtered", []))


def flash(kind: str, text: str) -> None:
    """A message shown once, at the top of the next run ("success", "error", "info")."""
    st.session_state.setdefault("flash", []).append((kind, text))


def show_flash() -> None:
    """Messages of the last action: a toast (seen wherever the page is scrolled); errors also stay
    at the top of the page."""
    for kind, text in st.session_state.pop("flash", []):
        if kind == "error":
            st.error(text)
        icon = ":material/error:" if kind == "error" else ":material/check_circle:"
        st.toast(text, icon=icon, duration="long")


def undo_stack() -> list[marking.Change]:
    return st.session_state.setdefault("undo", [])


def attempt(what: str, action: Callable[[], Any]) -> Any:
    """Run an action; a user's mistake or a bad file becomes one error line, not a traceback."""
    try:
        return action()
    except (EpisodeError, OSError, ValueError) as exc:
        flash("error", f"{what}: {exc}")
        return None


def change_marks(folder: DataFolder, names: list[str], **marks: Any) -> None:
    """Mark episodes (a callback); the change goes on the undo stack."""
    change = attempt("marking", lambda: marking.apply(folder, names, **marks))
    if change is not None:
        stack = undo_stack()
        stack.append(change)
        del stack[:-UNDO_DEPTH]
        flash("success", change.description[:1].upper() + change.description[1:])


def undo_last(folder: DataFolder) -> None:
    stack = undo_stack()
    if not stack:
        return
    change = stack[-1]
    def undo() -> bool:
        marking.undo(folder, change)
        return True

    if attempt("undo", undo):
        stack.pop()
        flash("success", f"Undone: {change.description}")
