"""Commit markers that make a task resumable every N documents, and exactly once.

A task's stream is cut into *parts* of ``every`` documents by stream position. The output step writes
each part to its own files and, once they are closed, writes the part's marker holding its figures.
A part without a readable marker did not happen: its files are deleted and it is redone. So a
kill at any moment redoes at most one part, and every document lands in the outputs exactly once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterator

from prox.errors import UsageError

MARKER = re.compile(r"(\d{5})-(\d{5})\.json$")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_figures(path: str, figures) -> None:
    """A marker holds a part's figures: counts, and counts by name. Anything else was edited by hand: refused in one
    line (a torn marker, unreadable JSON, is a killed commit instead: its part is redone)."""
    shaped = isinstance(figures, dict) and all(
        _number(value) or (isinstance(value, dict) and all(_number(v) for v in value.values())) for value in figures.values())
    if not shaped:
        raise UsageError(f"{path}: a checkpoint marker holds {json.dumps(figures)[:80]}, which prox never writes; it was "
                         "edited (rerun with --force to start over)")


@dataclass(frozen=True)
class Checkpoints:
    folder: str  # fsspec path or URL, shared by every task of the run
    every: int = 1000  # documents per part

    def __post_init__(self):
        if self.every < 1:
            raise UsageError("checkpoint interval must be at least 1 document")

    @property
    def _files(self):
        from datatrove.io import get_datafolder

        return get_datafolder(self.folder)

    def marker(self, rank: int, part: int) -> str:
        return f"{self.folder.rstrip('/')}/{_name(rank, part)}"

    def committed(self, rank: int | None = None) -> dict[tuple[int, int], dict]:
        """Figures of every committed part, by (rank, part); a torn marker counts as not committed."""
        files = self._files
        found: dict[tuple[int, int], dict] = {}
        if not files.exists(""):
            return found
        for name in files.ls("", detail=False):
            match = MARKER.search(name)
            if not match or (rank is not None and int(match.group(1)) != rank):
                continue
            try:
                with files.open(name, "rb") as handle:
                    figures = json.loads(handle.read())
            except (ValueError, OSError):
                continue
            _check_figures(self.marker(int(match.group(1)), int(match.group(2))), figures)
            found[(int(match.group(1)), int(match.group(2)))] = figures
        return found

    def next_part(self, rank: int) -> int:
        """The first part of ``rank`` not committed yet (parts commit in stream order)."""
        parts = [part for (_, part) in self.committed(rank)]
        return max(parts) + 1 if parts else 0

    def committed_documents(self, rank: int) -> int:
        return self.next_part(rank) * self.every

    def commit(self, rank: int, part: int, figures: dict) -> None:
        files, name = self._files, _name(rank, part)
        with files.open(name + ".tmp", "wb") as handle:  # written whole, then renamed: a marker is never torn
            handle.write(json.dumps(figures).encode())
        files.mv(name + ".tmp", name)

    def reopen_failed(self, rank: int) -> bool:
        """Make the first part of ``rank`` that holds documents its writers failed on (``writer_errors``), and every
        part after it, uncommitted again, so a rerun redoes them (parts commit in stream order, so a rerun redoes a
        suffix). Whether any part was reopened."""
        committed = sorted((part, figures) for (_, part), figures in self.committed(rank).items())
        failed = [part for part, figures in committed if isinstance(figures, dict) and figures.get("writer_errors")]
        if not failed:
            return False
        files = self._files
        for part, _ in committed:
            if part >= failed[0]:
                files.rm(_name(rank, part))
        return True

    def parts(self) -> Iterator[dict]:
        yield from self.committed().values()


def _name(rank: int, part: int) -> str:
    return f"{rank:05d}-{part:05d}.json"
