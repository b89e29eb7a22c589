"""Binary classification counts and the scores built from them (precision, recall, F1, accuracy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass
class Confusion:
    """Counts for one positive class (for example "remove this line" or "drop this document")."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: Iterable[bool], gold: Iterable[bool]) -> "Confusion":
        for p, g in zip(predicted, gold):
            if p and g:
                self.tp += 1
            elif p:
                self.fp += 1
            elif g:
                self.fn += 1
            else:
                self.tn += 1
        return self

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    @property
    def negative_f1(self) -> float:
        """F1 of the other class (for lines: the kept lines)."""
        return 2 * self.tn / (2 * self.tn + self.fn + self.fp) if self.tn else 0.0

    @property
    def macro_f1(self) -> float:
        return (self.f1 + self.negative_f1) / 2

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0

    def as_dict(self) -> dict:
        return {
            "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
            "macro_f1": round(self.macro_f1, 4), "accuracy": round(self.accuracy, 4),
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
        }
