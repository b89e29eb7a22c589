"""Parse model-written program text into a :class:`Program`, with Python's ``ast`` and never ``eval``.

A model's output is untrusted: each line is parsed on its own, and only a call of a known operation
whose arguments are plain literals of the right type becomes an operation. Anything else (unknown
names, attribute access, nested calls, expressions, a truncated line) becomes a :class:`ParseError`.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings

from prox.program.limits import (
    MAX_JOIN_ATTEMPTS,
    MAX_JOINED_LINES,
    MAX_LINE_CHARS,
    MAX_LINE_NUMBER,
    MAX_PROGRAM_CHARS,
    MAX_PROGRAM_LINES,
    is_text,
)
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
NON_BLANK = re.compile(r"\S")

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
TRIPLE_QUOTES = ('"""', "'''")
# canonical lines (what str(program) prints) read without building a syntax tree; the same result, faster
CANONICAL_REMOVE = re.compile(r"remove_lines\(line_start=(0|[1-9][0-9]{0,8}), line_end=(0|[1-9][0-9]{0,8})\)")
CANONICAL_BARE = {"drop_doc()": DropDoc(), "keep_doc()": KeepDoc(), "skip_chunk()": SkipChunk()}
# printable strings with no quote or backslash: the literal is the string itself (what quote() prints for them)
CANONICAL_NORMALIZE = re.compile(r'normalize\(source_str="([^"\\]*)", target_str="([^"\\]*)"\)')
# other spellings models often write, read as directly
ALIASES = {"untouch_doc()": KeepDoc(), "keep_chunk()": SkipChunk()}
SINGLE_QUOTED_NORMALIZE = re.compile(r"normalize\(source_str='([^'\\]*)', target_str='([^'\\]*)'\)")


_CANONICAL: dict[str, Operation] = dict(CANONICAL_BARE)  # canonical lines seen, and their operations
CACHED_LINES, CACHED_CHARS = 20_000, 200  # lines remembered (per cache, a few MB at most), up to which length


def _canonical(source: str) -> Operation | None:
    """The operation of a canonical line (as ``str(operation)`` prints it), read without a syntax tree and
    remembered, since model programs repeat their lines; None for any other line."""
    if match := CANONICAL_REMOVE.fullmatch(source):
        start, end = int(match[1]), int(match[2])
        if start > end:
            return None  # the syntax tree's path says why
        operation: Operation = RemoveLines(start, end)
    elif len(source) <= MAX_LINE_CHARS and (match := CANONICAL_NORMALIZE.fullmatch(source)) and _printable(match):
        operation = Normalize(match[1], match[2])
    else:
        return None
    _remember(_CANONICAL, source, operation)
    return operation


_SEEN: dict[str, "str | tuple"] = {}  # other lines seen: their operations and errors, or why they failed alone


def _remember(cache: dict, source: str, value) -> None:
    """Keep what a short line parsed to (values are immutable), within a bounded number of lines."""
    if len(source) <= CACHED_CHARS:
        if len(cache) >= CACHED_LINES:
            cache.clear()
            cache.update(CANONICAL_BARE if cache is _CANONICAL else {})
        cache[source] = value


def forget_lines() -> None:
    """Empty the caches of lines seen (benchmarks measure a cold parser with it)."""
    _SEEN.clear()
    _CANONICAL.clear()
    _CANONICAL.update(CANONICAL_BARE)


def _outcome(source: str) -> "str | tuple":
    """What one line parses to alone: its statements' operations and errors, or why it does not parse."""
    tree, message = _parse(source)
    return message if tree is None else _statements(tree)


def _statements(tree: ast.Module) -> tuple:
    """One operation, or the error message, per statement."""
    out: list = []
    for statement in tree.body:
        try:
            out.append(_operation(statement))
        except _Invalid as exc:
            out.append(str(exc))
    return tuple(out)


def _printable(match: re.Match) -> bool:
    return match[1].isprintable() and match[2].isprintable()


class _Invalid(Exception):
    pass


