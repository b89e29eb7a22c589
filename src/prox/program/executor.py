"""Execute programs on documents, exactly as the ProX reference does for well-formed programs.

Document level: the document is dropped iff its program's doc-level operation is ``drop_doc()``.
Chunk level: the chunk programs of one document are joined and run once on the whole document:
every ``normalize`` (replace-all, in order), then the union of the ``remove_lines`` ranges on the
normalized lines, then a keep / drop / reject decision counted in words (``str.split``).
Where the reference mis-executes malformed programs, ours differs on purpose: see docs/program.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain
from operator import itemgetter
from typing import Iterable, NamedTuple, Union

from prox.program.limits import NORMALIZE_SCANS, growth_limit, normalize_budget
from prox.program.operations import DocOperation, DropDoc, KeepDoc, Normalize, Program, RemoveLines, quote
from prox.program.parser import parse_program
from prox.program.words import UNSPACED, word_count, word_units

ProgramLike = Union[str, Program, Iterable[str]]

DROP_FRACTION = 0.95  # drop a document when at least this share of its words was removed ...
SHORT_WORDS = 10  # ... or when at most this many words are left
ERROR_LIMIT = 2  # reject a chunk program (keep the document unchanged) with this many errors or more


@dataclass(frozen=True)
class Normalization:
    source_str: str
    target_str: str
    count: int  # occurrences replaced; 0 when the source was absent or ignored


class Trace(NamedTuple):
    """What a program did to one document (a named tuple: one is built for every document)."""

    program: Program
    removed_lines: tuple[int, ...] = ()
    normalizations: tuple[Normalization, ...] = ()
    errors: tuple[str, ...] = ()  # parse errors and execution errors, in that order
    words_before: int = 0
    words_after: int = 0

    @property
    def error_count(self) -> int:
        return len(self.errors)


class ExecutionResult(tuple):
    """What executing a program gave: ``text`` (refined, "" when dropped), ``dropped``, ``reason`` (see
    REASONS) and ``trace``.

    A tuple, built from one (``ExecutionResult((text, dropped, reason, trace))``), so that the common case,
    a canonical ``drop_doc()`` / ``keep_doc()`` on a document, costs no parse and no word count: its trace
    is built (counting words) only when it is read."""

    __slots__ = ()

    text: str = property(itemgetter(0))  # type: ignore[assignment]
    dropped: bool = property(itemgetter(1))  # type: ignore[assignment]
    reason: str = property(itemgetter(2))  # type: ignore[assignment]

    @property
    def trace(self) -> Trace:
        trace = self[3]
        if isinstance(trace, Trace):
            return trace
        words = word_count(trace)  # a canonical doc program's result holds the document instead
        return Trace(_CANONICAL_DOC[self[2]], words_before=words, words_after=0 if self[1] else words)

    def __repr__(self) -> str:
        return f"ExecutionResult(text={self[0][:60]!r}, dropped={self[1]}, reason={self[2]!r})"


REASONS = {
    "drop_doc": "the doc program is drop_doc()",
    "keep_doc": "the doc program is keep_doc()",
    "no_doc_operation": "the doc program has no doc-level operation: kept",
    "refined": "the chunk programs were applied",
    "mostly_removed": "the chunk programs removed nearly all words",
    "too_short": "too few words are left",
    "program_rejected": "the chunk programs had too many errors: the document is kept unchanged",
    "empty": "the document has no words",
    "kept_unrefined": "kept by a new --drop-threshold although the doc stage had dropped it: the chunk stage never ran "
                      "on it, so its text is as it came",
}


def named_reason(reason: str, rule: str | None) -> str:
    """A doc-stage drop's reason, named by the rule that made a rule-based writer drop (``fineweb:line_punct_ratio``
    rather than ``drop_doc``) when it gave one; any other reason as it is."""
    return rule if reason == "drop_doc" and isinstance(rule, str) and rule else reason


def as_program(program: ProgramLike) -> Program:
    """A :class:`Program` from program text, from chunk program texts or as is.

    Chunk programs are parsed one by one (so the size limits hold per model answer) and joined as if
    their texts were joined with newlines: parse errors name lines of the joined text."""
    if isinstance(program, Program):
        return program
    if isinstance(program, str):
        return parse_program(program)
    operations, errors, offset = [], [], 0
    for text in program:
        parsed = parse_program(text)
        operations += parsed.operations
        errors += [replace(e, line=e.line + offset) for e in parsed.errors] if offset else parsed.errors
        offset += text.count("\n") + 1
    return Program(tuple(operations), tuple(errors))


def _python_canonical_doc_result(cls: type, text: str, program: ProgramLike) -> ExecutionResult | None:
    """The result of a canonical ``keep_doc()`` / ``drop_doc()``: no parse, words counted when asked; else None."""
    if program == "keep_doc()":
        return cls((text, False, "keep_doc", text))
    if program == "drop_doc()":
        return cls(("", True, "drop_doc", text))
    return None


try:
    from prox.program._speedups import canonical_doc_result
except ImportError:  # built without a C compiler
    canonical_doc_result = _python_canonical_doc_result


def execute_doc(text: str, program: ProgramLike) -> ExecutionResult:
    """Apply a document-level program: the first doc-level operation decides; none keeps the document."""
    result = canonical_doc_result(ExecutionResult, text, program)  # what nearly every doc program is
    if result is not None:
        return result
    parsed = as_program(program)
    errors = tuple(str(e) for e in parsed.errors)
    words = word_count(text)
    decisions = parsed.of_type(*DocOperation.__args__)
    if not decisions:
        trace = Trace(parsed, errors=errors + ("no doc-level operation",), words_before=words, words_after=words)
        return ExecutionResult((text, False, "no_doc_operation", trace))
    if isinstance(decisions[0], DropDoc):
        return ExecutionResult(("", True, "drop_doc", Trace(parsed, errors=errors, words_before=words)))
    return ExecutionResult((text, False, "keep_doc", Trace(parsed, errors=errors, words_before=words, words_after=words)))


_CANONICAL_DOC = {"keep_doc": Program((KeepDoc(),)), "drop_doc": Program((DropDoc(),))}


def execute_chunk(
    text: str,
    program: ProgramLike,
    *,
    drop_fraction: float = DROP_FRACTION,
    short_words: int = SHORT_WORDS,
    error_limit: int = ERROR_LIMIT,
) -> ExecutionResult:
    """Apply a document's chunk-level programs (joined) to the whole document and decide its fate."""
    parsed = as_program(program)
    errors = [str(e) for e in parsed.errors]

    normalized = text
    normalizations = []
    longest, budget = growth_limit(len(text)), normalize_budget(len(text))
    operations = parsed.operations
    to_apply = [op for op in operations if op.__class__ is Normalize]
    for done, op in enumerate(to_apply):
        count = 0
        budget -= len(normalized)
        if budget < 0:
            errors.append(f"{len(to_apply) - done:,} normalizations skipped: the document's normalizations had scanned "
                          f"it {NORMALIZE_SCANS:,} times, the most one document may cost")
            break
        if op.source_str not in ("", " "):
            count = normalized.count(op.source_str)
            if count and len(normalized) + count * (len(op.target_str) - len(op.source_str)) > longest:
                errors.append(f"normalize(source_str={quote(op.source_str)[:40]}, ...) skipped: "
                              f"it would grow the document past {longest:,} characters")
                count = 0
            elif count:
                normalized = normalized.replace(op.source_str, op.target_str)
        normalizations.append(Normalization(op.source_str, op.target_str, count))

    ranges = _merge([(op.line_start, op.line_end) for op in operations if op.__class__ is RemoveLines])
    lines = normalized.split("\n") if ranges else None
    removed: list[range] = []
    if ranges:
        kept, last, position = [], len(lines) - 1, 0  # position: the first line not yet kept or removed
        for start, end in ranges:
            if start > last:
                errors.append(f"remove_lines({start}, {end}): starts after the last line {last}")
                continue
            if end > last:
                errors.append(f"remove_lines({start}, {end}): ends after the last line {last}, clipped")
                end = last
            kept += lines[position:start]
            removed.append(range(start, end + 1))
            position = end + 1
        kept += lines[position:]
    refined = "\n".join(kept) if removed else normalized

    # the reference counts the words of both texts; here the second count only looks at lines that changed
    words_before = word_count(text)
    if removed and sum(map(len, removed)) * 2 > len(lines):  # most lines went: counting what is left is cheaper
        words_after = word_count(refined)
    else:
        words_after = _words_normalized(text, normalized, lines, words_before, normalizations)
        for r in removed:
            words_after -= word_count(" ".join(lines[r.start : r.stop]))
    trace = Trace(parsed, tuple(chain.from_iterable(removed)), tuple(normalizations), tuple(errors), words_before, words_after)
    accepted = len(errors) < error_limit
    if words_before == 0:
        return ExecutionResult(("", True, "empty", trace))
    before, after = words_before, words_after
    if not text.isascii() and UNSPACED.search(text):  # Chinese, Thai, ...: a sentence is one "word" to str.split
        before, after = word_units(text), word_units(refined)
    # the comparison is written as the reference writes it, so that float rounding agrees too
    if after / before * 1.0 <= (1 - drop_fraction) and accepted:
        return ExecutionResult(("", True, "mostly_removed", trace))
    if after <= short_words:
        return ExecutionResult(("", True, "too_short", trace))
    if accepted:
        return ExecutionResult((refined, False, "refined", trace))
    return ExecutionResult((text, False, "program_rejected", trace))


def _words_normalized(text: str, normalized: str, lines: list[str] | None, words: int, normalizations: list) -> int:
    """The words of ``normalized``, given the ``words`` of ``text``: where no applied normalization adds or
    removes a line break, lines correspond one to one and only the changed ones are counted again."""
    if normalized is text:
        return words
    if any("\n" in n.source_str or "\n" in n.target_str for n in normalizations if n.count):
        return word_count(normalized)
    for before, after in zip(text.split("\n"), lines if lines is not None else normalized.split("\n")):
        if before != after:
            words += word_count(after) - word_count(before)
    return words


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, merged ranges; touching ranges merge too, so range errors count as the reference counts them."""
    if len(ranges) < 2:
        return ranges
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):  # by start (then end: the same merged ranges)
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
