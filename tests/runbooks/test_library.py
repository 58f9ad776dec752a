"""The runbook library: one catalog per set of files, reloaded when they change."""
from __future__ import annotations

import os

from console.runbooks.library import RunbookLibrary, directory_fingerprint
from tests.runbooks.conftest import GOOD_FRONT


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def bump_mtime(path, seconds=10):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


def test_library_finds_searches_and_relates(write_runbook):
    write_runbook("cannot-log-in")
    other = write_runbook("password-reset", front=GOOD_FRONT.replace("Customer cannot log in", "Password reset"))
    library = RunbookLibrary(other.parent)

    assert [r.slug for r in library.all()] == ["cannot-log-in", "password-reset"]
    assert library.get("password-reset").title == "Password reset"
    assert library.get("nope") is None
    assert library.search("locked")[0].runbook.slug in {"cannot-log-in", "password-reset"}
    assert [r.slug for r in library.related(library.get("cannot-log-in"))] == ["password-reset"]


def test_edits_are_seen_after_the_check_interval(write_runbook):
    path = write_runbook("cannot-log-in")
    clock = Clock()
    library = RunbookLibrary(path.parent, check_interval=1.0, clock=clock)
    first = library.catalog()

    path.write_text(path.read_text().replace("Customer cannot log in", "Locked out"))
    bump_mtime(path)
    assert library.catalog() is first  # within the interval nothing is re-read

    clock.now = 2.0
    assert library.get("cannot-log-in").title == "Locked out"


def test_added_and_removed_files_are_seen(write_runbook):
    path = write_runbook("cannot-log-in")
    clock = Clock()
    library = RunbookLibrary(path.parent, clock=clock)
    assert len(library.all()) == 1

    added = write_runbook("new-one")
    clock.now += 5
    assert [r.slug for r in library.all()] == ["cannot-log-in", "new-one"]

    added.unlink()
    clock.now += 5
    assert [r.slug for r in library.all()] == ["cannot-log-in"]


def test_unchanged_files_keep_the_same_catalog(write_runbook):
    path = write_runbook()
    clock = Clock()
    library = RunbookLibrary(path.parent, clock=clock)
    first = library.catalog()

    clock.now += 5
    assert library.catalog() is first


def test_missing_directory_is_an_empty_library(tmp_path):
    library = RunbookLibrary(tmp_path / "missing")

    assert library.all() == () and library.search("anything") == []
    assert directory_fingerprint(tmp_path / "missing") == ()


def test_a_reload_reads_only_the_files_that_changed(write_runbook):
    kept = write_runbook("kept")
    edited = write_runbook("edited")
    clock = Clock()
    library = RunbookLibrary(kept.parent, clock=clock)
    before_kept, before_edited = library.get("kept"), library.get("edited")

    edited.write_text(edited.read_text().replace("Customer cannot log in", "Edited title"))
    bump_mtime(edited)
    clock.now += 5

    assert library.get("kept") is before_kept
    assert library.get("edited") is not before_edited and library.get("edited").title == "Edited title"
    assert library.search("edited")[0].runbook.slug == "edited"
