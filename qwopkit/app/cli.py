"""`qwop-app`: start the Streamlit browser and curator on a folder of episodes.

    qwop-app --data data/                  # http://127.0.0.1:8501, this machine only
    qwop-app --data data/ --address 0.0.0.0 --port 8600   # reachable from the network

It runs `streamlit run` on the app in this process, with the address bound to localhost unless
`--address` says otherwise, usage statistics off, no first-run email prompt, and no file watcher.
It starts the same way in a terminal, in the background or under a service manager: Streamlit
asks for an email on its first run unless `server.showEmailPrompt` is off, and without a
terminal that prompt meets the end of its input and Streamlit exits 255 with no message of its
own. Whether a browser window opens is Streamlit's own rule (not without a display) unless
`--no-browser` says never.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qwopkit.app.folder import default_data, missing_default_data
from qwopkit.console import HelpFormatter

PROG = "qwop-app"
SCRIPT = Path(__file__).with_name("streamlit_app.py")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Start the Streamlit browser and curator "
                                                           "on a folder of episodes.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="folder of episode files (default: data/, where qwop-record writes)")
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to listen on (127.0.0.1: this machine only; 0.0.0.0 shares it)")
    parser.add_argument("--port", type=int, default=8501, help="port to listen on")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    return parser


def streamlit_argv(args: argparse.Namespace) -> list[str]:
    """The `streamlit run` command line for these arguments."""
    return ["streamlit", "run", str(SCRIPT),
            "--server.address", args.address, "--server.port", str(args.port),
            *(["--server.headless", "true"] if args.no_browser else []),
            "--server.showEmailPrompt", "false",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer",
            "--", "--data", str(args.data)]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data is None and not default_data().is_dir():
        parser.error(f"--data: {missing_default_data()}")
    args.data = args.data or default_data()
    if not args.data.is_dir():
        parser.error(f"--data: {args.data} is not a folder")
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1-65535, got {args.port}")
    from streamlit.web import cli as streamlit_cli

    sys.argv = streamlit_argv(args)
    return streamlit_cli.main()


if __name__ == "__main__":
    sys.exit(main())
