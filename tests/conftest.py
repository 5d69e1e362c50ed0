"""Shared test helpers: where the seed's real recordings and trained agents are (beside the
project, if present), a real X server, and (from leftovers.py) the check that the suite leaves
nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwopkit.bench.fidelity import default_seed_demos

from leftovers import pytest_sessionfinish  # noqa: F401  (the session's leftover check)


@pytest.fixture(scope="session", autouse=True)
def sb3_logs_in_pytest_temp(tmp_path_factory):
    """SB3 algorithms make a log folder in /tmp (SB3-<time>) unless SB3_LOGDIR says where: put
    them in pytest's temporary folder, so that the suite leaves nothing behind."""
    import os

    old = os.environ.get("SB3_LOGDIR")
    os.environ["SB3_LOGDIR"] = str(tmp_path_factory.mktemp("sb3-logs"))
    yield
    if old is None:
        os.environ.pop("SB3_LOGDIR", None)
    else:
        os.environ["SB3_LOGDIR"] = old


@pytest.fixture
def seed_demos() -> Path:
    path = default_seed_demos()
    if not (path / "kuro_try1.npz").exists():
        pytest.skip(f"the seed's recordings are not at {path}: `qwop-data fetch-seed` gets them "
                    "(or set QWOPKIT_SEED_DEMOS to their folder)")
    return path


@pytest.fixture
def seed_models() -> Path:
    from qwopkit.rl.common.seed_models import default_seed_models  # (torch: only for the tests that use it)

    path = default_seed_models()
    if not (path / "Kuro_Acer_39hr_self30hr.zip").exists() or not (path / "FastDQN_2hr.zip").exists():
        pytest.skip(f"the seed's trained agents are not at {path} (set QWOPKIT_SEED_MODELS)")
    return path


@pytest.fixture(scope="session")
def x_display():
    """A real X server (Xvfb) for the recorder's global key listener and a visible Chromium."""
    import shutil
    import subprocess
    import time

    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("Xvfb and xdotool are needed (apt-get install xvfb xdotool)")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                  and not Path(f"/tmp/.X{n}-lock").exists())
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"Xvfb :{number} did not start")
        time.sleep(0.05)
    yield f":{number}"
    server.terminate()
    server.wait(5)
