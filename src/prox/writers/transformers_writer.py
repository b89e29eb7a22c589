"""Programs from a Hugging Face transformers model, on CPU or GPU (also GGUF files, dequantized).

Batched greedy generation with left padding over length-sorted batches; bf16 by default where the
hardware runs it natively (CUDA, or CPUs with AMX / AVX-512 BF16), fp32 otherwise.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from prox.errors import MissingExtra
from prox.text.prompts import Prompt
from prox.writers.prompted import Generation, PromptedWriter


def cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def pick_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16,
            "fp32": torch.float32, "float32": torch.float32}[dtype]


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Model loading without what the libraries print on standard error (tqdm bars such as "Converting and
    de-quantizing GGUF tensors", deprecation notes meant for library authors): it is held back, and shown only when
    loading fails. ``prox --verbose`` (``PROX_VERBOSE=1``) lets it through."""
    if os.environ.get("PROX_VERBOSE"):
        yield
        return
    held = io.StringIO()
    try:
        with contextlib.redirect_stderr(held):
            yield
    except BaseException:
        sys.stderr.write(held.getvalue())
        raise


def load_model(model: str, dtype: str = "auto", device: str | None = None):
    """(model, tokenizer) from a hub id, a local folder, a local ``.gguf`` file, or a folder holding a LoRA
    adapter (:mod:`prox.models`: its base is loaded, the adapter applied and merged)."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise MissingExtra(f"the transformers backend needs torch ({exc}): pip install 'prox-refine[hf]'") from None

    from prox.errors import ModelUnavailable
    from prox.models import is_adapter
    from prox.models.hub import ensure_loadable

    ensure_loadable(model)
    if is_adapter(model):
        return _with_adapter(model, dtype, device)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch_dtype = pick_dtype(dtype, device)
    kwargs: dict[str, Any] = {"dtype": torch_dtype}
    folder, tokenizer_kwargs = model, {}
    if model.endswith(".gguf"):
        from transformers import GgufConfig

        folder, name = os.path.split(os.path.abspath(model))
        kwargs["gguf_file"] = name
        kwargs["quantization_config"] = GgufConfig(gguf_file=name, dequantize=True)
        tokenizer_kwargs["gguf_file"] = name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **tokenizer_kwargs)
        network = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    except OSError as exc:
        raise ModelUnavailable(model, exc) from None
    network.to(device).eval()
    return network, tokenizer


def _with_adapter(folder: str, dtype: str, device: str | None):
    from prox.models import base_model

    try:
        from peft import PeftModel
    except ImportError as exc:
        raise MissingExtra(f"{folder} is a LoRA adapter, which needs peft ({exc}): pip install 'prox-refine[hf]'") from None

    network, tokenizer = load_model(base_model(folder), dtype, device)
    merged = PeftModel.from_pretrained(network, folder, autocast_adapter_dtype=False).merge_and_unload()
    return merged.eval(), tokenizer


class TransformersWriter(PromptedWriter):
    name = "transformers"
    supports_constraints = True

    def __init__(self, model: str | Any, tokenizer: Any = None, dtype: str = "auto", device: str | None = None, **options):
        if isinstance(model, str):
            with quiet_loading():
                network, loaded_tokenizer = load_model(model, dtype, device)
        else:
            network, loaded_tokenizer = model, None
        tokenizer = tokenizer or loaded_tokenizer
        super().__init__(tokenizer, **options)
        self.model = network
        self.device = next(network.parameters()).device
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def _batch(self, prompts: Sequence[Prompt]):
        """Left-padded input ids and attention mask: every prompt ends where generation starts."""
        import torch

        width = max(len(p.token_ids) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            input_ids[row, width - len(prompt.token_ids) :] = torch.tensor(prompt.token_ids)
            attention[row, width - len(prompt.token_ids) :] = 1
        return input_ids, attention, width

    def next_token_logprobs(self, prompts: Sequence[Prompt], then) -> list[tuple]:
        import torch

        input_ids, attention, _ = self._batch(prompts)
        input_ids, attention = input_ids.to(self.device), attention.to(self.device)
        positions = (attention.cumsum(-1) - 1).masked_fill(attention == 0, 1)  # as generate() numbers a left-padded batch
        with torch.inference_mode():
            out = self.model(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1).cpu().numpy()
            extra = [then(row) for row in first]
            if all(token is None for token in extra):
                return [(row, None) for row in first]
            # one more token on the cached prompt, for the rows that need it (all rows run: it is cheap)
            step = torch.tensor([[token if token is not None else self.pad_id] for token in extra], device=self.device)
            attention = torch.cat([attention, torch.ones_like(step)], dim=1)
            second = self.model(input_ids=step, attention_mask=attention, position_ids=positions[:, -1:] + 1,
                                past_key_values=out.past_key_values, logits_to_keep=1)
            second = torch.log_softmax(second.logits[:, -1, :].float(), dim=-1).cpu().numpy()
        return [(row, following if token is not None else None) for row, following, token in zip(first, second, extra)]

    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int, masks=None) -> list[Generation]:
        import torch

        input_ids, attention, width = self._batch(prompts)
        processors = []
        if masks is not None:
            from prox.constrain.processors import TransformersConstraint
            from prox.constrain.tracker import Tracker

            processors.append(TransformersConstraint([Tracker(m, max_new_tokens) for m in masks], width))
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self.pad_id,
                eos_token_id=self.tokenizer.eos_token_id,
                logits_processor=processors or None,
            )
        generations = []
        for row in output[:, width:].tolist():
            ids = _until_eos(row, self.tokenizer.eos_token_id, self.pad_id)
            generations.append(Generation(self.tokenizer.decode(ids, skip_special_tokens=True), len(ids)))
        return generations


def _until_eos(ids: list[int], eos_id: int | None, pad_id: int | None) -> list[int]:
    for k, token in enumerate(ids):
        if token == eos_id:
            return ids[: k + 1]  # the EOS token was generated: count it
    while ids and ids[-1] == pad_id and pad_id != eos_id:
        ids = ids[:-1]
    return ids
