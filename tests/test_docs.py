"""The README and docs describe what exists, and need nothing outside the repository."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_has_two_set_up_commands_and_the_first_makes_a_virtualenv():
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", setup, re.S)
    assert [len(b.strip().splitlines()) for b in blocks] == [1, 1]
    first, second = (b.strip() for b in blocks)
    assert first.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install torch==")
    assert first.endswith("&& qwop-run") and second == "bash .ci/run"
    assert "download.pytorch.org/whl/cpu" in setup  # where the CPU build comes from elsewhere


def test_links_between_pages_lead_to_files_that_exist():
    missing = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not missing, missing


def test_no_page_sends_a_reader_to_the_projects_shared_folder():
    # Someone who clones the repository has no ../shared: the facts live in docs/.
    offenders = [f"{page.relative_to(ROOT)}: {line.strip()}" for page in PAGES
                 for line in page.read_text().splitlines()
                 if re.search(r"shared/(reference|data)", line) and "beside the checkout" not in line]
    assert not offenders, offenders


def test_every_command_the_readme_names_is_installed():
    scripts = {e.name for e in importlib.metadata.entry_points(group="console_scripts")
               if e.value.startswith("qwopkit.")}
    named = set(re.findall(r"`(qwop-[a-z]+)", (ROOT / "README.md").read_text()))
    assert named and named <= scripts, named - scripts
