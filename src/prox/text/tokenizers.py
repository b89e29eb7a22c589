"""Load tokenizers, and count tokens of many line-numbered lines fast and exactly.

The chunker must count ``len(tokenizer.encode(f"[{i:03d}]{line}"))`` for every line of every document,
as the reference does one call at a time. For SentencePiece-style BPE vocabularies (Llama, Mistral)
no merge ever crosses the start of a space run and digits never merge, so a line's count is the sum
of the counts of its space-led pieces: those are cached across documents and only new pieces reach
the tokenizer. Other tokenizers are counted with one batched call per document.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Sequence

SPACE = "\u2581"  # SentencePiece's "▁"
PIECE = re.compile(f"\n|{SPACE}+[^{SPACE}\n]*|[^{SPACE}\n]+")  # a newline, or a space run and what follows it
NEWLINE = 1 << 40  # the count a newline piece carries: marks line ends
FAST_PATH_AFTER_LINES = 20_000  # lines counted with batched calls before the piece cache is set up
BYTE_TOKEN = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")
SELF_CHECK = [
    "plain words here", "a  b   c    d", "   leading", "trailing   ", "", " ", "tab\there", "x" * 300,
    "2023-05-17, 04:30 PM $1,000.00", "(see [1]), {x: 2}", "日本語のテキスト  と  ascii", "emoji 🙂🙂 ok",
    "\u00a0nbsp\u3000wide", "▁literal▁marks", "](http://a.b/c?d=1&e=2)", "word\r", "<s> </s> <unk>",
]


@functools.lru_cache(maxsize=8)
def load_tokenizer(name_or_path: str):
    """A Hugging Face tokenizer from a local folder or hub id (cached per process)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name_or_path)


def as_tokenizer(tokenizer: Any):
    return load_tokenizer(str(tokenizer)) if isinstance(tokenizer, (str, bytes)) or hasattr(tokenizer, "__fspath__") else tokenizer


