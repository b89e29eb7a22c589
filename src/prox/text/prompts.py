"""Prompts in the format the published ``gair-prox/*-refining-lm`` models were run with.

Doc level: the raw document as the user message of the Llama-2 chat format, whatever the model (the
reference renders it with ``meta-llama/Llama-2-7b-chat-hf``'s template), capped at 2,000 tokens by
cutting the document, never the template. Chunk level: the numbered chunk in ``[doc]...[/doc]``,
through the model tokenizer's own chat template (Llama-2 format when it has none), tokenized with the
tokenizer's default special tokens as vLLM tokenizes a text prompt in the reference run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prox.text.chunker import Chunk
from prox.text.tokenizers import as_tokenizer

SYSTEM_PROMPT = "You are a helpful, respectful and honest assistant."
MAX_DOC_PROMPT_TOKENS = 2000


@dataclass(frozen=True)
class Prompt:
    text: str  # the rendered prompt
    token_ids: tuple[int, ...]  # what the model reads
    truncated: bool = False  # the document was cut to fit the budget
    user: str | None = None  # the user message alone, for servers that apply their own chat template


def llama2_chat(user: str, system: str = SYSTEM_PROMPT, bos: str = "<s>") -> str:
    """One user turn in the Llama-2 chat format, stripped as ``Llama-2-7b-chat-hf``'s template strips it."""
    content = f"<<SYS>>\n{system}\n<</SYS>>\n\n{user}".strip()
    return f"{bos}[INST] {content} [/INST]"


def doc_prompt(document: str, tokenizer: Any, max_tokens: int = MAX_DOC_PROMPT_TOKENS) -> Prompt:
    """The doc-level prompt; a long document is cut (from its end) so the whole prompt fits."""
    tokenizer = as_tokenizer(tokenizer)
    bos_ids = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []

    def render(doc: str) -> tuple[str, list[int]]:
        body = llama2_chat(doc, bos="")
        return (tokenizer.bos_token or "") + body, bos_ids + tokenizer.encode(body, add_special_tokens=False)

    text, ids = render(document)
    if len(ids) <= max_tokens:
        return Prompt(text, tuple(ids), user=document)
    overhead = len(render("")[1])
    cut = _char_cut(tokenizer, document, max(0, max_tokens - overhead))
    while True:
        text, ids = render(document[:cut])
        if len(ids) <= max_tokens or cut == 0:
            return Prompt(text, tuple(ids), truncated=True, user=document[:cut])
        # the cut met a token boundary badly: shrink by at least one character, by the overflow's share
        cut -= max(1, (len(ids) - max_tokens) * cut // len(ids))


def _char_cut(tokenizer: Any, document: str, n_tokens: int) -> int:
    """A character position holding about ``n_tokens`` tokens of ``document``."""
    try:
        offsets = tokenizer(document, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    except (NotImplementedError, TypeError, ValueError):  # slow tokenizers have no offsets
        ids = tokenizer.encode(document, add_special_tokens=False)
        return len(document) * n_tokens // max(1, len(ids))
    if n_tokens >= len(offsets):
        return len(document)
    return offsets[n_tokens][0] if n_tokens > 0 else 0


def chunk_prompt(chunk: Chunk | str, tokenizer: Any, system: str = SYSTEM_PROMPT) -> Prompt:
    """The chunk-level prompt for one numbered chunk."""
    tokenizer = as_tokenizer(tokenizer)
    user = f"[doc]\n{chunk.text if isinstance(chunk, Chunk) else chunk}\n[/doc]"
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    else:
        text = llama2_chat(user, system, bos=tokenizer.bos_token or "")
    return Prompt(text, tuple(tokenizer.encode(text)), user=user)
