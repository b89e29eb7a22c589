"""Follow one generation token by token and say which next tokens keep its program valid.

Allowed tokens are found by walking the vocabulary trie alongside the automaton, once per automaton
state (cached); the token budget is then applied as a vectorised filter: a token is allowed only if
the program can still be completed in the tokens left after it (every byte is one token at worst).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prox.constrain.vocabulary import Vocabulary


class StateMasks:
    """Per automaton state: the allowed token ids, the state each leads to, and its completion cost."""

    def __init__(self, automaton: Any, vocab: Vocabulary):
        self.automaton, self.vocab = automaton, vocab
        self._cache: dict[tuple, tuple[np.ndarray, np.ndarray, dict]] = {}

    def get(self, state: tuple) -> tuple[np.ndarray, np.ndarray, dict]:
        entry = self._cache.get(state)
        if entry is None:
            entry = self._cache[state] = self._build(state)
        return entry

    def _build(self, state: tuple):
        automaton, vocab = self.automaton, self.vocab
        loop = automaton.self_loop(state)
        if loop:  # tokens inside the loop alphabet keep the state; only the way out needs walking
            return self._build_loop(state, loop)
        ids, costs, next_states = [], [], {}
        stack = [(vocab.root, state)]
        while stack:
            (children, ending), current = stack.pop()
            for token_id in ending:
                ids.append(token_id)
                costs.append(automaton.min_completion(current))
                next_states[token_id] = current
            for byte, child in children.items():
                following = automaton.step(current, byte)
                if following is not None:
                    stack.append((child, following))
        return np.array(ids, dtype=np.int64), np.array(costs, dtype=np.int64), next_states

    def _build_loop(self, state: tuple, loop: frozenset):
        automaton, vocab = self.automaton, self.vocab
        ids, costs, next_states = [], [], {}
        for byte, tokens in vocab.exits(loop).items():
            if automaton.step(state, byte) is None:
                continue
            for token_id, position in tokens:
                current = state
                for b in vocab.token_bytes[token_id][position:]:
                    current = automaton.step(current, b)
                    if current is None:
                        break
                else:
                    ids.append(token_id)
                    costs.append(automaton.min_completion(current))
                    next_states[token_id] = current
        looped = vocab.ids_within(loop)
        ids_array = np.concatenate([np.array(ids, dtype=np.int64), looped])
        costs_array = np.concatenate([np.array(costs, dtype=np.int64), np.full(len(looped), automaton.min_completion(state))])
        return ids_array, costs_array, _WithDefault(next_states, state)


class _WithDefault(dict):
    """Next states where every token not listed loops back to ``default`` (already masked upstream)."""

    def __init__(self, data: dict, default: tuple):
        super().__init__(data)
        self.default = default

    def get(self, key, fallback=None):
        return super().get(key, self.default)


class Tracker:
    """The constraint state of one sequence being generated."""

    def __init__(self, masks: StateMasks, max_new_tokens: int):
        self.masks = masks
        self.state = masks.automaton.start()
        self.remaining = max_new_tokens
        self.finished = False

    def allowed(self) -> np.ndarray:
        """Token ids allowed next (EOS included where the program may end)."""
        if self.finished:
            return np.array(sorted(self.masks.vocab.eos_ids), dtype=np.int64)
        ids, costs, _ = self.masks.get(self.state)
        ok = ids[costs <= self.remaining - 1]
        eos = np.array(sorted(self.masks.vocab.eos_ids), dtype=np.int64)
        if self.masks.automaton.accepts(self.state):
            ok = np.concatenate([ok, eos])
        if len(ok) == 0:  # no valid program fits the budget left: end now (an empty program changes nothing)
            ok = eos
        return ok

    def advance(self, token_id: int) -> None:
        self.remaining -= 1
        if self.finished or token_id in self.masks.vocab.eos_ids:
            self.finished = True
            return
        _, _, next_states = self.masks.get(self.state)
        following = next_states.get(token_id)
        if following is None:  # the backend ignored the mask: stop constraining rather than guess
            self.finished = True
            return
        self.state = following
