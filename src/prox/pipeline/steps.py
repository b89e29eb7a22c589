"""The model steps and the execution step, as datatrove ``PipelineStep``s.

Generating programs (a model, expensive) and executing them (exact, cheap) are separate steps, so
stored programs can be re-executed with other thresholds (``prox execute``). The model steps batch
documents, build their writer once per process (shared by both stages when they use the same model),
and keep document order, which resuming relies on.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from itertools import islice
from typing import Any, Iterable, Iterator, Optional

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from prox.apply import Thresholds, execute_stored, trace_summary
from prox.pipeline.documents import is_blank, is_empty, is_rejected, state, writer_errors
from prox.program.executor import execute_doc
from prox.program.parser import parse_program
from prox.writers.base import ProgramWriter, Written
from prox.writers.errors import describe, isolated

_PROCESS_WRITERS: dict = {}  # writers built in this process, shared by every step that asks for the same one


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class _ProgramStep(PipelineStep):
    """A step that asks a program writer (named by preset, models and backend) for one stage's programs."""

    stage = ""
    type = "✍️ - PROGRAMS"

    def __init__(
        self,
        preset: Optional[str] = "heuristic",
        doc_model: Optional[str] = None,
        chunk_model: Optional[str] = None,
        backend: Optional[str] = None,
        batch_size: int = 64,
        writer: Optional[ProgramWriter] = None,
        writer_batch_size: Optional[int] = None,
        **options: Any,
    ):
        """``batch_size`` documents go to the writer at a time; ``writer_batch_size`` prompts go to the model at a time."""
        super().__init__()
        self.settings = {"preset": preset, "doc_model": doc_model, "chunk_model": chunk_model, "backend": backend, **options}
        if writer_batch_size is not None:
            self.settings["batch_size"] = writer_batch_size
        self.batch_size = batch_size
        self._writer = writer
        self._given = writer is not None

    @property
    def writer(self) -> ProgramWriter:
        if self._writer is None:
            from prox.refiner import Refiner

            refiner = Refiner(stages=(self.stage,), writers=_PROCESS_WRITERS, **self.settings)
            self._writer = refiner.doc_writer if self.stage == "doc" else refiner.chunk_writer
        return self._writer

    def __getstate__(self) -> dict:  # a built engine never travels to another process
        data = dict(self.__dict__)
        data["_writer"] = self._writer if self._given else None
        return data

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for batch in batched(data, self.batch_size):
            todo = [document for document in batch if self.wants(document)]
            if todo:
                with self.track_time(unit="batch"):
                    start = time.perf_counter()
                    written = self.isolated(todo)
                    share = (time.perf_counter() - start) / len(todo)
                for document, own in zip(todo, written):
                    self.record(document, own, share)
            yield from batch

    def wants(self, document: Document) -> bool:
        return not (is_rejected(document) or is_blank(document) or is_empty(document) or writer_errors(document))

    def isolated(self, documents: list[Document]) -> list[list[Written]]:
        """:meth:`write` for the batch; when it fails, document by document, so that a document whose own
        writing fails gets that error recorded (and is kept unchanged) and the others still get programs."""

        def failed(document: Document, error: Exception) -> list[Written]:
            self.stat_update("isolated_failures")
            return [Written("", error=describe(error))]

        return isolated(self.write, documents, failed)

    def write(self, documents: list[Document]) -> list[list[Written]]:
        """Store each document's programs in its metadata; what each one cost, per document."""
        raise NotImplementedError

    def record(self, document: Document, written: list[Written], seconds: float) -> None:
        cost = {
            "items": len(written),
            "input_tokens": sum(w.input_tokens for w in written),
            "output_tokens": sum(w.output_tokens for w in written),
            "seconds": round(seconds, 6),  # its share of the batch's wall time, whatever the writer reports
        }
        errors = [w.error for w in written if w.error]
        if errors:
            cost["errors"] = errors
            self.stat_update("writer_errors")
        state(document)[self.stage] = cost
        self.stat_update("documents")
        self.stat_update("input_tokens", value=cost["input_tokens"])
        self.stat_update("output_tokens", value=cost["output_tokens"])


