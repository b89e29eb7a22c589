"""The two-stage engine of ProX: the doc stage and its gate, chunking, the chunk stage, and assembly.

``prox.Refiner`` (texts in memory) and the datatrove steps (corpora) both run through it, so both cut
the same chunks, send the same documents to the chunk stage and execute programs the same way. Writers
only write programs (and P(drop)); what they mean is decided at execution, by
:mod:`prox.program.stored`, with the run's thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from prox import progress
from prox.errors import BUGS, ModelUnavailable, WriterFailed, describe
from prox.program.executor import Trace, named_reason
from prox.program.operations import Program
from prox.program.stored import StoredPrograms, Thresholds, execute_stored
from prox.text.chunker import MAX_CHUNK_TOKENS, Chunk, chunk_document, whole_document_chunk
from prox.writers.base import ProgramWriter, Written

# a small web page every writer must write programs for before a run starts
PROBE_PAGE = "\n".join([
    "Home | News | Sport | Contact",
    "Bridge reopens after flood repairs",
    "The old stone bridge over the river reopened on Monday after three months of repairs to its arches.",
    "Engineers replaced the mortar in two spans and reinforced the foundations against the next flood.",
    "Copyright 2024 Example Media. All rights reserved.",
])


@dataclass(frozen=True)
class RefineResult:
    text: str  # the refined text, "" when dropped
    dropped: bool
    reason: str  # an execution reason (prox.program.executor.REASONS), "writer_error", or the rule that dropped it
    doc_program: str | None  # as the writer wrote it; None when the doc stage did not run
    chunk_programs: tuple[str, ...]  # one per chunk, as written; () when the chunk stage did not run
    trace: Trace = field(repr=False)
    chunks: tuple[Chunk, ...] = field(default=(), repr=False)
    written: tuple[Written, ...] = field(default=(), repr=False)  # doc first, then chunks: costs and errors

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(w.error for w in self.written if w.error)

    @property
    def drop_probability(self) -> float | None:
        """P(drop) from the doc stage, where it scored (store it to re-decide with another threshold)."""
        return self.written[0].drop_probability if self.doc_program is not None and self.written else None


def stored(doc: Optional[Written], chunks: Optional[Sequence[Written]]) -> StoredPrograms:
    """What the writers wrote for one document, as a run stores it."""
    return StoredPrograms(doc.program if doc else None, tuple(w.program for w in chunks) if chunks is not None else None,
                          doc.drop_probability if doc else None, doc.rule if doc else None)


class Engine:
    """Two writers (either may be None: that stage does not run) and the thresholds that decide."""

    def __init__(self, doc_writer: Optional[ProgramWriter], chunk_writer: Optional[ProgramWriter],
                 thresholds: Thresholds = Thresholds()):
        self.doc_writer, self.chunk_writer, self.thresholds = doc_writer, chunk_writer, thresholds

    @classmethod
    def build(cls, settings, thresholds: Thresholds = Thresholds(), writers: Optional[dict] = None,
              doc_writer: Optional[ProgramWriter] = None, chunk_writer: Optional[ProgramWriter] = None,
              stages: Optional[Sequence[str]] = None) -> "Engine":
        """The engine of :class:`prox.settings.RefineSettings` (of its ``stages`` only, when given: a pipeline step
        runs one). ``writers`` shares built writers (one engine when both stages use the same model); writers given
        here are used as they are."""
        from prox.writers.registry import build_writer

        settings.check_thresholds(thresholds)
        built = writers if writers is not None else {}

        def writer(stage: str) -> ProgramWriter:
            chosen = settings.writer(stage)
            if chosen.key not in built:
                built[chosen.key] = build_writer(chosen.backend, chosen.model, chosen.options)
            return built[chosen.key]

        stages = settings.stages if stages is None else stages
        return cls(doc_writer or (writer("doc") if "doc" in stages else None),
                   chunk_writer or (writer("chunk") if "chunk" in stages else None), thresholds)

    # --- the stages ---------------------------------------------------------------------------------
    def write_doc(self, texts: Sequence[str]) -> list[Written]:
        with progress.stage("doc", len(texts)) as stage:
            written = self.doc_writer.write_doc(list(texts))
            stage.finish(written)
        return written

    def passes(self, text: str, doc: Optional[Written]) -> bool:
        """The gate: whether the chunk stage gets a document, given what the doc stage wrote (None: it did not run)."""
        return doc is None or (doc.error is None and stored(doc, None).passes_doc_stage(text, self.thresholds))

    def chunks(self, text: str) -> list[Chunk]:
        """The line-numbered chunks the chunk writer reads: its tokenizer's budget, or the whole text without one."""
        tokenizer = getattr(self.chunk_writer, "tokenizer", None)
        if tokenizer is None:  # a writer with no token budget reads the whole document as one chunk
            return [whole_document_chunk(text)]
        return chunk_document(text, tokenizer, getattr(self.chunk_writer, "chunk_tokens", MAX_CHUNK_TOKENS))

    def write_chunks(self, texts: Sequence[str]) -> list[tuple[list[Chunk], list[Written]]]:
        """Each text's chunks and their programs: all chunks of all texts go to the writer together."""
        chunks = [self.chunks(text) for text in texts]
        flat = [chunk for own in chunks for chunk in own]
        written: list[Written] = []
        if flat:
            with progress.stage("chunk", len(flat), documents=len(texts)) as stage:
                written = self.chunk_writer.write_chunk(flat)
                stage.finish(written)
        out, position = [], 0
        for own in chunks:
            out.append((own, written[position : position + len(own)]))
            position += len(own)
        return out

    def probe(self) -> None:
        """Have each writer write programs for a small page, as the run will: a model that does not load, a server
        that does not answer or an option the writer cannot use fails here, once, as :class:`WriterFailed` (or
        the loading error), instead of on every document."""
        for stage, write in (("doc", lambda: self.write_doc([PROBE_PAGE])),
                             ("chunk", lambda: self.write_chunks([PROBE_PAGE])[0][1])):
            if getattr(self, f"{stage}_writer") is None:
                continue
            try:
                errors = [w.error for w in write() if w.error]
            except ValueError as exc:  # a writer refusing its settings on first use
                raise WriterFailed(f"the {stage} writer failed on a probe page before the run: {exc}") from None
            if errors:
                raise WriterFailed(f"the {stage} writer failed on a probe page before the run: {errors[0]}")

    # --- assembly -----------------------------------------------------------------------------------
    def assemble(self, text: str, doc: Optional[Written], chunks: Sequence[Chunk] = (),
                 chunk_written: Optional[Sequence[Written]] = None) -> RefineResult:
        written = ((doc,) if doc else ()) + tuple(chunk_written or ())
        programs = stored(doc, chunk_written)
        chunk_programs = programs.chunks or ()
        if any(w.error for w in written):  # the writer gave up: keep the text, say why, lose nothing
            trace = Trace(Program(), errors=tuple(w.error for w in written if w.error))
            return RefineResult(text, False, "writer_error", programs.doc, chunk_programs, trace, tuple(chunks), written)
        result, _ = execute_stored(text, programs, self.thresholds)
        reason = named_reason(result.reason, programs.doc_rule)
        return RefineResult(result.text, result.dropped, reason, programs.doc, chunk_programs, result.trace,
                            tuple(chunks), written)

    def refine(self, texts: Sequence[str]) -> list[RefineResult]:
        """One result per text, in order. When a batch fails, its texts are refined one by one, so a text
        whose own refining fails is kept unchanged with reason ``writer_error`` and the others go on."""

        def failed(text: str, error: Exception) -> RefineResult:
            message = describe(error)
            return RefineResult(text, False, "writer_error", None, (), Trace(Program(), errors=(message,)), (),
                                (Written("", error=message),))

        return isolated(self._refine, list(texts), failed)

    def _refine(self, texts: list[str]) -> list[RefineResult]:
        docs: list[Optional[Written]] = self.write_doc(texts) if self.doc_writer is not None else [None] * len(texts)
        todo = [i for i, text in enumerate(texts) if self.passes(text, docs[i])] if self.chunk_writer is not None else []
        chunked = dict(zip(todo, self.write_chunks([texts[i] for i in todo]))) if todo else {}
        return [self.assemble(text, docs[i], *chunked.get(i, ((), None))) for i, text in enumerate(texts)]


def isolated(work, items: list, failed) -> list:
    """``work(items)``, one result per item; when the batch raises, ``work([item])`` for each item alone, and
    ``failed(item, error)`` for an item that fails alone, so one bad item costs only itself. A model that
    cannot be loaded at all (:class:`ModelUnavailable`) or a bug (``BUGS``) is no item's fault: it is raised."""
    try:
        return work(items)
    except (ModelUnavailable, *BUGS):
        raise
    except Exception as error:
        if len(items) == 1:
            return [failed(items[0], error)]
    results = []
    for item in items:
        try:
            results += work([item])
        except (ModelUnavailable, *BUGS):
            raise
        except Exception as error:
            results.append(failed(item, error))
    return results
