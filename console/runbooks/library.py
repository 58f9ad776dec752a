"""The runbooks of one directory, loaded and indexed, reloaded when the files change.

Runbook files are the source of truth, so every process builds its own copy and
notices edits by the files' modification times; nothing is shared between processes.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from console.runbooks.loader import Runbook, is_runbook_file, load_runbook
from console.runbooks.search import RunbookIndex, RunbookTerms, SearchHit, analyse, related_runbooks

FileMark = tuple[str, int, int]  # name, mtime in ns, size
Fingerprint = tuple[FileMark, ...]


@dataclass(frozen=True)
class RunbookCatalog:
    """One consistent set of loaded runbooks and their search index."""

    runbooks: tuple[Runbook, ...]
    index: RunbookIndex
    fingerprint: Fingerprint
    by_slug: dict[str, Runbook] = field(default_factory=dict)
    # What each unchanged file gave last time, so a reload re-reads only the edited files.
    files: dict[FileMark, tuple[Runbook, RunbookTerms]] = field(default_factory=dict)


def directory_fingerprint(directory: Path) -> Fingerprint:
    """Summarise the directory's `*.md` files by name, mtime and size."""
    try:
        entries = list(os.scandir(directory))
        own = directory.stat()
    except OSError:
        return ()
    marks = [(".", own.st_mtime_ns, 0)]
    for entry in entries:
        if is_runbook_file(entry.name) and entry.is_file():
            try:
                stat = entry.stat()
            except OSError:
                continue  # deleted while we looked; the next check sees it gone
            marks.append((entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(marks))


def build_catalog(directory: Path, fingerprint: Fingerprint, previous: RunbookCatalog | None = None) -> RunbookCatalog:
    """Load and index the runbooks, reusing the previous catalog's work for unchanged files."""
    reusable = previous.files if previous is not None else {}
    files: dict[FileMark, tuple[Runbook, RunbookTerms]] = {}
    for mark in fingerprint:
        if mark[0] == ".":
            continue
        if mark in reusable:
            files[mark] = reusable[mark]
        else:
            runbook = load_runbook(directory / mark[0])
            files[mark] = (runbook, analyse(runbook))
    loaded = sorted(files.values(), key=lambda pair: pair[0].slug)
    runbooks = tuple(runbook for runbook, _terms in loaded)
    return RunbookCatalog(
        runbooks=runbooks,
        index=RunbookIndex(runbooks, [found for _runbook, found in loaded]),
        fingerprint=fingerprint,
        by_slug={runbook.slug: runbook for runbook in runbooks},
        files=files,
    )


class RunbookLibrary:
    """Loaded runbooks of a directory, looked at again at most every `check_interval` seconds."""

    def __init__(self, directory: str | Path, *, check_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.directory = Path(directory)
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._catalog: RunbookCatalog | None = None

    def catalog(self) -> RunbookCatalog:
        """Return the current catalog, reloading first if the files changed."""
        now = self._clock()
        catalog = self._catalog
        if catalog is not None and self._checked_at is not None and now - self._checked_at < self.check_interval:
            return catalog
        with self._lock:
            fingerprint = directory_fingerprint(self.directory)
            if self._catalog is None or self._catalog.fingerprint != fingerprint:
                self._catalog = build_catalog(self.directory, fingerprint, self._catalog)
            self._checked_at = now
            return self._catalog

    def all(self) -> tuple[Runbook, ...]:
        return self.catalog().runbooks

    def get(self, slug: str) -> Runbook | None:
        return self.catalog().by_slug.get(slug)

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        return self.catalog().index.search(query, limit=limit)

    def related(self, runbook: Runbook, limit: int = 5) -> list[Runbook]:
        return related_runbooks(runbook, self.all(), limit=limit)