class LineTokenCounter:
    """``count(lines)[i] == len(tokenizer.encode(f"[{i:0{width}d}]{lines[i]}"))``, computed fast."""

    def __init__(self, tokenizer: Any, cache_size: int = 1_000_000, fast_after_lines: int = FAST_PATH_AFTER_LINES):
        self.tokenizer = as_tokenizer(tokenizer)
        self.backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if self.backend is None and hasattr(self.tokenizer, "encode_batch"):
            self.backend = self.tokenizer  # a bare tokenizers.Tokenizer
        self.cache_size = cache_size
        self._cache: dict[str, int] = {}
        self._special = self._added = None
        self._fast: bool | None = None  # decided once enough lines were counted to repay the set-up
        self._lines_counted = 0
        self.fast_after_lines = fast_after_lines

    @property
    def fast(self) -> bool:
        """Whether the piece-cache path applies to this tokenizer (decided, at a cost of ~0.3 s, when first asked)."""
        if self._fast is None:
            self._fast = self._setup_fast_path()
        return self._fast

    def count(self, lines: Sequence[str], width: int = 3) -> list[int]:
        if not lines:
            return []
        self._lines_counted += len(lines)
        # a small corpus is counted with batched calls; the fast path is set up once the work repays it
        if (self._fast if self._lines_counted <= self.fast_after_lines else self.fast):
            return self._count_fast(lines, width)
        numbered = [f"[{i:0{width}d}]{line}" for i, line in enumerate(lines)]
        return self.encode_lengths(numbered)

    def encode_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts with the tokenizer's default special tokens, in one batched call."""
        if self.backend is not None:
            encode = getattr(self.backend, "encode_batch_fast", self.backend.encode_batch)
            return [len(e.ids) for e in encode(list(texts), add_special_tokens=True)]
        return [len(ids) for ids in self.tokenizer(list(texts))["input_ids"]]

    def prefix_chars(self, text: str, n_tokens: int) -> int:
        """How many characters of ``text`` its first ``n_tokens`` tokens (special tokens included) cover."""
        if self.backend is not None:
            offsets = self.backend.encode(text, add_special_tokens=True).offsets
        else:  # a slow tokenizer has no offsets: estimate, the caller checks and shrinks
            return len(text) * n_tokens // max(1, self.encode_lengths([text])[0])
        if n_tokens >= len(offsets):
            return len(text)
        return max((end for _, end in offsets[:n_tokens]), default=0)

    # -- the SentencePiece fast path -------------------------------------------------------------
    def _count_fast(self, lines: Sequence[str], width: int) -> list[int]:
        import numpy as np

        cache = self._cache
        if len(cache) > self.cache_size:
            cache.clear()
        cache["\n"] = NEWLINE
        # one pass over the whole document: every line becomes "]" + line, cut into space-led pieces
        pieces = PIECE.findall("]" + "\n]".join(lines).replace(" ", SPACE))
        tokenize = self._model.tokenize
        for piece in set(pieces).difference(cache):  # only pieces never seen before reach the BPE model
            cache[piece] = len(tokenize(piece))
        values = np.fromiter(map(cache.__getitem__, pieces), dtype=np.int64, count=len(pieces))
        breaks = np.flatnonzero(values == NEWLINE)
        if len(breaks) != len(lines) - 1:
            raise ValueError("lines must not contain newlines")
        values[breaks] = 0
        line_sums = np.add.reduceat(values, np.concatenate(([0], breaks + 1)))  # no line is empty: each has "]"
        # plus the special tokens, "▁[" and one token per digit of the number
        counts = (line_sums + (self._special + self._open + width)).tolist()
        for i in range(10**width, len(lines)):  # numbers wider than the padding
            counts[i] += len(str(i)) - width
        if self._added is not None and self._added.search("\n".join(lines)):
            # lines holding special-token text ("<s>" in a web page) are counted exactly
            odd = [i for i, line in enumerate(lines) if self._added.search(line)]
            if odd:
                exact = self.encode_lengths([f"[{i:0{width}d}]{lines[i]}" for i in odd])
                for i, c in zip(odd, exact):
                    counts[i] = c
        return counts

    def _setup_fast_path(self) -> bool:
        if self.backend is None:
            return False
        try:
            spec = json.loads(self.backend.to_str())
        except Exception:
            return False
        model = spec.get("model") or {}
        if model.get("type") != "BPE" or model.get("dropout") or model.get("ignore_merges"):
            return False
        if not _sentencepiece_style(spec.get("normalizer"), spec.get("pre_tokenizer")):
            return False
        added = [t["content"] for t in spec.get("added_tokens") or []]
        for token in model.get("vocab", {}):
            if token in added or BYTE_TOKEN.match(token):
                continue
            if any(token[k] == SPACE and token[k - 1] != SPACE for k in range(1, len(token))):
                return False  # a merge could cross a space run
            if len(token) > 1 and any(ch in "0123456789" for ch in token):
                return False  # digits could merge with their neighbours
        from tokenizers import Tokenizer

        self._model = Tokenizer.from_str(self.backend.to_str()).model  # a private copy: its own BPE cache
        self._added = re.compile("|".join(re.escape(a) for a in sorted(added, key=len, reverse=True))) if added else None
        self._special = len(self.backend.encode("a", add_special_tokens=True).ids) - len(self._model.tokenize(SPACE + "a"))
        self._open = len(self._model.tokenize(SPACE + "["))
        # never trust the reasoning alone: the fast path must agree with the tokenizer on hard cases
        sample = SELF_CHECK + [f"{s} {s}" for s in SELF_CHECK]
        return self._count_fast(sample, 3) == self.encode_lengths(
            [f"[{i:03d}]{s}" for i, s in enumerate(sample)]
        ) and self._count_fast(["x"] * 1001, 3)[-1] == self.encode_lengths(["[1000]x"])[0]


def _sentencepiece_style(normalizer: dict | None, pre_tokenizer: dict | None) -> bool:
    """True for Metaspace(split=False) or Prepend("▁")+Replace(" ", "▁") front ends, the Llama shapes."""
    if normalizer is None and pre_tokenizer and pre_tokenizer.get("type") == "Metaspace":
        return (
            pre_tokenizer.get("replacement") == SPACE
            and pre_tokenizer.get("split") is False
            and pre_tokenizer.get("prepend_scheme", "always") in ("first", "always")
        )
    if pre_tokenizer is None and normalizer and normalizer.get("type") == "Sequence":
        steps = normalizer.get("normalizers", [])
        return (
            len(steps) == 2
            and steps[0] == {"type": "Prepend", "prepend": SPACE}
            and steps[1].get("type") == "Replace"
            and steps[1].get("pattern") == {"String": " "}
            and steps[1].get("content") == SPACE
        )
    return False
