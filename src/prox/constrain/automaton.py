"""Byte-level automata for the program language, specialised to one chunk or to the doc level.

A chunk program is accepted only in canonical form, one call per line:

    remove_lines(line_start=A, line_end=B)     with chunk.line_start <= A <= B <= chunk.line_end,
                                               ranges in increasing order, never overlapping
    normalize(source_str="S", target_str="T")  S a non-empty substring of one line of the chunk
                                               (made of characters that need no escaping), T printable ASCII
    skip_chunk()                               alone

so every accepted program parses with zero errors, every line number lies in the chunk and every
``normalize`` source occurs in it. States are hashable tuples so masks can be cached per state;
``min_completion`` is the fewest bytes that finish a program from a state, for the token budget.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

State = tuple
REMOVE = b"remove_lines(line_start="
NORMALIZE = b'normalize(source_str="'
SKIP = b"skip_chunk()"
MIDDLE_REMOVE = b", line_end="
MIDDLE_NORMALIZE = b'", target_str="'
KEYWORDS = (REMOVE, NORMALIZE, SKIP)
TARGET_BYTES = frozenset(b for b in range(0x20, 0x7F) if b not in b'"\\')
BAD_SOURCE_CHARS = frozenset('"\\')


class SubstringIndex:
    """A suffix automaton over the chunk's lines: walks exactly the substrings of one line."""

    def __init__(self, segments: list[bytes]):
        self.next: list[dict[int, int]] = [{}]
        self.link, self.length = [-1], [0]
        for segment in segments:
            last = 0  # each segment restarts from the root: no substring spans two segments
            for byte in segment:
                last = self._extend(last, byte)
        self.min_char = min((len(ch.encode()) for s in segments for ch in s.decode("utf-8", "ignore")), default=1)

    def _extend(self, last: int, byte: int) -> int:
        nxt, link, length = self.next, self.link, self.length
        if byte in nxt[last] and length[nxt[last][byte]] == length[last] + 1:
            return nxt[last][byte]  # already there (a repeated prefix across segments)
        cur = len(nxt)
        nxt.append({})
        link.append(0)
        length.append(length[last] + 1)
        p = last
        while p != -1 and byte not in nxt[p]:
            nxt[p][byte] = cur
            p = link[p]
        if p != -1:
            q = nxt[p][byte]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = len(nxt)
                nxt.append(dict(nxt[q]))
                link.append(link[q])
                length.append(length[p] + 1)
                while p != -1 and nxt[p].get(byte) == q:
                    nxt[p][byte] = clone
                    p = link[p]
                link[q] = link[cur] = clone
        return cur


def utf8_continuations(byte: int) -> int:
    """How many continuation bytes follow this leading byte (0 for ASCII)."""
    if byte < 0x80:
        return 0
    if byte >> 5 == 0b110:
        return 1
    if byte >> 4 == 0b1110:
        return 2
    return 3


