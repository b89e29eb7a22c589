"""Score any writer (a model, the heuristic, a teacher) on labelled data, as the paper's refiners are scored.

Doc sets: precision / recall / F1 of drops and accuracy, from the doc stage alone. Line sets: the
stages run as in ``prox refine`` and a line counts as removed when the programs remove it, or when the
document is dropped (then all its lines are); precision / recall / F1 of removed lines, the keep-line
F1 and their mean (``macro_f1``). Both: parse-error rate, the share of ``normalize`` calls whose source
occurs in the text, words kept, tokens and time.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from prox.labels import LabelledSet
from prox.metrics import Confusion
from prox.program.parser import parse_program
from prox.refiner import Refiner, RefineResult


def evaluate(labelled: LabelledSet, docs_per_batch: int = 16, writers: dict | None = None,
             advance: Callable[[int], None] | None = None, **settings: Any) -> dict:
    """Figures of the writer named by ``settings`` (``Refiner`` arguments) on one labelled set; ``advance(n)``
    is called as each batch of ``n`` items is done (a progress display)."""
    stages = ("doc",) if labelled.kind == "docs" else tuple(settings.pop("stages", ("doc", "chunk")))
    settings.pop("stages", None)
    refiner = Refiner(stages=stages, writers=writers if writers is not None else {}, **settings)
    start = time.perf_counter()
    results: list[RefineResult] = []
    for first in range(0, len(labelled.items), docs_per_batch):
        items = labelled.items[first : first + docs_per_batch]
        results += refiner.refine([item.text for item in items])
        if advance is not None:
            advance(len(items))
    seconds = time.perf_counter() - start
    figures = _lines(labelled.items, results) if labelled.kind == "lines" else _docs(labelled.items, results)
    figures.update(_programs(results))
    figures.update(items=len(results), seconds=round(seconds, 2))
    return figures


def _docs(items: Sequence, results: Sequence[RefineResult]) -> dict:
    scores = Confusion().add([r.dropped for r in results], [not item.keep for item in items])
    return {"accuracy": round(scores.accuracy, 4), "drop_precision": round(scores.precision, 4),
            "drop_recall": round(scores.recall, 4), "drop_f1": round(scores.f1, 4), "confusion": _counts(scores)}


def _lines(items: Sequence, results: Sequence[RefineResult]) -> dict:
    scores = Confusion()
    for page, result in zip(items, results):
        removed = set(range(len(page.lines))) if result.dropped else set(result.trace.removed_lines)
        scores.add([i in removed for i in range(len(page.lines))], [not keep for keep in page.keep])
    return {"remove_precision": round(scores.precision, 4), "remove_recall": round(scores.recall, 4),
            "remove_f1": round(scores.f1, 4), "keep_f1": round(scores.negative_f1, 4),
            "macro_f1": round(scores.macro_f1, 4), "documents_dropped": sum(r.dropped for r in results),
            "confusion": _counts(scores)}


def _programs(results: Sequence[RefineResult]) -> dict:
    programs = [p for r in results for p in ([r.doc_program] if r.doc_program is not None else []) + list(r.chunk_programs)]
    broken = sum(1 for p in programs if parse_program(p).errors)
    normalizations = [n for r in results for n in r.trace.normalizations]
    before = sum(r.trace.words_before for r in results)
    after = sum(len(r.text.split()) for r in results)
    written = [w for r in results for w in r.written]
    return {
        "programs": len(programs),
        "parse_error_rate": round(broken / len(programs), 4) if programs else 0.0,
        "normalizations": len(normalizations),
        "normalize_source_found": round(sum(1 for n in normalizations if n.count) / len(normalizations), 4) if normalizations else None,
        "words_kept": round(after / before, 4) if before else None,
        "writer_errors": sum(1 for r in results if r.reason == "writer_error"),
        "input_tokens": sum(w.input_tokens for w in written),
        "output_tokens": sum(w.output_tokens for w in written),
    }


def _counts(scores: Confusion) -> dict:
    return {"tp": scores.tp, "fp": scores.fp, "fn": scores.fn, "tn": scores.tn}


def writer_settings(spec: str) -> dict:
    """A writer from a short spec: a preset (``heuristic``, ``web``, ``math``), a model folder that says what it
    is (a ``prox distill`` student) or ``backend:model`` (``transformers:out/refiner``, ``llamacpp:model.gguf``,
    ``openai:name@http://host:8000/v1``)."""
    import os

    from prox.refiner import PRESETS

    if spec not in PRESETS and os.path.isdir(spec):
        return {"preset": None, "doc_model": spec, "chunk_model": spec}
    backend, sep, model = spec.partition(":")
    if not sep:
        return {"preset": spec}
    settings: dict = {"preset": None, "backend": backend}
    if backend == "openai" and "@" in model:
        model, base_url = model.split("@", 1)
        settings["base_url"] = base_url
    settings.update(doc_model=model, chunk_model=model)
    return settings
