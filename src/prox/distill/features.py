"""What the student sees: numeric features of each line in its page, and of each document.

A line is judged with its neighbours and its page: navigation comes in runs of short lines, the main
text is one stretch of long punctuated lines, and a page that is 80% menus looks unlike one that is
20%. So besides the line's own shape (words, punctuation, separators, boilerplate words, the rules'
verdict) each line gets its neighbours' shape, window averages, and where it stands relative to the
page's longest stretch of prose. Features are plain numbers, cheap to compute (``str`` methods and one
pass per page), so a student runs at rule speed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import chain, filterfalse
from typing import Iterator, Sequence

import numpy as np

from prox.text.line_rules import TERMINAL, LineRules, table_row

LIST_MARK = re.compile(r"^\s*([-*•·»>]|\d+[.)]|[a-z][.)])\s")
CAPITALIZED = re.compile(r"(?<!\S)[A-Z]")
ALPHA = re.compile(r"[^\W\d_]")
NON_ASCII = re.compile(r"[^\x00-\x7f]")
# a sentence ends and another begins: Latin, Greek and Cyrillic capitals, or the full stops of Chinese and Japanese
SENTENCE_END = re.compile(r"[.!?;][\"')\]»”]?\s+[\"'(«„“]?[A-ZÀ-ÞΑ-ΩА-ЯЁ]|[。！？](?!$)")

_OWN = [
    "words", "log_chars", "terminal", "alpha", "digits", "upper", "capitalized", "separators", "keyword", "rule",
    "empty", "url", "sentences", "word_length", "repeated", "list_mark", "punctuation", "commas", "prose",
]
_NEIGHBOUR = ["words", "terminal", "rule", "prose"]
_OFFSETS = (-3, -2, -1, 1, 2, 3)
_WINDOWS = (2, 6, 15)
_WINDOWED = ["log_words", "terminal", "rule", "prose"]
LINE_FEATURES: tuple[str, ...] = tuple(
    _OWN
    + [f"{name}@{offset:+d}" for offset in _OFFSETS for name in _NEIGHBOUR]
    + [f"mean_{name}±{w}" for w in _WINDOWS for name in _WINDOWED]
    + ["position", "log_lines", "page_rule", "page_prose", "page_log_words", "share_of_longest",
       "words_before", "words_after", "in_prose_span", "distance_to_span", "distance_to_prose", "in_best_block",
       "distance_to_best_block"]
)


SLICE = 65_536  # rows of the feature matrix built at once: a page of a million lines never holds all of its matrix


def line_features(lines: Sequence[str], rules: LineRules = LineRules()) -> np.ndarray:
    """One row of ``LINE_FEATURES`` per line of one page (float32)."""
    blocks = list(line_feature_slices(lines, rules))
    return np.concatenate(blocks) if blocks else np.zeros((0, len(LINE_FEATURES)), dtype=np.float32)


def line_feature_slices(lines: Sequence[str], rules: LineRules = LineRules(), size: int = SLICE) -> Iterator[np.ndarray]:
    """The rows of :func:`line_features`, ``size`` lines at a time, in order: the page's own figures are computed
    once, each slice's rows from them, so memory grows with the slice, not with the page's matrix."""
    n = len(lines)
    if n == 0:
        return
    signals = rules.signals(lines)
    repeats = _repeats(signals.stripped, signals.content)
    rows = (_own(line, int(count) if line else 0, *evidence) for line, count, *evidence in zip(
        signals.content, repeats, signals.words, signals.terminal, signals.keyword, signals.separators, signals.flags,
        signals.prose))
    # straight into float32, row by row: a list of Python floats first would take 24 bytes a number (a 1 M-line page: 0.5 GB)
    own = np.fromiter(chain.from_iterable(rows), dtype=np.float32, count=n * len(_OWN)).reshape(n, len(_OWN))
    block_start, block_end = signals.main_block
    del signals, repeats, rows  # the rules' per-line lists: the rest is computed from ``own``
    words, terminal, rule, prose = own[:, 0], own[:, 2], own[:, 9], own[:, 18]
    minus_one = np.full(3, -1.0, dtype=np.float32)
    padded = {name: np.concatenate([minus_one, own[:, _OWN.index(name)], minus_one]) for name in _NEIGHBOUR}
    series = np.column_stack([np.log1p(words), terminal, rule, prose])
    sums = np.concatenate([np.zeros((1, series.shape[1])), np.cumsum(series, axis=0)])
    del series
    total = float(words.sum()) or 1.0
    cumulative = np.cumsum(words)
    prose_at = np.flatnonzero(prose)
    figures = (math.log1p(n), rule.mean(), prose.mean(), math.log1p(total), max(float(words.max()), 1.0))
    for start in range(0, n, size):
        stop = min(n, start + size)
        index = np.arange(start, stop, dtype=np.float32)
        neighbours = [padded[name][3 + offset + start : 3 + offset + stop] for offset in _OFFSETS for name in _NEIGHBOUR]
        windowed = [_window_mean(sums, n, w, start, stop) for w in _WINDOWS]
        page = _page_columns(index, n, figures, words[start:stop], cumulative[start:stop], total, prose_at,
                             (block_start, block_end))
        # filled column by column into one float32 matrix (np.column_stack would build it in float64 first)
        out = np.empty((stop - start, len(LINE_FEATURES)), dtype=np.float32)
        column = 0
        for block in [own[start:stop]] + neighbours + windowed + page:
            width = 1 if block.ndim == 1 else block.shape[1]
            out[:, column : column + width] = block if block.ndim > 1 else block[:, None]
            column += width
        yield out


def _repeats(stripped: Sequence[str], content: Sequence[str]) -> np.ndarray:
    """How many lines of the page read exactly as each line's content (a table row's content is its cells, which
    no line may read as): counted through each line's hash with numpy, since a Counter of a million distinct lines
    takes about 100 MB; lines whose hashes collide, and table rows, are counted exactly."""
    hashes = np.fromiter(map(hash, stripped), dtype=np.int64, count=len(stripped))
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    repeats = counts[inverse]
    exact = [i for i in np.flatnonzero(repeats > 1)] if len(counts) < len(stripped) else []
    exact += [i for i, (line, said) in enumerate(zip(stripped, content)) if line is not said and line != said]
    if exact:
        wanted = {content[i] for i in exact}
        found = Counter(line for line in stripped if line in wanted)
        for i in exact:
            repeats[i] = found[content[i]]
    return repeats


def _page_columns(index, n: int, figures: tuple, words, cumulative, total: float, prose_at, block: tuple) -> list:
    """Where each line of a slice (``index``) stands in its page of ``n`` lines."""
    log_lines, page_rule, page_prose, log_total, most_words = figures
    size = len(index)
    if prose_at.size:
        first, last = prose_at[0], prose_at[-1]
        in_span = ((index >= first) & (index <= last)).astype(np.float32)
        to_span = np.maximum(first - index, index - last).clip(min=0)
        after = np.searchsorted(prose_at, index).clip(max=prose_at.size - 1)  # the nearest prose line either side
        before = (after - 1).clip(min=0)
        to_prose = np.minimum(np.abs(prose_at[after] - index), np.abs(index - prose_at[before]))
    else:
        in_span = np.zeros(size, dtype=np.float32)
        to_span = to_prose = np.full(size, float(n))
    block_start, block_end = block
    in_block = ((index >= block_start) & (index <= block_end)).astype(np.float32)
    to_block = np.maximum(block_start - index, index - block_end).clip(min=0)
    return [
        index / max(n - 1, 1),
        np.full(size, log_lines),
        np.full(size, page_rule),
        np.full(size, page_prose),
        np.full(size, log_total),
        words / most_words,
        (cumulative - words) / total,
        (total - cumulative) / total,
        in_span,
        np.log1p(to_span),
        np.log1p(to_prose),
        in_block,
        np.log1p(to_block),
    ]


def _own(line: str, repeats: int, n: int, terminal: bool, keyword: bool, separators: int, flag: bool, prose: bool) -> list[float]:
    chars = len(line)
    if not chars:
        return [0.0] * 10 + [1.0] + [0.0] * 8
    alpha, digits, upper = _char_classes(line)
    spaces = line.count(" ")
    punctuation = chars - alpha - digits - spaces
    return [
        n, math.log1p(chars), float(terminal), alpha / chars, digits / chars, upper / max(alpha, 1),
        _capitalized(line) / max(n, 1), separators, float(keyword), float(flag),
        0.0, float(_has_url(line)), len(SENTENCE_END.findall(line)), (chars - spaces) / max(n, 1),
        float(repeats), float(LIST_MARK.match(line) is not None), punctuation / chars, line.count(","),
        float(prose),
    ]


_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_DIGITS = b"0123456789"
_UPPER = bytes(range(65, 91))
URL_MARK = re.compile(r"http|www\.|\.com|\.org|\.net|\.htm|@")  # searched in lowered text: faster than re.IGNORECASE


def _char_classes(line: str) -> tuple[int, int, int]:
    """Letters, digits and capitals in ``line``: by bytes.translate for ASCII lines (in C), else char by char."""
    if line.isascii():
        raw = line.encode()
        size = len(raw)
        return size - len(raw.translate(None, _LETTERS)), size - len(raw.translate(None, _DIGITS)), size - len(raw.translate(None, _UPPER))
    ascii_part = line.encode("ascii", "ignore")
    size = len(ascii_part)
    alpha, digits, upper = (size - len(ascii_part.translate(None, _LETTERS)), size - len(ascii_part.translate(None, _DIGITS)),
                            size - len(ascii_part.translate(None, _UPPER)))
    other = NON_ASCII.findall(line)  # the rest char by char: few in most lines of Latin scripts
    return (alpha + sum(map(str.isalpha, other)), digits + sum(map(str.isdigit, other)), upper + sum(map(str.isupper, other)))


def _capitalized(line: str) -> int:
    """Words that begin with a capital, in any cased script (a regex in C for ASCII lines)."""
    if line.isascii():
        return len(CAPITALIZED.findall(line))
    return sum(1 for word in line.split() if word[:1].isupper())


def _has_url(line: str) -> bool:
    return URL_MARK.search(line.lower()) is not None


def _window_mean(sums: np.ndarray, n: int, width: int, start: int, stop: int) -> np.ndarray:
    """Mean of each column of a page's series over each line's window of ``width`` lines either side (clipped at
    the page's ends), for lines ``start`` to ``stop``, from the series' running sums (``sums[i]``: rows before i)."""
    rows = np.arange(start, stop)
    low = np.clip(rows - width, 0, n)
    high = np.clip(rows + width + 1, 0, n)
    return (sums[high] - sums[low]) / (high - low)[:, None]


DOC_FEATURES: tuple[str, ...] = (
    "log_words", "log_lines", "mean_line_words", "mean_word_length", "terminal_share", "short_line_share",
    "dup_line_share", "list_share", "alpha_word_share", "stop_words", "symbol_ratio", "char_dup_share",
    "ellipsis_share", "upper_share", "digit_share", "url_lines", "top_bigram_share",
)
STOP_WORDS = frozenset(("the", "be", "to", "of", "and", "that", "have", "with", "is", "in", "for", "it", "this", "on"))


def doc_features(lines: Sequence[str], p_remove: np.ndarray) -> np.ndarray:
    """One row of ``DOC_FEATURES`` for a document, given the line model's P(remove) of each line.

    All are figures of the lines the line model keeps (those of Gopher's and FineWeb's filters,
    simplified), none of the raw page: a page is judged on its content, not on the menus around it, so
    a good article in a noisy page is not condemned for its noise."""
    stripped = [line.strip() for line, p in zip(lines, p_remove) if p < 0.5]
    rows = [table_row(line) for line in stripped]  # a table row is its cells, and no unfinished sentence
    kept = [line if row is None else row for line, row in zip(stripped, rows) if (line if row is None else row)]
    tables = sum(1 for row in rows if row)
    text = "\n".join(kept)
    n_words, letters, alphabetic, stop_words, top_bigram = _word_figures(kept)
    n_kept = len(kept)
    chars = len(text) or 1
    counts = Counter(kept)
    dup_chars = sum(len(line) * (count - 1) for line, count in counts.items())
    per_line = max(n_kept, 1)
    return np.array([
        math.log1p(n_words), math.log1p(n_kept), n_words / per_line,
        letters / max(n_words, 1),
        (sum(line.endswith(TERMINAL) for line in kept) + tables) / per_line,
        sum(len(line) < 30 for line in kept) / per_line,
        sum(count - 1 for count in counts.values()) / per_line,
        sum(LIST_MARK.match(line) is not None for line in kept) / per_line,
        alphabetic / max(n_words, 1),
        stop_words / max(n_words, 1),
        (text.count("#") + text.count("...") + text.count("…")) / max(n_words, 1),
        dup_chars / chars,
        sum(line.endswith(("...", "…")) for line in kept) / per_line,
        *(count / chars for count in _char_classes(text)[2:0:-1]),
        sum(map(_has_url, kept)) / per_line,
        top_bigram,
    ], dtype=np.float32)


WORD_BATCH = 20_000  # lines whose words are in memory at once: a page of a million lines never holds all its words
MAX_BIGRAM_WORDS = 200_000  # the repeated-bigram share is measured on a document's first this many words


def _word_figures(lines: Sequence[str]) -> tuple[int, int, int, int, float]:
    """Words, their characters, words with a letter, stop words, and the share of the first ``MAX_BIGRAM_WORDS``
    words in their most repeated bigram: read ``WORD_BATCH`` lines at a time, so memory stays bounded."""
    n_words = letters = alphabetic = stop_words = 0
    bigrams: Counter = Counter()
    previous, counted = None, 0
    for start in range(0, len(lines), WORD_BATCH):
        words = "\n".join(lines[start : start + WORD_BATCH]).split()
        n_words += len(words)
        letters += sum(map(len, words))
        alphabetic += sum(map(str.isalpha, words)) + sum(1 for w in filterfalse(str.isalpha, words) if ALPHA.search(w))
        lowered = [word.lower() for word in words]
        stop_words += sum(map(STOP_WORDS.__contains__, lowered))
        if counted < MAX_BIGRAM_WORDS:
            lowered = lowered[: MAX_BIGRAM_WORDS - counted]
            bigrams.update(zip(([previous] if previous is not None else []) + lowered, lowered[1:] if previous is None else lowered))
            previous = lowered[-1] if lowered else previous
            counted += len(lowered)
    top_bigram = max(bigrams.values()) * 2 / min(n_words, MAX_BIGRAM_WORDS) if bigrams and n_words else 0.0
    return n_words, letters, alphabetic, stop_words, top_bigram