def parse_program(text: str) -> Program:
    """Parse a program, one call per line; blank lines, comments and markdown fences are skipped.

    The work is linear in the program's size, and a program past the size limits is parsed up to them,
    with one error for the rest (see :mod:`prox.program.limits`).
    """
    lines, cut = _bounded_lines(text or "")
    known = list(map(_CANONICAL.get, map(str.strip, lines)))
    if all(known) and len(text) < MAX_PROGRAM_CHARS:  # every line canonical and seen: within the limits by construction
        return Program(tuple(known))
    program = _Builder()
    closers = None  # the lines holding triple quotes, found when a line first fails alone
    budget = 2 * min(len(text or ""), MAX_PROGRAM_CHARS) + 1_000  # characters re-parsed in joins: the work stays linear
    i = 0
    while i < len(lines) and not program.full:
        start, source = i, lines[i].strip()
        i += 1
        operation = _CANONICAL.get(source) or _canonical(source)
        if operation is not None:
            if len(program.operations) < MAX_PROGRAM_LINES and program.size + len(source) < MAX_PROGRAM_CHARS:
                program.operations.append(operation)  # what add() does for a line that fits, without the call
                program.size += len(source) + 1
            else:
                program.add(operation, start, source, canonical=True)
            continue
        if not source or source.startswith("#") or FENCE.fullmatch(source):
            continue
        if len(source) > MAX_LINE_CHARS:
            program.error(start, source[:200], "line too long")
            continue
        if source in ALIASES or (match := SINGLE_QUOTED_NORMALIZE.fullmatch(source)) and _printable(match):
            program.add(ALIASES[source] if source in ALIASES else Normalize(match[1], match[2]), start, source)
            continue
        outcome = _SEEN.get(source)
        if outcome is None:
            outcome = _outcome(source)
            _remember(_SEEN, source, outcome)
        if isinstance(outcome, str) and budget > 0:
            closers = closers if closers is not None else _closing_lines(lines)
            # a triple-quoted string may continue on the next lines: try the next few lines that could close it
            for end in _candidates(closers, source, start):
                joined = "\n".join(lines[start : end + 1]).strip()
                budget -= len(joined)
                tree, _ = _parse(joined)
                if tree is not None:
                    source, i, outcome = joined, end + 1, _statements(tree)
                    break
                if budget <= 0:
                    break
        if isinstance(outcome, str):
            program.error(start, source, outcome)
            continue
        for item in outcome:
            if isinstance(item, str):
                program.error(start, source, item)
            else:
                program.add(item, start, source)
    if cut and not program.full:
        program.error(len(lines), cut, OVER_LIMIT)
    return Program(tuple(program.operations), tuple(program.errors))


OVER_LIMIT = f"program over the size limit ({MAX_PROGRAM_CHARS:,} characters or {MAX_PROGRAM_LINES:,} lines): the rest is ignored"


class _Builder:
    """Operations and errors as they are parsed. The program's canonical text (``str(program)``) must fit
    the limits too, so that it always parses back: an operation too long to print on one line is an error,
    and the program ends, with one error, where its canonical text would outgrow the size limit."""

    def __init__(self):
        self.operations: list[Operation] = []
        self.errors: list[ParseError] = []
        self.size = 0
        self.full = False

    def add(self, operation: Operation, line: int, source: str, canonical: bool = False) -> None:
        """``canonical``: ``source`` is the operation's canonical text, so its width is known."""
        if self.full:
            return  # the rest of the program is ignored, and already said so
        width = len(source) if canonical else len(str(operation))
        if width > MAX_LINE_CHARS:
            self.error(line, source, "operation too long to print on one line")
        elif len(self.operations) >= MAX_PROGRAM_LINES or self.size + width + 1 > MAX_PROGRAM_CHARS:
            self.error(line, source, OVER_LIMIT)
            self.full = True
        else:
            self.operations.append(operation)
            self.size += width + 1

    def error(self, line: int, source: str, message: str) -> None:
        self.errors.append(ParseError(line, source, message))


def _bounded_lines(text: str) -> tuple[list[str], str]:
    """The program's lines within the size limits, and the start of the text past them ("" when only blanks are)."""
    if len(text) <= MAX_PROGRAM_CHARS and text.count("\n") < MAX_PROGRAM_LINES:
        return text.split("\n"), ""  # a program within the limits, as nearly all are
    head = text[:MAX_PROGRAM_CHARS]
    lines = head.split("\n")
    if len(text) > len(head) and len(lines) > 1:
        lines.pop()  # never parse half a line
    del lines[MAX_PROGRAM_LINES:]
    kept = sum(map(len, lines)) + len(lines)
    rest = NON_BLANK.search(text, kept) if kept < len(text) else None
    return lines, text[rest.start() : rest.start() + 80] if rest else ""


def _closing_lines(lines: list[str]) -> dict[str, list[int]]:
    """For each triple quote, the program lines that hold it, in order."""
    return {quote: [n for n, line in enumerate(lines) if quote in line] for quote in TRIPLE_QUOTES}


def _candidates(closers: dict[str, list[int]], source: str, start: int) -> list[int]:
    """The last lines of the joins worth trying for a line that failed alone: the next few lines holding
    a triple quote that the line opened. Each join is one parse, so the work stays linear."""
    ends: set[int] = set()
    for quote, holders in closers.items():
        if quote in source:
            first = bisect.bisect_right(holders, start)
            ends.update(n for n in holders[first : first + MAX_JOIN_ATTEMPTS] if n - start < MAX_JOINED_LINES)
    return sorted(ends)


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
        if values["line_start"] > MAX_LINE_NUMBER or values["line_end"] > MAX_LINE_NUMBER:
            raise _Invalid(f"line number over the limit of {MAX_LINE_NUMBER:,}")
        if values["line_start"] > values["line_end"]:
            raise _Invalid("line_start is after line_end")
    return kind(**values)


def _literal(name: str, node: ast.expr):
    expected = PARAMETER_TYPES[name]
    value = _constant(node)
    if type(value) is not expected:  # bool is an int subclass: refuse it too
        raise _Invalid(f"{name} must be {expected.__name__}")
    if expected is str and not is_text(value):
        raise _Invalid(f"{name} is not valid text (a lone surrogate)")
    return value


def _constant(node: ast.expr):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        if type(node.operand.value) is int:
            return -node.operand.value
    raise _Invalid("arguments must be literals")