class WriteDocPrograms(_ProgramStep):
    """Doc stage: ``metadata.doc_program`` (and ``drop_probability`` in scoring mode) for every document."""

    name = "doc programs"
    stage = "doc"

    def write(self, documents: list[Document]) -> list[list[Written]]:
        costs = []
        for document, written in zip(documents, self.writer.write_doc([d.text for d in documents])):
            for stale in ("doc_program", "chunk_program", "drop_probability", "doc_rule"):  # an input's old programs
                document.metadata.pop(stale, None)
            document.metadata["doc_program"] = written.program
            if written.rule is not None:
                document.metadata["doc_rule"] = written.rule
            if written.drop_probability is not None:
                document.metadata["drop_probability"] = written.drop_probability
            costs.append([written])
        return costs


class WriteChunkPrograms(_ProgramStep):
    """Chunk stage: ``metadata.chunk_program``, one program per chunk, for documents the doc stage kept."""

    name = "chunk programs"
    stage = "chunk"

    def wants(self, document: Document) -> bool:
        program = document.metadata.get("doc_program")
        kept = not isinstance(program, str) or not execute_doc(document.text, program).dropped
        return kept and super().wants(document)

    def write(self, documents: list[Document]) -> list[list[Written]]:
        from prox.refiner import chunks_for

        chunks = [chunks_for(self.writer, document.text) for document in documents]
        written = self.writer.write_chunk([chunk for own in chunks for chunk in own])
        costs, position = [], 0
        for document, own in zip(documents, chunks):
            mine = written[position : position + len(own)]
            position += len(own)
            document.metadata["chunk_program"] = [w.program for w in mine]
            costs.append(mine)
        return costs


class ExecutePrograms(PipelineStep):
    """Run the stored programs: ``text`` becomes the refined text and ``metadata.raw_content`` the original.

    Dropped documents get ``text == ""`` and a reason. By default they leave the stream (to
    ``exclusion_writer`` when given, as datatrove filters do); ``keep_dropped=True`` passes them on
    marked, for a step that routes them itself. A writer error keeps the document unchanged.
    """

    name = "execute programs"
    type = "⚙️ - EXECUTE"

    def __init__(self, thresholds: Thresholds = Thresholds(), keep_dropped: bool = False, exclusion_writer=None):
        super().__init__()
        self.thresholds = thresholds
        self.keep_dropped = keep_dropped
        self.exclusion_writer = exclusion_writer

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self.exclusion_writer if self.exclusion_writer else nullcontext() as excluded:
            for document in data:
                if is_rejected(document) or is_blank(document):
                    yield document
                    continue
                with self.track_time():
                    try:
                        self.execute(document)
                    except Exception as error:  # never seen in the fuzz benchmark; if it happens, one document pays
                        untouched(document, "execution_error", errors=[f"execution failed: {describe(error)}"])
                prox = state(document)
                self.stat_update(prox["reason"])
                if not prox["dropped"] or self.keep_dropped:
                    self.stat_update("kept" if not prox["dropped"] else "dropped")
                    yield document
                else:
                    self.stat_update("dropped")
                    if excluded is not None:
                        excluded.write(document, rank)

    def execute(self, document: Document) -> None:
        document.metadata["raw_content"] = raw = document.text
        errors = writer_errors(document)
        if is_empty(document) or errors:
            untouched(document, "empty" if is_empty(document) else "writer_error", dropped=is_empty(document),
                      writer_errors=errors)
            return
        result, doc_reason = execute_stored(raw, document.metadata, self.thresholds)
        state(document).update(trace_summary(result, doc_reason, document.metadata.get("doc_rule")))
        state(document).update(_parse_figures(document.metadata))
        document.text = result.text


def untouched(document: Document, reason: str, dropped: bool = False, errors: tuple = (), **extra) -> None:
    """A document no program changed: kept as it came (``text`` empty when dropped), with its reason."""
    raw = document.metadata.setdefault("raw_content", document.text)
    words = len(raw.split())
    state(document).update(dropped=dropped, reason=reason, doc_reason=None, removed_lines=[], normalizations=[],
                           errors=list(errors), words_before=words, words_after=0 if dropped else words, **extra)
    document.text = "" if dropped else raw


def _parse_figures(metadata: dict) -> dict:
    chunk_programs = metadata.get("chunk_program")
    chunk_programs = [chunk_programs] if isinstance(chunk_programs, str) else list(chunk_programs or [])
    programs = [p for p in [metadata.get("doc_program"), *chunk_programs] if isinstance(p, str)]
    return {"programs": len(programs), "programs_with_parse_errors": sum(1 for p in programs if parse_program(p).errors)}
