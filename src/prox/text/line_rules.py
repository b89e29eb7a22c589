"""Rules that tell boilerplate lines from content: C4's line rules, aware of context.

Navigation comes in runs of short, unpunctuated lines; link bars hold separators; legal, cookie and share
notices have their own words; the main text is the page's longest stretch of prose. The heuristic writer
(:mod:`prox.writers.heuristic`) writes programs from these verdicts, the student (:mod:`prox.distill.features`)
learns from their evidence, and ``prox show --why`` prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from prox.program.words import word_units

TERMINAL = (".", "!", "?", '"', "'", "”", "’", ":", ";", ")", "»", "…", "。", "！", "？", "」", "』", "؟", "।", "۔")
SEPARATORS = re.compile(r"\s[|•»·›/\\>-]\s|\s\|\||^[|•»·›>\-*]\s|\s[|•»·›]$")
BOILERPLATE = re.compile(  # searched in lowered lines: faster than a case-blind pattern
    r"\b(cookies?|privacy (policy|notice|statement)|terms (of|and) (use|service|conditions)|all rights reserved|"
    r"copyright|©|\(c\) \d{4}|skip to (main )?content|(log|sign) ?(in|up|out)\b|register\b|my account|"
    r"subscribe|newsletter|follow us|share (this|on)|tweet\b|pin it|like us on|"
    r"read more|continue reading|click here|posted (by|in|on)|leave a (comment|reply)|\d+ comments?\b|"
    r"related (posts|articles|links)|tags?:|categories:|filed under|permalink|back to top|"
    r"powered by|designed by|site ?map|contact us|about us|advertise|home\s*[|»>/]|"
    r"previous (post|page|article)|next (post|page|article)|javascript|enable javascript|"
    r"add to (cart|basket|wishlist)|free shipping|search( this site| for)?:?$|menu$)",
)
# teasers and editing marks inside a line of content: normalized away, not a reason to delete the sentence
TEASER = re.compile(  # within one line ([^\S\n], not \s), so it can search many lines joined
    r"\[[^\S\n]*(read more|more|edit|citation needed)[^\S\n]*\]|\((opens in (a )?new window|click to enlarge)\)|"
    r"(\b(click here to (read|see|view) (more|the rest)|read more|read the rest( of this (entry|post|article))?|"
    r"continue reading)\b|\bclick here\b)([^\S\n]*(\.{3}|…|»|→|>>|›))?|\bshare this:",
    re.IGNORECASE,
)
TEASER_LOWER = re.compile(TEASER.pattern)  # the same, searched in lowered text
TEASER_HINTS = ("read more", "click here", "continue reading", "read the rest", "share this:", "[", "(opens in", "(click to")


def may_tease(lowered: str) -> bool:
    """Whether lowered text may hold a teaser: substring tests in C, so most pages skip the regex."""
    return any(hint in lowered for hint in TEASER_HINTS)


def table_row(line: str) -> str | None:
    """The cells of a table row written as ``| a | b |`` (how extractors such as trafilatura write tables),
    joined with " | "; None for any other line. Empty cells are layout, not content."""
    if len(line) < 2 or line[0] != "|" or line[-1] != "|":
        return None
    return " | ".join(cell for cell in (c.strip() for c in line[1:-1].split("|")) if cell)


@dataclass(frozen=True)
class LineSignals:
    """Per-line evidence of the line rules, and their verdicts (``flags``: True to remove)."""

    stripped: list[str]
    content: list[str]  # what a line says: a table row's cells, any other line as it is (stripped)
    words: list[int]
    terminal: list[bool]
    keyword: list[bool]  # boilerplate words in a line of at most ``keyword_max_words``
    separators: list[int]  # link-bar separators
    prose: list[bool]
    main_block: tuple[int, int]  # first and last line of the main text; (0, -1) without prose
    flags: list[bool]
    runs_on: list[bool]  # the line is wrapped: its sentence goes on in the next line

    def paragraphs(self) -> str:
        """The lines the rules keep, wrapped lines joined and table rows as their cells: the text as paragraphs,
        which is what per-line document filters (FineWeb's, Gopher's) were made for."""
        out: list[str] = []
        joining = False
        for line, removed, on in zip(self.content, self.flags, self.runs_on):
            if removed:
                joining = False
                continue
            if joining and out:
                out[-1] += " " + line
            else:
                out.append(line)
            joining = on
        return "\n".join(out)


@dataclass(frozen=True)
class LineRules:
    """Thresholds of the boilerplate line classifier, set on the CleanEval and Dragnet training splits together
    (docs/benchmarks.md has the sweeps): a rule must hold on pages that are 41% boilerplate and on pages
    that are 76%."""

    short_words: int = 6  # a line this short without end punctuation looks like a menu item or a label
    run_length: int = 3  # ... and is navigation when it stands in a run of this many such lines
    keyword_max_words: int = 30  # boilerplate words only condemn lines up to this long
    prose_words: int = 10  # a line this long that ends a sentence is prose
    block_cost: float = 3.0  # the main text is the stretch with most prose words, less this per other line
    block_margin: int = 2  # lines this close to the main text stay with it (captions, bylines, headings)
    outside_prose_words: int = 20  # prose this long is kept even outside the main text

    def boilerplate(self, lines: Sequence[str]) -> list[bool]:
        """For each line, True when it is boilerplate to remove."""
        return self.signals(lines).flags

    def signals(self, lines: Sequence[str]) -> "LineSignals":
        """The rules' verdicts with the per-line evidence they used (the student's features reuse it)."""
        stripped = [line.strip() for line in lines]
        # a table row is judged by its cells: a row of short cells is a link bar, a cell of prose is prose
        rows = [table_row(line) for line in stripped]
        content = [line if row is None else row for line, row in zip(stripped, rows)]
        words = [word_units(line) for line in content]
        terminal = [line.endswith(TERMINAL) for line in content]
        keyword = [0 < n <= self.keyword_max_words and BOILERPLATE.search(_without_teasers(line.lower(), self.short_words)) is not None
                   for line, n in zip(content, words)]
        separators = [(len(SEPARATORS.findall(line)) if row is None else _short_cells(row)) if n else 0
                      for line, row, n in zip(stripped, rows, words)]
        unpunctuated_short = [0 < n <= self.short_words and not t for n, t in zip(words, terminal)]
        # boilerplate on its own: legal, cookie and share words in a short line, link bars
        strong = [k or (s >= 2 and not t) for k, s, t in zip(keyword, separators, terminal)]
        # short unpunctuated lines are navigation when they come in runs (boilerplate lines join runs)
        weak = [a or b for a, b in zip(unpunctuated_short, strong)]
        runs = run_lengths(weak)
        flags = [s or (u and r >= self.run_length) for s, u, r in zip(strong, unpunctuated_short, runs)]
        # menus, sidebars, comments and footers lie outside the page's main stretch of prose
        # prose ends a sentence, or runs on into the next line (text wrapped at a fixed width)
        runs_on = [not t and i + 1 < len(content) and content[i + 1][:1].islower() for i, t in enumerate(terminal)]
        prose = [n >= self.prose_words and (t or r) for n, t, r in zip(words, terminal, runs_on)]
        start, end = main_block(words, prose, self.block_cost)
        if start <= end:
            first, last = start - self.block_margin, end + self.block_margin
            for i in range(len(stripped)):
                if (i < first or i > last) and not (words[i] >= self.outside_prose_words and (terminal[i] or runs_on[i])):
                    flags[i] = True
        return LineSignals(stripped, content, words, terminal, keyword, separators, prose, (start, end), flags, runs_on)


    def causes(self, lines: Sequence[str]) -> list[str]:
        """For each line, the rule that removes it ("boilerplate words", "link bar", "navigation run", "outside the
        main text"), "prose" for a line of prose it keeps, else "": the evidence ``prox show --why`` prints."""
        signals = self.signals(lines)
        short = [0 < n <= self.short_words and not t for n, t in zip(signals.words, signals.terminal)]
        runs = run_lengths([u or k or (s >= 2 and not t) for u, k, s, t in
                            zip(short, signals.keyword, signals.separators, signals.terminal)])
        causes = []
        for i, removed in enumerate(signals.flags):
            if not removed:
                causes.append("prose" if signals.prose[i] else "")
            elif signals.keyword[i]:
                causes.append("boilerplate words")
            elif signals.separators[i] >= 2 and not signals.terminal[i]:
                causes.append("link bar")
            elif short[i] and runs[i] >= self.run_length:
                causes.append("navigation run")
            else:
                causes.append("outside the main text")
        return causes


def _without_teasers(line: str, min_words: int) -> str:
    """``line`` less its teasers when what remains is a sentence of its own ("... more. Read more »"); a line
    that is little more than a teaser ("Read more", "Click here to subscribe") stays as it is."""
    if not may_tease(line) or TEASER_LOWER.search(line) is None:
        return line
    rest = TEASER_LOWER.sub(" ", line)
    return rest if len(rest.split()) > min_words else line


def _short_cells(row: str) -> int:
    """A table row's separators as a link bar's: the cells, less one, when every cell is a short label (a menu
    row); a row with figures is data."""
    cells = row.split(" | ")
    if any(ch.isdigit() for ch in row) or any(len(cell.split()) > 4 for cell in cells):
        return 0
    return len(cells) - 1


def run_lengths(flags: Sequence[bool]) -> list[int]:
    """For each position, the length of the run of True values it stands in (0 where False): one pass."""
    lengths = [0] * len(flags)
    start = 0
    for i in range(len(flags) + 1):
        if i == len(flags) or not flags[i]:
            for j in range(start, i):
                lengths[j] = i - start
            start = i + 1
    return lengths


def main_block(words: Sequence[float], prose: Sequence[bool], cost: float) -> tuple[int, int]:
    """First and last line of the stretch with the most prose words net of ``cost`` per other line (the
    maximum subarray); (0, -1) when the page has no prose."""
    best, best_range, running, start = 0.0, (0, -1), 0.0, 0
    for i, (n, is_prose) in enumerate(zip(words, prose)):
        gain = n if is_prose else -cost
        if running <= 0:
            running, start = gain, i
        else:
            running += gain
        if running > best:
            best, best_range = running, (start, i)
    return best_range
