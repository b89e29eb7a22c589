"""The bytes each token id stands for, and a trie over them, built once per tokenizer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BYTE_TOKEN = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-ins for bytes, inverted (ByteLevel BPE vocabularies use them)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes)}


class Vocabulary:
    """Token id -> bytes (None for special tokens), and a byte trie of all ordinary tokens."""

    def __init__(self, tokenizer: Any):
        self.eos_ids = {i for i in (tokenizer.eos_token_id,) if i is not None}
        special = set(getattr(tokenizer, "all_special_ids", []) or [])
        pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        byte_level = _is_byte_level(tokenizer)
        decoder = _byte_decoder() if byte_level else {}
        self.token_bytes: list[bytes | None] = []
        for token_id, piece in enumerate(pieces):
            if token_id in special or piece is None:
                self.token_bytes.append(None)
            elif byte_level:
                try:
                    self.token_bytes.append(bytes(decoder[ch] for ch in piece))
                except KeyError:  # an added token written in plain text
                    self.token_bytes.append(piece.encode("utf-8"))
            elif (match := BYTE_TOKEN.match(piece)) is not None:
                self.token_bytes.append(bytes([int(match.group(1), 16)]))
            else:
                self.token_bytes.append(piece.replace("\u2581", " ").encode("utf-8"))
        # trie: node = (children dict byte -> node, token ids ending here)
        self.root: tuple[dict, list] = ({}, [])
        for token_id, data in enumerate(self.token_bytes):
            if not data:
                continue
            node = self.root
            for byte in data:
                node = node[0].setdefault(byte, ({}, []))
            node[1].append(token_id)
        self.size = len(self.token_bytes)
        self._within: dict[frozenset, "np.ndarray"] = {}
        self._exits: dict[frozenset, dict[int, list[tuple[int, int]]]] = {}

    def ids_within(self, alphabet: frozenset):
        """Ids of the ordinary tokens made only of bytes in ``alphabet`` (cached per alphabet)."""
        import numpy as np

        if alphabet not in self._within:
            self._within[alphabet] = np.array(
                [i for i, data in enumerate(self.token_bytes) if data and all(b in alphabet for b in data)], dtype=np.int64
            )
        return self._within[alphabet]

    def exits(self, alphabet: frozenset) -> dict[int, list[tuple[int, int]]]:
        """Tokens that leave ``alphabet``: first outside byte -> [(token id, its position)]."""
        if alphabet not in self._exits:
            table: dict[int, list[tuple[int, int]]] = {}
            for token_id, data in enumerate(self.token_bytes):
                if not data:
                    continue
                for k, byte in enumerate(data):
                    if byte not in alphabet:
                        table.setdefault(byte, []).append((token_id, k))
                        break
            self._exits[alphabet] = table
        return self._exits[alphabet]


def _is_byte_level(tokenizer: Any) -> bool:
    """GPT-2 style vocabularies spell bytes with printable stand-ins; their decoder says so."""
    import json

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return False
    spec = json.loads(backend.to_str())
    parts = [spec.get("decoder") or {}, spec.get("pre_tokenizer") or {}]
    parts += [p for part in list(parts) for p in part.get("decoders", []) + part.get("pretokenizers", [])]
    return any(part.get("type") == "ByteLevel" for part in parts)


def vocabulary(tokenizer: Any) -> Vocabulary:
    """One Vocabulary per tokenizer object for the life of the process."""
    cache = getattr(tokenizer, "_prox_vocabulary", None)
    if cache is None:
        cache = Vocabulary(tokenizer)
        try:
            tokenizer._prox_vocabulary = cache
        except AttributeError:
            pass
    return cache
