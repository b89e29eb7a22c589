"""One client for every caller of an OpenAI-compatible server (the ``openai`` backend, the teacher).

Requests run concurrently with a bounded number in flight, with timeouts and retries with jittered
exponential backoff; a request that keeps failing becomes an error for its item, never a dead run.
Answers are cached on disk (SQLite) by endpoint and body, so a rerun pays only for what it has not
seen. Answers are untrusted input: their text is checked before anyone reads it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import sqlite3
import threading
from typing import Any, Callable, Optional, Sequence

from prox import progress
from prox.errors import UsageError
from prox.masking import mask_text
from prox.program.limits import mend

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_CHARS_PER_TOKEN = 32  # an answer longer than its token budget could hold in characters is not one
MAX_ANSWER_BYTES = 8 << 20  # an HTTP answer body is read up to this, then given up: a server streaming without end


class InvalidAnswer(ValueError):
    """A server answer no retry will mend: its text is not a string, or longer than the request allowed."""


def answer_text(value: Any, max_tokens: int) -> str:
    """An answer's text, checked, with text that cannot be written mended."""
    if not isinstance(value, str):
        raise InvalidAnswer(f"the answer's text is {type(value).__name__}, not a string")
    if len(value) > max_tokens * MAX_CHARS_PER_TOKEN:
        raise InvalidAnswer(f"the answer has {len(value):,} characters, more than {max_tokens:,} tokens can hold")
    return mend(value)


def run_sync(coroutine):
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


class ServerClient:
    """An OpenAI-compatible endpoint: ``each`` runs a coroutine per item concurrently, ``post`` sends one
    request with retries and the cache."""

    def __init__(self, base_url: str, api_key: Optional[str] = None, max_in_flight: int = 16, timeout: float = 120.0,
                 max_retries: int = 4, backoff: float = 0.5, cache: Optional[str] = None, max_answer_bytes: int = MAX_ANSWER_BYTES):
        """``timeout``: the deadline of one attempt, from sending the request to the last byte of the answer (not
        per read: a server that drips a byte a second does not hold a run); ``max_answer_bytes``: the most of an
        answer's body read before the attempt is given up."""
        if max_in_flight < 1 or max_retries < 0 or timeout <= 0:
            raise UsageError("max_in_flight must be at least 1, max_retries at least 0 and timeout positive")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY")
        self.max_in_flight, self.timeout, self.max_retries, self.backoff = max_in_flight, timeout, max_retries, backoff
        self.max_answer_bytes = max_answer_bytes
        self.cache = RequestCache(cache) if cache else None
        self.requests_sent = 0  # including retries

    def each(self, items: Sequence, work: Callable) -> list:
        """``await work(http, item)`` for every item, at most ``max_in_flight`` at once; results in order."""
        return run_sync(self._each(list(items), work))

    async def _each(self, items: list, work: Callable) -> list:
        import httpx

        limit = asyncio.Semaphore(self.max_in_flight)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        async with httpx.AsyncClient(timeout=self.timeout, headers=headers) as http:

            async def one(item):
                async with limit:
                    result = await work(http, item)
                progress.advance(1)  # as each answer arrives: a long batch of requests shows progress
                return result

            return list(await asyncio.gather(*(one(item) for item in items)))

    async def post(self, http, endpoint: str, body: dict, parse: Callable[[dict], dict],
                   cached: bool = True) -> tuple[Optional[dict], Optional[str], bool]:
        """``(parse(answer JSON), None, from_cache)``, or ``(None, why, False)`` once retrying cannot help.

        ``parse`` returns a JSON-ready dict (what the cache keeps). Refused connections, timeouts, overload
        statuses and malformed answers are retried; any other 4xx and an :class:`InvalidAnswer` are final."""
        key = hashlib.sha256(json.dumps([self.base_url, endpoint, body], sort_keys=True).encode()).hexdigest()
        if cached and self.cache and (hit := self.cache.get(key)):
            return hit, None, True
        answer, error = await self._post_with_retries(http, self.base_url + endpoint, body, parse)
        if answer is not None and cached and self.cache:
            self.cache.put(key, answer)
        return answer, mask_text(error) if error else error, False  # recorded in outputs: no credential of the URL

    async def _post_with_retries(self, http, url: str, body: dict, parse):
        import httpx

        error = "no attempt"
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
            self.requests_sent += 1
            try:
                status, content = await asyncio.wait_for(self._send(http, url, body), self.timeout)
            except httpx.HTTPError as exc:  # refused, reset, timed out
                error = f"{type(exc).__name__}: {exc}"
                continue
            except asyncio.TimeoutError:
                error = f"Timeout: no whole answer within {self.timeout:g} s"
                continue
            except InvalidAnswer as exc:  # an answer too large for any request of ours: asking again gets the same
                return None, f"invalid answer: {exc}"
            text = content[:200].decode("utf-8", "replace")
            if status in RETRY_STATUS:
                error = f"HTTP {status}: {text}"
                continue
            if status >= 400:
                return None, f"HTTP {status}: {text}"
            try:
                return parse(json.loads(content)), None
            except InvalidAnswer as exc:  # asking again gets the same answer
                return None, f"invalid answer: {exc}"
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                error = f"malformed answer: {type(exc).__name__}: {exc}"
        return None, f"gave up after {self.max_retries + 1} attempts: {error}"

    async def _send(self, http, url: str, body: dict) -> tuple[int, bytes]:
        """POST ``body``; the status and the answer's body, read in pieces up to ``max_answer_bytes``."""
        async with http.stream("POST", url, json=body) as response:
            pieces, size = [], 0
            async for piece in response.aiter_bytes():
                size += len(piece)
                if size > self.max_answer_bytes:
                    raise InvalidAnswer(f"the answer's body passed {self.max_answer_bytes:,} bytes")
                pieces.append(piece)
            return response.status_code, b"".join(pieces)
