"""Run figures, counted per committed part so they stay exact across kills and resumes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Iterable

from prox.pipeline.documents import STAGES, is_blank, is_rejected, state
from prox.program.words import word_count


@dataclass
class RunStats:
    read: int = 0
    kept: int = 0
    dropped: int = 0
    rejected: int = 0
    empty: int = 0
    blank_lines: int = 0  # blank input lines: no record, so not read, and written nowhere
    writer_errors: int = 0
    scored: int = 0  # documents with a stored P(drop) (metadata.drop_probability): what a drop threshold can re-decide
    lines_scored: int = 0  # documents with a stored P(remove) of their lines: what a line threshold can re-decide
    reasons: Counter = field(default_factory=Counter)
    lines_removed: int = 0
    normalizations: int = 0
    programs: int = 0
    programs_with_parse_errors: int = 0
    words_before: int = 0
    words_after: int = 0
    stage_documents: Counter = field(default_factory=Counter)
    stage_items: Counter = field(default_factory=Counter)  # documents (doc stage) or chunks (chunk stage)
    stage_input_tokens: Counter = field(default_factory=Counter)
    stage_output_tokens: Counter = field(default_factory=Counter)
    stage_seconds: Counter = field(default_factory=Counter)

    def add(self, document) -> None:
        """Count one document as the output step routes it."""
        if is_blank(document):
            self.blank_lines += 1
            return
        self.read += 1
        if is_rejected(document):
            self.rejected += 1
            return
        prox = state(document)
        dropped = prox.dropped
        self.dropped += dropped
        self.kept += not dropped
        self.empty += prox.empty
        self.reasons[prox.reason] += 1
        self.writer_errors += bool(prox.get("writer_errors"))
        p_drop = document.metadata.get("drop_probability")
        self.scored += isinstance(p_drop, (int, float)) and not isinstance(p_drop, bool)
        self.lines_scored += isinstance(document.metadata.get("remove_probability"), (list, tuple))
        self.lines_removed += sum(end - start + 1 for start, end in prox.get("removed_lines", []))
        self.normalizations += sum(1 for n in prox.get("normalizations", []) if n.get("count"))
        self.programs += prox.get("programs", 0)
        self.programs_with_parse_errors += prox.get("programs_with_parse_errors", 0)
        self.words_before += prox.get("words_before", 0)
        self.words_after += 0 if dropped else word_count(document.text)
        for stage in STAGES:
            cost = prox.cost(stage)
            if cost:
                self.stage_documents[stage] += 1
                self.stage_items[stage] += cost.get("items", 1)
                self.stage_input_tokens[stage] += cost.get("input_tokens", 0)
                self.stage_output_tokens[stage] += cost.get("output_tokens", 0)
                self.stage_seconds[stage] += cost.get("seconds", 0.0)

    def as_dict(self) -> dict:
        return {f.name: (dict(v) if isinstance(v := getattr(self, f.name), Counter) else v) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "RunStats":
        names = {f.name for f in fields(cls)}
        values = {k: (Counter(v) if isinstance(v, dict) else v) for k, v in data.items() if k in names}
        return cls(**values)

    @classmethod
    def merge(cls, parts: Iterable[dict]) -> "RunStats":
        total = cls()
        for part in parts:
            other = cls.from_dict(part)
            for f in fields(cls):
                setattr(total, f.name, getattr(total, f.name) + getattr(other, f.name))
        return total

    @property
    def balanced(self) -> bool:
        return self.kept + self.dropped + self.rejected == self.read

    def summary(self, seconds: float | None = None) -> dict:
        """The figures a person reads: counts, shares, docs/s and tokens/s per stage, and the run's ``seconds``
        (all its invocations) with the docs/s they make."""
        stages = {}
        for stage in STAGES:
            busy = self.stage_seconds[stage]
            if not self.stage_documents[stage]:
                continue
            tokens = self.stage_input_tokens[stage] + self.stage_output_tokens[stage]
            stages[stage] = {
                "documents": self.stage_documents[stage],
                "items": self.stage_items[stage],
                "input_tokens": self.stage_input_tokens[stage],
                "output_tokens": self.stage_output_tokens[stage],
                "seconds": round(busy, 3),
                "docs_per_second": round(self.stage_documents[stage] / busy, 4) if busy else None,
                "tokens_per_second": round(tokens / busy, 1) if busy else None,
            }
        return {
            "read": self.read,
            "kept": self.kept,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "balanced": self.balanced,
            "empty": self.empty,
            "blank_lines": self.blank_lines,
            "writer_errors": self.writer_errors,
            "scored": self.scored,
            "lines_scored": self.lines_scored,
            "reasons": dict(self.reasons.most_common()),
            "lines_removed": self.lines_removed,
            "normalizations": self.normalizations,
            "programs": self.programs,
            "parse_error_rate": round(self.programs_with_parse_errors / self.programs, 4) if self.programs else 0.0,
            "words_before": self.words_before,
            "words_after": self.words_after,
            "words_kept": round(self.words_after / self.words_before, 4) if self.words_before else None,
            "tokens_in": sum(self.stage_input_tokens.values()),
            "tokens_out": sum(self.stage_output_tokens.values()),
            "stages": stages,
            "seconds": round(seconds, 3) if seconds is not None else None,
            "docs_per_second": round(self.read / seconds, 3) if seconds else None,
        }
