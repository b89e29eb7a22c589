"""``prox.Refiner``: refine texts in memory, the doc stage first and then the chunk stage, as in ProX.

Only documents the doc stage keeps reach the chunk stage. Programs are written by the writers and
executed here; each result keeps the programs as written, so they can be stored and re-executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from prox.program.executor import DROP_FRACTION, ERROR_LIMIT, SHORT_WORDS, ExecutionResult, Trace, execute_chunk, execute_doc, named_reason
from prox.program.operations import Program
from prox.text.chunker import Chunk, chunk_document, whole_document_chunk
from prox.writers import default_backend, make_writer
from prox.writers.base import ProgramWriter, Written
from prox.writers.errors import describe, isolated

PRESETS: dict[str, dict[str, str]] = {
    "web": {"doc_model": "gair-prox/web-doc-refining-lm", "chunk_model": "gair-prox/web-chunk-refining-lm"},
    "math": {"doc_model": "gair-prox/math-doc-refining-lm", "chunk_model": "gair-prox/math-chunk-refining-lm"},
    "heuristic": {"backend": "heuristic"},
}
STAGES = ("doc", "chunk")


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
        """P(drop) from the doc stage in scoring mode (store it to re-decide with another threshold)."""
        return self.written[0].drop_probability if self.doc_program is not None and self.written else None


class Refiner:
    """Refine texts with a preset (``web``, ``math``, ``heuristic``) or explicit models and backend.

    ``prox.Refiner(preset="heuristic").refine(texts)`` returns one :class:`RefineResult` per text.
    Explicit ``doc_model`` / ``chunk_model`` / ``backend`` override the preset; other keyword
    options go to the writers (batch sizes, dtype, device, server URL, ...).
    """

    def __init__(
        self,
        preset: str | None = "heuristic",
        doc_model: str | None = None,
        chunk_model: str | None = None,
        backend: str | None = None,
        stages: Sequence[str] = STAGES,
        drop_fraction: float = DROP_FRACTION,
        short_words: int = SHORT_WORDS,
        error_limit: int = ERROR_LIMIT,
        doc_writer: ProgramWriter | None = None,
        chunk_writer: ProgramWriter | None = None,
        writers: dict | None = None,
        **options: Any,
    ):
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        unknown = set(stages) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown stages {sorted(unknown)}; choose from doc, chunk")
        settings = dict(PRESETS.get(preset or "", {}))
        if doc_model or chunk_model:
            settings.pop("backend", None)  # explicit models are not the heuristic preset's
        settings.update({k: v for k, v in {"doc_model": doc_model, "chunk_model": chunk_model, "backend": backend}.items() if v})
        self.stages = tuple(stages)
        self.thresholds = {"drop_fraction": drop_fraction, "short_words": short_words, "error_limit": error_limit}
        # one engine when both stages use the same model; pass a dict kept for the process to share it wider
        built: dict[tuple, ProgramWriter] = writers if writers is not None else {}
        self.doc_writer = doc_writer or (self._writer(settings, "doc_model", options, built) if "doc" in self.stages else None)
        self.chunk_writer = chunk_writer or (self._writer(settings, "chunk_model", options, built) if "chunk" in self.stages else None)

    @staticmethod
    def _writer(settings: dict, key: str, options: dict, built: dict) -> ProgramWriter:
        model = settings.get(key) or settings.get("doc_model") or settings.get("chunk_model")
        backend = settings.get("backend") or (default_backend(model) if model else "heuristic")
        model = model if backend != "heuristic" else None
        cache_key = (backend, model, repr(sorted(options.items())))
        if cache_key not in built:
            built[cache_key] = make_writer(backend, model, **options)
        return built[cache_key]

    def refine(self, texts: Sequence[str]) -> list[RefineResult]:
        """One result per text, in order. When a batch fails, its texts are refined one by one, so a text
        whose own refining fails is kept unchanged with reason ``writer_error`` and the others go on."""

        def failed(text: str, error: Exception) -> RefineResult:
            message = describe(error)
            return RefineResult(text, False, "writer_error", None, (), Trace(Program(), errors=(message,)), (),
                                (Written("", error=message),))

        return isolated(self._refine, list(texts), failed)

    def _refine(self, texts: list[str]) -> list[RefineResult]:
        doc_written: list[Written | None] = [None] * len(texts)
        doc_results: list[ExecutionResult | None] = [None] * len(texts)
        if self.doc_writer is not None:
            for i, written in enumerate(self.doc_writer.write_doc(texts)):
                doc_written[i] = written
                if written.error is None:
                    doc_results[i] = execute_doc(texts[i], written.program)

        # the chunk stage sees only documents the doc stage kept
        todo = [i for i in range(len(texts)) if doc_written[i] is None or (doc_results[i] and not doc_results[i].dropped)]
        chunks = {i: self._chunks(texts[i]) for i in todo} if self.chunk_writer is not None else {}
        flat = [chunk for i in todo for chunk in chunks.get(i, ())]
        chunk_written = self.chunk_writer.write_chunk(flat) if flat else []

        results, position = [], 0
        for i, text in enumerate(texts):
            own_chunks = tuple(chunks.get(i, ()))
            own_written = tuple(chunk_written[position : position + len(own_chunks)])
            position += len(own_chunks)
            results.append(self._result(text, doc_written[i], doc_results[i], own_chunks, own_written))
        return results

    def _result(self, text, doc_written, doc_result, chunks, chunk_written) -> RefineResult:
        written = ((doc_written,) if doc_written else ()) + chunk_written
        doc_program = doc_written.program if doc_written else None
        programs = tuple(w.program for w in chunk_written)
        if any(w.error for w in written):  # the writer gave up: keep the text, say why, lose nothing
            trace = Trace(Program(), errors=tuple(w.error for w in written if w.error))
            return RefineResult(text, False, "writer_error", doc_program, programs, trace, chunks, written)
        if doc_result is not None and (doc_result.dropped or not chunks):
            reason = named_reason(doc_result.reason, doc_written.rule)
            return RefineResult(doc_result.text, doc_result.dropped, reason, doc_program, programs, doc_result.trace, chunks, written)
        if not chunks:  # no stage ran
            result = execute_doc(text, "keep_doc()")
            return RefineResult(text, False, result.reason, doc_program, programs, result.trace, chunks, written)
        result = execute_chunk(text, programs, **self.thresholds)
        return RefineResult(result.text, result.dropped, result.reason, doc_program, programs, result.trace, chunks, written)

    def _chunks(self, text: str) -> list[Chunk]:
        return chunks_for(self.chunk_writer, text)


def chunks_for(writer: ProgramWriter, text: str) -> list[Chunk]:
    """The line-numbered chunks ``writer`` reads: its tokenizer's budget, or the whole text without one."""
    tokenizer = getattr(writer, "tokenizer", None)
    if tokenizer is None:  # a writer with no token budget reads the whole document as one chunk
        return [whole_document_chunk(text)]
    return chunk_document(text, tokenizer, getattr(writer, "max_chunk_tokens", 1500))
