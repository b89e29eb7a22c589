"""Labelled data as people already have it: line-labelled pages and document-labelled texts.

Line sets are JSONL records with ``lines`` (the page's text lines) and ``keep`` (1 keep, 0 remove, one
flag per line); doc sets are JSONL records with ``text`` and ``keep`` (1 keep, 0 drop). Both are read
as they are in ``../shared/labels/``; a record that fits neither is an error naming the file and line.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from prox.errors import UsageError
from prox.records import Record, read_file


@dataclass(frozen=True)
class LabelledPage:
    id: str
    lines: tuple[str, ...]
    keep: tuple[bool, ...]  # one flag per line

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class LabelledDoc:
    id: str
    text: str
    keep: bool


@dataclass(frozen=True)
class LabelledSet:
    path: str
    kind: Literal["lines", "docs"]
    items: tuple

    def split(self, validation: float = 0.3, seed: int = 0) -> tuple["LabelledSet", "LabelledSet"]:
        """A deterministic (train, validation) split."""
        order = list(range(len(self.items)))
        random.Random(seed).shuffle(order)
        cut = len(order) - round(len(order) * validation)
        pick = lambda idx: LabelledSet(self.path, self.kind, tuple(self.items[i] for i in sorted(idx)))  # noqa: E731
        return pick(order[:cut]), pick(order[cut:])


    def split_as(self, validation: "LabelledSet") -> tuple["LabelledSet", "LabelledSet"]:
        """(train, validation) with an item in validation when ``validation`` holds its id: the same pages in
        another form (after an HTML extractor, say) split as the originals, so no page is seen in either form."""
        held = {item.id for item in validation.items}
        pick = lambda inside: LabelledSet(self.path, self.kind, tuple(i for i in self.items if (i.id in held) == inside))  # noqa: E731
        return pick(False), pick(True)


class LabelError(UsageError):
    """A labelled file that cannot be used as one, with the file and line."""


def read_labelled(path: str, kind: str | None = None, limit: int | None = None) -> LabelledSet:
    """Read a line set or a doc set; ``kind`` (``lines`` / ``docs``) is guessed from the first record."""
    items: list = []
    for item in read_file(path):
        if not isinstance(item, Record):
            raise LabelError(f"{item.file}, {item.where}: {item.error}")
        data = item.data
        kind = kind or ("lines" if "lines" in data else "docs")
        items.append(_page(item, data) if kind == "lines" else _doc(item, data))
        if limit is not None and len(items) >= limit:
            break
    return LabelledSet(path, kind or "docs", tuple(items))


def _page(item: Record, data: dict) -> LabelledPage:
    lines, keep = data.get("lines"), data.get("keep")
    if not isinstance(lines, list) or not isinstance(keep, list) or len(lines) != len(keep):
        raise LabelError(f"{item.file}, {item.where}: a line set needs 'lines' and 'keep' lists of the same length")
    return LabelledPage(str(data.get("id", f"{item.file}/{item.index}")), tuple(map(str, lines)), tuple(bool(k) for k in keep))


def _doc(item: Record, data: dict) -> LabelledDoc:
    if not isinstance(data.get("text"), str) or data.get("keep") not in (0, 1, True, False):
        raise LabelError(f"{item.file}, {item.where}: a doc set needs a 'text' string and a 'keep' flag (0 or 1)")
    return LabelledDoc(str(data.get("id", f"{item.file}/{item.index}")), data["text"], bool(data["keep"]))
