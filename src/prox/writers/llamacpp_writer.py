"""Programs from a GGUF model through llama-cpp-python, on CPU (the ``[llamacpp]`` extra).

llama.cpp runs one sequence at a time; it keeps the previous prompt's KV cache and reuses the common
prefix (the system prompt), so prompts go in length order as for every backend.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from prox.errors import MissingExtra, ModelUnavailable, UsageError
from prox.text.prompts import Prompt
from prox.writers.prompted import Generation, PromptedWriter


def gguf_tokenizer(path: str):
    """The Hugging Face tokenizer stored in a GGUF file (transformers reads it with the gguf package)."""
    from transformers import AutoTokenizer

    folder, name = os.path.split(os.path.abspath(path))
    return AutoTokenizer.from_pretrained(folder, gguf_file=name)


class LlamaCppWriter(PromptedWriter):
    name = "llamacpp"
    supports_constraints = True

    def __init__(self, model: str, tokenizer: Any = None, n_ctx: int = 4096, n_threads: int | None = None, **options):
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise MissingExtra("the llamacpp backend needs llama-cpp-python: pip install 'prox-refine[llamacpp]'") from exc
        if os.path.isdir(model):  # a folder holding one GGUF file, as prox train writes it
            found = [name for name in os.listdir(model) if name.endswith(".gguf")]
            if len(found) == 1:
                model = os.path.join(model, found[0])
        if not os.path.isfile(model):
            raise ModelUnavailable(model, "the llamacpp backend reads a local .gguf file (or a folder holding one)")
        if isinstance(tokenizer, str):
            from prox.text.tokenizers import load_tokenizer

            tokenizer = load_tokenizer(tokenizer)
        super().__init__(tokenizer or gguf_tokenizer(model), **options)
        self.llm = Llama(model_path=model, n_ctx=n_ctx, n_threads=n_threads or os.cpu_count(), verbose=False)

    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int, masks=None) -> list[Generation]:
        from llama_cpp import LogitsProcessorList

        from prox.constrain.processors import LlamaCppConstraint
        from prox.constrain.tracker import Tracker

        generations = []
        for k, prompt in enumerate(prompts):
            budget = min(max_new_tokens, self.llm.n_ctx() - len(prompt.token_ids))
            if budget <= 0:
                raise UsageError(f"prompt of {len(prompt.token_ids)} tokens does not fit n_ctx={self.llm.n_ctx()}")
            processors = None
            if masks is not None:
                processors = LogitsProcessorList([LlamaCppConstraint(Tracker(masks[k], budget), len(prompt.token_ids))])
            out = self.llm.create_completion(
                prompt=list(prompt.token_ids), max_tokens=budget, temperature=0.0, top_k=1, logits_processor=processors,
            )
            generations.append(Generation(out["choices"][0]["text"], out["usage"]["completion_tokens"]))
        return generations

    def next_token_logprobs(self, prompts: Sequence[Prompt], then) -> list[tuple]:
        rows = []
        for prompt in prompts:
            first = self._logprobs(list(prompt.token_ids))
            extra = then(first)
            # llama.cpp reuses the prompt's KV cache for the one more token
            second = self._logprobs(list(prompt.token_ids) + [extra]) if extra is not None else None
            rows.append((first, second))
        return rows

    def _logprobs(self, tokens: list[int]) -> np.ndarray:
        from llama_cpp import LogitsProcessorList

        captured: list[np.ndarray] = []

        def capture(input_ids, scores):
            captured.append(np.array(scores, dtype=np.float64))
            return scores

        self.llm.create_completion(prompt=tokens, max_tokens=1, temperature=0.0, top_k=1, logits_processor=LogitsProcessorList([capture]))
        logits = captured[0]
        return logits - np.logaddexp.reduce(logits)
