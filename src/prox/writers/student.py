"""The student writer: programs from a distilled student folder (``prox distill``), at rule speed.

Doc level: ``drop_doc()`` when P(drop) reaches the student's threshold, with P(drop) stored so
``prox execute --drop-threshold`` can re-decide. Chunk level: ``remove_lines`` over each run of lines
whose P(remove) reaches the line threshold, and ``normalize`` for teasers ("Read more »") in the lines it
keeps. Like the heuristic it has no token budget: it reads the whole document as one chunk, so every line is
judged in its page. The doc model judges documents in the languages it learned (``doc_languages``); others
are dropped only when too little content is left, so no page is dropped for its language.

A student with a language model (``prox.distill.line_lm``, the ``smollm2-web`` preset) scores the lines of the pages
that model reads (English) with its hidden states beside the features: one forward pass per window of lines, on
``device`` (a GPU when there is one), ``batch_size`` windows at a time. P(drop) stays the doc model's, from the
features alone, as it was trained.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Optional, Sequence

from prox.errors import UsageError
from prox.program.operations import RemoveLines
from prox.program.words import word_units
from prox.text.chunker import Chunk, numbered_lines
from prox.text.language import rules_language
from prox.writers.base import Written
from prox.writers.heuristic import MIN_CONTENT_UNITS, teaser_normalizations


class StudentWriter:
    name = "student"

    always_scores = True  # the doc stage always writes P(drop): --drop-threshold re-decides from it

    def __init__(self, model: str, line_threshold: Optional[float] = None, device: Optional[str] = None,
                 dtype: str = "auto", batch_size: int = 4):
        from prox.distill.student import Student

        self.folder = model
        self.student = Student.load(model)
        if line_threshold is not None:
            self.student.line_threshold = float(line_threshold)
        self._language_model = None
        if self.student.lm is not None:  # found now (a missing package is named at start-up), loaded at the first chunk
            from prox.models import resolve_base

            self._language_model = (resolve_base(self.student.lm.base, self.folder), device, dtype)
            self.student.lm.batch_size = int(batch_size)
        self._seen: OrderedDict = OrderedDict()  # the doc stage's line scores, reused by the chunk stage

    def write_doc(self, documents: Sequence[str]) -> list[Written]:
        """P(drop) from the doc model for documents in a language it learned; the others are held only to what
        holds in every language (some content left by the line model), so no page is dropped for its language."""
        pages = [text.split("\n") for text in documents]
        scores = self._p_remove(pages, keys=documents)
        learned = self.student.doc_languages
        judged = [i for i, text in enumerate(documents) if not learned or rules_language(text) in learned]
        p_drop = self.student.p_drop([pages[i] for i in judged], [scores[i] for i in judged])
        if p_drop is None:
            return [Written("keep_doc()") for _ in documents]
        decided = {i: Written("drop_doc()" if p >= self.student.doc_threshold else "keep_doc()", drop_probability=round(float(p), 6))
                   for i, p in zip(judged, p_drop)}
        return [decided[i] if i in decided else self._neutral(pages[i], scores[i]) for i in range(len(documents))]

    def _neutral(self, lines: list[str], p_remove) -> Written:
        content = "\n".join(line for line, p in zip(lines, p_remove) if p < self.student.line_threshold)
        if word_units(content) < MIN_CONTENT_UNITS:
            return Written("drop_doc()", rule="length:short_content")
        return Written("keep_doc()")

    def _load_language_model(self) -> None:
        """The doc stage never needs it: a pipeline's doc step does not load it."""
        from prox.writers.transformers_writer import load_model, quiet_loading

        lm, (path, device, dtype) = self.student.lm, self._language_model
        with quiet_loading():
            lm.encoder = load_model(path, dtype, device)
        config = lm.encoder[0].config
        if lm.head.weight.shape != (2 * len(lm.layers) * config.hidden_size,) or max(lm.layers) > config.num_hidden_layers:
            raise UsageError(f"{self.folder}: its head was made for other hidden states than {path} gives; distill it again")

    def write_chunk(self, chunks: Sequence[Chunk]) -> list[Written]:
        numbered = [numbered_lines(chunk) for chunk in chunks]
        pages = [[line for _, line in pairs] for pairs in numbered]
        tokens, seconds = [0] * len(pages), [0.0] * len(pages)
        lm = self.student.lm
        read = [i for i, lines in enumerate(pages) if lm.reads("\n".join(lines))] if lm is not None else []
        scores: list = [None] * len(pages)
        skipped = set(read) if lm is not None and lm.rule == "model" else set()  # the LM alone scores the pages it reads
        rest = [i for i in range(len(pages)) if i not in skipped]
        for i, p in zip(rest, self._p_remove([pages[i] for i in rest])):
            scores[i] = p
        if read:
            if lm.encoder is None:
                self._load_language_model()
            start, counts = time.perf_counter(), []
            own = [scores[i] for i in read] if lm.rule == "both" else None
            for i, p, n in zip(read, lm.p_remove([pages[i] for i in read], tokens=counts, student=own), counts):
                scores[i] = p
                tokens[i] = n
            elapsed = time.perf_counter() - start
            for i in read:  # each page's share of the pass, by the tokens it read
                seconds[i] = elapsed * tokens[i] / max(1, sum(counts))
        return [Written(self._program(pairs, p), input_tokens=n, seconds=s,
                        remove_probabilities=tuple(round(float(x), 4) for x in p))
                for pairs, p, n, s in zip(numbered, scores, tokens, seconds)]

    def _program(self, pairs: list[tuple[int, str]], p_remove) -> str:
        """``remove_lines`` over each run of removed lines, then ``normalize`` for the teasers left in kept lines."""
        if not pairs:
            return "skip_chunk()"
        operations, start = [], None
        for (number, _), p in zip(pairs, p_remove):
            if p >= self.student.line_threshold:
                start = number if start is None else start
                end = number
            elif start is not None:
                operations.append(RemoveLines(start, end))
                start = None
        if start is not None:
            operations.append(RemoveLines(start, end))
        threshold = self.student.line_threshold
        operations += teaser_normalizations(line for (_, line), p in zip(pairs, p_remove) if p < threshold)
        return "\n".join(str(op) for op in operations) or "skip_chunk()"

    def _p_remove(self, pages: list[list[str]], keys: Optional[Sequence[str]] = None) -> list:
        """Line scores of each page; a page scored in the doc stage is not scored again for its chunk. ``keys``: the
        pages' texts where the caller has them (joining the lines again would copy every document)."""
        keys = keys if keys is not None else ["\n".join(lines) for lines in pages]
        todo = [i for i, key in enumerate(keys) if key not in self._seen]
        for i, scores in zip(todo, self.student.p_remove([pages[i] for i in todo])):
            self._seen[keys[i]] = scores
        found = [self._seen[key] for key in keys]
        while len(self._seen) > 4096:
            self._seen.popitem(last=False)
        return found
