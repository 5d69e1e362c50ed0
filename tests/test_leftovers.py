"""The suite's leftover check (leftovers.py) fails a run that leaves a process or a temporary file."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from leftovers import SESSION_MARK, marked_processes

LEAVES_THINGS = '''
import subprocess, tempfile
from pathlib import Path

def test_that_leaves_a_process_and_a_folder():
    subprocess.Popen(["sleep", "120"])
    (Path(tempfile.gettempdir()) / "qwop-shots-forgotten").mkdir()

def test_that_cleans_up(tmp_path):
    (tmp_path / "fine.txt").write_text("pytest's own folders may keep files")
'''


def run_inner(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "leftovers",
                           "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_inner.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_run_that_leaves_a_process_or_a_folder_fails_and_is_cleaned(tmp_path):
    proc = run_inner(tmp_path, LEAVES_THINGS)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout  # the tests themselves passed: the check failed the run
    assert "process left running: pid" in proc.stdout and "sleep 120" in proc.stdout
    assert "left in the temporary folder: qwop-shots-forgotten (holding nothing)" in proc.stdout
    # The check ended the process and removed the folder.
    # (The inner run's mark is its own folder, inside this session's: it starts with our mark.)
    assert not [p for p in marked_processes(os.environ[SESSION_MARK]) if p.cmdline() == ["sleep", "120"]]
    assert not list(Path(tempfile.gettempdir()).glob("qwopkit-tests-*"))


def test_a_clean_run_passes(tmp_path):
    proc = run_inner(tmp_path, "def test_nothing_left():\n    assert True\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "leftovers" not in proc.stdout
