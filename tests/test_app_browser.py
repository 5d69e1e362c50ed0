"""The app for real: `qwop-app` (a real `streamlit run` server) driven by Selenium in headless Chromium.

Load the overview, filter it, open an episode, play / pause / scrub / speed up its replay on the
game's own page, exclude it, and check the marks on disk; then the same folder while
`qwop-record --bot flail` writes new runs into it. Each test checks that it leaves no streamlit,
chromium or chromedriver process and no temporary folder behind. Screenshots go to a temporary
folder unless QWOPKIT_SCREENSHOTS names one (QWOPKIT_SCREENSHOTS=docs/img refreshes the docs').
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from qwopkit.adapter.browser import CHROMEDRIVER, CHROMIUM, open_browser
from qwopkit.bench.fidelity import default_seed_demos
from qwopkit.dataset import import_npz, read_episode, read_marks, read_splits, validate_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "data"
MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(bool(MISSING), reason="needs Chromium and chromedriver: "
                                                           + " ".join(MISSING))]
SHOTS = os.environ.get("QWOPKIT_SCREENSHOTS")


# ----------------------------------------------------------------------------- processes and folders
def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (zombies excluded)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "cmdline").read_bytes().replace(b"\0", b" ").find(text.encode()) < 0:
                continue
            if " Z " in (entry / "stat").read_text().split(")", 1)[1][:4]:
                continue
        except OSError:
            continue
        out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port` (from /proc/net/tcp and tcp6)."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    if len(raw) == 4:
                        out.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                    else:  # four little-endian 32-bit words
                        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                        out.add(socket.inet_ntop(socket.AF_INET6, words))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(data: Path) -> Iterator[str]:
    """`qwop-app --data DATA` in its own process group; yields its URL; stops it and checks it is gone."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    command = [sys.executable, "-m", "qwopkit.app.cli", "--data", str(data), "--port", str(port),
               "--no-browser"]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=data.parent,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"qwop-app did not start: {log.read()[-2000:]}")
            time.sleep(0.2)
        # By default the app is reachable from this machine only.
        assert listening_addresses(port) == {"127.0.0.1"}, listening_addresses(port)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.seek(0)
        output = log.read()
        log.close()
        assert "Traceback" not in output, output[-3000:]
    assert not alive(proc.pid)


@contextlib.contextmanager
def browser() -> Iterator:
    driver = open_browser(headless=True, width=1400, height=1000)
    profile, service = driver.profile_dir, driver.service.process.pid
    try:
        yield driver
    finally:
        driver.quit()
    assert not alive(service), "chromedriver is still running"
    deadline = time.monotonic() + 10
    while processes_mentioning(profile) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_mentioning(profile), "chromium is still running"
    assert not Path(profile).exists()


@contextlib.contextmanager
def data_folder(with_seed_runs: bool = True) -> Iterator[Path]:
    """The bundled example runs (and two of the seed's real ones when ../shared is here) in a new folder."""
    top = Path(tempfile.mkdtemp(prefix="qwop-app-test-"))
    try:
        data = top / "data"
        shutil.copytree(EXAMPLES, data, ignore=shutil.ignore_patterns(".*", "marks.json", "splits.json"))
        seed = default_seed_demos() / "kuro_try1.npz"
        if with_seed_runs and seed.exists():
            for path in import_npz(seed, top / "kuro")[:2]:
                shutil.move(path, data / path.name)
        yield data
    finally:
        shutil.rmtree(top, ignore_errors=True)
        leftovers = processes_mentioning(str(top))
        assert not leftovers, f"processes still use {top}: {leftovers}"
    assert not top.exists()


# ----------------------------------------------------------------------------- driving Streamlit
def wait(driver, condition, timeout: float = 30, what: str = "the page"):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (WebDriverException, StaleElementReferenceException, StopIteration):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def page_text(driver) -> str:
    return driver.execute_script("return document.body.innerText;")


def settled(driver) -> bool:
    """Streamlit finished the current run (no "running" indicator)."""
    return not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')


def wait_text(driver, text: str, timeout: float = 30) -> None:
    wait(driver, lambda: text in page_text(driver) and settled(driver), timeout, repr(text))


def button(driver, label: str):
    return wait(driver, lambda: next(b for b in driver.find_elements(By.TAG_NAME, "button")
                                     if b.text.strip() == label and b.is_enabled()), what=f"button {label!r}")


