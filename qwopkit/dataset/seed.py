"""The seed's own recordings: where they were published, their checksums, and getting them.

The 2021 agent's author published ten SB2 expert `.npz` files in the agent's repository
(Wesleyliao/QWOP-RL, folder `pretrain/`): five of a top speedrunner (`kuro_try1-5.npz`) and five
of a beginner (`human_try1-5.npz`), docs/seed-system.md. `fetch_seed_demos` downloads them from
that repository at a fixed commit and keeps a file only if its size and SHA-256 are the ones
below; files already in the folder with the right checksum are kept as they are, so that a
user without network can put them there by hand and have them checked.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qwopkit.atomic import atomic_write
from qwopkit.dataset.errors import EpisodeError
from qwopkit.dataset.paths import DEFAULT_DATA

REPOSITORY = "https://github.com/Wesleyliao/QWOP-RL"
COMMIT = "365beb7c219dfd3320a52b44d8d61ed25aa913c8"  # the repository's main branch, April 2021
PAGE = f"{REPOSITORY}/tree/{COMMIT}/pretrain"
# Where the files are downloaded from; QWOPKIT_SEED_URL names a mirror (a folder served over HTTP).
URL = f"https://raw.githubusercontent.com/Wesleyliao/QWOP-RL/{COMMIT}/pretrain"
# Where they go by default, and where the tests and `qwop-bench fidelity` look for them.
FOLDER = DEFAULT_DATA / "seed-demos"

# name -> (bytes, SHA-256)
FILES: dict[str, tuple[int, str]] = {
    "kuro_try1.npz": (2642580, "1a103dbebe8a27c86ea53f203523c7dc71eed8e0dc46b42ad91dc47119143a14"),
    "kuro_try2.npz": (2597262, "3c8b2a1be9ffef93d7ae268d8643949102c05d7565f96580e28cfef97efd3fa4"),
    "kuro_try3.npz": (2456660, "9477eb5b6e755af9b222323eac185a8b3f0a49050ec0bb991f8e5c80766822f2"),
    "kuro_try4.npz": (2795383, "517540c7cc501bc790f3f7ef06517fd3bae44a0eb1d1b08a02a779e54f3eab4b"),
    "kuro_try5.npz": (2709395, "82d78b4b7cfdef247d5c2c84e7875348b9a4f61efb885867c7d0a6a88a08c9f0"),
    "human_try1.npz": (358204, "fb2deb56993fb4520e76670dc93e38ffe42c04d99158697167989ace16449c88"),
    "human_try2.npz": (454144, "51b69c76132691321120ff6e125bc1e22bc4db8c9bf3e8cdb8f1eb1658c5a0cb"),
    "human_try3.npz": (448294, "e3b488cb61b93f3bbd94eff59f3add453205adf6c18ee5e874d0c2ddefe10139"),
    "human_try4.npz": (557104, "9eba8d90d18171b725ddc4a5be0be0fe8b36e2c457a70c0bfe2305c1d2c047aa"),
    "human_try5.npz": (519664, "c7e43548545ffedca7828b82695cd928992034c70665e7a10d7bd525c87cd08c"),
}


@dataclass
class FetchReport:
    folder: Path
    kept: list[str] = field(default_factory=list)  # there already, checksum right
    downloaded: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path) -> str | None:
    """Why `path` is not the published file of its name (None: it is)."""
    size, sha = FILES[path.name]
    if path.stat().st_size != size:
        return f"{path.stat().st_size} bytes, the published file has {size}"
    if _sha256(path) != sha:
        return "its SHA-256 is not the published file's"
    return None


def offline_help(folder: Path) -> str:
    return (f"download the {len(FILES)} files of {PAGE} ({', '.join(FILES)}) into {folder}/ by "
            f"hand, then run this again to check them")


def fetch_seed_demos(folder: str | Path = FOLDER, *, url: str | None = None, timeout: float = 30.0,
                     log: Callable[[str], None] = lambda line: None) -> FetchReport:
    """Put the seed's ten recordings into `folder`, each checked against its published checksum.

    Raises EpisodeError naming the file that is wrong (nothing is left under its name), or the
    source when it cannot be reached (with where to get the files by hand).
    """
    folder = Path(folder)
    url = (url or os.environ.get("QWOPKIT_SEED_URL") or URL).rstrip("/")
    report = FetchReport(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (size, sha) in FILES.items():
        path = folder / name
        if path.exists():
            problem = check_file(path)
            if problem is None:
                report.kept.append(name)
                continue
            log(f"{path}: {problem}: downloading it again")
        try:
            with urllib.request.urlopen(f"{url}/{name}", timeout=timeout) as answer:
                data = answer.read(size + 1)
        except urllib.error.HTTPError as exc:
            raise EpisodeError(f"{url}/{name}", f"HTTP {exc.code} ({exc.reason})") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EpisodeError(url, f"cannot be reached ({reason}): {offline_help(folder)}") from None
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
            raise EpisodeError(f"{url}/{name}", f"not the published file ({len(data)} bytes, SHA-256 "
                                                f"{hashlib.sha256(data).hexdigest()[:12]}...): not kept")
        with atomic_write(path) as tmp:
            tmp.write_bytes(data)
        report.downloaded.append(name)
        log(f"{path}: downloaded, checksum right")
    return report
