"""``prox show``: documents' diffs in the terminal, or as plain marked text or JSON where a program reads them.

On a terminal, removed lines are struck through and normalizations highlighted (rich). Elsewhere (a
pipe, a file) colour is lost, so every line says what happened to it in its first column:
``-`` removed, ``~`` changed by a normalization (``[-source-]{+target+}`` inline, as ``wdiff`` writes it),
a space kept; ``grep '^-'`` lists what a run removed.
"""

from __future__ import annotations

import json
from typing import Iterator, Optional

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from prox.report.diff import DocView
from prox.report.why import Why

MAX_LINES = 400
REMOVED, CHANGED, KEPT = "-", "~", " "


def _note(why: Optional[Why], number: int) -> str:
    return why.lines[number] if why is not None and number < len(why.lines) else ""


def render(doc: DocView, why: Optional[Why] = None) -> Panel:
    body = Text()
    for line in doc.lines[:MAX_LINES]:
        body.append(f"{line.number:03d} ", style="dim")
        for piece in line.pieces:
            if piece.replaced_by is None:
                body.append(piece.text, style="strike dim red" if line.removed else None)
            else:
                body.append(piece.text, style="strike on yellow")
                body.append(piece.replaced_by or "∅", style="bold green")
        if note := _note(why, line.number):
            body.append(f"  ‹{note}›", style="italic blue")
        body.append("\n")
    if doc.line_count > MAX_LINES:
        body.append(f"... {doc.line_count - MAX_LINES:,} more lines\n", style="italic dim")
    programs = Text()
    if doc.doc_program is not None:
        programs.append(f"doc: {doc.doc_program}\n", style="cyan")
    for i, program in enumerate(doc.chunk_programs):
        programs.append(f"chunk {i}:\n{program}\n", style="cyan")
    for error in doc.errors:
        programs.append(f"error: {error}\n", style="yellow")
    for note in why.notes if why is not None else ():
        programs.append(f"why: {note}\n", style="blue")
    title = Text.assemble((doc.id, "bold"), " · ", (doc.decision, "red" if doc.dropped else "green"),
                          f" · {doc.source} · words {doc.words_before:,} → {doc.words_after:,}")
    return Panel(Group(programs, body), title=title, title_align="left")


def marked_lines(doc: DocView, limit: Optional[int] = MAX_LINES, why: Optional[Why] = None) -> Iterator[str]:
    """The document as plain text, one line per line, each starting with its mark and number (and ending with
    ``  # evidence`` under ``--why``)."""
    for line in doc.lines[:limit]:
        changed = any(piece.replaced_by is not None for piece in line.pieces)
        mark = REMOVED if line.removed else CHANGED if changed else KEPT
        text = "".join(piece.text if piece.replaced_by is None else f"[-{piece.text}-]{{+{piece.replaced_by}+}}"
                       for piece in line.pieces)
        note = _note(why, line.number)
        yield f"{mark} {line.number:03d} {text}" + (f"  # {note}" if note else "")
    shown = len(doc.lines) if limit is None else min(limit, len(doc.lines))
    if doc.line_count > shown:
        yield f"# ... {doc.line_count - shown:,} more lines"


def plain(doc: DocView, limit: Optional[int] = MAX_LINES, why: Optional[Why] = None) -> str:
    """One document as plain marked text: a header, its programs and errors as comments, then its lines."""
    head = [f"# {doc.id} · {doc.decision} · {doc.source} · words {doc.words_before:,} -> {doc.words_after:,}"]
    if doc.doc_program is not None:
        head.append(f"# doc: {doc.doc_program}")
    for i, program in enumerate(doc.chunk_programs):
        head += [f"# chunk {i}: {line}" for line in program.split("\n")]
    head += [f"# error: {error}" for error in doc.errors]
    head += [f"# why: {note}" for note in (why.notes if why is not None else ())]
    return "\n".join(head + list(marked_lines(doc, limit, why)))


def as_json(doc: DocView, why: Optional[Why] = None) -> str:
    """One document as a JSON line: what happened to it and to each of its lines (and why, under ``--why``)."""
    data = {
        "id": doc.id, "dropped": doc.dropped, "reason": doc.reason, "drop_probability": doc.drop_probability,
        "source": doc.source, "words_before": doc.words_before, "words_after": doc.words_after,
        "doc_program": doc.doc_program, "chunk_programs": doc.chunk_programs, "errors": doc.errors,
        "lines": [{"number": line.number, "removed": line.removed,
                   "text": "".join(p.text for p in line.pieces),
                   "normalized": "".join(p.text if p.replaced_by is None else p.replaced_by for p in line.pieces)}
                  | ({"why": _note(why, line.number)} if why is not None else {})
                  for line in doc.lines],
    }
    if why is not None:
        data["why"] = why.notes
    return json.dumps(data, ensure_ascii=False)


def show(docs: list[DocView], console: Console | None = None, marks: Optional[bool] = None,
         whys: Optional[list[Optional[Why]]] = None) -> None:
    """Print ``docs``: panels with colour on a terminal, marked plain text elsewhere (``marks`` forces either);
    ``whys``: the evidence of each (``prox show --why``)."""
    console = console or Console()
    marks = not console.is_terminal if marks is None else marks
    for doc, why in zip(docs, whys or [None] * len(docs)):
        if marks:
            console.print(plain(doc, why=why), markup=False, highlight=False, soft_wrap=True, emoji=False)
            console.print()
        else:
            console.print(render(doc, why))
