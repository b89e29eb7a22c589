"""Constraint hooks for the backends: a transformers LogitsProcessor and a llama.cpp logits processor."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from prox.constrain.tracker import Tracker


def allowed_mask(tracker: Tracker, width: int) -> np.ndarray:
    """A boolean row of ``width``: True where the token is forbidden."""
    forbidden = np.ones(width, dtype=bool)
    allowed = tracker.allowed()
    forbidden[allowed[allowed < width]] = False
    return forbidden


class TransformersConstraint:
    """A ``transformers`` logits processor for a left-padded batch: one tracker per row."""

    def __init__(self, trackers: Sequence[Tracker], prompt_width: int):
        self.trackers = list(trackers)
        self.prompt_width = prompt_width

    def __call__(self, input_ids, scores):
        import torch

        generated = input_ids.shape[1] - self.prompt_width
        if generated > 0:
            for row, tracker in enumerate(self.trackers):
                tracker.advance(int(input_ids[row, -1]))
        forbidden = np.stack([allowed_mask(t, scores.shape[1]) for t in self.trackers])
        return scores.masked_fill(torch.from_numpy(forbidden).to(scores.device), float("-inf"))


class LlamaCppConstraint:
    """A llama-cpp-python logits processor for one sequence."""

    def __init__(self, tracker: Tracker, prompt_length: int):
        self.tracker = tracker
        self.prompt_length = prompt_length
        self.seen = prompt_length

    def __call__(self, input_ids, scores):
        for token in input_ids[self.seen :]:
            self.tracker.advance(int(token))
        self.seen = len(input_ids)
        scores = np.array(scores, copy=True)
        scores[allowed_mask(self.tracker, len(scores))] = -np.inf
        return scores
