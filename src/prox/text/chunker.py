"""Split a document into line-numbered chunks for the chunk-level refining model.

Lines are numbered globally (``[000]first line``; wider past 999) and packed greedily while the sum of
the per-line token counts (each numbered line encoded on its own, with the tokenizer's default special
tokens) stays within ``max_tokens``: the same boundaries as the reference. A single line over the
budget gets a chunk of its own, as in the reference, but its text is cut so the prompt stays within
budget (``Chunk.truncated``); the line is still whole in the document, so programs act on all of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from prox.text.tokenizers import LineTokenCounter

MAX_CHUNK_TOKENS = 1500
NUMBER_WIDTH = 3


@dataclass(frozen=True)
class Chunk:
    text: str  # the numbered lines joined with "\n": the exact string the reference builds
    line_start: int  # first global line number
    line_end: int  # last global line number, inclusive
    n_tokens: int  # the packing measure: the sum of the per-line counts
    truncated: bool = False  # one over-budget line, cut to fit

    @property
    def line_range(self) -> range:
        return range(self.line_start, self.line_end + 1)


NUMBERED = re.compile(r"^\[(\d{3,})\](.*)$", re.DOTALL)


def number_line(index: int, line: str) -> str:
    return f"[{index:0{NUMBER_WIDTH}d}]{line}"


def numbered_lines(chunk: "Chunk | str") -> list[tuple[int, str]]:
    """(global line number, line) pairs read back from a numbered chunk."""
    text = chunk.text if isinstance(chunk, Chunk) else chunk
    return [(int(m.group(1)), m.group(2)) for m in map(NUMBERED.match, text.split("\n")) if m]


def whole_document_chunk(text: str) -> Chunk:
    """The whole document as one numbered chunk, for readers with no token budget (rules, tests)."""
    lines = text.split("\n")
    return Chunk("\n".join(number_line(i, line) for i, line in enumerate(lines)), 0, len(lines) - 1, 0)


def chunk_document(text: str, tokenizer: Any, max_tokens: int = MAX_CHUNK_TOKENS) -> list[Chunk]:
    """Chunks of ``text``; ``tokenizer`` is a Hugging Face tokenizer, a path to one, or a LineTokenCounter."""
    counter = tokenizer if isinstance(tokenizer, LineTokenCounter) else _counter(tokenizer)
    lines = text.split("\n")
    counts = counter.count(lines, NUMBER_WIDTH)
    chunks: list[Chunk] = []
    start, total = 0, 0

    def close(end: int, n_tokens: int) -> None:
        numbered = "\n".join(number_line(i, lines[i]) for i in range(start, end + 1))
        chunks.append(Chunk(numbered, start, end, n_tokens))

    for i, n in enumerate(counts):
        if total + n <= max_tokens:
            total += n
            continue
        if i > start:
            close(i - 1, total)
        start, total = i, n
        if n > max_tokens:
            chunks.append(_cut_line(counter, i, lines[i], n, max_tokens))
            start, total = i + 1, 0
    if start < len(lines):
        close(len(lines) - 1, total)
    return chunks


def reference_chunks(text: str, tokenizer: Any, max_tokens: int = MAX_CHUNK_TOKENS) -> list[str]:
    """The reference's algorithm (GAIR-NLP/ProX ``trunc_text``), one ``encode`` call per line.

    Slow; kept as the oracle that the fast chunker is tested and benchmarked against.
    """
    chunks: list[str] = []
    current: list[str] = []
    total = 0
    for i, line in enumerate(text.split("\n")):
        numbered = number_line(i, line)
        n = len(tokenizer.encode(numbered))
        if total + n <= max_tokens:
            current.append(numbered)
            total += n
            continue
        if current:
            chunks.append("\n".join(current))
        current, total = [numbered], n
        if n > max_tokens:  # a line over the budget is sent whole, alone
            chunks.append(numbered)
            current, total = [], 0
    if current:
        chunks.append("\n".join(current))
    return chunks


def _cut_line(counter: LineTokenCounter, index: int, line: str, n_tokens: int, max_tokens: int) -> Chunk:
    """The longest prefix of an over-budget line whose numbered form fits in ``max_tokens``."""
    prefix = number_line(index, "")
    cut = counter.prefix_chars(prefix + line[: max_tokens * 64], max_tokens) - len(prefix)  # no token is 64 chars
    cut = max(0, min(cut, len(line)))
    while cut > 0 and counter.encode_lengths([prefix + line[:cut]])[0] > max_tokens:
        cut = max(0, cut - max(1, cut // 50))  # re-tokenizing the prefix can shift a token or two
    return Chunk(prefix + line[:cut], index, index, n_tokens, truncated=True)


_COUNTERS: dict[int, LineTokenCounter] = {}


def _counter(tokenizer: Any) -> LineTokenCounter:
    """One counter (and its piece cache) per tokenizer object for the life of the process."""
    key = id(tokenizer) if not isinstance(tokenizer, str) else hash(tokenizer)
    if key not in _COUNTERS:
        _COUNTERS[key] = LineTokenCounter(tokenizer)
    return _COUNTERS[key]
