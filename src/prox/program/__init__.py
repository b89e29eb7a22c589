"""The program language: operations, parser and executor."""

from prox.program.executor import ExecutionResult, Normalization, Trace, execute_chunk, execute_doc
from prox.program.operations import (
    DropDoc,
    KeepDoc,
    Normalize,
    ParseError,
    Program,
    RemoveLines,
    SkipChunk,
)
from prox.program.parser import parse_program

__all__ = [
    "DropDoc", "ExecutionResult", "KeepDoc", "Normalization", "Normalize", "ParseError", "Program",
    "RemoveLines", "SkipChunk", "Trace", "execute_chunk", "execute_doc", "parse_program",
]
