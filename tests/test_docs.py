"""The repository stands on its own: no file points outside it, and every relative link in the docs resolves."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Notes kept beside the repository for its authors, never shipped with it. Spelled in pieces so that this
# file does not name them itself.
OUTSIDE = tuple(name + ".md" for name in ("CONTRACT", "DESIGN", "STYLE", "FLASK_ADMIN_NOTES")) + ("../" + "shared",)
# Files another branch rewrites at the moment; each must still hold a mention (else drop it from here).
BEING_REWRITTEN: set[str] = set()
LINK = re.compile(r"!?\[[^\]]*\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in names.decode().split("\0") if name]


def mentions_outside(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):  # deleted in the work tree, or a submodule
        return []
    return [name for name in OUTSIDE if name.encode() in data]


def relative_links(text: str) -> list[str]:
    """The relative targets of the Markdown links and images in `text`, without their #fragment."""
    targets = []
    for match in LINK.finditer(text):
        target = match.group(1)
        if not EXTERNAL.match(target):
            targets.append(target.split("#", 1)[0])
    return [target for target in targets if target]


def test_no_tracked_file_mentions_a_file_outside_the_repository():
    found = {}
    for path in tracked_files():
        relative = path.relative_to(ROOT).as_posix()
        names = mentions_outside(path)
        if relative in BEING_REWRITTEN:
            assert names, f"{relative} no longer mentions an outside file: remove it from BEING_REWRITTEN"
        elif names:
            found[relative] = names
    assert not found, found


@pytest.mark.parametrize("doc", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
                         ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_relative_link_in_the_docs_points_to_a_file_that_exists(doc):
    broken = [target for target in relative_links(doc.read_text(encoding="utf-8"))
              if not (doc.parent / target).exists()]
    assert not broken, f"{doc.name} links to missing files: {broken}"


def test_the_checks_recognise_what_they_look_for(tmp_path):
    note = tmp_path / "note.py"
    note.write_text('"""See ' + OUTSIDE[0] + ' and ' + OUTSIDE[-1] + '/x."""\n')
    assert mentions_outside(note) == [OUTSIDE[0], OUTSIDE[-1]]
    text = ("[a](docs/API.md#errors) ![b](docs/screenshots/x.png) [c](https://example.com/a.md) [d](#top) "
            "[e](mailto:a@example.com) [f](runbooks/ \"title\")")
    assert relative_links(text) == ["docs/API.md", "docs/screenshots/x.png", "runbooks/"]
