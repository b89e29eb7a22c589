"""The heuristic writer: rule-based programs in the ProX language, with no model.

It is the offline default and the rule-based baseline of the paper. Doc level: datatrove's Gopher
quality and repetition filters and FineWeb's quality filter decide ``drop_doc()``. Chunk level: a line
classifier in the spirit of C4's line rules, but aware of context (navigation comes in runs of short,
unpunctuated lines; link bars hold separators; legal, cookie and share notices have their own words)
writes ``remove_lines`` for boilerplate lines, and ``normalize`` deletes common in-line noise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from prox.program.operations import Normalize, RemoveLines
from prox.text.chunker import Chunk, numbered_lines
from prox.writers.base import Written

TERMINAL = (".", "!", "?", '"', "'", "”", "’", ":", ";", ")", "。", "！", "？")
SEPARATORS = re.compile(r"\s[|•»·›/\\>-]\s|\s\|\||^[|•»·›>\-*]\s|\s[|•»·›]$")
BOILERPLATE = re.compile(
    r"\b(cookies?|privacy (policy|notice|statement)|terms (of|and) (use|service|conditions)|all rights reserved|"
    r"copyright|©|\(c\) \d{4}|skip to (main )?content|(log|sign) ?(in|up|out)\b|register\b|my account|"
    r"subscribe|newsletter|follow us|share (this|on)|tweet\b|pin it|like us on|"
    r"read more|continue reading|click here|posted (by|in|on)|leave a (comment|reply)|\d+ comments?\b|"
    r"related (posts|articles|links)|tags?:|categories:|filed under|permalink|back to top|"
    r"powered by|designed by|site ?map|contact us|about us|advertise|home\s*[|»>/]|"
    r"previous (post|page|article)|next (post|page|article)|javascript|enable javascript|"
    r"add to (cart|basket|wishlist)|free shipping|search( this site| for)?:?$|menu$)",
    re.IGNORECASE,
)
INLINE_NOISE = (
    "[edit]", "(opens in new window)", "(opens in a new window)", "Click here to read more", "Read more »",
    "Read more...", "Continue reading →", "[citation needed]", "(Click to enlarge)", "Share this:",
)


@dataclass(frozen=True)
class LineRules:
    """Thresholds of the boilerplate line classifier: set by hand; on the CleanEval dev set the score is flat
    around them (docs/benchmarks.md has the sweep)."""

    short_words: int = 6  # a line this short without end punctuation looks like a menu item or a label
    run_length: int = 3  # ... and is navigation when it stands in a run of this many such lines
    keyword_max_words: int = 30  # boilerplate words only condemn lines up to this long

    def boilerplate(self, lines: Sequence[str]) -> list[bool]:
        """For each line, True when it is boilerplate to remove."""
        stripped = [line.strip() for line in lines]
        words = [len(line.split()) for line in stripped]
        unpunctuated_short = [
            0 < n <= self.short_words and not line.endswith(TERMINAL) for line, n in zip(stripped, words)
        ]
        strong = [  # boilerplate on its own: legal, cookie and share words in a short line, link bars
            n > 0
            and (
                (n <= self.keyword_max_words and BOILERPLATE.search(line) is not None)
                or (len(SEPARATORS.findall(line)) >= 2 and not line.endswith(TERMINAL))
            )
            for line, n in zip(stripped, words)
        ]
        # short unpunctuated lines are navigation when they come in runs (boilerplate lines join runs)
        weak = [a or b for a, b in zip(unpunctuated_short, strong)]
        return [strong[i] or (unpunctuated_short[i] and self._in_run(weak, i)) for i in range(len(stripped))]

    def _in_run(self, flags: list[bool], i: int) -> bool:
        if not flags[i]:
            return False
        start = end = i
        while start > 0 and flags[start - 1]:
            start -= 1
        while end + 1 < len(flags) and flags[end + 1]:
            end += 1
        return end - start + 1 >= self.run_length


class HeuristicWriter:
    """Writes programs from rules; as fast as the rules, and needs no model."""

    name = "heuristic"

    def __init__(self, line_rules: LineRules = LineRules(), doc_filters: bool = True):
        self.line_rules = line_rules
        self.doc_filters = doc_filters
        self._filters = None

    def write_doc(self, documents: Sequence[str]) -> list[Written]:
        return [Written(self.doc_program(text)) for text in documents]

    def write_chunk(self, chunks: Sequence[Chunk]) -> list[Written]:
        return [Written(self.chunk_program(chunk)) for chunk in chunks]

    def doc_program(self, text: str) -> str:
        reason = self.drop_reason(text)
        return "drop_doc()" if reason else "keep_doc()"

    def drop_reason(self, text: str) -> str | None:
        """Why the document should be dropped, or None; the first failing filter's reason."""
        if not text.strip():
            return "empty"
        if not self.doc_filters:
            return None
        from datatrove.data import Document

        document = Document(text=text, id="")
        for quality_filter in self.filters:
            verdict = quality_filter.filter(document)
            if verdict is not True:
                return f"{quality_filter.name}: {verdict[1] if isinstance(verdict, tuple) else 'failed'}"
        return None

    @property
    def filters(self) -> list:
        if self._filters is None:
            from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

            self._filters = [GopherRepetitionFilter(), GopherQualityFilter(), FineWebQualityFilter()]
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
        kept_text = "\n".join(line for (_, line), remove in zip(pairs, flags) if not remove)
        operations += [Normalize(noise, "") for noise in INLINE_NOISE if noise in kept_text]
        return "\n".join(str(op) for op in operations) or "skip_chunk()"
