"""The ProX program language: one frozen dataclass per operation.

Document level: ``drop_doc()`` / ``keep_doc()``. Chunk level: ``remove_lines(line_start, line_end)``
(global, 0-based, inclusive), ``normalize(source_str, target_str)`` and ``skip_chunk()``.
Every operation prints itself as canonical program text that parses back to the same operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from prox.program.limits import MAX_LINE_NUMBER

DOC_LEVEL = "doc"
CHUNK_LEVEL = "chunk"


def quote(value: str) -> str:
    """A double-quoted Python string literal for ``value`` that ``ast`` reads back exactly.

    Non-printable characters are escaped so the literal always sits on one program line.
    """
    if value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # most strings: nothing to escape
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == " " or ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


@dataclass(frozen=True)
class DropDoc:
    level = DOC_LEVEL

    def __str__(self) -> str:
        return "drop_doc()"


@dataclass(frozen=True)
class KeepDoc:
    level = DOC_LEVEL

    def __str__(self) -> str:
        return "keep_doc()"


@dataclass(frozen=True)
class RemoveLines:
    line_start: int
    line_end: int
    level = CHUNK_LEVEL

    def __post_init__(self):
        if self.line_start > MAX_LINE_NUMBER or self.line_end > MAX_LINE_NUMBER:  # such a number may not even print
            raise ValueError(f"remove_lines: line number over the limit of {MAX_LINE_NUMBER:,}")

    def __str__(self) -> str:
        return f"remove_lines(line_start={self.line_start}, line_end={self.line_end})"


@dataclass(frozen=True)
class Normalize:
    source_str: str
    target_str: str = ""
    level = CHUNK_LEVEL

    def __str__(self) -> str:
        return f"normalize(source_str={quote(self.source_str)}, target_str={quote(self.target_str)})"


@dataclass(frozen=True)
class SkipChunk:
    level = CHUNK_LEVEL

    def __str__(self) -> str:
        return "skip_chunk()"


DocOperation = Union[DropDoc, KeepDoc]
ChunkOperation = Union[RemoveLines, Normalize, SkipChunk]
Operation = Union[DropDoc, KeepDoc, RemoveLines, Normalize, SkipChunk]


@dataclass(frozen=True)
class ParseError:
    """A program line that was not understood; it is recorded and never executed."""

    line: int  # 0-based line of the program text
    source: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}: {self.source[:80]!r}"


@dataclass(frozen=True)
class Program:
    """A parsed program: the operations in order, and the lines that could not be parsed."""

    operations: tuple[Operation, ...] = ()
    errors: tuple[ParseError, ...] = field(default=())

    def __str__(self) -> str:
        return "\n".join(str(op) for op in self.operations)

    @property
    def ok(self) -> bool:
        return not self.errors

    def of_type(self, *kinds: type) -> list[Operation]:
        return [op for op in self.operations if isinstance(op, kinds)]