class ChunkAutomaton:
    """The chunk-level language for one chunk: global lines ``line_start..line_end`` holding ``lines``."""

    def __init__(self, line_start: int, line_end: int, lines: list[str]):
        self.lo, self.hi = line_start, line_end
        segments: list[bytes] = []
        for line in lines:  # sources never hold quotes, backslashes or unprintable characters
            segments += [part.encode("utf-8") for part in _split_on(line, BAD_SOURCE_CHARS) if part]
        self.sources = SubstringIndex(segments)
        self.has_sources = bool(segments)

    # states: ("start",) | ("kw", prefix, last_end, first) | ("a", digits, last_end) | ("mid1", i, a)
    # | ("b", digits, a) | ("src", sam, pending, last_end) | ("mid2", i, last_end) | ("tgt", last_end)
    # | ("close", i, last_end, lit) | ("eol", last_end, skip) | ("bol", last_end)
    def start(self) -> State:
        return ("lead", self.lo - 1)

    def self_loop(self, state: State) -> frozenset:
        """Bytes that leave ``state`` unchanged (the target string's alphabet), for fast masks."""
        return TARGET_BYTES if state[0] == "tgt" else frozenset()

    def step(self, state: State, byte: int) -> Optional[State]:
        kind = state[0]
        if kind == "lead":  # one optional space before the program: "▁remove" is how models start
            first = ("kw", b"", state[1], True)
            return first if byte == 0x20 else self.step(first, byte)
        if kind == "kw":
            _, prefix, last_end, first = state
            candidate = prefix + bytes([byte])
            matches = [k for k in KEYWORDS if k.startswith(candidate) and (k is not SKIP or first)]
            if k_remove_blocked(matches, last_end, self.hi):
                matches = [k for k in matches if k is not REMOVE]
            if not self.has_sources:
                matches = [k for k in matches if k is not NORMALIZE]
            if not matches:
                return None
            if candidate == REMOVE:
                return ("a", b"", last_end)
            if candidate == NORMALIZE:
                return ("src", 0, 0, last_end)
            if candidate == SKIP:
                return ("eol", last_end, True)
            return ("kw", candidate, last_end, first)
        if kind == "a":
            _, digits, last_end = state
            lo = max(self.lo, last_end + 1)
            if byte == MIDDLE_REMOVE[0] and _complete(digits, lo, self.hi):
                return ("mid1", 1, int(digits))
            return ("a", digits + bytes([byte]), last_end) if _digit_ok(digits, byte, lo, self.hi) else None
        if kind == "mid1":
            _, i, a = state
            if byte != MIDDLE_REMOVE[i]:
                return None
            return ("mid1", i + 1, a) if i + 1 < len(MIDDLE_REMOVE) else ("b", b"", a)
        if kind == "b":
            _, digits, a = state
            if byte == ord(")") and _complete(digits, a, self.hi):
                return ("eol", int(digits), False)
            return ("b", digits + bytes([byte]), a) if _digit_ok(digits, byte, a, self.hi) else None
        if kind == "src":
            _, sam, pending, last_end = state
            if byte == ord('"') and sam != 0 and pending == 0:
                return ("mid2", 1, last_end)
            target = self.sources.next[sam].get(byte)
            if target is None:
                return None
            if pending:
                if byte >> 6 != 0b10:
                    return None
                return ("src", target, pending - 1, last_end)
            if byte >> 6 == 0b10:  # a continuation byte cannot start a character
                return None
            return ("src", target, utf8_continuations(byte), last_end)
        if kind == "mid2":
            _, i, last_end = state
            if byte != MIDDLE_NORMALIZE[i]:
                return None
            return ("mid2", i + 1, last_end) if i + 1 < len(MIDDLE_NORMALIZE) else ("tgt", last_end)
        if kind == "tgt":
            _, last_end = state
            if byte == ord('"'):
                return ("close", last_end)
            return state if byte in TARGET_BYTES else None
        if kind == "close":
            return ("eol", state[1], False) if byte == ord(")") else None
        if kind == "eol":
            _, last_end, skip = state
            return ("kw", b"", last_end, False) if byte == ord("\n") and not skip else None
        return None

    def accepts(self, state: State) -> bool:
        """May the program end here (EOS)?"""
        return state[0] == "eol" or (state[0] == "kw" and state[1] == b"" and not state[3])

    def min_completion(self, state: State) -> int:
        """The fewest bytes that complete a program from ``state`` (0 where EOS is allowed)."""
        if self.accepts(state):
            return 0
        kind = state[0]
        if kind == "lead":
            return self.min_completion(("kw", b"", state[1], True))
        close = len(b'", target_str="")')
        if kind == "kw":
            _, prefix, last_end, first = state
            best = []
            if first and SKIP.startswith(prefix):
                best.append(len(SKIP) - len(prefix))
            if NORMALIZE.startswith(prefix) and self.has_sources:
                best.append(len(NORMALIZE) - len(prefix) + self.sources.min_char + close)
            lo = max(self.lo, last_end + 1)
            if REMOVE.startswith(prefix) and lo <= self.hi:
                best.append(len(REMOVE) - len(prefix) + 2 * len(str(lo)) + len(MIDDLE_REMOVE) + 1)
            return min(best) if best else 1 << 20
        if kind == "a":
            _, digits, last_end = state
            lo = max(self.lo, last_end + 1)
            rest = _min_number_completion(digits, lo, self.hi)
            value = _smallest_with_prefix(digits, lo, self.hi)
            return rest + len(MIDDLE_REMOVE) + len(str(value)) + 1
        if kind == "mid1":
            _, i, a = state
            return len(MIDDLE_REMOVE) - i + len(str(a)) + 1
        if kind == "b":
            _, digits, a = state
            return _min_number_completion(digits, a, self.hi) + 1
        if kind == "src":
            _, sam, pending, _ = state
            if sam == 0:
                return self.sources.min_char + close
            return pending + close
        if kind == "mid2":
            return len(MIDDLE_NORMALIZE) - state[1] + 2
        if kind == "tgt":
            return 2
        if kind == "close":
            return 1
        return 1 << 20


