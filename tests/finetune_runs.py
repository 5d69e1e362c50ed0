"""qwop-finetune as the tests run it: to the end, or killed with kill -9 once it has checkpointed.
Shared by tests/test_finetune.py and tests/test_ray.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

COMMAND = [sys.executable, "-m", "qwopkit.training.finetune_cli"]


def finetune(*args, cwd=None, env=None, timeout=300) -> subprocess.CompletedProcess:
    """Run qwop-finetune to its end; its output captured as text."""
    return subprocess.run([*COMMAND, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@contextlib.contextmanager
def running_until_checkpoint(args, out: Path, step: int, *, log: Path, env=None,
                             seconds: float = 240) -> Iterator[subprocess.Popen]:
    """Start qwop-finetune in a process group of its own, its output in `log`; yield it once its
    latest checkpoint (under `out`) has reached `step`; kill the group with SIGKILL on leaving,
    also when the body fails, so that no run outlives the test."""
    latest = out / "checkpoints" / "latest.json"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([*COMMAND, *map(str, args)], stdout=sink, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and proc.poll() is None:
            if latest.exists() and json.loads(latest.read_text())["step"] >= step:
                break
            time.sleep(0.2)
        assert proc.poll() is None, f"the run ended before it could be killed: {log.read_text()}"
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
