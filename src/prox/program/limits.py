"""What one program may cost: bounds the reference does not have, on purpose (see docs/program.md).

A model's output is untrusted input. Past a limit a program line, or one operation, becomes a recorded
error; nothing a program says can crash the executor, hang the parser or blow up a document.
"""

from __future__ import annotations

MAX_PROGRAM_CHARS = 32_768  # one program text (one model answer); the rest is ignored, with one error
MAX_PROGRAM_LINES = 1_000  # same, in lines: a chunk of ~1,500 tokens never needs more
MAX_LINE_CHARS = 20_000  # longer lines are model run-offs; refused before the parser sees them
MAX_JOINED_LINES = 50  # a triple-quoted string may span this many program lines ...
MAX_JOIN_ATTEMPTS = 3  # ... and an unclosed one is tried against this many closing candidates
MAX_LINE_NUMBER = 1_000_000_000  # remove_lines arguments above this are errors (and never formatted in full)
GROWTH_FACTOR = 2  # normalize may grow a document to twice its length ...
GROWTH_SLACK = 1_000  # ... plus this many characters
# each normalize scans the whole document (as the reference's str.replace does), so a record carrying many chunk
# programs costs length x normalizations: a document's normalizations may scan this many times its length in all
# (two for each chunk of a 3 MB document fit), the rest are skipped with one error
NORMALIZE_SCANS = 1_024


def normalize_budget(length: int) -> int:
    """The characters a document of ``length`` characters may have scanned by its normalizations, all programs together."""
    return NORMALIZE_SCANS * (length + GROWTH_SLACK)


def growth_limit(length: int) -> int:
    """The longest a document of ``length`` characters may become through its normalizations."""
    return length * GROWTH_FACTOR + GROWTH_SLACK


def is_text(value: str) -> bool:
    """Whether a string can be written as UTF-8 (a lone surrogate cannot)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def mend(value: str) -> str:
    """``value`` with every lone surrogate replaced by U+FFFD (paired ones become their character)."""
    return value if is_text(value) else value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