def k_remove_blocked(matches: list[bytes], last_end: int, hi: int) -> bool:
    return REMOVE in matches and last_end + 1 > hi


def _split_on(text: str, bad: frozenset) -> list[str]:
    parts, current = [], []
    for ch in text:
        if ch in bad or not (ch.isprintable() or ch == " "):
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _digit_ok(digits: bytes, byte: int, lo: int, hi: int) -> bool:
    if not 0x30 <= byte <= 0x39:
        return False
    candidate = digits + bytes([byte])
    if len(candidate) > 1 and candidate[:1] == b"0":
        return False  # canonical numbers have no leading zeros
    return _smallest_with_prefix(candidate, lo, hi) is not None


def _complete(digits: bytes, lo: int, hi: int) -> bool:
    return bool(digits) and lo <= int(digits) <= hi


@lru_cache(maxsize=65536)
def _smallest_with_prefix(digits: bytes, lo: int, hi: int) -> Optional[int]:
    """The smallest number in [lo, hi] whose decimal form starts with ``digits``."""
    if lo > hi:
        return None
    if not digits:
        return lo
    prefix = int(digits)
    if digits[:1] == b"0":
        return 0 if digits == b"0" and lo <= 0 <= hi else None
    scale = 1
    for _ in range(len(str(hi)) - len(digits) + 1):
        start, end = prefix * scale, prefix * scale + scale - 1
        if end >= lo and start <= hi:
            return max(start, lo)
        scale *= 10
    return None


def _min_number_completion(digits: bytes, lo: int, hi: int) -> int:
    value = _smallest_with_prefix(digits, lo, hi)
    if value is None:
        return 1 << 20
    if _complete(digits, lo, hi):
        return 0
    # the shortest valid number with this prefix
    for extra in range(1, len(str(hi)) - len(digits) + 1):
        low, high = int(digits or b"0") * 10**extra, int(digits or b"0") * 10**extra + 10**extra - 1
        if high >= lo and low <= hi:
            return extra
    return len(str(value)) - len(digits)


class DocAutomaton:
    """The doc-level language: exactly ``drop_doc()`` or ``keep_doc()``."""

    CHOICES = (b"drop_doc()", b"keep_doc()")

    def start(self) -> State:
        return ("doc", b"")

    def self_loop(self, state: State) -> frozenset:
        return frozenset()

    def step(self, state: State, byte: int) -> Optional[State]:
        if state == ("doc", b"") and byte == 0x20:
            return ("doc", b" ")  # one optional leading space
        if state == ("doc", b" "):
            state = ("doc", b"")
        candidate = state[1] + bytes([byte])
        return ("doc", candidate) if any(c.startswith(candidate) for c in self.CHOICES) else None

    def accepts(self, state: State) -> bool:
        return state[1] in self.CHOICES

    def min_completion(self, state: State) -> int:
        done = state[1].lstrip(b" ")
        return min((len(c) - len(done) for c in self.CHOICES if c.startswith(done)), default=1 << 20)
