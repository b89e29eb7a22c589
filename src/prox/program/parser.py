"""Parse model-written program text into a :class:`Program`, with Python's ``ast`` and never ``eval``.

A model's output is untrusted: each line is parsed on its own, and only a call of a known operation
whose arguments are plain literals of the right type becomes an operation. Anything else (unknown
names, attribute access, nested calls, expressions, a truncated line) becomes a :class:`ParseError`.
"""

from __future__ import annotations

import ast
import re
import warnings

from prox.program.operations import (
    DropDoc,
    KeepDoc,
    Normalize,
    Operation,
    ParseError,
    Program,
    RemoveLines,
    SkipChunk,
)

FENCE = re.compile(r"```[\w+-]*")  # a markdown code fence line, with an optional language

# name -> (operation class, parameter names in positional order, number of required parameters)
SIGNATURES: dict[str, tuple[type, tuple[str, ...], int]] = {
    "drop_doc": (DropDoc, (), 0),
    "keep_doc": (KeepDoc, (), 0),
    "untouch_doc": (KeepDoc, (), 0),
    "remove_lines": (RemoveLines, ("line_start", "line_end"), 2),
    "normalize": (Normalize, ("source_str", "target_str"), 1),
    "skip_chunk": (SkipChunk, (), 0),
    "keep_chunk": (SkipChunk, (), 0),
}
PARAMETER_TYPES = {"line_start": int, "line_end": int, "source_str": str, "target_str": str}
MAX_LINE_CHARS = 20_000  # longer lines are model run-offs; refuse them before the parser sees them
MAX_JOINED_LINES = 50  # a triple-quoted string may span this many program lines


class _Invalid(Exception):
    pass


def parse_program(text: str) -> Program:
    """Parse a program, one call per line; blank lines, comments and markdown fences are skipped."""
    operations: list[Operation] = []
    errors: list[ParseError] = []
    lines = (text or "").split("\n")
    i = 0
    while i < len(lines):
        start, source = i, lines[i].strip()
        i += 1
        if not source or source.startswith("#") or FENCE.fullmatch(source):
            continue
        if len(source) > MAX_LINE_CHARS:
            errors.append(ParseError(start, source, "line too long"))
            continue
        tree, message = _parse(source)
        if tree is None and ('"""' in source or "'''" in source):
            # a triple-quoted string may legitimately continue on the next lines
            for j in range(i, min(len(lines), i + MAX_JOINED_LINES)):
                joined = "\n".join([source, *lines[i : j + 1]]).strip()
                tree, _ = _parse(joined)
                if tree is not None:
                    source, i = joined, j + 1
                    break
        if tree is None:
            errors.append(ParseError(start, source, message))
            continue
        for statement in tree.body:
            try:
                operations.append(_operation(statement))
            except _Invalid as exc:
                errors.append(ParseError(start, source, str(exc)))
    return Program(tuple(operations), tuple(errors))


def _parse(source: str) -> tuple[ast.Module | None, str]:
    try:
        with warnings.catch_warnings():  # invalid escapes in model text are not our warnings to print
            warnings.simplefilter("ignore")
            return ast.parse(source, mode="exec"), ""
    except SyntaxError as exc:
        return None, f"syntax error: {exc.msg}"
    except (ValueError, MemoryError, RecursionError) as exc:  # null bytes, absurd nesting
        return None, f"syntax error: {exc}"


def _operation(statement: ast.stmt) -> Operation:
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        raise _Invalid("not a call")
    call = statement.value
    if not isinstance(call.func, ast.Name):
        raise _Invalid("not a plain operation name")
    if call.func.id not in SIGNATURES:
        raise _Invalid(f"unknown operation {call.func.id!r}")
    kind, parameters, required = SIGNATURES[call.func.id]
    if len(call.args) > len(parameters):
        raise _Invalid(f"{call.func.id}() takes {len(parameters)} arguments")
    values = {}
    for name, node in zip(parameters, call.args):
        values[name] = _literal(name, node)
    for keyword in call.keywords:
        if keyword.arg is None:
            raise _Invalid("** arguments are not allowed")
        if keyword.arg not in parameters:
            raise _Invalid(f"unknown argument {keyword.arg!r}")
        if keyword.arg in values:
            raise _Invalid(f"argument {keyword.arg!r} given twice")
        values[keyword.arg] = _literal(keyword.arg, keyword.value)
    missing = [name for name in parameters[:required] if name not in values]
    if missing:
        raise _Invalid(f"missing argument {missing[0]!r}")
    if kind is RemoveLines:
        if values["line_start"] < 0 or values["line_end"] < 0:
            raise _Invalid("negative line number")
        if values["line_start"] > values["line_end"]:
            raise _Invalid("line_start is after line_end")
    return kind(**values)


def _literal(name: str, node: ast.expr):
    expected = PARAMETER_TYPES[name]
    value = _constant(node)
    if type(value) is not expected:  # bool is an int subclass: refuse it too
        raise _Invalid(f"{name} must be {expected.__name__}")
    return value


def _constant(node: ast.expr):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        if type(node.operand.value) is int:
            return -node.operand.value
    raise _Invalid("arguments must be literals")
