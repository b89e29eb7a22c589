"""Prompts in the format the published ``gair-prox/*-refining-lm`` models were run with.

Doc level: the raw document as the user message of the Llama-2 chat format, whatever the model (the
reference renders it with ``meta-llama/Llama-2-7b-chat-hf``'s template), capped at 2,000 tokens by
cutting the document, never the template. Chunk level: the numbered chunk in ``[doc]...[/doc]``,
through the model tokenizer's own chat template (Llama-2 format when it has none), tokenized with the
tokenizer's default special tokens as vLLM tokenizes a text prompt in the reference run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from prox.text.chunker import Chunk
from prox.text.tokenizers import as_tokenizer

SYSTEM_PROMPT = "You are a helpful, respectful and honest assistant."
MAX_DOC_PROMPT_TOKENS = 2000
MAX_CHARS_PER_TOKEN = 64  # far above any real tokenizer's average: bounds the text a doc prompt can hold


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
    return doc_prompts([document], tokenizer, max_tokens)[0]


def doc_prompts(documents: Sequence[str], tokenizer: Any, max_tokens: int = MAX_DOC_PROMPT_TOKENS) -> list[Prompt]:
    """:func:`doc_prompt` for many documents, tokenized in batched calls (the tokenizer spreads them over cores)."""
    tokenizer = as_tokenizer(tokenizer)
    bos_text, bos_ids = tokenizer.bos_token or "", [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []

    def render(docs: Sequence[str]) -> list[tuple[str, list[int]]]:
        bodies = [llama2_chat(doc, bos="") for doc in docs]
        return [(bos_text + body, bos_ids + ids) for body, ids in zip(bodies, encode_many(tokenizer, bodies, False))]

    # no prompt of max_tokens holds more than this many characters of a document: skip tokenizing the rest
    heads = [doc[: max_tokens * MAX_CHARS_PER_TOKEN] for doc in documents]
    prompts = [Prompt(text, tuple(ids), len(head) < len(doc), user=head) for (text, ids), head, doc in zip(render(heads), heads, documents)]
    long = [i for i, prompt in enumerate(prompts) if len(prompt.token_ids) > max_tokens]
    if not long:
        return prompts
    overhead = len(render([""])[0][1])
    cuts = _char_cuts(tokenizer, [heads[i] for i in long], max(0, max_tokens - overhead))
    for i, cut, (text, ids) in zip(long, cuts, render([heads[i][:cut] for i, cut in zip(long, cuts)])):
        while len(ids) > max_tokens and cut > 0:
            # the cut met a token boundary badly: shrink by at least one character, by the overflow's share
            cut -= max(1, (len(ids) - max_tokens) * cut // len(ids))
            text, ids = render([heads[i][:cut]])[0]
        prompts[i] = Prompt(text, tuple(ids), truncated=True, user=heads[i][:cut])
    return prompts


def encode_many(tokenizer: Any, texts: Sequence[str], add_special_tokens: bool = True) -> list[list[int]]:
    """Token ids of many texts, in one batched call where the tokenizer takes lists."""
    if not texts:
        return []
    try:
        return list(tokenizer(list(texts), add_special_tokens=add_special_tokens)["input_ids"])
    except (TypeError, KeyError, NotImplementedError):
        return [tokenizer.encode(text, add_special_tokens=add_special_tokens) for text in texts]


def _char_cuts(tokenizer: Any, documents: Sequence[str], n_tokens: int) -> list[int]:
    """For each document, a character position holding about ``n_tokens`` of its tokens."""
    try:
        offsets = tokenizer(list(documents), add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    except (NotImplementedError, TypeError, ValueError):  # slow tokenizers have no offsets
        counts = [len(ids) for ids in encode_many(tokenizer, documents, False)]
        return [len(doc) * n_tokens // max(1, count) for doc, count in zip(documents, counts)]
    return [len(doc) if n_tokens >= len(spans) else (spans[n_tokens][0] if n_tokens > 0 else 0)
            for doc, spans in zip(documents, offsets)]


def chunk_prompt(chunk: Chunk | str, tokenizer: Any, system: str = SYSTEM_PROMPT) -> Prompt:
    """The chunk-level prompt for one numbered chunk."""
    return chunk_prompts([chunk], tokenizer, system)[0]


def chunk_prompts(chunks: Sequence[Chunk | str], tokenizer: Any, system: str = SYSTEM_PROMPT) -> list[Prompt]:
    """:func:`chunk_prompt` for many chunks, tokenized in one batched call."""
    tokenizer = as_tokenizer(tokenizer)
    users = [f"[doc]\n{chunk.text if isinstance(chunk, Chunk) else chunk}\n[/doc]" for chunk in chunks]
    if getattr(tokenizer, "chat_template", None):
        texts = [
            tokenizer.apply_chat_template([{"role": "system", "content": system}, {"role": "user", "content": user}],
                                          add_generation_prompt=True, tokenize=False)
            for user in users
        ]
    else:
        texts = [llama2_chat(user, system, bos=tokenizer.bos_token or "") for user in users]
    return [Prompt(text, tuple(ids), user=user) for text, ids, user in zip(texts, encode_many(tokenizer, texts), users)]