def text_input(driver, label: str):
    return wait(driver, lambda: driver.find_element(By.CSS_SELECTOR, f'input[aria-label="{label}"]'),
                what=f"input {label!r}")


def type_into(driver, label: str, text: str, *, enter: bool = True) -> None:
    """Type into a text input; Enter commits it (and reruns the script). In a form Enter would
    submit the form, so there the text is only typed (the submit button sends it)."""
    box = text_input(driver, label)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text + (Keys.ENTER if enter else ""))
    time.sleep(0.3)
    wait(driver, lambda: settled(driver), what="the run after typing")


def choose(driver, label: str, option: str) -> None:
    """Pick an option of a selectbox or multiselect by typing it (as a person does)."""
    box = wait(driver, lambda: driver.find_element(By.CSS_SELECTOR, f'input[aria-label*="{label}"]'),
               what=f"select {label!r}")
    # Into the middle of the view: left at the top, Streamlit's toolbar would take the click.
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    box.send_keys(option)
    time.sleep(0.3)
    box.send_keys(Keys.ENTER)
    box.send_keys(Keys.ESCAPE)  # close the list of options
    time.sleep(0.3)
    wait(driver, lambda: settled(driver), what=f"the run after choosing {option!r}")


def click_label(driver, text: str) -> None:
    """Click the radio button labelled `text`."""
    def label():
        return next(e for e in driver.find_elements(By.TAG_NAME, "label") if e.text.strip() == text)

    wait(driver, label, what=f"the option {text!r}").click()


def view(driver, name: str) -> None:
    click_label(driver, name)
    wait_text(driver, name)


def screenshot(driver, shots: Path, name: str, height: int = 1500, heading: str = "") -> None:
    """The view from its top (or from `heading`), in a window `height` tall: Streamlit scrolls
    inside the page, so a taller window is how more of it gets into the picture."""
    driver.set_window_size(1400, height)
    driver.execute_script("""
        const main = document.querySelector('[data-testid="stMain"]');
        const h = Array.from(document.querySelectorAll('h1, h2, h3'))
          .find((e) => e.innerText === arguments[0]);
        if (arguments[0] && h) h.scrollIntoView(); else if (main) main.scrollTo(0, 0);""", heading)
    # The pointer off the charts, so that no element's hover toolbar covers them.
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, '[data-testid="stSidebar"]')) \
        .perform()
    time.sleep(1.5)  # charts and the replay draw after the run settles
    driver.save_screenshot(str(shots / name))
    driver.set_window_size(1400, 1000)


def replay(driver, expression: str):
    return driver.execute_script(f"return window.qwopAdapter ? qwopAdapter.replay.{expression} : null;")


