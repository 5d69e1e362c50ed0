"""The page around the views: arguments, the sidebar (view, folder, undo) and one view.

    streamlit run app.py -- --data data/      # or: qwop-app --data data/

Without `--data` the app opens `data/` of the current folder, where qwop-record writes (the
bundled runs: `--data examples/data`). The view is bound to the address
(`?view=Episode&episode=NAME`), so a view can be shared as a link on the same machine.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

import streamlit as st

from qwopkit.app import compare, curate, data, episode, overview, state
from qwopkit.app.folder import DataFolder, default_data, missing_default_data
from qwopkit.dataset import EpisodeError

RENDER = {"Overview": overview.render, "Episode": episode.render, "Compare": compare.render,
          "Curate": curate.render}


def is_loopback(address: str) -> bool:
    """Whether a listening address lets only this machine in ("" means every interface)."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", add_help=False)
    parser.add_argument("--data", type=Path, default=None)
    args, _ = parser.parse_known_args(argv)  # Streamlit and test runners leave their own arguments
    args.given = args.data is not None
    args.data = args.data or default_data()
    return args


def main(argv: list[str] | None = None) -> None:
    st.set_page_config(page_title="qwopkit runs", page_icon="🏃", layout="wide")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        folder = DataFolder(args.data)
    except EpisodeError as exc:
        st.error(f"--data: {exc}" if args.given else f"--data: {missing_default_data()}")
        st.stop()
        return  # st.stop() ends the script under Streamlit only; run bare, the page ends here too

    side = st.sidebar
    side.title("qwopkit")
    view = side.radio("View", state.VIEWS, key="view", bind="query-params")
    index = data.load_index(folder)
    address = st.get_option("server.address") or ""
    side.caption(f"**{folder.root}**  \n{len(index.good)} episodes"
                 + (f", {len(index.bad)} unreadable" if len(index.bad) else "")
                 + f"  \nserving on {address or 'all interfaces'}")
    if not is_loopback(address):
        side.warning(f"Other machines can reach this app (it listens on {address or 'all interfaces'}). "
                     "`qwop-app` listens on 127.0.0.1 unless told otherwise.")
    curate.undo_button(folder, side, "sidebar:undo")
    if index.marks_error:
        st.error(f"{index.marks_error}. Marks are shown as stored in the episode files, and marking "
                 "fails until the marks file is repaired or moved away.")
    state.show_flash()
    RENDER[view](folder, index)
