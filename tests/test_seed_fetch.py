"""`qwop-data fetch-seed`: the seed's published recordings, each kept only with its published
checksum, from a real HTTP server (a local mirror: this machine reaches no GitHub), and a clear
line when the source cannot be reached."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from qwopkit.dataset.seed import FILES, PAGE, check_file


def qwop_data(*args: str, url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QWOPKIT_SEED_URL=url)
    return subprocess.run([sys.executable, "-m", "qwopkit.commands.data", *args], env=env,
                           capture_output=True,
                          text=True, timeout=120)


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/pretrain"  # nothing listens once closed


@contextlib.contextmanager
def mirror(folder: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_offline_it_says_where_to_get_the_files_and_writes_none(tmp_path):
    out = tmp_path / "seed"
    r = qwop_data("fetch-seed", "--out", str(out), url=closed_port())
    assert r.returncode == 1 and "Traceback" not in r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith("qwop-data: error: http://127.0.0.1:") and "cannot be reached" in line
    assert f"download the 10 files of {PAGE} (kuro_try1.npz, " in line and f"into {out}/ by hand" in line
    assert not any(out.iterdir())


def test_the_published_files_are_fetched_checked_and_kept(seed_demos, tmp_path):
    served, out = tmp_path / "served", tmp_path / "seed"
    served.mkdir()
    for name in FILES:
        shutil.copy(seed_demos / name, served / name)
    damaged = bytearray((served / "kuro_try3.npz").read_bytes())
    damaged[1000] ^= 0xFF
    (served / "kuro_try3.npz").write_bytes(bytes(damaged))
    with mirror(served) as url:
        r = qwop_data("fetch-seed", "--out", str(out), url=url)
        assert r.returncode == 1 and r.stderr.startswith(f"qwop-data: error: {url}/kuro_try3.npz: not the "
                                                         "published file"), r.stderr
        assert not (out / "kuro_try3.npz").exists() and not list(out.glob(".*"))  # nothing of it left
        shutil.copy(seed_demos / "kuro_try3.npz", served / "kuro_try3.npz")
        r = qwop_data("fetch-seed", "--out", str(out), url=url)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert all(check_file(out / name) is None for name in FILES)
    assert r.stdout.splitlines()[-1].startswith(f"next: qwop-data import-npz {out}/kuro_try*.npz "
                                                "--player kurodo")
    # Files put there by hand are checked, and no network is needed for them.
    r = qwop_data("fetch-seed", "--out", str(out), url=closed_port())
    assert r.returncode == 0 and "(0 downloaded, 10 there already; every checksum right)" in r.stdout


def test_a_skipped_test_says_why_in_the_summary(tmp_path):
    """The project's pytest settings print each skip's reason (the seed's recordings missing, say)."""
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"
    (tmp_path / "test_skips.py").write_text("import pytest\n\n\ndef test_it():\n"
                                            "    pytest.skip('the recordings are not here')\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", str(config),
                        "--rootdir", str(tmp_path), str(tmp_path / "test_skips.py")],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    assert "SKIPPED [1] test_skips.py:5: the recordings are not here" in r.stdout, r.stdout
