"""Programs from vLLM's offline engine on GPUs (the ``[vllm]`` extra).

The engine is built once per process and model, with prefix caching on (every prompt of a level shares
its system prompt); all prompts of a call go to the engine at once, longest first, and vLLM's scheduler
batches them. Decoding is greedy, with the reference's token budgets. Constrained decoding goes through
vLLM's structured outputs with one GBNF grammar per prompt (``prox.constrain.gbnf``): the doc choice
exactly; at chunk level programs that parse with line numbers inside the chunk, but ``normalize``
sources are not checked against the chunk and ``max_tokens`` can cut the last line (the executor
records it as a parse error), unlike the in-process constraint of transformers and llama.cpp.
"""

from __future__ import annotations

from typing import Any, Sequence

from prox.constrain.gbnf import DOC_GRAMMAR, grammar_of
from prox.errors import MissingExtra
from prox.text.prompts import Prompt
from prox.writers.prompted import Generation, PromptedWriter

_ENGINES: dict[tuple, Any] = {}


def engine(model: str, **engine_options: Any):
    """One vLLM engine per (model, options) for the life of the process."""
    key = (model, tuple(sorted(engine_options.items())))
    if key not in _ENGINES:
        from prox.models.hub import ensure_loadable

        ensure_loadable(model)
        try:
            from vllm import LLM
        except ImportError as exc:
            raise MissingExtra("the vllm backend needs vLLM and a GPU: pip install 'prox-refine[vllm]'") from exc
        _ENGINES[key] = LLM(model=model, **engine_options)
    return _ENGINES[key]


def structured_output(grammar: str) -> dict[str, Any]:
    """SamplingParams options that constrain to ``grammar``, in this vLLM's spelling."""
    try:
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError:  # vLLM before structured_outputs (0.10 and older)
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(grammar=grammar)}
    return {"structured_outputs": StructuredOutputsParams(grammar=grammar)}


class VLLMWriter(PromptedWriter):
    name = "vllm"
    supports_constraints = True  # through structured outputs: a grammar per prompt
    can_score = False  # no logprobs of the allowed tokens here: the doc stage generates

    def __init__(
        self,
        model: str,
        tokenizer: Any = None,
        gpu_memory_utilization: float = 0.9,
        tensor_parallel_size: int = 1,
        max_model_len: int = 4096,
        dtype: str = "auto",
        seed: int = 0,
        **options: Any,
    ):
        self.llm = engine(
            model, gpu_memory_utilization=gpu_memory_utilization, tensor_parallel_size=tensor_parallel_size,
            max_model_len=max_model_len, dtype=dtype, enable_prefix_caching=True, seed=seed,
        )
        options.setdefault("prompts_per_batch", 1 << 30)  # vLLM schedules; we hand it everything at once
        super().__init__(tokenizer or self.llm.get_tokenizer(), **options)

    def doc_constraint(self) -> str:
        return DOC_GRAMMAR

    def chunk_constraint(self, chunk) -> str:
        return grammar_of(chunk)

    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int, masks=None) -> list[Generation]:
        from vllm import SamplingParams

        grammars = masks if masks is not None else [None] * len(prompts)
        params = [
            SamplingParams(temperature=0.0, max_tokens=max_new_tokens, **(structured_output(g) if g else {}))
            for g in grammars
        ]
        requests = [{"prompt_token_ids": list(p.token_ids)} for p in prompts]
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        return [Generation(out.outputs[0].text, len(out.outputs[0].token_ids)) for out in outputs]
