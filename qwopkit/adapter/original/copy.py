"""The user's own copy of the original QWOP: found, checked, copied to a temporary folder and
patched there. qwopkit never ships, downloads or stores the game's files.

    source = locate_game("~/qwop")          # a folder, or the game's .js file itself
    text = read_game(source)
    patched = patch_source(text, source)    # UnsupportedGameError names a patch that does not fit
    folder = prepare_copy(source, workdir, patched)  # the copy and qwopkit's page (PAGE) in it

Each patch is an exact string replacement, exact up to whitespace (so that the one-line
minified download and a reformatted copy both match), that must match exactly once: a copy
where one does not is refused in one line naming it ("this QWOP version is not supported: no
place for <what>"). The patches rely only on the game's own code, never on the additions some
copies carry (the seed's copy publishes `globalgamestate` at its top and in Main.update).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from qwopkit.adapter.original.shim import SHIM_JS
from qwopkit.errors import InputError

PAGE = "qwopkit.html"  # the page qwopkit writes beside the game's script
SHIM = "qwopkit-shim.js"

# What makes a .js file the QWOP game: its window title and its Box2D world.
_IS_QWOP = (re.compile(r'title\s*=\s*"QWOP"'), re.compile(r"B2World\b"))
# The game's last statement starts it (`u.main()` in the copies seen): a file cut short lacks it.
_STARTS_AT_END = re.compile(r"\.main\(\)[\s;)}(]*$")
# Files the game loads by name at start (the asset bundle).
_LOADS = re.compile(r'bytes:\s*\[\s*\{\s*id:\s*"([^"]+)"')


@dataclass(frozen=True)
class Patch:
    what: str  # named in the refusal: "no place for <what>"
    pattern: str  # a regular expression; the whole match is replaced
    replacement: str  # re.sub's replacement (\1 for groups)
    required: bool = True


PATCHES: tuple[Patch, ...] = (
    # The game object, captured where Main.ready() starts: qwopkit's shim then takes over its
    # update (the page's loop no longer steps the world; qwopkit does, one update at a time).
    Patch("the game object (Main.ready)",
          r'(ready:\s*function\(\)\s*\{)(\s*var\s+[\w$]+\s*=\s*window\.document\.getElementById\(\s*"gameContent"\s*\))',
          r"\1window.qwopkitReady(this);\2"),
    # The site lock shuts the game down when served from elsewhere than foddy.net (the
    # user's own copy, on 127.0.0.1). Some copies have it switched off or removed already.
    Patch("the site lock (window.location.host)",
          r"(\.match\(\s*window\.location\.host\s*\)\s*&&\s*)[\w$]+\.shutdown\(\)",
          r"\1void 0", required=False),
)


class UnsupportedGameError(InputError):
    """The user's copy is QWOP, but not one qwopkit knows how to patch."""


def _is_qwop(text: str) -> bool:
    return all(p.search(text) for p in _IS_QWOP)


def locate_game(path: str | Path) -> Path:
    """The game's .js file from a folder or the file itself; one-line errors naming the path."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(path, "no such file or folder (give the folder of your QWOP copy or its .js file)")
    if path.is_dir():
        found = [js for js in sorted(path.glob("*.js")) if js.is_file() and _is_qwop(read_game(js))]
        if not found:
            raise InputError(path, "no QWOP game here (expected the game's .js file, e.g. QWOP.min.js, "
                                   "beside its assets/ folder)")
        if len(found) > 1:
            raise InputError(path, f"more than one QWOP game here ({', '.join(js.name for js in found)}): "
                                   "give the .js file")
        path = found[0]
    text = read_game(path)
    if not _is_qwop(text):
        raise InputError(path, "not the QWOP game (it has no QWOP window title and Box2D world)")
    if not _STARTS_AT_END.search(text[-400:]):
        raise InputError(path, "the file ends early (truncated? the game's start call is missing at its end)")
    for name in _LOADS.findall(text):
        if not (path.parent / name).is_file():
            raise InputError(path.parent, f"no {name} beside {path.name} (save the game's assets too)")
    return path


def read_game(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(path, f"cannot read it ({exc.strerror or exc})") from None


def patch_source(text: str, where: str | Path = "the game") -> str:
    """The game's script with every patch applied; UnsupportedGameError names the first that fails."""
    for patch in PATCHES:
        text, count = re.subn(patch.pattern, patch.replacement, text)
        if count == 0 and patch.required:
            raise UnsupportedGameError(where, f"this QWOP version is not supported: no place for "
                                              f"{patch.what}")
        if count > 1:
            raise UnsupportedGameError(where, f"this QWOP version is not supported: {patch.what} "
                                         f"found {count} times")
    return text


def prepare_copy(game_js: Path, folder: Path, patched: str | None = None) -> Path:
    """Write the patched copy into `folder` (which must exist and be empty): the script, the
    files it loads at start, its lib/ scripts and stylesheets, the shim and qwopkit's page.
    `patched`: the script already patched (patch_source), else it is patched here."""
    if patched is None:
        patched = patch_source(read_game(game_js), game_js)
    source = game_js.parent
    (folder / game_js.name).write_text(patched, encoding="utf-8")
    for name in _LOADS.findall(patched):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
    libs = sorted(p for p in source.glob("lib/*.js") if p.is_file())
    for lib in libs:
        (folder / "lib").mkdir(exist_ok=True)
        shutil.copyfile(lib, folder / "lib" / lib.name)
    styles = sorted(p.name for p in source.glob("*.css") if p.is_file())
    for style in styles:
        shutil.copyfile(source / style, folder / style)
    (folder / SHIM).write_text(SHIM_JS, encoding="utf-8")
    (folder / PAGE).write_text(_page(game_js.name, [f"lib/{p.name}" for p in libs], styles), encoding="utf-8")
    return folder


def _page(script: str, libs: list[str], styles: list[str]) -> str:
    # The elements the game looks up, as in the game's own page; "timer" and "actions" are for
    # copies that write into them (the seed's does, 30 times a second), hidden here.
    links = "".join(f'<link rel="stylesheet" href="{s}">' for s in styles)
    scripts = "".join(f'<script src="{s}"></script>' for s in [SHIM, script, *libs])
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>QWOP (qwopkit)</title>"
            f"<link rel=\"icon\" href=\"data:,\">{links}"
            "</head><body><div id=\"gameContent\"><div id=\"window1\"></div></div>"
            "<span id=\"timer\" hidden></span><span id=\"actions\" hidden></span>"
            f"{scripts}</body></html>\n")


__all__ = ["locate_game", "read_game", "patch_source", "prepare_copy", "PATCHES", "PAGE",
           "UnsupportedGameError"]
