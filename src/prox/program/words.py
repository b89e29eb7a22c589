"""Word counts exactly as ``len(text.split())`` gives them, without building the words.

The executor decides by word counts, as the reference does, and counts every document at least once.
Where the package was built with a C compiler, ``prox.program._speedups`` counts in one pass over the
string's storage (about 10x faster than the split, ``bench/bench_core.py``). Without it, pure Python: ASCII text: whitespace is ten known bytes, so marking whitespace and other bytes (``bytes.translate``)
and counting where a word starts gives ``str.split``'s number at a third of its cost. Longer other text:
one lookup per UTF-16 code unit in a table of ``str.split``'s whitespace (numpy; every such character is
in the Basic Multilingual Plane, and the two halves of a surrogate pair are both word characters, as the
character is), about 40% faster than the split. Short text: ``str.split`` itself.
"""

from __future__ import annotations

import re

ASCII_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "  # what str.split() splits on below 128
SPACES = ASCII_SPACES + "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_MARKS = bytes(0x20 if chr(b) in ASCII_SPACES else 0x78 for b in range(128)) + b"x" * 128  # b" " or b"x"
LONG = 512  # characters from which the table lookup beats str.split on non-ASCII text
_table = None


def _python_word_count(text: str) -> int:
    """``len(text.split())``."""
    if text.isascii():
        marked = text.encode("ascii").translate(_MARKS)
        return marked.count(b" x") + marked.startswith(b"x")
    if len(text) < LONG:
        return len(text.split())
    return _count_code_points(text)


def _count_code_points(text: str) -> int:
    import numpy as np

    global _table
    if _table is None:
        _table = np.ones(0x10000, dtype=np.bool_)  # True: a code unit of a word
        _table[[ord(c) for c in SPACES]] = False
    word = _table[np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)]
    return int(np.count_nonzero(word[1:] > word[:-1])) + bool(word[0])


try:
    from prox.program._speedups import word_count
except ImportError:  # built without a C compiler
    word_count = _python_word_count


# scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar)
UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def word_units(text: str) -> int:
    """Words in any script: ``word_count``, plus one word for every two characters of a script written without
    spaces, so that length rules judge a Chinese sentence as they judge an English one (a Chinese word is about
    two characters long)."""
    words = word_count(text)
    if text.isascii():
        return words
    unspaced = len(UNSPACED.findall(text))
    return words + unspaced // 2 if unspaced else words
