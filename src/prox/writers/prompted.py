"""Shared work of the model-backed writers: prompts, length-sorted batches, token accounting.

A backend only turns batches of prompt token ids into generated texts; prompts, their order and the
costs are the same for every backend, so the backends stay small and agree with each other.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from prox import progress
from prox.constrain.automaton import ChunkAutomaton, DocAutomaton
from prox.constrain.tracker import StateMasks
from prox.constrain.vocabulary import vocabulary
from prox.errors import BUGS, UsageError
from prox.text.chunker import MAX_CHUNK_TOKENS, Chunk, numbered_lines
from prox.text.prompts import MAX_DOC_PROMPT_TOKENS, Prompt, chunk_prompts, doc_prompts
from prox.writers.base import CHUNK_MAX_NEW_TOKENS, DOC_MAX_NEW_TOKENS, Written, length_batches


class Generation(NamedTuple):
    """What a backend made of one prompt; ``error`` is set when it gave up on that prompt."""

    text: str
    output_tokens: int
    error: str | None = None


class PromptedWriter:
    """Base of model writers: subclasses implement :meth:`generate`."""

    name = "model"
    supports_constraints = False  # backends that can mask logits say so
    can_score = True  # the doc stage can write P(drop) (doc_mode="score"), where the backend has logprobs

    def __init__(
        self,
        tokenizer: Any,
        prompts_per_batch: int = 16,
        max_batch_tokens: int | None = None,
        doc_answer_tokens: int = DOC_MAX_NEW_TOKENS,
        chunk_answer_tokens: int = CHUNK_MAX_NEW_TOKENS,
        doc_prompt_tokens: int = MAX_DOC_PROMPT_TOKENS,
        chunk_tokens: int = MAX_CHUNK_TOKENS,
        constrained: bool = True,
        doc_mode: str = "generate",
    ):
        """``doc_mode="score"``: the doc stage writes P(drop) from one forward pass, and the program greedy
        decoding would write; the threshold that turns P(drop) into a decision is applied at execution."""
        self.tokenizer = tokenizer
        self.prompts_per_batch = prompts_per_batch
        self.max_batch_tokens = max_batch_tokens
        self.doc_answer_tokens = doc_answer_tokens
        self.chunk_answer_tokens = chunk_answer_tokens
        self.doc_prompt_tokens = doc_prompt_tokens
        self.chunk_tokens = chunk_tokens
        if doc_mode not in ("generate", "score"):
            raise UsageError("doc_mode must be generate or score")
        self.constrained = constrained and self.supports_constraints
        self.doc_mode = doc_mode
        self._doc_masks = None

    # -- what a backend implements ------------------------------------------------------------------
    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int, masks: Sequence[StateMasks] | None = None) -> list[Generation]:
        """Greedy completions of a batch of prompts, in order; ``masks`` constrain each one when given."""
        raise NotImplementedError

    def next_token_logprobs(self, prompts: Sequence[Prompt], then: Callable[[np.ndarray], int | None]) -> list[tuple]:
        """Scoring mode: per prompt, (log-probabilities of the next token, and of the token after that
        when ``then(first_row)`` names a token to append, else None)."""
        raise NotImplementedError(f"the {self.name} backend has no scoring mode")

    # -- the writer interface -----------------------------------------------------------------------
    def write_doc(self, documents: Sequence[str]) -> list[Written]:
        prompts = doc_prompts(documents, self.tokenizer, self.doc_prompt_tokens)
        if self.doc_mode == "score":
            return self._score(prompts)
        masks = [self.doc_constraint()] * len(prompts) if self.constrained else None
        return self._write(prompts, self.doc_answer_tokens, masks)

    def write_chunk(self, chunks: Sequence[Chunk | str]) -> list[Written]:
        prompts = chunk_prompts(chunks, self.tokenizer)
        masks = [self.chunk_constraint(chunk) for chunk in chunks] if self.constrained else None
        return self._write(prompts, self.chunk_answer_tokens, masks)

    # -- constraints and scoring --------------------------------------------------------------------
    @property
    def doc_masks(self) -> StateMasks:
        """The doc-level language as token masks for this tokenizer (built once)."""
        if self._doc_masks is None:
            self._doc_masks = StateMasks(DocAutomaton(), vocabulary(self.tokenizer))
        return self._doc_masks

    def doc_constraint(self) -> Any:
        """What ``generate`` receives to constrain a doc prompt (in-process masks; a server takes a grammar)."""
        return self.doc_masks

    def chunk_constraint(self, chunk: Chunk | str) -> Any:
        """What ``generate`` receives to constrain one chunk's prompt."""
        return self.chunk_masks(chunk)

    def chunk_masks(self, chunk: Chunk | str) -> StateMasks:
        """The constraint of one chunk: its own line range, sources from its own lines."""
        pairs = numbered_lines(chunk)
        automaton = ChunkAutomaton(pairs[0][0], pairs[-1][0], [line for _, line in pairs])
        return StateMasks(automaton, vocabulary(self.tokenizer))

    def _score(self, prompts: list[Prompt]) -> list[Written]:
        """P(drop) at the step where greedy decoding would choose between drop and keep.

        With ``b`` and ``k`` the probabilities of the likeliest allowed token on the drop and on the
        keep branch, P(drop) = b / (b + k): at the default threshold 0.5 the decision is greedy
        decoding's (an exact tie goes, as in greedy decoding, to the lower token id, and P(drop) moves off
        0.5 by one ulp towards the winner). The step is the first one, or the second when greedy decoding
        would first write a lone space.
        """
        masks = self.doc_masks
        first_ids, _, first_states = masks.get(masks.automaton.start())
        first_branch = np.array([first_states[i][1].lstrip(b" ")[:1] for i in first_ids])
        second_ids, _, second_states = masks.get(("doc", b" "))
        second_branch = np.array([second_states[i][1][:1] for i in second_ids])
        space_ids = first_ids[first_branch == b""]

        def space_first(row: np.ndarray) -> int | None:
            """The lone space greedy decoding writes first (a vocabulary can hold several), or None."""
            pick = greedy_pick(row, first_ids) if len(space_ids) else None
            return pick if pick in space_ids else None

        results: list[Written | None] = [None] * len(prompts)
        lengths = [len(p.token_ids) for p in prompts]
        for batch in length_batches(lengths, self.prompts_per_batch, self.max_batch_tokens):
            start, reported = time.perf_counter(), progress.done()
            try:
                rows = self.next_token_logprobs([prompts[i] for i in batch], space_first)
                errors = [None] * len(batch)
            except BUGS:
                raise
            except Exception as exc:
                rows, errors = [(None, None)] * len(batch), [f"{type(exc).__name__}: {exc}"] * len(batch)
            share = (time.perf_counter() - start) / len(batch)
            progress.advance(len(batch) - (progress.done() - reported), sum(lengths[i] for i in batch))
            for i, (first, second), error in zip(batch, rows, errors):
                if error:
                    results[i] = Written("", lengths[i], 0, share, error)
                    continue
                # a second row exists exactly when greedy decoding would open with a lone space
                row, ids, branch = (second, second_ids, second_branch) if second is not None else (first, first_ids, first_branch)
                p_drop = drop_probability(row, ids, branch)
                results[i] = Written(greedy_doc_program(p_drop), lengths[i], 0, share, None, p_drop)
        return results  # type: ignore[return-value]

    def _write(self, prompts: list[Prompt], max_new_tokens: int, masks: Sequence[StateMasks] | None = None) -> list[Written]:
        results: list[Written | None] = [None] * len(prompts)
        lengths = [len(p.token_ids) for p in prompts]
        for batch in length_batches(lengths, self.prompts_per_batch, self.max_batch_tokens):
            start, reported = time.perf_counter(), progress.done()
            batch_masks = [masks[i] for i in batch] if masks is not None else None
            try:
                generations = self.generate([prompts[i] for i in batch], max_new_tokens, batch_masks)
            except BUGS:  # a bug or a broken installation: no document's fault, so it stops the run
                raise
            except Exception as exc:  # one bad batch must not end the run: its items carry the error
                if len(batch) > 1:  # retry one by one so a single poisonous prompt is isolated
                    for i in batch:
                        results[i] = self._write([prompts[i]], max_new_tokens, [masks[i]] if masks else None)[0]
                    continue
                generations = [Generation("", 0, f"{type(exc).__name__}: {exc}")]
            share = (time.perf_counter() - start) / len(batch)
            progress.advance(len(batch) - (progress.done() - reported), sum(lengths[i] for i in batch),
                             sum(g.output_tokens for g in generations))
            for i, generation in zip(batch, generations):
                results[i] = Written(generation.text.strip(" "), lengths[i], generation.output_tokens, share, generation.error)
        return results  # type: ignore[return-value]


