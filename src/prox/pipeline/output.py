"""``WriteOutputs``: kept, dropped and rejected documents to separate files, committed every N documents.

Each task writes ``kept/``, ``dropped/`` and ``rejected/`` files named ``RANK-PART`` through
datatrove's writers, and commits a part (see :mod:`prox.pipeline.checkpoints`) once its files are
closed. It also reports progress for the driver's progress bar.
"""

from __future__ import annotations

from typing import Optional

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from prox.errors import UsageError
from prox.pipeline.checkpoints import Checkpoints
from prox.pipeline.documents import (
    PROX,
    is_blank,
    is_dropped,
    is_rejected,
    output_record,
    reject,
    rejected_record,
)
from prox.pipeline.lock import task_lock
from prox.pipeline.progress import OutputProgress
from prox.pipeline.stats import RunStats

FORMATS = ("jsonl", "jsonl.gz", "jsonl.zst", "parquet")


class WriteOutputs(PipelineStep):
    name = "prox outputs"
    type = "💽 - WRITER"

    def __init__(self, output_folder: str, output_format: str = "jsonl", checkpoint_every: int = 1000):
        super().__init__()
        if output_format not in FORMATS:
            raise UsageError(f"unknown output format {output_format!r}; choose one of {', '.join(FORMATS)}")
        self.output_folder = output_folder.rstrip("/")
        self.output_format = output_format
        self.checkpoints = Checkpoints(f"{self.output_folder}/checkpoints", checkpoint_every)

    def _files(self) -> dict:
        """datatrove disk writers for kept, dropped and rejected documents (our "writers" write programs)."""
        from datatrove.pipeline.writers import JsonlWriter

        from prox.pipeline.parquet import ParquetRecordWriter

        def records(kind: str, adapter):
            folder = f"{self.output_folder}/{kind}"
            if self.output_format == "parquet":  # the JSONL layout; prox's trace as JSON text
                return ParquetRecordWriter(folder, "${rank}-${part}.parquet", adapter=lambda _, d: adapter(d),
                                           json_fields=[("metadata", PROX)])
            compression = {"jsonl": None, "jsonl.gz": "gzip", "jsonl.zst": "zstd"}[self.output_format]
            return JsonlWriter(folder, "${rank}-${part}.jsonl", compression=compression, adapter=lambda _, d: adapter(d))

        return {
            "kept": records("kept", output_record),
            "dropped": records("dropped", output_record),
            "rejected": JsonlWriter(f"{self.output_folder}/rejected", "${rank}-${part}.jsonl", compression=None,
                                    adapter=lambda _, d: rejected_record(d)),
        }

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with task_lock(self.output_folder, rank):  # one writer per task's parts, whichever executor started it
            yield from self._run(data, rank)

    def _run(self, data: DocumentsPipeline, rank: int) -> DocumentsPipeline:
        files = self._files()
        first = self.checkpoints.next_part(rank)
        self._delete_uncommitted(rank, first)
        progress = OutputProgress(f"{self.output_folder}/progress", rank)
        part: Optional[int] = None
        figures, count = RunStats(), 0
        try:
            for document in data:
                prox = document.metadata[PROX]
                position = prox["position"]
                if part is not None and position // self.checkpoints.every != part:
                    self._commit(rank, part, files, figures)
                    figures = RunStats()
                part = position // self.checkpoints.every
                if is_blank(document):
                    figures.add(document)
                    continue
                kind = "rejected" if is_rejected(document) else "dropped" if is_dropped(document) else "kept"
                with self.track_time():
                    try:
                        files[kind].write(document, rank, part=f"{part:05d}")
                    except Exception as exc:  # one document that cannot be written must not end the task
                        if kind == "rejected":
                            raise
                        reject(document, f"could not be written: {type(exc).__name__}: {exc}")
                        kind = "rejected"
                        files[kind].write(document, rank, part=f"{part:05d}")
                figures.add(document)
                count += 1
                self.stat_update(kind)
                progress.update(count, prox.get("offset"))
                yield document
            if part is not None:
                self._commit(rank, part, files, figures)
            progress.update(count, None, final=True)
        finally:
            for disk in files.values():
                disk.close()

    def _commit(self, rank: int, part: int, files: dict, figures: RunStats) -> None:
        for disk in files.values():
            for name in list(disk.output_mg.get_open_files()):
                disk.close_file(name)
        self.checkpoints.commit(rank, part, figures.as_dict())

    def _delete_uncommitted(self, rank: int, first: int) -> None:
        """Remove files of parts that have no marker: a killed run's half-written work."""
        from datatrove.io import get_datafolder

        folder = get_datafolder(self.output_folder)
        for kind in ("kept", "dropped", "rejected"):
            for path in folder.glob(f"{kind}/{rank:05d}-*"):
                part = path.rsplit("/", 1)[-1][6:11]
                if part.isdigit() and int(part) >= first:
                    folder.rm(path)
