"""What a refine did to one output record, as lines to show: removed, normalized, or kept as they were."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from prox.program.words import word_count


@dataclass(frozen=True)
class Piece:
    text: str
    replaced_by: Optional[str] = None  # set when ``text`` is a normalize source: what it became


@dataclass(frozen=True)
class LineView:
    number: int
    pieces: tuple[Piece, ...]
    removed: bool


@dataclass
class DocView:
    id: str
    dropped: bool
    reason: str
    source: str
    doc_program: Optional[str]
    chunk_programs: list[str]
    lines: list[LineView]
    normalizations: list[dict]
    errors: list[str]
    words_before: int
    words_after: int
    metadata: dict = field(default_factory=dict)
    raw: str = ""  # the original text: what a writer read (``prox show --why`` reads it again)
    line_count: int = 0  # lines of the document; ``lines`` holds the first of them (all, unless the view was bounded)
    removed_count: int = 0  # lines removed, of all of them

    @property
    def drop_probability(self) -> Optional[float]:
        """P(drop), where the doc writer scored it (students, ``--score``)."""
        p = self.metadata.get("drop_probability")
        return float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) else None

    @property
    def decision(self) -> str:
        """"kept (refined)" / "dropped (drop_doc, P(drop) 0.572)": what happened and why, in a few words."""
        p = self.drop_probability
        return f"{'dropped' if self.dropped else 'kept'} ({self.reason}" + (f", P(drop) {p:.3f})" if p is not None else ")")

    @property
    def operations(self) -> int:
        return self.removed_count + sum(1 for n in self.normalizations if n.get("count"))

    @property
    def hidden_lines(self) -> int:
        """Lines of the document after those the view holds."""
        return max(0, self.line_count - len(self.lines))


def prox_metadata(record: dict):
    """The record's prox state (:class:`prox.pipeline.documents.DocState`), read only."""
    from prox.pipeline.documents import DocState

    return DocState.of_record(record)


def source_of(record: dict) -> str:
    """The record's source for per-source figures: ``metadata.source``, else the URL's host, else the input file."""
    from urllib.parse import urlparse

    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    if isinstance(metadata.get("source"), str):
        return metadata["source"]
    url = metadata.get("url") or record.get("url")
    if isinstance(url, str) and (host := urlparse(url).hostname):
        return host
    where = prox_metadata(record).source
    return str(where.get("file", "unknown")).rsplit("/", 1)[-1] if isinstance(where, dict) else "unknown"


def view(record: dict, max_lines: Optional[int] = None) -> DocView:
    """What happened to the record, line by line: the first ``max_lines`` lines (all when None), so showing a
    document of a million lines costs the lines shown; the counts are the whole document's."""
    prox = prox_metadata(record)
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    raw = record.get("raw_content") if isinstance(record.get("raw_content"), str) else record.get("text", "")
    normalizations = [n for n in prox.get("normalizations", []) if isinstance(n, dict)]
    active = [n for n in normalizations if n.get("count") and isinstance(n.get("source_str"), str) and n["source_str"]]
    lines = raw.split("\n")
    if any("\n" in n["source_str"] or "\n" in str(n.get("target_str", "")) for n in active):
        # a normalization changed the line count: show the normalized lines, which removed_lines refers to
        text = raw
        for n in active[:MAX_REPLAYED]:
            text = text.replace(n["source_str"], str(n.get("target_str", "")))
        lines, active = text.split("\n"), []
    count = len(lines)
    shown_count = count if max_lines is None else min(count, max_lines)
    removed, removed_count = _removed(prox.get("removed_lines", []), count, shown_count)
    cut = _cutter(active)
    shown = [LineView(i, _pieces(line, cut), i in removed) for i, line in enumerate(lines[:shown_count])]
    chunk_programs = metadata.get("chunk_program")
    return DocView(
        id=str(record.get("id", "")), dropped=bool(prox.get("dropped")), reason=str(prox.get("reason", "unknown")),
        source=source_of(record), doc_program=metadata.get("doc_program"),
        chunk_programs=[chunk_programs] if isinstance(chunk_programs, str) else list(chunk_programs or []),
        lines=shown, normalizations=normalizations, errors=[str(e) for e in prox.get("errors", [])],
        words_before=int(prox.get("words_before", word_count(raw))), words_after=word_count(str(record.get("text", ""))),
        metadata=metadata, raw=raw, line_count=count, removed_count=removed_count,
    )


MAX_REPLAYED = 10_000  # normalizations replayed to show a document whose line count they changed


def _removed(runs, lines: int, shown: int) -> tuple[set[int], int]:
    """The removed line numbers below ``shown``, and how many of the document's ``lines`` the stored runs
    ``[start, end]`` remove: a run of [0, 10**12] costs the lines shown, not a trillion numbers."""
    removed: set[int] = set()
    everywhere: list[tuple[int, int]] = []
    for run in runs if isinstance(runs, list) else ():
        if isinstance(run, (list, tuple)) and len(run) == 2 and all(isinstance(n, int) for n in run):
            start, end = max(run[0], 0), min(run[1], lines - 1)
            if start <= end:
                everywhere.append((start, end))
                removed.update(range(start, min(end, shown - 1) + 1))
    count, reached = 0, -1  # runs may overlap: count each line once
    for start, end in sorted(everywhere):
        if end > reached:
            count += end - max(start, reached + 1) + 1
            reached = end
    return removed, count


def _cutter(normalizations: list[dict]):
    """A regex matching any applied normalize source (longest first at a position, as replacement order rarely
    matters for showing), and what each becomes; None without any."""
    import re

    targets: dict[str, str] = {}
    for n in normalizations:
        targets.setdefault(n["source_str"], str(n.get("target_str", "")))
    if not targets:
        return None
    pattern = re.compile("|".join(map(re.escape, sorted(targets, key=len, reverse=True))))
    return pattern, targets


def _pieces(line: str, cut) -> tuple[Piece, ...]:
    """The line cut into plain text and normalize sources, in one pass of one regex (linear in the line)."""
    if cut is None:
        return (Piece(line),)
    pattern, targets = cut
    pieces: list[Piece] = []
    plain = 0
    for match in pattern.finditer(line):
        if plain < match.start():
            pieces.append(Piece(line[plain:match.start()]))
        pieces.append(Piece(match.group(), targets[match.group()]))
        plain = match.end()
    if plain < len(line) or not pieces:
        pieces.append(Piece(line[plain:]))
    return tuple(pieces)
