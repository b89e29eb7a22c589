"""The heuristic writer: rule-based programs in the ProX language, with no model.

It is the rule-based baseline of the paper, with no model. Doc level: datatrove's Gopher quality and
repetition filters and FineWeb's quality filter decide ``drop_doc()`` for English pages, on the lines the
line rules keep; a page in another language is dropped only when too little content is left (no page is
dropped for its language). Chunk level: a line
classifier in the spirit of C4's line rules, but aware of context (navigation comes in runs of short,
unpunctuated lines; link bars hold separators; legal, cookie and share notices have their own words)
writes ``remove_lines`` for boilerplate lines (a table row is judged by its cells, wrapped prose is prose, and
length is counted in words of any script), and ``normalize`` deletes teasers inside the lines it keeps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Iterable, Sequence

from prox.program.operations import Normalize, RemoveLines
from prox.program.words import word_units
from prox.text.chunker import Chunk, numbered_lines
from prox.text.language import rules_language
from prox.writers.base import Written

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


def _may_tease(lowered: str) -> bool:
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
    if not _may_tease(line) or TEASER_LOWER.search(line) is None:
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


# datatrove's filters by the names drops carry, with the settings the default uses. Two checks are off because
# they condemn good pages on both line sets without helping on the DCLM doc set (docs/benchmarks.md): Gopher's
# alphabetic-words share (datatrove counts punctuation tokens as words, so ordinary news prose fails it) and
# FineWeb's duplicated-character share of 1% (repeated photo captions fail it). FineWeb's share of lines that end
# in punctuation is off too: text from a layout table or a list fails it, a fifth of the extracted CleanEval pages,
# for 2 of 65 DCLM validation documents (docs/benchmarks.md). Gopher's repetition filter is
# available but not on by default, for the same reason. Content under 80 words is dropped (Gopher's own minimum
# is 50): the best of 50, 80 and 100 on the DCLM training split, and what lifts the rules above keeping everything.
FILTER_SETTINGS = {
    "gopher_quality": ("GopherQualityFilter", {"max_non_alpha_words_ratio": None, "min_doc_words": 80}),
    "fineweb": ("FineWebQualityFilter", {"char_duplicates_ratio": 1.0, "line_punct_thr": 0.0}),
    "gopher_repetition": ("GopherRepetitionFilter", {}),
}
FILTERS = ("gopher_quality", "fineweb")  # the default doc filters, in the order they are tried
# Their thresholds were set on English (stop words, words per line, punctuation), so they judge English pages
# only (and ASCII text CLD2 cannot place: ``rules_language``); a page in another language is held to what holds
# in every language: some content, counted in words of any script (``word_units``).
FILTER_LANGUAGES = ("en",)
MIN_CONTENT_UNITS = 50


class HeuristicWriter:
    """Writes programs from rules; as fast as the rules, and needs no model.

    The doc filters judge the page's content, what the line rules keep, not the raw page: a good article
    inside menus and footers would otherwise fail Gopher's and FineWeb's ratios for the boilerplate around
    it (``judge="page"`` restores the raw judgement, for comparison). Each drop names the rule that fired.
    """

    name = "heuristic"

    def __init__(self, line_rules: LineRules | Mapping[str, float] = LineRules(), doc_filters: bool | str | Sequence[str] = True,
                 judge: str = "content"):
        """``line_rules``: a :class:`LineRules`, or the thresholds to change (``-O 'line_rules={"prose_words": 8}'``);
        ``doc_filters``: all (True), none (False), or names, a list or comma-separated (``-O doc_filters=fineweb``)."""
        if judge not in ("content", "page"):
            raise ValueError(f"judge must be 'content' or 'page', not {judge!r}")
        if isinstance(doc_filters, str):
            doc_filters = [name.strip() for name in doc_filters.split(",") if name.strip()]
        names = FILTERS if doc_filters is True else () if doc_filters is False else tuple(doc_filters)
        unknown = set(names) - set(FILTER_SETTINGS)
        if unknown:
            raise ValueError(f"unknown doc filters {sorted(unknown)}; choose from {', '.join(FILTER_SETTINGS)}")
        if isinstance(line_rules, Mapping):
            known = {f.name for f in fields(LineRules)}
            if set(line_rules) - known or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in line_rules.values()):
                raise ValueError(f"line_rules takes numbers for {', '.join(sorted(known))}, not {dict(line_rules)!r}")
            line_rules = replace(LineRules(), **line_rules)
        elif not isinstance(line_rules, LineRules):
            raise ValueError(f"line_rules takes a LineRules or a JSON object of its thresholds, not {line_rules!r}")
        self.line_rules = line_rules
        self.doc_filters = names
        self.judge = judge
        self._filters = None

    def write_doc(self, documents: Sequence[str]) -> list[Written]:
        written = []
        for text in documents:
            rule = self.drop_reason(text)
            written.append(Written("drop_doc()" if rule else "keep_doc()", rule=rule))
        return written

    def write_chunk(self, chunks: Sequence[Chunk]) -> list[Written]:
        return [Written(self.chunk_program(chunk)) for chunk in chunks]

    def doc_program(self, text: str) -> str:
        return "drop_doc()" if self.drop_reason(text) else "keep_doc()"

    def drop_reason(self, text: str) -> str | None:
        """The rule that drops the document (``gopher_quality:gopher_short_doc``, ``fineweb:line_punct_ratio``,
        ...), or None to keep it; the first filter that fails decides."""
        if not text.strip():
            return "empty"
        if not self.doc_filters:
            return None
        english = rules_language(text) in FILTER_LANGUAGES
        if self.judge == "content" or not english:
            text = self.line_rules.signals(text.split("\n")).paragraphs()
            if not text.strip():
                return "line_rules:all_boilerplate"
        if not english:
            return "length:short_content" if word_units(text) < MIN_CONTENT_UNITS else None
        from datatrove.data import Document

        document = Document(text=text, id="")
        for name, quality_filter in self.filters:
            verdict = quality_filter.filter(document)
            if verdict is not True:
                return f"{name}:{verdict[1] if isinstance(verdict, tuple) else 'failed'}"
        return None

    @property
    def filters(self) -> list:
        """(name, datatrove filter) pairs, built once."""
        if self._filters is None:
            from datatrove.pipeline import filters

            _import_spacy_without_torch()
            self._filters = []
            for name in self.doc_filters:
                class_name, settings = FILTER_SETTINGS[name]
                self._filters.append((name, getattr(filters, class_name)(**settings)))
        return self._filters

    def chunk_program(self, chunk: Chunk | str) -> str:
        pairs = numbered_lines(chunk)
        if not pairs:
            return "skip_chunk()"
        flags = self.line_rules.boilerplate([line for _, line in pairs])
        operations: list = []
        run_start = None
        for (number, _), remove in zip(pairs + [(None, "")], flags + [False]):
            if remove and run_start is None:
                run_start = number
            elif not remove and run_start is not None:
                operations.append(RemoveLines(run_start, previous))
                run_start = None
            previous = number
        operations += teaser_normalizations(line for (_, line), remove in zip(pairs, flags) if not remove)
        return "\n".join(str(op) for op in operations) or "skip_chunk()"


def _import_spacy_without_torch() -> None:
    """Import spaCy (the English word tokenizer of datatrove's filters) with torch hidden from it.

    spaCy's thinc imports torch whenever it is installed, for neural layers a blank tokenizer never uses: about
    1 s more start-up for every heuristic run on a machine with the ``[hf]`` extra. Hidden only while spaCy
    imports, and only when nothing in the process has imported torch yet; torch imports normally afterwards."""
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # "import torch" raises ImportError: thinc goes without
    try:
        import spacy  # noqa: F401
    except ImportError:
        pass  # datatrove says what is missing when it needs it
    finally:
        del sys.modules["torch"]


def teaser_normalizations(kept_lines: Iterable[str]) -> list[Normalize]:
    """``normalize`` operations that delete the teasers found in the lines a program keeps, longest first (so
    "Read more »" goes before a "Read more" inside it)."""
    text = "\n".join(kept_lines)
    lowered = text.lower()
    if not _may_tease(lowered):
        return []
    if len(lowered) == len(text):  # positions agree: search the lowered text (a case-blind regex is slower)
        found = (text[m.start():m.end()] for m in TEASER_LOWER.finditer(lowered))
    else:
        found = (m.group() for m in TEASER.finditer(text))
    teasers = {teaser.strip() for teaser in found}
    return [Normalize(teaser, "") for teaser in sorted(teasers, key=lambda t: (-len(t), t))]
