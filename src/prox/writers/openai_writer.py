"""Programs from an OpenAI-compatible server: vLLM serve, SGLang, llama.cpp server, TGI, hosted APIs.

Requests run concurrently (a bounded number in flight) with timeouts and retries with exponential
backoff; a prompt that keeps failing becomes a recorded error for its document, never a dead run.
Answers are cached on disk, keyed by server model, prompt and parameters, so a rerun pays only for
what it has not seen.

``mode="completions"`` (default) sends the exact prompt token ids to ``/v1/completions`` (vLLM serve,
SGLang and llama.cpp's own server accept them), as the refining models expect; ``mode="text"`` sends the
rendered prompt text there (TGI, llama-cpp-python's server, which refuses token ids); ``mode="chat"`` sends messages to ``/v1/chat/completions`` and lets the server apply
its own template (hosted chat models, teachers).
"""

from __future__ import annotations

from typing import Any, Sequence

from prox.constrain.gbnf import DOC_GRAMMAR, grammar_of
from prox.errors import UsageError
from prox.serving import ServerClient, answer_text
from prox.text.prompts import SYSTEM_PROMPT, Prompt
from prox.writers.base import Written
from prox.writers.prompted import Generation, PromptedWriter, greedy_doc_program, p_drop_of

MODES = ("completions", "text", "chat")


def _branch(token: str) -> str | None:
    """"d" or "k" when a first token commits the doc program to drop or keep, " " for a lone space."""
    text = token[1:] if token.startswith(" ") else token
    if token == " ":
        return " "
    for choice in ("drop_doc()", "keep_doc()"):
        if text and choice.startswith(text.rstrip()) and text == text.rstrip():
            return choice[0]
    return None


class OpenAIWriter(PromptedWriter):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str | None = None,
        tokenizer: Any = None,
        mode: str = "completions",
        max_in_flight: int = 16,
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        cache: str | None = None,
        extra_body: dict | None = None,
        grammar_field: str | None = None,
        **options: Any,
    ):
        if mode not in MODES:
            raise UsageError(f"mode must be one of {', '.join(MODES)}")
        from prox.text.tokenizers import as_tokenizer

        options.setdefault("prompts_per_batch", 256)  # a batch is only what is in flight together
        super().__init__(as_tokenizer(tokenizer or model), **options)
        self.model, self.mode = model, mode
        self.server = ServerClient(base_url, api_key, max_in_flight, timeout, max_retries, backoff, cache)
        self.extra_body = extra_body or {}  # e.g. structured-output parameters of the server
        # the server's grammar parameter ("grammar" for llama.cpp's server, "guided_grammar" for vLLM serve):
        # when set, requests carry a GBNF grammar of the program language (prox.constrain.gbnf)
        self.grammar_field = grammar_field

    @property
    def requests_sent(self) -> int:
        return self.server.requests_sent

    supports_constraints = True  # through the server's grammar parameter, when grammar_field is set

    def chunk_constraint(self, chunk):
        """A server constrains with a grammar: the per-prompt constraint here is its GBNF text."""
        return grammar_of(chunk) if self.grammar_field else None

    def doc_constraint(self):
        return DOC_GRAMMAR if self.grammar_field else None

    def _score(self, prompts: list[Prompt]) -> list[Written]:
        """Scoring through the server's ``logprobs``: the best drop and keep tokens of the first step
        (of the second after a lone space), as prompted.PromptedWriter._score does with full rows."""
        return self.server.each(prompts, self._score_one)

    async def _score_one(self, client, prompt: Prompt) -> Written:
        tops = await self._top_logprobs(client, prompt, "")
        if isinstance(tops, str):
            return Written("", len(prompt.token_ids), 0, error=tops)
        best = {b: max((lp for t, lp in tops.items() if _branch(t) == b), default=None) for b in "dk "}
        if best[" "] is not None and best[" "] >= max(v for v in best.values() if v is not None):
            tops = await self._top_logprobs(client, prompt, " ")  # the lone space wins: decide on the next token
            if isinstance(tops, str):
                return Written("", len(prompt.token_ids), 0, error=tops)
            best = {b: max((lp for t, lp in tops.items() if _branch(" " + t) == b), default=None) for b in "dk"}
        if best["d"] is None and best["k"] is None:
            return Written("", len(prompt.token_ids), 0, error="neither drop nor keep among the top logprobs")
        drop, keep = (best["d"] if best["d"] is not None else -1e9), (best["k"] if best["k"] is not None else -1e9)
        p_drop = p_drop_of(drop, keep)
        return Written(greedy_doc_program(p_drop), len(prompt.token_ids), 0, None, None, p_drop)

    async def _top_logprobs(self, client, prompt: Prompt, suffix: str) -> dict | str:
        """{token text: log-probability} of the next token's top candidates, or an error message."""
        endpoint, body = self.request(prompt, 1)
        if suffix:
            if self.mode == "completions":
                body["prompt"] = body["prompt"] + self.tokenizer.encode(suffix, add_special_tokens=False)[-1:]
            elif self.mode == "text":
                body["prompt"] = body["prompt"] + suffix
            else:
                return "scoring needs mode completions or text"
        body["logprobs"] = 20
        # lift the tokens that can start the doc program above everything else, so they fill the top
        # logprobs in their own order (a uniform bias keeps their relative probabilities)
        masks = self.doc_masks
        allowed, _, _ = masks.get(("doc", b" ") if suffix else masks.automaton.start())
        body["logit_bias"] = {str(int(i)): 100.0 for i in allowed}
        answer, error, _ = await self.server.post(
            client, endpoint, body, lambda data: {"top": dict(data["choices"][0]["logprobs"]["top_logprobs"][0])}, cached=False)
        return answer["top"] if answer is not None else f"no logprobs: {error}"

    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int, masks=None) -> list[Generation]:
        grammars = list(masks) if masks else [None] * len(prompts)
        return self.server.each(list(zip(prompts, grammars)), lambda http, item: self._generate_one(http, *item, max_new_tokens))

    def request(self, prompt: Prompt, max_new_tokens: int, grammar: str | None = None) -> tuple[str, dict]:
        """The endpoint and JSON body for one prompt (greedy decoding)."""
        body: dict[str, Any] = {"model": self.model, "max_tokens": max_new_tokens, "temperature": 0.0, **self.extra_body}
        if grammar is not None:
            body[self.grammar_field] = grammar
        if self.mode == "chat":
            user = prompt.user if prompt.user is not None else prompt.text
            body["messages"] = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
            return "/chat/completions", body
        body["prompt"] = list(prompt.token_ids) if self.mode == "completions" else prompt.text
        return "/completions", body

    async def _generate_one(self, http, prompt: Prompt, grammar: str | None, max_new_tokens: int) -> Generation:
        endpoint, body = self.request(prompt, max_new_tokens, grammar)

        def parse(data: dict) -> dict:
            choice = data["choices"][0]
            text = answer_text(choice["message"]["content"] if self.mode == "chat" else choice["text"], max_new_tokens)
            output_tokens = (data.get("usage") or {}).get("completion_tokens")
            if output_tokens is None:
                output_tokens = len(self.tokenizer.encode(text, add_special_tokens=False))
            return {"text": text, "output_tokens": output_tokens}

        answer, error, _ = await self.server.post(http, endpoint, body, parse)
        if answer is None:
            return Generation("", 0, error)
        return Generation(answer["text"], answer["output_tokens"])
