"""Secrets masked in everything prox writes for others to read: ``run.json``, ``logs/executor.json``, the dataset
card, the report, error messages.

A value is a secret when its name says so (``api_key``, ``hf_token``, ``password``, ``Authorization``...): names are
split into words (on ``_ - .``, spaces and camelCase) and judged word by word, so ``tokenizer``, ``max_tokens``,
``text_key`` or ``key_field`` stay as they are. In any string, credentials in URLs (``scheme://user:pass@host``),
``Bearer`` tokens and ``name=value`` pairs whose name is a secret's are masked too. Masking is by name and shape,
not by value: a secret passed under a name like ``model`` cannot be recognised.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MASK = "***"
# a word that makes any name holding it a secret's
SECRET_WORDS = frozenset({
    "apikey", "secret", "secrets", "password", "passwd", "passphrase", "auth", "authorization", "credential",
    "credentials", "creds", "bearer", "cookie", "cookies", "privatekey", "accesstoken", "authtoken",
})
# "key" and "token" end a secret's name (api_key, hf_token) unless the word before says it names data instead
# (text_key, id_key, eos_token); not last (key_field, token_ids) or plural (keys, max_tokens) they name no secret
DATA_KEYS = frozenset({
    "id", "text", "sort", "label", "group", "partition", "primary", "foreign", "cache", "column", "field", "doc",
    "document", "metadata", "meta", "source", "target", "input", "output", "lookup", "hash", "dedup", "shard", "join",
    "name", "content", "prompt", "answer", "message", "image", "audio", "value", "dict", "map", "index", "sample",
    "record", "json", "row", "split", "feature", "class", "score", "language", "lang", "url", "date", "time", "order",
    "seed", "dataset", "file", "path",
})
DATA_TOKENS = frozenset({
    "pad", "eos", "bos", "unk", "sep", "cls", "mask", "special", "start", "end", "stop", "first", "last", "max", "min",
    "num", "chat", "image", "audio", "split", "text", "answer", "prompt", "new", "extra",
})
WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s?#'\"<>@]*(?:@[^/\s?#'\"<>@]*)*@")
BEARER = re.compile(r"\b(?P<scheme>bearer|basic)\s+(?!\*\*\*)[\w\-.~+/]+=*", re.IGNORECASE)
# name=value, name: value, 'name': 'value', "name": "value" (reprs, JSON, query strings, messages)
NAME = re.compile(r"""(?P<name>[A-Za-z_][\w.-]*)["']?\s*[:=]\s*""")
VALUE = re.compile(r"""(?P<quote>["'])(?:\\.|(?!(?P=quote))[^\\])*(?P=quote)|(?:(?:bearer|basic)\s+)?[^\s,;&)}\]"']+""",
                   re.IGNORECASE)
NOT_SET = frozenset({"", MASK, "None", "null", "none", "true", "false", "True", "False"})


@lru_cache(maxsize=4096)
def is_secret(name: str) -> bool:
    """Whether a setting, header or field called ``name`` holds a secret."""
    words = [w.lower() for w in WORD.findall(str(name))]
    if not words:
        return False
    joined = "".join(words)
    if joined in SECRET_WORDS or any(w in SECRET_WORDS for w in words):
        return True
    for i in range(len(words) - 1):  # api_key, access_token: two words that are one secret word joined
        if words[i] + words[i + 1] in SECRET_WORDS:
            return True
    last, before = words[-1], words[-2] if len(words) > 1 else None
    if last == "key":
        return before not in DATA_KEYS
    if last == "token":
        return before not in DATA_TOKENS
    return False


def mask(value: Any) -> Any:
    """A masked copy of a JSON-like value: a secret's value under its name becomes ``***``, every string is
    :func:`mask_text`-ed. Other values (numbers, None, objects) are returned as they are."""
    if isinstance(value, dict):
        return {k: _secret_value(v) if is_secret(str(k)) else mask(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text: str) -> str:
    """``text`` with URL credentials, ``Bearer`` tokens and secret ``name=value`` pairs masked."""
    if not isinstance(text, str):
        return text
    if "://" in text:
        text = URL_CREDENTIALS.sub(lambda m: m["scheme"] + MASK + "@", text)
    if ":" in text or "=" in text:
        text = _mask_pairs(text)
    return BEARER.sub(lambda m: f"{m['scheme']} {MASK}", text)


def _secret_value(value: Any) -> Any:
    """What a secret's value is shown as: ``***``, unless it is unset (None, empty, False)."""
    if value is None or value is False or value == "" or value == {} or value == []:
        return value
    return MASK


def _mask_pairs(text: str) -> str:
    """Values of secret ``name=value`` pairs masked; the value of another name is searched for pairs too (a URL's
    query string)."""
    pieces, done = [], 0
    for name in NAME.finditer(text):
        if name.start() < done or not is_secret(name["name"]):
            continue
        value = VALUE.match(text, name.end())
        if value is None:
            continue
        quote = value["quote"] or ""
        if value[0][len(quote):len(value[0]) - len(quote)] in NOT_SET:
            continue
        pieces += [text[done:name.end()], quote, MASK, quote]
        done = value.end()
    return "".join(pieces) + text[done:] if pieces else text
