"""The check that a test run leaves nothing behind: no process, no temporary folder.

A pytest plugin (conftest.py takes its hook; `-p leftovers` loads it alone). When imported it
gives the session one temporary folder, made the TMPDIR of this process and so of every
process the tests start, and one mark in their environment (`SESSION_MARK`), inherited by
chromedriver, Chromium, Xvfb, Streamlit and every subprocess. When the session ends, a process
still carrying the mark, or anything left in the folder, fails the run; the check then ends
the process and removes the folder. pytest's own tmp_path folders stay where pytest keeps them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

SESSION_MARK = "QWOPKIT_TEST_SESSION"

# Done on import, before any test runs or any process starts.
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", tempfile.gettempdir())  # pytest's tmp_path: as usual
SESSION_TMP = Path(tempfile.mkdtemp(prefix="qwopkit-tests-"))
os.environ[SESSION_MARK] = str(SESSION_TMP)
os.environ["TMPDIR"] = str(SESSION_TMP)
tempfile.tempdir = None  # tempfile reads TMPDIR again

# Processes that end with the test process itself: multiprocessing's helpers, started by
# SubprocVecEnv (forkserver) and kept until the interpreter exits.
_ENDS_WITH_US = ("from multiprocessing.forkserver import", "from multiprocessing.resource_tracker import")


# multiprocessing's own temporary folder (SubprocVecEnv's forkserver): removed when we exit.
_OURS_UNTIL_EXIT = ("pymp-",)
# Caches a library keeps for itself in the temporary folder, as on any machine: torch makes an
# (empty) torchinductor_<user> at an optimizer's first step. Removed with the session's folder.
_LIBRARY_CACHES = ("torchinductor_",)


def marked_processes(mark: str) -> list[psutil.Process]:
    """Live processes (zombies excluded) whose SESSION_MARK starts with `mark` (a test can mark
    its own processes with the session's mark and a suffix), except this process and the
    helpers that end with it."""
    out = []
    for proc in psutil.process_iter(["pid", "status", "cmdline"]):
        try:
            if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if not proc.environ().get(SESSION_MARK, "").startswith(mark):
                continue
            command = " ".join(proc.info["cmdline"] or [])
            if any(helper in command for helper in _ENDS_WITH_US):
                continue
            out.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return out


def wait_for_no_marked_processes(mark: str, timeout: float = 10.0) -> list[psutil.Process]:
    """Give processes that are ending a moment; returns those still alive after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        left = marked_processes(mark)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def describe(proc: psutil.Process) -> str:
    try:
        return f"pid {proc.pid}: {' '.join(proc.cmdline())[:160]}"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return f"pid {proc.pid} (gone)"


def live_in_group(group: int) -> list[int]:
    """Pids of the live (not zombie) processes in a process group."""
    out = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == group:
                out.append(proc.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return out


def entries(folder: Path) -> list[str]:
    """Names in `folder` (none if it is gone)."""
    try:
        return sorted(p.name for p in folder.iterdir())
    except FileNotFoundError:
        return []


@pytest.hookimpl(trylast=True)  # after the session's fixtures (Xvfb, servers) are torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    problems = []
    # Streamlit's AppTest keeps a temporary folder for the whole interpreter (made when it is
    # imported, removed at exit): the tests are done with it.
    app_test = sys.modules.get("streamlit.testing.v1.app_test")
    if app_test is not None and hasattr(app_test, "TMP_DIR"):
        app_test.TMP_DIR.cleanup()
    for proc in wait_for_no_marked_processes(str(SESSION_TMP)):
        problems.append(f"process left running: {describe(proc)}")
        proc.kill()
    for name in entries(SESSION_TMP):
        if name.startswith(_OURS_UNTIL_EXIT):
            continue
        if name.startswith(_LIBRARY_CACHES):
            shutil.rmtree(SESSION_TMP / name, ignore_errors=True)
            continue
        path = SESSION_TMP / name
        inside = f" (holding {', '.join(entries(path)[:5]) or 'nothing'})" if path.is_dir() else ""
        problems.append(f"left in the temporary folder: {name}{inside}")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if entries(SESSION_TMP):
        # multiprocessing removes its folder at exit (priority -100); the session's goes after it.
        import multiprocessing.util

        multiprocessing.util.Finalize(None, shutil.rmtree, args=(SESSION_TMP,),
                                      kwargs={"ignore_errors": True}, exitpriority=-101)
    else:
        SESSION_TMP.rmdir()
    if problems:
        text = "the tests left things behind:\n  " + "\n  ".join(problems)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "leftovers", red=True)
            reporter.write_line(text)
        else:
            print(text)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
