"""The one interface every program writer implements: items in, program texts out.

A writer does not know about corpora, files or execution; the refiner and the pipeline do not know
which writer they hold. Doc-level items are documents; chunk-level items are line-numbered chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

from prox.text.chunker import Chunk

DOC_MAX_NEW_TOKENS = 2000  # as the reference's doc-level sampling parameters
CHUNK_MAX_NEW_TOKENS = 256  # as the reference's chunk-level sampling parameters


@dataclass(frozen=True)
class Written:
    """One program as a writer wrote it, with what it cost."""

    program: str
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0  # this item's share of its batch's wall time
    error: str | None = None  # set when the writer gave up on this item (the program is then empty)
    drop_probability: float | None = None  # doc level in scoring mode: P(the program starts with drop)
    remove_probabilities: tuple[float, ...] | None = None  # chunk level, a scoring writer: P(remove) of each line
    rule: str | None = None  # the rule that made a rule-based writer drop, e.g. "fineweb:line_punct_ratio"


@runtime_checkable
class ProgramWriter(Protocol):
    name: str

    def write_doc(self, documents: Sequence[str]) -> list[Written]:
        """One doc-level program per document, in order."""

    def write_chunk(self, chunks: Sequence[Chunk]) -> list[Written]:
        """One chunk-level program per chunk, in order."""


def length_batches(lengths: Sequence[int], max_items: int, max_tokens: int | None = None) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), so padding stays small."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            batch = batches[-1]
            width = lengths[batch[0]]  # the longest item of the batch sets its padded width
            if len(batch) < max_items and (max_tokens is None or width * (len(batch) + 1) <= max_tokens):
                batch.append(i)
                continue
        batches.append([i])
    return batches
