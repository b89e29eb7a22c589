"""Programs as a run stores them, and what executing them means: thresholds, the decision, the trace.

Records keep the reference's layout: ``metadata.doc_program``, ``metadata.chunk_program`` (one program
per chunk, global line numbers) and, where the doc stage scored, ``metadata.drop_probability``; where the
chunk stage scored (students), ``metadata.remove_probability``: P(remove) of every line of the document. The
decisions from P(drop) and P(remove) are made here, once, at execution, so stored programs can be re-decided
with other thresholds without a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

from prox.errors import UsageError
from prox.program.executor import (
    DROP_FRACTION,
    ERROR_LIMIT,
    SHORT_WORDS,
    ExecutionResult,
    execute_chunk,
    execute_doc,
    named_reason,
)
from prox.program.operations import RemoveLines
from prox.program.parser import parse_program


@dataclass(frozen=True)
class Thresholds:
    """What a program's result means: when a refined document is dropped, when programs are rejected,
    when P(drop) drops a document (``drop_threshold``) and when P(remove) removes a line (``line_threshold``)."""

    drop_fraction: float = DROP_FRACTION
    short_words: int = SHORT_WORDS
    error_limit: int = ERROR_LIMIT
    drop_threshold: Optional[float] = None  # decide the doc stage from P(drop) (None: as the program says)
    line_threshold: Optional[float] = None  # decide the chunk stage's removals from P(remove) (None: as the programs say)

    def __post_init__(self):
        if not 0.0 <= self.drop_fraction <= 1.0:
            raise UsageError(f"drop_fraction must be between 0 and 1, not {self.drop_fraction}")
        if self.drop_threshold is not None and not self.drop_threshold >= 0.0:  # above 1 keeps every document
            raise UsageError(f"drop_threshold must be at least 0, not {self.drop_threshold}")
        if self.line_threshold is not None and not self.line_threshold >= 0.0:  # above 1 removes no line
            raise UsageError(f"line_threshold must be at least 0, not {self.line_threshold}")
        if self.short_words < 0 or self.error_limit < 1:
            raise UsageError("short_words must be at least 0 and error_limit at least 1")

    @property
    def chunk(self) -> dict:
        return {"drop_fraction": self.drop_fraction, "short_words": self.short_words, "error_limit": self.error_limit}


@dataclass(frozen=True)
class StoredPrograms:
    """A document's programs as written (None: that stage did not run)."""

    doc: Optional[str] = None
    chunks: Optional[tuple[str, ...]] = None
    drop_probability: Optional[float] = None
    doc_rule: Optional[str] = None  # the rule that made a rule-based writer drop
    remove_probabilities: Optional[tuple[float, ...]] = None  # P(remove) of each line of the document

    @classmethod
    def of(cls, metadata: Mapping) -> "StoredPrograms":
        """Read from a record's metadata, tolerantly: one chunk program may be a string, non-strings are ignored."""
        doc, chunks = metadata.get("doc_program"), metadata.get("chunk_program")
        probability, rule = metadata.get("drop_probability"), metadata.get("doc_rule")
        if isinstance(chunks, str):
            chunks = (chunks,)
        elif isinstance(chunks, list):
            chunks = tuple(p for p in chunks if isinstance(p, str))
        else:
            chunks = None
        return cls(doc if isinstance(doc, str) else None, chunks, _number(probability),
                   rule if isinstance(rule, str) and rule else None, _numbers(metadata.get("remove_probability")))

    def doc_program(self, thresholds: Thresholds) -> Optional[str]:
        """The doc program that decides: re-decided from P(drop) when a threshold and a probability are there."""
        if thresholds.drop_threshold is not None and self.drop_probability is not None:
            return "drop_doc()" if self.drop_probability >= thresholds.drop_threshold else "keep_doc()"
        return self.doc

    def chunk_programs(self, text: str, thresholds: Thresholds) -> Optional[tuple[str, ...]]:
        """The chunk programs that run: with a line threshold and P(remove) of each of the document's lines, their
        ``remove_lines`` re-decided from it (their normalizations stay), else as written."""
        if thresholds.line_threshold is None or self.chunks is None or self.remove_probabilities is None \
                or len(self.remove_probabilities) != text.count("\n") + 1:
            return self.chunks
        return tuple(_without_removals(p) for p in self.chunks) + (removals(self.remove_probabilities, thresholds.line_threshold),)

    def passes_doc_stage(self, text: str, thresholds: Thresholds) -> bool:
        """Whether the chunk stage gets this document."""
        program = self.doc_program(thresholds)
        return program is None or not execute_doc(text, program).dropped


def execute_stored(raw: str, programs: StoredPrograms, thresholds: Thresholds = Thresholds()) -> tuple[ExecutionResult, Optional[str]]:
    """Execute a document's stored programs; also the doc stage's reason, if it ran."""
    doc_program = programs.doc_program(thresholds)
    result = execute_doc(raw, doc_program) if doc_program is not None else None
    doc_reason = result.reason if result else None
    if programs.chunks is not None and not (result and result.dropped):
        result = execute_chunk(raw, programs.chunk_programs(raw, thresholds), **thresholds.chunk)
    if result is None:
        result = execute_doc(raw, "keep_doc()")
    elif programs.chunks is None and not result.dropped and doc_program != programs.doc and programs.doc is not None \
            and execute_doc(raw, programs.doc).dropped:  # re-kept by a threshold: no chunk program ever read it
        result = ExecutionResult((result.text, False, "kept_unrefined", result.trace))
    return result, doc_reason


def trace_summary(result: ExecutionResult, doc_reason: Optional[str] = None, rule: Optional[str] = None) -> dict:
    """A JSON-ready summary of an execution, stored with each record.

    A document the doc stage dropped by a named rule has that rule as its reason (``fineweb:line_punct_ratio``
    rather than ``drop_doc``), so stats and reports say why."""
    trace = result.trace
    return {
        "dropped": result.dropped,
        "reason": named_reason(result.reason, rule),
        "doc_reason": doc_reason,
        "removed_lines": [list(run) for run in line_runs(trace.removed_lines)],
        "normalizations": [n.__dict__ for n in trace.normalizations],
        "errors": list(trace.errors),
        "words_before": trace.words_before,
        "words_after": trace.words_after,
    }


def removals(p_remove: Sequence[float], threshold: float) -> str:
    """``remove_lines`` over each run of lines whose P(remove) reaches ``threshold`` (``skip_chunk()`` for none)."""
    removed = [i for i, p in enumerate(p_remove) if p >= threshold]
    return "\n".join(str(RemoveLines(start, end)) for start, end in line_runs(removed)) or "skip_chunk()"


def _without_removals(program: str) -> str:
    """A program's other operations; one that does not parse cleanly stands as written."""
    parsed = parse_program(program)
    if parsed.errors:
        return program
    return "\n".join(str(op) for op in parsed.operations if not isinstance(op, RemoveLines)) or "skip_chunk()"


def _number(value) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _numbers(values) -> Optional[tuple[float, ...]]:
    if not isinstance(values, (list, tuple)):
        return None
    found = tuple(_number(v) for v in values)
    return None if any(v is None for v in found) else found


def line_runs(lines: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted line numbers as inclusive runs: [0, 1, 2, 5] -> [(0, 2), (5, 5)]."""
    runs: list[list[int]] = []
    for line in lines:
        if runs and line == runs[-1][1] + 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    return [(start, end) for start, end in runs]
