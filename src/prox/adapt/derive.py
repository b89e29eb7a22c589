"""Training programs without a teacher, from labels people already have.

- line-labelled pages (a keep flag per line) become ``remove_lines`` runs;
- (raw, clean) pairs (a human gold main text, or a teacher's end-to-end rewrite) are aligned line by
  line: raw lines absent from the clean text are removed, and a line that lost one small span which
  occurs nowhere else in the document gets a ``normalize`` deleting it;
- document labels become ``keep_doc()`` / ``drop_doc()``.

Chunk programs are cut per chunk as the chunk-level model will read them (the same chunker and token
budget), so each record is one training example. Records (JSONL) are what ``prox annotate`` writes
and ``prox train`` reads: ``{"id", "level": "doc", "text", "program"}`` or ``{"id", "level": "chunk",
"chunk", "line_start", "line_end", "program"}``, with ``origin``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence

from prox.program.operations import Normalize, RemoveLines
from prox.program.stored import line_runs
from prox.text.chunker import MAX_CHUNK_TOKENS, chunk_document, whole_document_chunk

MAX_NORMALIZE_CHARS = 60  # a longer in-line deletion is a rewrite, not noise


@dataclass(frozen=True)
class Alignment:
    removed: frozenset[int]  # raw line numbers the clean text does not have
    normalizations: tuple[Normalize, ...]  # small in-line deletions, each unambiguous in the raw text
    unmatched_clean_lines: int = 0  # clean lines no program can produce (a rewrite, not a deletion)


def align(raw: str, clean: str) -> Alignment:
    """Which raw lines to remove (and which small spans to delete) to get as close as possible to ``clean``."""
    raw_lines, clean_lines = raw.split("\n"), clean.split("\n")
    matcher = difflib.SequenceMatcher(None, [line.strip() for line in raw_lines], [line.strip() for line in clean_lines], autojunk=False)
    removed: set[int] = set()
    normalizations: list[Normalize] = []
    unmatched = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            unmatched += j2 - j1
            continue
        candidates = [c.strip() for c in clean_lines[j1:j2]] if tag == "replace" else []
        used: set[int] = set()
        for i in range(i1, i2):
            span = None
            for k, candidate in enumerate(candidates):
                if k not in used and (span := _deleted_span(raw_lines[i].strip(), candidate)) is not None:
                    used.add(k)
                    break
            if span is None:
                removed.add(i)
            elif span and raw.count(span) == 1 and span.strip():
                normalizations.append(Normalize(span, ""))
        unmatched += len(candidates) - len(used)
    return Alignment(frozenset(removed), tuple(normalizations), unmatched)


def _deleted_span(raw_line: str, clean_line: str) -> Optional[str]:
    """The one contiguous span whose deletion turns ``raw_line`` into ``clean_line`` ("" if equal), or None."""
    if clean_line == raw_line:
        return ""
    if not clean_line or len(clean_line) >= len(raw_line):
        return None
    prefix = len(_common_prefix(raw_line, clean_line))
    suffix = len(_common_prefix(raw_line[::-1], clean_line[::-1]))
    suffix = min(suffix, len(clean_line) - prefix)
    if prefix + suffix != len(clean_line):
        return None
    span = raw_line[prefix : len(raw_line) - suffix]
    return span if len(span) <= MAX_NORMALIZE_CHARS else None


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def chunk_records(
    doc_id: str,
    text: str,
    removed: Iterable[int],
    normalizations: Sequence[Normalize] = (),
    tokenizer: Any = None,
    max_tokens: int = MAX_CHUNK_TOKENS,
    origin: str = "derive",
) -> list[dict]:
    """One training record per chunk: the chunk as the model reads it and the program it should write."""
    removed = sorted(set(removed))
    chunks = chunk_document(text, tokenizer, max_tokens) if tokenizer is not None else [whole_document_chunk(text)]
    placed: set[str] = set()
    records = []
    for number, chunk in enumerate(chunks):
        operations: list = [RemoveLines(a, b) for a, b in line_runs(n for n in removed if chunk.line_start <= n <= chunk.line_end)]
        body = "\n".join(text.split("\n")[chunk.line_start : chunk.line_end + 1])
        for op in normalizations:  # each normalization once, in the first chunk holding its source
            if op.source_str not in placed and op.source_str in body:
                placed.add(op.source_str)
                operations.append(op)
        records.append({
            "id": f"{doc_id}#{number}", "level": "chunk", "chunk": chunk.text, "line_start": chunk.line_start,
            "line_end": chunk.line_end, "program": "\n".join(str(op) for op in operations) or "skip_chunk()",
            "origin": origin,
        })
    return records


def doc_record(doc_id: str, text: str, keep: bool, origin: str = "derive") -> dict:
    return {"id": doc_id, "level": "doc", "text": text, "program": "keep_doc()" if keep else "drop_doc()", "origin": origin}


def from_labelled(labelled, tokenizer: Any = None, max_tokens: int = MAX_CHUNK_TOKENS) -> Iterator[dict]:
    """Training records from a line set (chunk programs) or a doc set (doc programs)."""
    for item in labelled.items:
        if labelled.kind == "docs":
            yield doc_record(item.id, item.text, item.keep, origin=f"derive:{labelled.path}")
        else:
            removed = [i for i, keep in enumerate(item.keep) if not keep]
            yield from chunk_records(item.id, item.text, removed, (), tokenizer, max_tokens, origin=f"derive:{labelled.path}")


def from_pair(doc_id: str, raw: str, clean: str, tokenizer: Any = None, max_tokens: int = MAX_CHUNK_TOKENS, origin: str = "derive:pairs") -> list[dict]:
    alignment = align(raw, clean)
    return chunk_records(doc_id, raw, alignment.removed, alignment.normalizations, tokenizer, max_tokens, origin)
