"""Word counts exactly as ``len(text.split())`` gives them, without building the words.

The executor decides by word counts, as the reference does, and counts every document at least once.
For ASCII text, whitespace is ten known bytes: marking whitespace and other bytes and counting where a
word starts gives the same number as ``str.split`` at a third of its cost. Other text is counted by
``str.split`` itself.
"""

from __future__ import annotations

ASCII_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "  # what str.split() splits on below 128
# str.split() also splits on \x85 \xa0 \u1680 \u2000-\u200a \u2028 \u2029 \u202f \u205f \u3000 (tests check the list)
_MARKS = bytes(0x20 if chr(b) in ASCII_SPACES else 0x78 for b in range(128)) + b"x" * 128  # b" " or b"x"


def word_count(text: str) -> int:
    """``len(text.split())``."""
    if not text.isascii():
        return len(text.split())
    marked = text.encode("ascii").translate(_MARKS)
    return marked.count(b" x") + marked.startswith(b"x")
