"""The Selenium bridge: a Chromium on this machine, and a game read through `window.qwopAdapter`.

    driver = open_browser(headless=True)
    game = BrowserGame(driver, host.url)       # loads the page
    game.wait_until_connected(timeout=10)
    game.key_down("q"); ...; game.key_up("q")  # real key events on the page
    game.state()["distance"]; game.keys_held(); game.status()
    driver.quit()                              # ends every browser process, removes the profile

Any page that defines `window.qwopAdapter` (version, state(), keysHeld(), status(), connected)
can be driven this way: the bundled openqwop page does, and so can a shim injected into the
original game. Selenium never downloads a driver here: the paths are given explicitly.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
KEY_BITS = {"q": 1, "w": 2, "o": 4, "p": 8}

# Flags that make Chromium start reliably in containers and stay off the network.
CHROMIUM_FLAGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # The game must keep drawing and ticking its timers when the window is not in front.
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


class BrowserError(RuntimeError):
    """A browser problem a user can fix; the message is one line."""


# The watchdog (a tiny separate process) outlives whoever opened the browser, even a kill -9:
# when its stdin closes, on `quit()` or when our process dies, it kills chromedriver's process
# group (chromedriver and every Chromium process it started) and removes the browser's folder
# (profile and temporary files). It ignores Ctrl-C, which our own process handles.
_WATCHDOG = """
import os, shutil, signal, sys, time
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
groups = [int(line) for line in sys.stdin if line.strip()]
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
for _ in range(50):
    shutil.rmtree(sys.argv[1], ignore_errors=True)
    if not os.path.exists(sys.argv[1]):
        break
    time.sleep(0.1)
