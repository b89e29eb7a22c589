"""``prox show``: a document's diff in the terminal, with rich (removed lines struck through, normalizations marked)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from prox.report.diff import DocView

MAX_LINES = 400


def render(doc: DocView) -> Panel:
    body = Text()
    for line in doc.lines[:MAX_LINES]:
        body.append(f"{line.number:03d} ", style="dim")
        for piece in line.pieces:
            if piece.replaced_by is None:
                body.append(piece.text, style="strike dim red" if line.removed else None)
            else:
                body.append(piece.text, style="strike on yellow")
                body.append(piece.replaced_by or "∅", style="bold green")
        body.append("\n")
    if len(doc.lines) > MAX_LINES:
        body.append(f"... {len(doc.lines) - MAX_LINES:,} more lines\n", style="italic dim")
    programs = Text()
    if doc.doc_program is not None:
        programs.append(f"doc: {doc.doc_program}\n", style="cyan")
    for i, program in enumerate(doc.chunk_programs):
        programs.append(f"chunk {i}:\n{program}\n", style="cyan")
    for error in doc.errors:
        programs.append(f"error: {error}\n", style="yellow")
    title = Text.assemble((doc.id, "bold"), " · ", ("dropped", "red") if doc.dropped else ("kept", "green"),
                          f" ({doc.reason}) · {doc.source} · words {doc.words_before:,} → {doc.words_after:,}")
    return Panel(Group(programs, body), title=title, title_align="left")


def show(docs: list[DocView], console: Console | None = None) -> None:
    console = console or Console()
    for doc in docs:
        console.print(render(doc))
