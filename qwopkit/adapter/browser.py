"""The Selenium bridge: a Chromium on this machine, and a game read through `window.qwopAdapter`.

    driver = open_browser(headless=True)
    game = BrowserGame(driver, host.url)       # loads the page
    game.wait_until_connected(timeout=10)
    game.key_down("q"); ...; game.key_up("q")  # real key events on the page
    game.state()["distance"]; game.keys_held(); game.status()
    driver.quit()                              # also removes the temporary profile

Any page that defines `window.qwopAdapter` (version, state(), keysHeld(), status(), connected)
can be driven this way: the bundled openqwop page does, and so can a shim injected into the
original game. Selenium never downloads a driver here: the paths are given explicitly.
"""

from __future__ import annotations

import shutil
import tempfile
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


class _Chrome(webdriver.Chrome):
    """A Chrome driver that deletes its temporary profile when it quits."""

    profile_dir: str = ""

    def quit(self) -> None:
        try:
            super().quit()
        finally:
            if self.profile_dir:
                _remove_profile(self.profile_dir)


def _remove_profile(path: str) -> None:
    # Chromium's helper processes can still be writing to the profile for a moment after a quit
    # (or after Ctrl-C reached them first), so retry briefly until the directory is gone.
    for _ in range(20):
        shutil.rmtree(path, ignore_errors=True)
        if not Path(path).exists():
            return
        time.sleep(0.1)


def open_browser(headless: bool = True, width: int = 1280, height: int = 720,
                 chromium: str = CHROMIUM, chromedriver: str = CHROMEDRIVER,
                 extra_args: tuple[str, ...] = ()) -> webdriver.Chrome:
    """Start Chromium under chromedriver with a fresh temporary profile; `quit()` removes it."""
    for path, what in ((chromium, "chromium"), (chromedriver, "chromedriver")):
        if not Path(path).is_file():
            raise BrowserError(f"{what} not found at {path} (install it, e.g. apt-get install chromium "
                               f"chromium-driver)")
    profile = tempfile.mkdtemp(prefix="qwopkit-chromium-")
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
        driver = _Chrome(options=options, service=Service(chromedriver))
    except (WebDriverException, OSError) as exc:
        shutil.rmtree(profile, ignore_errors=True)
        text = str(getattr(exc, "msg", None) or exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise BrowserError(f"could not start chromium ({chromium}) with chromedriver ({chromedriver}): "
                           f"{first}") from exc
    driver.profile_dir = profile
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


__all__ = ["open_browser", "BrowserGame", "BrowserError", "CHROMIUM", "CHROMEDRIVER"]
