"""The progress of a pipeline run, as its tasks work: small JSON files under ``OUTPUT/progress/`` and the bar.

Each task writes ``RANK.json`` from its output step (documents written, bytes read) and ``RANK-STAGE.json``
from each model step, updated as every model batch finishes (:mod:`prox.progress`): a model run moves
long before its first batch of documents reaches the output. The driver's :class:`ProgressBar` polls
the files and draws one bar: the mean progress of the stages, with documents, docs/s, tokens/s and an
ETA. Files are rewritten at most every ``EVERY_S`` seconds, whole, so a reader never sees half of one.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Optional

EVERY_S = 0.5


def _write(path: str, data: dict) -> None:
    import fsspec

    with fsspec.open(path, "w", auto_mkdir=True) as handle:
        json.dump(data, handle)


class OutputProgress:
    """Documents written and bytes read by one task (its output step)."""

    def __init__(self, folder: str, rank: int):
        self.path = f"{folder}/{rank:05d}.json"
        self.last = 0.0
        self.done = 0
        self.offset: Optional[list] = None

    def update(self, documents: int, offset: Optional[list], final: bool = False) -> None:
        self.done = documents
        self.offset = offset or self.offset
        now = time.monotonic()
        if not final and now - self.last < EVERY_S:
            return
        self.last = now
        total = self.offset[1] if self.offset else 0
        done_bytes = total if final else (self.offset[0] if self.offset else 0)
        _write(self.path, {"documents": self.done, "bytes": done_bytes, "total_bytes": total, "final": final})


class StageProgress:
    """How far one model step of one task is: documents (a share of the batch in flight counts), prompts
    and tokens, and the bytes of input those documents stand for."""

    def __init__(self, folder: str, rank: int, stage: str):
        self.path = f"{folder}/{rank:05d}-{stage}.json"
        self.documents = 0.0  # documents of finished batches
        self.items = self.input_tokens = self.output_tokens = 0
        self.batch_documents = self.batch_wanted = 0
        self.fraction = 0.0
        self.bytes = (0, 0, 0)  # before the batch, after it, the task's total
        self.last = 0.0
        self._open = None  # the stage of the writer call in flight
        self._counted = (0, 0, 0)  # what of it is already added to the totals

    def begin(self, batch: list, wanted: int) -> None:
        """A batch of documents arrives; ``wanted`` of them go to the writer (the others are done at once)."""
        from prox.pipeline.documents import state

        offsets = [state(d).offset for d in batch]
        offsets = [o for o in offsets if o]
        previous = self.bytes[1]
        self.bytes = (previous, offsets[-1][0], offsets[-1][1]) if offsets else (previous, previous, self.bytes[2])
        self.batch_documents, self.batch_wanted, self.fraction = len(batch), wanted, 0.0
        self._save(force=True)

    def on_stage(self, stage) -> None:
        """A listener of :mod:`prox.progress`: the writer call in flight moved."""
        if self._open is not stage:  # a new writer call: what the earlier one did is already counted
            if self._open is not None:
                self._settle(self._open)
            self._open, self._counted = stage, (0, 0, 0)
        self._settle(stage)
        self.fraction = stage.fraction
        self._save()

    def _settle(self, stage) -> None:
        done = (stage.done, stage.input_tokens, stage.output_tokens)
        self.items += done[0] - self._counted[0]
        self.input_tokens += done[1] - self._counted[1]
        self.output_tokens += done[2] - self._counted[2]
        self._counted = done

    def end(self) -> None:
        self.documents += self.batch_documents
        self.batch_documents = self.batch_wanted = 0
        self.fraction, self._open = 0.0, None
        self.bytes = (self.bytes[1], self.bytes[1], self.bytes[2])
        self._save(force=True)

    @property
    def documents_done(self) -> float:
        skipped = self.batch_documents - self.batch_wanted
        return self.documents + skipped + self.batch_wanted * self.fraction

    def _save(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < EVERY_S:
            return
        self.last = now
        share = (self.batch_documents - self.batch_wanted + self.batch_wanted * self.fraction) / self.batch_documents \
            if self.batch_documents else 0.0
        before, after, total = self.bytes
        _write(self.path, {"documents": round(self.documents_done, 2), "items": self.items,
                           "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                           "bytes": int(before + (after - before) * share), "total_bytes": total})


def read(folder: str) -> Optional[dict]:
    """Every task's progress, summed: ``output`` and one entry per stage; None while a file is being written."""
    from datatrove.io import get_datafolder

    files = get_datafolder(folder)
    figures: dict = {}
    try:
        for path in files.glob("*.json"):
            name = path.rsplit("/", 1)[-1][:-5]
            kind = name.split("-", 1)[1] if "-" in name else "output"
            with files.open(path, "r") as handle:
                data = json.load(handle)
            into = figures.setdefault(kind, {})
            for key, value in data.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    into[key] = into.get(key, 0) + value
    except (OSError, ValueError):
        return None
    return figures


class ProgressBar:
    """The driver's bar: polls the tasks' files twice a second, on standard error."""

    def __init__(self, folder: str, total_bytes: int, limit: Optional[int], stages: tuple = (), title: str = "refining"):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.folder, self.total_bytes, self.limit, self.stages = folder, total_bytes, limit, tuple(stages)
        self.bar = Progress(TextColumn(f"[bold]{title}"), BarColumn(bar_width=16), TextColumn("{task.fields[figures]}"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=False)
        self.task = self.bar.add_task(title, total=limit or max(total_bytes, 1), figures="")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._start = time.monotonic()

    def __enter__(self) -> "ProgressBar":
        self.bar.start()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()
        self.bar.stop()

    def _loop(self) -> None:
        while not self._stop.wait(EVERY_S):
            self._poll()

    def _poll(self) -> None:
        from prox.progress import rate

        figures = read(self.folder)
        if figures is None:
            return  # a file being replaced: next time
        output = figures.get("output", {})
        parts = [figures.get(stage, {}) for stage in self.stages] or [output]
        key = "documents" if self.limit else "bytes"
        completed = sum(p.get(key, 0) for p in parts) / len(parts)
        seconds = max(time.monotonic() - self._start, 1e-9)
        written = output.get("documents", 0)
        shown = [f"{written:,} written"]
        for stage in self.stages:
            got = figures.get(stage, {})
            if got:
                shown.append(f"{stage} {got.get('documents', 0):,.0f}")
        tokens = sum(figures.get(s, {}).get("input_tokens", 0) + figures.get(s, {}).get("output_tokens", 0) for s in self.stages)
        finished = min(p.get("documents", 0) for p in parts)
        shown.append(f"{rate(finished, seconds)} docs/s")
        if tokens:
            shown.append(f"{rate(tokens, seconds)} tokens/s")
        self.bar.update(self.task, completed=min(completed, self.limit) if self.limit else completed, figures=", ".join(shown))
