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

import asyncio
import hashlib
import json
import math
import os
import random
import sqlite3
import threading
from typing import Any, Sequence

from prox.constrain.gbnf import DOC_GRAMMAR, grammar_of
from prox.program.limits import mend
from prox.text.prompts import SYSTEM_PROMPT, Prompt
from prox.writers.base import Written
from prox.writers.prompted import Generation, PromptedWriter

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
MODES = ("completions", "text", "chat")
MAX_CHARS_PER_TOKEN = 32  # an answer longer than its token budget could hold in characters is not one


class InvalidAnswer(ValueError):
    """A server answer no retry will mend: its text is not a string, or longer than the request allowed."""


def answer_text(value: Any, max_tokens: int) -> str:
    """An answer's text, checked (servers are untrusted input too), with text that cannot be written mended."""
    if not isinstance(value, str):
        raise InvalidAnswer(f"the answer's text is {type(value).__name__}, not a string")
    if len(value) > max_tokens * MAX_CHARS_PER_TOKEN:
        raise InvalidAnswer(f"the answer has {len(value):,} characters, more than {max_tokens:,} tokens can hold")
    return mend(value)


def _run(coroutine):
    """Run a coroutine to completion, also when called from a running event loop (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: list = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(coroutine)))
    thread.start()
    thread.join()
    return result[0]


def _branch(token: str) -> str | None:
    """"d" or "k" when a first token commits the doc program to drop or keep, " " for a lone space."""
    text = token[1:] if token.startswith(" ") else token
    if token == " ":
        return " "
    for choice in ("drop_doc()", "keep_doc()"):
        if text and choice.startswith(text.rstrip()) and text == text.rstrip():
            return choice[0]
    return None


class RequestCache:
    """A small persistent key -> answer store (SQLite), safe to share between runs."""

    def __init__(self, path: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT)")
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?)", (key, json.dumps(value)))
            self._db.commit()


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
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        from prox.text.tokenizers import as_tokenizer

        options.setdefault("batch_size", 256)  # a batch is only what is in flight together
        super().__init__(as_tokenizer(tokenizer or model), **options)
        self.model, self.base_url, self.mode = model, base_url.rstrip("/"), mode
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY")
        self.max_in_flight, self.timeout, self.max_retries, self.backoff = max_in_flight, timeout, max_retries, backoff
        self.cache = RequestCache(cache) if cache else None
        self.extra_body = extra_body or {}  # e.g. structured-output parameters of the server
        # the server's grammar parameter ("grammar" for llama.cpp's server, "guided_grammar" for vLLM serve):
        # when set, requests carry a GBNF grammar of the program language (prox.constrain.gbnf)
        self.grammar_field = grammar_field
        self.requests_sent = 0  # including retries

    supports_constraints = True  # through the server's grammar parameter, when grammar_field is set

    def chunk_constraint(self, chunk):
        """A server constrains with a grammar: the per-prompt constraint here is its GBNF text."""
        return grammar_of(chunk) if self.grammar_field else None

    def doc_constraint(self):
        return DOC_GRAMMAR if self.grammar_field else None

    def _score(self, prompts: list[Prompt]) -> list[Written]:
        """Scoring through the server's ``logprobs``: the best drop and keep tokens of the first step
        (of the second after a lone space), as prompted.PromptedWriter._score does with full rows."""
        return _run(self._each(prompts, self._score_one))

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
        p_drop = 1.0 / (1.0 + math.exp(keep - drop))
        program = "drop_doc()" if p_drop >= self.drop_threshold else "keep_doc()"
        return Written(program, len(prompt.token_ids), 0, None, None, p_drop)

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
        try:
            response = await client.post(self.base_url + endpoint, json=body)
            response.raise_for_status()
            top = response.json()["choices"][0]["logprobs"]["top_logprobs"][0]
        except Exception as exc:
            return f"no logprobs: {type(exc).__name__}: {exc}"
        return dict(top)

    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int, masks=None) -> list[Generation]:
        grammars = list(masks) if masks else [None] * len(prompts)
        return _run(self._each(list(zip(prompts, grammars)), lambda client, item: self._generate_one(client, *item, max_new_tokens)))

    async def _each(self, items: Sequence, work) -> list:
        """``work(client, item)`` for every item, concurrently, with at most ``max_in_flight`` in flight."""
        import httpx

        limit = asyncio.Semaphore(self.max_in_flight)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        async with httpx.AsyncClient(timeout=self.timeout, headers=headers) as client:

            async def one(item):
                async with limit:
                    return await work(client, item)

            return list(await asyncio.gather(*(one(item) for item in items)))

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

    async def _generate_one(self, client, prompt: Prompt, grammar: str | None, max_new_tokens: int) -> Generation:
        endpoint, body = self.request(prompt, max_new_tokens, grammar)
        key = hashlib.sha256(json.dumps([self.base_url, endpoint, body], sort_keys=True).encode()).hexdigest()
        if self.cache and (hit := self.cache.get(key)):
            return Generation(hit["text"], hit["output_tokens"])

        def parse(data: dict) -> tuple[str, int | None]:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.mode == "chat" else choice["text"]
            return answer_text(text, max_new_tokens), (data.get("usage") or {}).get("completion_tokens")

        answer, error = await post_with_retries(client, self.base_url + endpoint, body, parse, self.max_retries,
                                                self.backoff, self._count_request)
        if answer is None:
            return Generation("", 0, error)
        text, output_tokens = answer
        if output_tokens is None:
            output_tokens = len(self.tokenizer.encode(text, add_special_tokens=False))
        if self.cache:
            self.cache.put(key, {"text": text, "output_tokens": output_tokens})
        return Generation(text, output_tokens)

    def _count_request(self) -> None:
        self.requests_sent += 1


async def post_with_retries(client, url: str, body: dict, parse, max_retries: int = 4, backoff: float = 0.5, on_attempt=None):
    """``(parse(answer JSON), None)``, or ``(None, why)`` once retrying cannot help.

    Refused connections, timeouts, overload statuses and malformed answers are retried with jittered
    exponential backoff; any other 4xx is final (the server will never accept that request).
    """
    import httpx

    error = "no attempt"
    for attempt in range(max_retries + 1):
        if attempt:
            await asyncio.sleep(backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
        if on_attempt:
            on_attempt()
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError as exc:  # refused, reset, timed out
            error = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code in RETRY_STATUS:
            error = f"HTTP {response.status_code}: {response.text[:200]}"
            continue
        if response.status_code >= 400:
            return None, f"HTTP {response.status_code}: {response.text[:200]}"
        try:
            return parse(response.json()), None
        except InvalidAnswer as exc:  # asking again gets the same answer
            return None, f"invalid answer: {exc}"
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            error = f"malformed answer: {type(exc).__name__}: {exc}"
    return None, f"gave up after {max_retries + 1} attempts: {error}"