@contextlib.contextmanager
def shot_folder() -> Iterator[Path]:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        yield Path(SHOTS)
        return
    tmp = Path(tempfile.mkdtemp(prefix="qwop-app-shots-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert not tmp.exists()


# ----------------------------------------------------------------------------- the tests
def test_overview_filter_episode_replay_exclude_and_the_marks_on_disk():
    with data_folder() as data, shot_folder() as shots, app_server(data) as url, browser() as driver:
        total = len(list(data.glob("*.h5")))
        driver.get(url)
        wait_text(driver, f"{total} of {total} files shown", 60)
        screenshot(driver, shots, "app-overview.png")

        type_into(driver, "Search", "stride")
        wait_text(driver, f"2 of {total} files shown")
        name = "bot_stride-example-0000.h5"
        button(driver, "Open episode").click()
        wait_text(driver, "Replay drawn by the game's own page")

        frame = wait(driver, lambda: driver.find_element(By.CSS_SELECTOR, '[data-testid="stIFrame"]'),
                     what="the replay's frame")
        driver.execute_script("arguments[0].scrollIntoView();", frame)
        driver.switch_to.frame(frame)
        try:
            n = wait(driver, lambda: replay(driver, "length()"), what="the replay to load")
            assert n == read_episode(data / name).state.shape[0]
            wait(driver, lambda: replay(driver, "frame()") > 10, what="the replay to play")
            driver.find_element(By.ID, "replay-play").click()  # pause
            assert replay(driver, "playing()") is False
            paused_at = replay(driver, "frame()")
            time.sleep(0.5)
            assert replay(driver, "frame()") == paused_at
            Select(driver.find_element(By.ID, "replay-speed")).select_by_value("4")
            assert replay(driver, "speed()") == 4
            driver.find_element(By.ID, "replay-play").click()  # play on, four times as fast
            wait(driver, lambda: replay(driver, "frame()") > paused_at + 30, what="playing at 4x")
            scrub = driver.find_element(By.ID, "replay-scrub")
            driver.execute_script("arguments[0].value = 1500;"
                                  "arguments[0].dispatchEvent(new Event('input'));", scrub)
            assert replay(driver, "frame()") == 1500 and replay(driver, "playing()") is False
            shown = driver.execute_script("return qwopAdapter.state().distance;")
            recorded = read_episode(data / name).state[1500]
            assert abs(shown - recorded[-5]) < 1e-3  # the page draws the recorded state of update 1500
        finally:
            driver.switch_to.default_content()
        screenshot(driver, shots, "app-episode.png")
        screenshot(driver, shots, "app-episode-charts.png", heading="Keys held")

        assert name not in read_marks(data)
        type_into(driver, "reason for excluding", "stumbles at 40 m")
        button(driver, "Exclude").click()
        wait_text(driver, "Excluded (stumbles at 40 m): 1 episode")
        marks = read_marks(data)[name]
        assert marks["kept"] is False and marks["exclude_reason"] == "stumbles at 40 m"
        assert read_episode(data / name, marks=False).meta["kept"] is True  # the file itself unchanged

        view(driver, "Compare")
        kuro = sorted(p.name for p in data.glob("kuro-*.h5"))
        for other in [name, kuro[0] if kuro else "bot_shuffle-example-0000.h5"]:
            choose(driver, "episodes", other)
        wait_text(driver, "Keys held")
        screenshot(driver, shots, "app-compare.png")

        view(driver, "Curate")
        wait_text(driver, "Splits")
        click_label(driver, f"every episode in the folder ({total})")
        wait_text(driver, f"Make split of {total} episodes")
        type_into(driver, "split name", "by-episode", enter=False)
        button(driver, f"Make split of {total} episodes").click()
        wait_text(driver, "Split 'by-episode':")
        wait_text(driver, "1 excluded episode(s) left out of both parts")
        split = read_splits(data)["by-episode"]
        assert len(split["train"]) + len(split["valid"]) == total - 1 and split["excluded"] == [name]
        screenshot(driver, shots, "app-curate.png")
        # The undo in the sidebar writes the old marks back.
        button(driver, "Undo: excluded (stumbles at 40 m): 1 episode").click()
        wait_text(driver, "Undone: excluded")
        assert read_marks(data)[name]["kept"] is True


def test_marking_while_a_recorder_bot_writes_into_the_same_folder(x_display):
    with data_folder(with_seed_runs=False) as data, app_server(data) as url, browser() as driver:
        before = sorted(p.name for p in data.glob("*.h5"))
        env = dict(os.environ, DISPLAY=x_display, PYTHONUNBUFFERED="1")
        recorder = subprocess.Popen([sys.executable, "-m", "qwopkit.recorder.cli", "--out", str(data),
                                     "--bot", "flail", "--episodes", "3", "--session", "live"],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        try:
            driver.get(url)
            wait_text(driver, "files shown", 60)
            # Mark every example run, one at a time, while the bot's runs are being written.
            for i, name in enumerate(before):
                driver.get(f"{url}?view=Episode&episode={name}")
                wait_text(driver, "Marks")
                type_into(driver, "tags (comma-separated)", f"pass-{i}")
                button(driver, "Add tags").click()
                wait_text(driver, f"Tagged pass-{i}: 1 episode")
            out, err = recorder.communicate(timeout=120)
        finally:
            if recorder.poll() is None:
                os.killpg(recorder.pid, signal.SIGTERM)
                recorder.wait(20)
        assert recorder.returncode == 0, err
        new = sorted(set(p.name for p in data.glob("*.h5")) - set(before))
        assert len(new) == 3 and all(n.startswith("bot_flail-live-") for n in new)
        for n in new:
            validate_file(data / n)
        marks = read_marks(data)
        assert [marks[n]["tags"] for n in before] == [[f"pass-{i}"] for i in range(len(before))]

        # The new runs show at once in the overview, and can be marked like the others.
        driver.get(url)
        total = len(before) + 3
        wait_text(driver, f"{total} of {total} files shown", 60)
        driver.get(f"{url}?view=Episode&episode={new[-1]}")
        wait_text(driver, "Marks")
        button(driver, "Exclude").click()
        wait_text(driver, "Excluded: 1 episode")
        assert read_marks(data)[new[-1]]["kept"] is False
        assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]  # no half-written file left