def greedy_doc_program(p_drop: float) -> str:
    """The doc program greedy decoding writes: P(drop) is off 0.5 on an exact tie, towards greedy's pick."""
    return "drop_doc()" if p_drop >= 0.5 else "keep_doc()"


def p_drop_of(drop: float, keep: float) -> float:
    """P(drop) = b / (b + k) from the log-probabilities of the likeliest drop and keep tokens (no overflow)."""
    gap = keep - drop
    if gap >= 0:
        odds = math.exp(-gap)
        return odds / (1.0 + odds)
    return 1.0 / (1.0 + math.exp(gap))


def greedy_pick(row: np.ndarray, ids: np.ndarray) -> int:
    """The token greedy decoding takes among ``ids``: the likeliest, the lowest id on a tie (as argmax)."""
    scores = row[ids]
    return int(ids[scores == scores.max()].min())


def drop_probability(row: np.ndarray, ids: np.ndarray, branch: np.ndarray) -> float:
    """b / (b + k) for the likeliest drop and keep tokens, off an exact tie towards greedy decoding's pick."""
    best_drop, best_keep = row[ids[branch == b"d"]].max(), row[ids[branch == b"k"]].max()
    p_drop = p_drop_of(float(best_drop), float(best_keep))
    if best_drop == best_keep:
        drop_wins = branch[ids == greedy_pick(row, ids)][0] == b"d"
        p_drop = float(np.nextafter(0.5, 1.0 if drop_wins else 0.0))
    return p_drop
