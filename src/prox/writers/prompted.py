"""Shared work of the model-backed writers: prompts, length-sorted batches, token accounting.

A backend only turns batches of prompt token ids into generated texts; prompts, their order and the
costs are the same for every backend, so the backends stay small and agree with each other.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

from prox.text.chunker import MAX_CHUNK_TOKENS, Chunk
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

    def __init__(
        self,
        tokenizer: Any,
        batch_size: int = 16,
        max_batch_tokens: int | None = None,
        doc_max_new_tokens: int = DOC_MAX_NEW_TOKENS,
        chunk_max_new_tokens: int = CHUNK_MAX_NEW_TOKENS,
        max_doc_prompt_tokens: int = MAX_DOC_PROMPT_TOKENS,
        max_chunk_tokens: int = MAX_CHUNK_TOKENS,
    ):
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.doc_max_new_tokens = doc_max_new_tokens
        self.chunk_max_new_tokens = chunk_max_new_tokens
        self.max_doc_prompt_tokens = max_doc_prompt_tokens
        self.max_chunk_tokens = max_chunk_tokens

    # -- what a backend implements ------------------------------------------------------------------
    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int) -> list[Generation]:
        """Greedy completions of a batch of prompts, in order."""
        raise NotImplementedError

    # -- the writer interface -----------------------------------------------------------------------
    def write_doc(self, documents: Sequence[str]) -> list[Written]:
        prompts = [doc_prompt(text, self.tokenizer, self.max_doc_prompt_tokens) for text in documents]
        return self._write(prompts, self.doc_max_new_tokens)

    def write_chunk(self, chunks: Sequence[Chunk]) -> list[Written]:
        prompts = [chunk_prompt(chunk, self.tokenizer) for chunk in chunks]
        return self._write(prompts, self.chunk_max_new_tokens)

    def _write(self, prompts: list[Prompt], max_new_tokens: int) -> list[Written]:
        results: list[Written | None] = [None] * len(prompts)
        lengths = [len(p.token_ids) for p in prompts]
        for batch in length_batches(lengths, self.batch_size, self.max_batch_tokens):
            start = time.perf_counter()
            try:
                generations = self.generate([prompts[i] for i in batch], max_new_tokens)
            except Exception as exc:  # one bad batch must not end the run: its items carry the error
                if len(batch) > 1:  # retry one by one so a single poisonous prompt is isolated
                    for i in batch:
                        results[i] = self._write([prompts[i]], max_new_tokens)[0]
                    continue
                generations = [Generation("", 0, f"{type(exc).__name__}: {exc}")]
            share = (time.perf_counter() - start) / len(batch)
            for i, generation in zip(batch, generations):
                results[i] = Written(generation.text.strip(" "), lengths[i], generation.output_tokens, share, generation.error)
        return results  # type: ignore[return-value]
