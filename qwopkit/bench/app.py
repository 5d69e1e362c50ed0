"""How fast the overview pages in on a large folder (prints figures; asserts nothing).

    qwop-bench app                      # or: python -m qwopkit.bench.app [--files 2000] [--no-browser]

Writes synthetic episodes (the dataset library's benchmark episodes: 100 decisions with raw
state, four players) into a temporary folder, then times the overview two ways:

- script: the app's script run by Streamlit's AppTest, i.e. the server's side of one page load.
  "cold": no attribute cache in the folder and nothing in the app's cache (the first look at a
  new folder); "new server": the folder's attribute cache only (the app restarted); "cached":
  the app's cache holds the index (every later page load and rerun while nothing changed);
  "after a mark": one episode marked since the last load (the marks are part of the cache key).
- browser: a real `qwop-app` server and headless Chromium, from navigating to the address until
  the page shows "N of N files shown", the table and the four charts: the first visit after the
  server started on a folder without an attribute cache (this also fetches Streamlit's own
  scripts into the browser), later visits (new sessions, the app's cache), and the first visit
  after a restart on the same address (the folder's attribute cache only).

docs/benchmarks.md keeps the figures with the machine they ran on.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import qwopkit.app

SCRIPT = Path(qwopkit.app.__file__).with_name("streamlit_app.py")  # the app this benchmark starts


def _drop_attribute_cache(folder: Path) -> None:
    """Remove the dataset library's attribute cache (the folder's hidden JSON file) for a cold run."""
    for path in folder.glob(".*.json"):
        path.unlink()


def _write(folder: Path, n: int) -> float:
    from qwopkit.bench.dataset import write_synthetic

    t0 = time.perf_counter()
    write_synthetic(folder, n, 100, with_state=True)
    return time.perf_counter() - t0


_RUNS: list[float] = []  # seconds of each app script run (timed_main)
SCRIPT_TIMED = "from qwopkit.bench.app import timed_main\ntimed_main()\n"


def timed_main() -> None:
    """The app's script, timed (AppTest's own work around it is not the app's)."""
    from qwopkit.app.shell import main

    t0 = time.perf_counter()
    try:
        main()
    finally:
        _RUNS.append(time.perf_counter() - t0)


def _script_times(folder: Path, n: int, repeat: int) -> list[tuple[str, float]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from qwopkit.dataset import mark

    sys.argv = ["app.py", "--data", str(folder)]

    def load() -> float:
        at = AppTest.from_string(SCRIPT_TIMED, default_timeout=600)
        at.run()
        if at.exception or not any(f"{n} of {n} files shown" in c.value for c in at.caption):
            raise RuntimeError(f"the overview did not load: {at.exception}")
        return _RUNS[-1]

    out = []
    _drop_attribute_cache(folder)
    st.cache_data.clear()
    out.append(("cold (no attribute cache, empty app cache)", load()))
    for i in range(repeat):
        st.cache_data.clear()
        out.append((f"new server (attribute cache only) {i + 1}", load()))
    for i in range(repeat):
        out.append((f"cached (the app's cache) {i + 1}", load()))
    first = sorted(folder.glob("*.h5"))[0]
    for i in range(repeat):
        mark([first], rating=i + 1)
        out.append((f"after a mark {i + 1}", load()))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(folder: Path, port: int):
    command = [sys.executable, "-m", "qwopkit.app.cli", "--data", str(folder), "--port", str(port),
               "--no-browser"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(url + "_stcore/health", timeout=2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("qwop-app did not start")
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


DRAWN = """
const text = document.body.innerText;
return text.includes(arguments[0]) && !document.querySelector('[data-testid="stStatusWidget"]')
  && document.querySelectorAll('[data-testid="stDataFrame"] canvas').length > 0
  && document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks,'
                                + '[data-testid="stVegaLiteChart"] canvas').length >= 4;
"""


def _visit(driver, url: str, n: int) -> float:
    t0 = time.perf_counter()
    driver.get(url)
    while not driver.execute_script(DRAWN, f"{n} of {n} files shown"):
        if time.perf_counter() - t0 > 180:
            raise RuntimeError("the overview did not draw within 180 s")
        time.sleep(0.01)
    return time.perf_counter() - t0


def _browser_times(folder: Path, n: int, repeat: int) -> list[tuple[str, float]]:
    from qwopkit.adapter.browser import open_browser

    _drop_attribute_cache(folder)
    out = []
    driver = open_browser(headless=True, width=1400, height=1000)
    port = _free_port()
    try:
        with _server(folder, port) as url:
            out.append(("first visit, new server, no attribute cache", _visit(driver, url, n)))
            out += [(f"later visit {i + 1}", _visit(driver, url, n)) for i in range(repeat)]
        # Restarted on the same address (so the browser has Streamlit's scripts cached): the
        # app's cache is empty, the folder's attribute cache is not.
        with _server(folder, port) as url:
            out.append(("first visit after a restart, attribute cache", _visit(driver, url, n)))
    finally:
        driver.quit()
    return out


def run_app_bench(n_files: int = 2000, repeat: int = 3, browser: bool = True,
                  folder: str | Path | None = None) -> dict[str, list[tuple[str, float]]]:
    """Time the overview on `n_files` synthetic episodes; prints the figures and returns them."""
    with tempfile.TemporaryDirectory(dir=folder, prefix="qwop-app-bench-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        write_s = _write(data, n_files)
        print(f"overview of {n_files} episode files (100 decisions each, with raw state; "
              f"writing them took {write_s:.1f} s):")
        result = {"script": _script_times(data, n_files, repeat)}
        for label, took in result["script"]:
            print(f"  script, {label}: {took:.2f} s")
        if browser:
            result["browser"] = _browser_times(data, n_files, repeat)
            for label, took in result["browser"]:
                print(f"  browser, {label}: {took:.2f} s")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  (this process's peak memory: {rss:.0f} MiB)")
    return result


def main(argv: list[str] | None = None) -> None:
    from qwopkit.console import HelpFormatter

    parser = argparse.ArgumentParser(prog="python -m qwopkit.bench.app", formatter_class=HelpFormatter,
                                     description="Time the app's overview on a large folder.")
    parser.add_argument("--files", type=int, default=2000, help="episodes in the folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each warm measurement")
    parser.add_argument("--no-browser", action="store_true", help="only the script's side (no Chromium)")
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error(f"--files must be at least 1, got {args.files}")
    run_app_bench(args.files, args.repeat, browser=not args.no_browser)


if __name__ == "__main__":
    main()
