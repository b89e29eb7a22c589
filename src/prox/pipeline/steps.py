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
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from prox.engine import Engine, isolated
from prox.errors import describe
from prox.pipeline.documents import STORED_PROGRAMS, state
from prox.program.parser import parse_program
from prox.program.stored import StoredPrograms, Thresholds, execute_stored, trace_summary
from prox.program.words import word_count
from prox.settings import DEFAULT_PRESET
from prox.text.language import UNKNOWN, identify
from prox.writers.base import ProgramWriter, Written

if TYPE_CHECKING:
    from prox.settings import RefineSettings

PROCESS_WRITERS: dict = {}  # writers built in this process, shared by every step that asks for the same one


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class _ProgramStep(PipelineStep):
    """A step that has the engine write one stage's programs, ``docs_per_step`` documents at a time."""

    stage = ""
    type = "✍️ - PROGRAMS"

    def __init__(
        self,
        preset: Optional[str] = DEFAULT_PRESET,
        doc_model: Optional[str] = None,
        chunk_model: Optional[str] = None,
        backend: Optional[str] = None,
        *,
        settings: Optional["RefineSettings"] = None,
        thresholds: Thresholds = Thresholds(),
        writer: Optional[ProgramWriter] = None,
        docs_per_step: int = 64,
        score: bool = False,
        progress_folder: Optional[str] = None,
        **options: Any,
    ):
        """What to run comes as ``settings`` (:class:`prox.settings.RefineSettings`), or as a preset, models,
        backend and options, checked here; or a ``writer`` ready to use. ``thresholds`` decide which documents
        pass the doc stage (a drop threshold re-decides from P(drop)). ``progress_folder``: where the task
        reports how far its model batches are (:mod:`prox.pipeline.progress`)."""
        from prox.settings import Batching, RefineSettings

        super().__init__()
        if writer is None and settings is None:
            settings = RefineSettings.of(preset, doc_model, chunk_model, backend, (self.stage,), score,
                                         docs_per_step=docs_per_step, **options)
        self.settings = settings
        self.docs_per_step = settings.batching.docs_per_step if settings else Batching(docs_per_step).docs_per_step
        self.thresholds = thresholds
        self.progress_folder = progress_folder
        self._engine: Optional[Engine] = None
        self._writer = writer

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            given = {f"{self.stage}_writer": self._writer} if self._writer is not None else {}
            if self.settings is not None:
                self._engine = Engine.build(self.settings, self.thresholds, PROCESS_WRITERS, stages=(self.stage,),
                                            **given)
            else:
                self._engine = Engine(self._writer if self.stage == "doc" else None,
                                      self._writer if self.stage == "chunk" else None, self.thresholds)
        return self._engine

    @property
    def writer(self) -> ProgramWriter:
        return self.engine.doc_writer if self.stage == "doc" else self.engine.chunk_writer

    def __getstate__(self) -> dict:  # a built engine never travels to another process
        data = dict(self.__dict__)
        data["_engine"] = None
        return data

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from prox import progress
        from prox.pipeline.progress import StageProgress

        meter = StageProgress(self.progress_folder, rank, self.stage) if self.progress_folder else None
        for batch in batched(data, self.docs_per_step):
            todo = [document for document in batch if self.wants(document)]
            if meter:
                meter.begin(batch, len(todo))
            if todo:
                with self.track_time(unit="batch"), progress.listening(meter.on_stage) if meter else nullcontext():
                    start = time.perf_counter()
                    written = self.isolated(todo)
                    share = (time.perf_counter() - start) / len(todo)
                for document, own in zip(todo, written):
                    self.record(document, own, share)
            if meter:
                meter.end()
            yield from batch

    def wants(self, document: Document) -> bool:
        return state(document).refinable

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
        state(document).set_cost(self.stage, cost)
        self.stat_update("documents")
        self.stat_update("input_tokens", value=cost["input_tokens"])
        self.stat_update("output_tokens", value=cost["output_tokens"])


class WriteDocPrograms(_ProgramStep):
    """Doc stage: ``metadata.doc_program`` (and ``drop_probability`` where it scored) for every document."""

    name = "doc programs"
    stage = "doc"

    def write(self, documents: list[Document]) -> list[list[Written]]:
        costs = []
        for document, written in zip(documents, self.engine.write_doc([d.text for d in documents])):
            for stale in STORED_PROGRAMS:  # an input's old programs (a pipeline of the user's reads them)
                document.metadata.pop(stale, None)
            document.metadata["doc_program"] = written.program
            if written.rule is not None:
                document.metadata["doc_rule"] = written.rule
            if written.drop_probability is not None:
                document.metadata["drop_probability"] = written.drop_probability
            costs.append([written])
        return costs


class WriteChunkPrograms(_ProgramStep):
    """Chunk stage: ``metadata.chunk_program``, one program per chunk, for documents that pass the doc stage."""

    name = "chunk programs"
    stage = "chunk"

    def wants(self, document: Document) -> bool:
        return super().wants(document) and StoredPrograms.of(document.metadata).passes_doc_stage(document.text, self.thresholds)

    def write(self, documents: list[Document]) -> list[list[Written]]:
        costs = []
        for document, (_, written) in zip(documents, self.engine.write_chunks([d.text for d in documents])):
            document.metadata["chunk_program"] = [w.program for w in written]
            document.metadata.pop("remove_probability", None)  # an input's, or an earlier run's
            scores = [w.remove_probabilities for w in written]
            if written and all(s is not None for s in scores):  # one per line, in the chunks' order: the document's lines
                document.metadata["remove_probability"] = [p for own in scores for p in own]
            costs.append(written)
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
                prox = state(document)
                if prox.rejected or prox.blank:
                    yield document
                    continue
                with self.track_time():
                    try:
                        self.execute(document)
                    except Exception as error:  # never seen in the fuzz benchmark; if it happens, one document pays
                        untouched(document, "execution_error", errors=[f"execution failed: {describe(error)}"])
                self.stat_update(prox.reason)
                if not prox.dropped or self.keep_dropped:
                    self.stat_update("kept" if not prox.dropped else "dropped")
                    yield document
                else:
                    self.stat_update("dropped")
                    if excluded is not None:
                        excluded.write(document, rank)

    def execute(self, document: Document) -> None:
        document.metadata["raw_content"] = raw = document.text
        prox = state(document)
        if prox.empty or prox.writer_errors:
            untouched(document, "empty" if prox.empty else "writer_error", dropped=prox.empty, writer_errors=prox.writer_errors)
            return
        programs = StoredPrograms.of(document.metadata)
        result, doc_reason = execute_stored(raw, programs, self.thresholds)
        prox.executed(**trace_summary(result, doc_reason, programs.doc_rule), **_parse_figures(programs),
                      language=identify(raw))
        document.text = result.text


def untouched(document: Document, reason: str, dropped: bool = False, errors: tuple = (), **extra) -> None:
    """A document no program changed: kept as it came (``text`` empty when dropped), with its reason."""
    raw = document.metadata.setdefault("raw_content", document.text)
    words = word_count(raw)
    state(document).executed(dropped=dropped, reason=reason, doc_reason=None, removed_lines=[], normalizations=[],
                             errors=list(errors), words_before=words, words_after=0 if dropped else words,
                             language=identify(raw) if isinstance(raw, str) else UNKNOWN, **extra)
    document.text = "" if dropped else raw


def _parse_figures(programs: StoredPrograms) -> dict:
    texts = [p for p in (programs.doc, *(programs.chunks or ())) if p is not None]
    return {"programs": len(texts), "programs_with_parse_errors": sum(1 for p in texts if parse_program(p).errors)}
