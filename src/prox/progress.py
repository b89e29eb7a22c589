"""Progress as the work finishes, not as results are committed.

Model writers call :func:`advance` after every batch of prompts; the engine opens a :func:`stage` around
every writer call, and counts whatever a writer did not report (a rule-based writer, done in one go)
when the call returns. Whoever wants to see it installs a listener with :func:`listening`: a terminal
display (:class:`Display`), or a pipeline step writing its task's progress file. With no listener,
reporting costs a global lookup.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

Listener = Callable[["Stage"], None]
_listeners: list[Listener] = []
_current: Optional["Stage"] = None
_lock = threading.Lock()


class Stage:
    """One writer call: ``items`` prompts (documents or chunks) for ``documents`` documents, and what is done."""

    def __init__(self, name: str, items: int, documents: Optional[int] = None):
        self.name, self.items = name, items
        self.documents = items if documents is None else documents
        self.done = self.input_tokens = self.output_tokens = 0
        self.started = time.monotonic()
        self.finished = False
        self.ended: Optional[float] = None

    @property
    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.items) if self.items else 1.0

    def advance(self, items: int, input_tokens: int = 0, output_tokens: int = 0) -> None:
        with _lock:
            self.done += items
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
        _notify(self)

    def finish(self, written: Sequence) -> None:
        """The writer returned ``written`` (:class:`prox.writers.base.Written`): count what it did not report."""
        self.advance(max(0, self.items - self.done),
                     max(0, sum(w.input_tokens for w in written) - self.input_tokens),
                     max(0, sum(w.output_tokens for w in written) - self.output_tokens))


def _notify(stage: Stage) -> None:
    for listener in list(_listeners):
        listener(stage)


@contextmanager
def stage(name: str, items: int, documents: Optional[int] = None) -> Iterator[Stage]:
    """Open a stage of ``items`` prompts; writers inside it report with :func:`advance`."""
    global _current
    opened, outer = Stage(name, items, documents), _current
    _current = opened
    _notify(opened)
    try:
        yield opened
    finally:
        _current = outer
        opened.finished, opened.ended = True, time.monotonic()
        _notify(opened)


def advance(items: int, input_tokens: int = 0, output_tokens: int = 0) -> None:
    """What a writer calls after each batch: ``items`` prompts done, with their tokens."""
    if _current is not None and _listeners:
        _current.advance(items, input_tokens, output_tokens)


def done() -> int:
    """Items reported so far in the open stage (a batch's writer may report item by item: count the rest)."""
    return _current.done if _current is not None else 0


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def shows_progress(requested: Optional[bool] = None) -> bool:
    """Whether to draw progress: as asked, else when standard error is a terminal (never in a pipe or a log)."""
    return sys.stderr.isatty() if requested is None else requested


class Display:
    """A live line per stage on standard error: items done, documents/s or items/s, tokens/s, ETA.

    Also a plain counter of anything else (``Display.count``) for commands that are not writer calls.
    Quiet (draws nothing) when not on a terminal, unless ``enabled=True``."""

    def __init__(self, title: str, enabled: Optional[bool] = None, total: Optional[int] = None, unit: str = "docs"):
        self.enabled = shows_progress(enabled)
        self.title, self.unit = title, unit
        self._tasks: dict = {}
        self._bar = None
        self._tokens = 0
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=Console(stderr=True), transient=False)
            self._main = self._bar.add_task(title, total=total, rate="") if total is not None else None
            self._started = time.monotonic()

    def __enter__(self) -> "Display":
        if self._bar is not None:
            self._bar.start()
            _listeners.append(self._on_stage)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            _listeners.remove(self._on_stage)
            self._bar.stop()

    def count(self, done: int = 1, total: Optional[int] = None, tokens: int = 0) -> None:
        """Advance the main counter (documents, records, requests) by ``done``."""
        if self._bar is None:
            return
        if self._main is None:
            self._main = self._bar.add_task(self.title, total=total, rate="")
        self._tokens += tokens
        if total is not None:
            self._bar.update(self._main, total=total)
        self._bar.advance(self._main, done)
        task = self._bar.tasks[self._main]
        seconds = max(time.monotonic() - self._started, 1e-9)
        tokens_rate = f", {self._tokens / seconds:,.0f} tokens/s" if self._tokens else ""
        self._bar.update(self._main, rate=f"{rate(task.completed, seconds)} {self.unit}/s{tokens_rate}")

    def _on_stage(self, stage: Stage) -> None:
        """One row per stage: this writer call's items done of its total, the rates over every call so far."""
        row = self._tasks.get(stage.name)
        if row is None:
            label = f"{stage.name} stage" if stage.name in ("doc", "chunk") else stage.name
            row = self._tasks[stage.name] = {"task": self._bar.add_task(label, total=stage.items, rate=""),
                                             "stage": stage, "items": 0, "tokens": 0, "seconds": 0.0}
        if row["stage"] is not stage:  # a new call: fold the finished one into the totals
            old = row["stage"]
            row.update(stage=stage, items=row["items"] + old.done, tokens=row["tokens"] + old.input_tokens + old.output_tokens,
                       seconds=row["seconds"] + old.elapsed)
        seconds = max(row["seconds"] + stage.elapsed, 1e-9)
        unit = {"doc": "docs", "chunk": "chunks"}.get(stage.name, "/")
        unit = "" if unit == "/" else f" {unit}"
        tokens = row["tokens"] + stage.input_tokens + stage.output_tokens
        tokens_rate = f", {rate(tokens, seconds)} tokens/s" if tokens else ""
        self._bar.update(row["task"], total=stage.items, completed=stage.done,
                         rate=f"{rate(row['items'] + stage.done, seconds)}{unit}/s{tokens_rate}")


def rate(count: float, seconds: float) -> str:
    """A rate with three significant figures, so that slow model runs do not read 0.0."""
    if not seconds or not count:
        return "0"
    value = count / seconds
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
