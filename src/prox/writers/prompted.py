"""Shared work of the model-backed writers: prompts, length-sorted batches, token accounting.

A backend only turns batches of prompt token ids into generated texts; prompts, their order and the
costs are the same for every backend, so the backends stay small and agree with each other.
"""

from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from prox.constrain.automaton import ChunkAutomaton, DocAutomaton
from prox.constrain.tracker import StateMasks
from prox.constrain.vocabulary import vocabulary
from prox.text.chunker import MAX_CHUNK_TOKENS, Chunk, numbered_lines
from prox.text.prompts import MAX_DOC_PROMPT_TOKENS, Prompt, chunk_prompt, doc_prompt
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

    def __init__(
        self,
        tokenizer: Any,
        batch_size: int = 16,
        max_batch_tokens: int | None = None,
        doc_max_new_tokens: int = DOC_MAX_NEW_TOKENS,
        chunk_max_new_tokens: int = CHUNK_MAX_NEW_TOKENS,
        max_doc_prompt_tokens: int = MAX_DOC_PROMPT_TOKENS,
        max_chunk_tokens: int = MAX_CHUNK_TOKENS,
        constrained: bool = True,
        doc_mode: str = "generate",
        drop_threshold: float = 0.5,
    ):
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.doc_max_new_tokens = doc_max_new_tokens
        self.chunk_max_new_tokens = chunk_max_new_tokens
        self.max_doc_prompt_tokens = max_doc_prompt_tokens
        self.max_chunk_tokens = max_chunk_tokens
        if doc_mode not in ("generate", "score"):
            raise ValueError("doc_mode must be generate or score")
        self.constrained = constrained and self.supports_constraints
        self.doc_mode, self.drop_threshold = doc_mode, drop_threshold
        self._doc_masks = None

    # -- what a backend implements ------------------------------------------------------------------
    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int, masks: Sequence[StateMasks] | None = None) -> list[Generation]:
        """Greedy completions of a batch of prompts, in order; ``masks`` constrain each one when given."""
        raise NotImplementedError

    def next_token_logprobs(self, prompts: Sequence[Prompt], then: Sequence[int], need_second: Callable | None = None) -> list[tuple]:
        """Scoring mode: log-probabilities of the token after each prompt, and, where ``need_second``
        says so for the first row (always when it is None), of the token after prompt + ``then[i]``."""
        raise NotImplementedError(f"the {self.name} backend has no scoring mode")

    # -- the writer interface -----------------------------------------------------------------------
    def write_doc(self, documents: Sequence[str]) -> list[Written]:
        prompts = [doc_prompt(text, self.tokenizer, self.max_doc_prompt_tokens) for text in documents]
        if self.doc_mode == "score":
            return self._score(prompts)
        masks = [self.doc_constraint()] * len(prompts) if self.constrained else None
        return self._write(prompts, self.doc_max_new_tokens, masks)

    def write_chunk(self, chunks: Sequence[Chunk | str]) -> list[Written]:
        prompts = [chunk_prompt(chunk, self.tokenizer) for chunk in chunks]
        masks = [self.chunk_constraint(chunk) for chunk in chunks] if self.constrained else None
        return self._write(prompts, self.chunk_max_new_tokens, masks)

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
        decoding's. The step is the first one, or the second when the first would be a lone space.
        """
        masks = self.doc_masks
        first_ids, _, first_states = masks.get(masks.automaton.start())
        first_branch = np.array([first_states[i][1].lstrip(b" ")[:1] for i in first_ids])
        second_ids, _, second_states = masks.get(("doc", b" "))
        second_branch = np.array([second_states[i][1][:1] for i in second_ids])
        space_ids = first_ids[first_branch == b""]

        def space_wins(row: np.ndarray) -> bool:
            return len(space_ids) > 0 and row[first_ids].max() == row[space_ids].max()

        results: list[Written | None] = [None] * len(prompts)
        lengths = [len(p.token_ids) for p in prompts]
        for batch in length_batches(lengths, self.batch_size, self.max_batch_tokens):
            start = time.perf_counter()
            try:
                then = [int(space_ids[0]) if len(space_ids) else 0] * len(batch)
                rows = self.next_token_logprobs([prompts[i] for i in batch], then, space_wins)
                errors = [None] * len(batch)
            except Exception as exc:
                rows, errors = [(None, None)] * len(batch), [f"{type(exc).__name__}: {exc}"] * len(batch)
            share = (time.perf_counter() - start) / len(batch)
            for i, (first, second), error in zip(batch, rows, errors):
                if error:
                    results[i] = Written("", lengths[i], 0, share, error)
                    continue
                row, ids, branch = (second, second_ids, second_branch) if space_wins(first) else (first, first_ids, first_branch)
                best_drop, best_keep = row[ids[branch == b"d"]].max(), row[ids[branch == b"k"]].max()
                p_drop = float(1.0 / (1.0 + np.exp(best_keep - best_drop)))
                program = "drop_doc()" if p_drop >= self.drop_threshold else "keep_doc()"
                results[i] = Written(program, lengths[i], 0, share, None, p_drop)
        return results  # type: ignore[return-value]

    def _write(self, prompts: list[Prompt], max_new_tokens: int, masks: Sequence[StateMasks] | None = None) -> list[Written]:
        results: list[Written | None] = [None] * len(prompts)
        lengths = [len(p.token_ids) for p in prompts]
        for batch in length_batches(lengths, self.batch_size, self.max_batch_tokens):
            start = time.perf_counter()
            batch_masks = [masks[i] for i in batch] if masks is not None else None
            try:
                generations = self.generate([prompts[i] for i in batch], max_new_tokens, batch_masks)
            except Exception as exc:  # one bad batch must not end the run: its items carry the error
                if len(batch) > 1:  # retry one by one so a single poisonous prompt is isolated
                    for i in batch:
                        results[i] = self._write([prompts[i]], max_new_tokens, [masks[i]] if masks else None)[0]
                    continue
                generations = [Generation("", 0, f"{type(exc).__name__}: {exc}")]
            share = (time.perf_counter() - start) / len(batch)
            for i, generation in zip(batch, generations):
                results[i] = Written(generation.text.strip(" "), lengths[i], generation.output_tokens, share, generation.error)
        return results  # type: ignore[return-value]