"""


class _Watchdog:
    """Ends a browser's processes and removes its folder when told to, or when we die."""

    def __init__(self, folder: str) -> None:
        # Its own session: a Ctrl-C or a kill of our process group does not reach it.
        self.process = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WATCHDOG, folder],
                                        stdin=subprocess.PIPE, start_new_session=True, text=True)

    def guard(self, process_group: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{process_group}\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 15.0) -> None:
        """Kill the guarded process groups, remove the folder, and wait until that is done."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        self.process.wait(timeout)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _dies_with_us() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel kill the child when this process dies (Linux), or None.

    It covers the moment between chromedriver's start and the watchdog learning its group.
    The signal follows the death of the *thread* that started the child, so it is asked for
    only from the main thread (which lives as long as the process); elsewhere the watchdog,
    told of the group at once, is what remains.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, sigkill = os.getpid(), int(signal.SIGKILL)

    def preexec() -> None:  # runs in the child between fork and exec: one system call and a check
        prctl(PR_SET_PDEATHSIG, sigkill)
        if os.getppid() != parent:  # we died before the line above: no signal will come
            os._exit(1)

    return preexec


class _Service(Service):
    """chromedriver in a process group of its own (Chromium joins it), guarded by a watchdog
    from the moment it exists, and killed by the kernel if we die before the watchdog knows it."""

    def __init__(self, executable: str, folder: str, watchdog: _Watchdog) -> None:
        # Chromium and chromedriver keep their temporary files (sockets, scoped dirs) under
        # TMPDIR: inside the browser's folder, they go when the folder goes.
        popen_kw: dict[str, Any] = {"start_new_session": True}
        preexec = _dies_with_us()
        if preexec is not None:
            popen_kw["preexec_fn"] = preexec
        super().__init__(executable, env={**os.environ, "TMPDIR": folder}, popen_kw=popen_kw)
        self._watchdog = watchdog

    def _start_process(self, path: str) -> None:
        # Guard the group as soon as it exists: Selenium's start() then waits tens of ms for the
        # driver to answer, and a kill -9 in that wait used to leave chromedriver running.
        super()._start_process(path)
        if self.process is not None:
            self._watchdog.guard(self.process.pid)


class ManagedChrome(webdriver.Chrome):
    """A Chrome driver whose `quit()` also ends every browser process and removes its folder."""

    profile_dir: str = ""  # Chromium's --user-data-dir
    folder: str = ""  # the profile and the browser's temporary files
    watchdog: _Watchdog | None = None

    def quit(self) -> None:
        try:
            super().quit()
        finally:
            if self.watchdog is not None:
                self.watchdog.finish()


# Chromium's profile lock is a Unix socket at <TMPDIR>/org.chromium.Chromium.XXXXXX/SingletonSocket,
# and a socket's path holds at most 107 bytes: beyond this length of TMPDIR Chromium cannot start.
_LONGEST_FOLDER = 107 - len("/org.chromium.Chromium.XXXXXX/SingletonSocket")


def _browser_folder() -> str:
    """A new folder for one browser's profile and temporary files: in the temporary folder,
    or in /tmp when the temporary folder's path is too long for Chromium's socket."""
    folder = tempfile.mkdtemp(prefix="qwopkit-chromium-")
    if len(folder.encode()) > _LONGEST_FOLDER and os.path.isdir("/tmp"):
        os.rmdir(folder)
        folder = tempfile.mkdtemp(prefix="qwopkit-chromium-", dir="/tmp")
    return folder


def open_browser(headless: bool = True, width: int = 1280, height: int = 720,
                 chromium: str = CHROMIUM, chromedriver: str = CHROMEDRIVER,
                 extra_args: tuple[str, ...] = ()) -> ManagedChrome:
    """Start Chromium under chromedriver with a fresh temporary profile.

    `quit()` ends chromedriver and every Chromium process and removes the profile; so does a
    watchdog process if the program dies without quitting (kill -9 included).
    """
    for path, what in ((chromium, "chromium"), (chromedriver, "chromedriver")):
        if not Path(path).is_file():
            raise BrowserError(f"{what} not found at {path} (install it, e.g. apt-get install chromium "
                               f"chromium-driver)")
    folder = _browser_folder()
    watchdog = _Watchdog(folder)
    profile = os.path.join(folder, "profile")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS + tuple(extra_args):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    if headless:
        options.add_argument("--headless")
    try:
        # An explicit driver path: Selenium Manager is skipped, so nothing is downloaded.
        driver = ManagedChrome(options=options, service=_Service(chromedriver, folder, watchdog))
    except (WebDriverException, OSError) as exc:
        watchdog.finish()
        text = str(getattr(exc, "msg", None) or exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise BrowserError(f"could not start chromium ({chromium}) with chromedriver ({chromedriver}): "
                           f"{first}") from exc
    except BaseException:
        watchdog.finish()
        raise
    driver.profile_dir, driver.folder, driver.watchdog = profile, folder, watchdog
    return driver


class BrowserGame:
    """A QWOP page in a Selenium-driven browser, read through `window.qwopAdapter`.

    Keys are sent as real key events (W3C actions) to the page, exactly as a player's would arrive.
    """

    def __init__(self, driver: webdriver.Remote, url: str | None = None) -> None:
        self.driver = driver
        self._down: set[str] = set()
        if url is not None:
            self.open(url)

    def open(self, url: str) -> None:
        """Load the page (keys this bridge held are forgotten)."""
        self.driver.get(url)
        self._down.clear()

    # ------------------------------------------------------------------ reading the adapter
    def _adapter(self, expression: str) -> Any:
        return self.driver.execute_script(
            f"return window.qwopAdapter ? window.qwopAdapter.{expression} : undefined;")

    @property
    def has_adapter(self) -> bool:
        return bool(self.driver.execute_script("return !!window.qwopAdapter;"))

    @property
    def version(self) -> str | None:
        return self._adapter("version")

    @property
    def connected(self) -> bool:
        return bool(self._adapter("connected"))

    def state(self) -> dict[str, Any] | None:
        """The latest state: {"state": [raw vector], "distance", "hud_time", "status", "updates", ...}."""
        return self._adapter("state()")

    def keys_held(self) -> int:
        """The key mask the game holds now (Q=1 W=2 O=4 P=8)."""
        return int(self._adapter("keysHeld()") or 0)

    def status(self) -> str:
        """"running", "fell", "finished", or "connecting" (also before the adapter exists)."""
        return self._adapter("status()") or "connecting"

    def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0, what: str = "the page",
                 poll: float = 0.02) -> Any:
        """Poll `condition()` until it returns something truthy; raise TimeoutError naming `what`."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(poll)

    def wait_until_connected(self, timeout: float = 10.0) -> None:
        """Wait until the page's adapter exists, is connected and has a state."""
        url = self.driver.current_url
        try:
            self.wait_for(lambda: self.has_adapter and self.connected and self.state() is not None,
                          timeout, f"the game page at {url} to connect")
        except TimeoutError as exc:
            if not self.has_adapter:  # the page itself did not load (wrong address, blocked port)
                raise TimeoutError(f"{exc}: the page has no window.qwopAdapter (did it load?)") from None
            raise

    # ------------------------------------------------------------------ keys
    def key_down(self, key: str) -> None:
        """Press and hold one key ("q", "w", "o", "p" or "r")."""
        key = _key(key)
        ActionChains(self.driver).key_down(key).perform()
        self._down.add(key)

    def key_up(self, key: str) -> None:
        key = _key(key)
        ActionChains(self.driver).key_up(key).perform()
        self._down.discard(key)

    def tap(self, key: str) -> None:
        """Press and release a key at once (e.g. "r" to restart)."""
        key = _key(key)
        ActionChains(self.driver).key_down(key).key_up(key).perform()

    def set_keys(self, mask: int) -> None:
        """Hold exactly the QWOP keys in `mask`: releases and presses only what differs, in one action."""
        chain = ActionChains(self.driver)
        want = {k for k, bit in KEY_BITS.items() if mask & bit}
        for key in sorted(self._down - want):
            chain.key_up(key)
        for key in sorted(want - self._down):
            chain.key_down(key)
        if want != self._down:
            chain.perform()
        self._down = want

    def release_all(self) -> None:
        self.set_keys(0)

    def restart(self) -> None:
        self.tap("r")

    def screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the page's viewport."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.driver.save_screenshot(str(path)):
            raise BrowserError(f"could not save a screenshot to {path}")
        return path


def _key(key: str) -> str:
    key = key.lower()
    if key not in KEY_BITS and key != "r":
        raise ValueError(f"not a QWOP key: {key!r} (use q, w, o, p or r)")
    return key


__all__ = ["open_browser", "BrowserGame", "BrowserError", "ManagedChrome", "CHROMIUM", "CHROMEDRIVER"]
