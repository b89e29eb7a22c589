"""``prox.Refiner``: refine texts in memory, the doc stage first and then the chunk stage, as in ProX.

A thin front over :class:`prox.engine.Engine`: the settings are checked when the refiner is built
(an unknown preset, backend or option fails here, naming the valid ones), then texts go through the
same engine a ``prox refine`` run uses. Each result keeps the programs as written, so they can be
stored and re-executed.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from prox.engine import Engine, RefineResult
from prox.program.executor import DROP_FRACTION, ERROR_LIMIT, SHORT_WORDS
from prox.program.stored import Thresholds
from prox.settings import DEFAULT_PRESET, PRESETS, STAGES, RefineSettings, check_stages
from prox.writers.base import ProgramWriter

__all__ = ["PRESETS", "RefineResult", "Refiner"]


class Refiner:
    """Refine texts with a preset (``web``, ``math``, ``heuristic``) or explicit models and backend.

    ``prox.Refiner(preset="heuristic").refine(texts)`` returns one :class:`RefineResult` per text.
    Explicit ``doc_model`` / ``chunk_model`` / ``backend`` override the preset; ``score=True`` has the
    doc stage write P(drop) and ``drop_threshold`` decide from it; other keyword options are the
    batching settings (:class:`prox.settings.Batching`) and the backend's own (dtype, device, server URL, ...).
    """

    def __init__(
        self,
        preset: str | None = DEFAULT_PRESET,
        doc_model: str | None = None,
        chunk_model: str | None = None,
        backend: str | None = None,
        stages: Sequence[str] = STAGES,
        drop_fraction: float = DROP_FRACTION,
        short_words: int = SHORT_WORDS,
        error_limit: int = ERROR_LIMIT,
        drop_threshold: Optional[float] = None,
        score: bool = False,
        doc_writer: ProgramWriter | None = None,
        chunk_writer: ProgramWriter | None = None,
        writers: dict | None = None,
        **options: Any,
    ):
        self.stages = check_stages(stages)
        self.thresholds = Thresholds(drop_fraction, short_words, error_limit, drop_threshold)
        given = {"doc": doc_writer, "chunk": chunk_writer}
        to_build = [stage for stage in self.stages if given[stage] is None]  # a writer passed in is used as it is
        self.settings = RefineSettings.of(preset, doc_model, chunk_model, backend, to_build, score, **options) if to_build else None
        self.engine = Engine.build(self.settings, self.thresholds, writers, **{f"{s}_writer": given[s] for s in self.stages}) \
            if self.settings else Engine(doc_writer if "doc" in self.stages else None,
                                         chunk_writer if "chunk" in self.stages else None, self.thresholds)

    @property
    def doc_writer(self) -> ProgramWriter | None:
        return self.engine.doc_writer

    @property
    def chunk_writer(self) -> ProgramWriter | None:
        return self.engine.chunk_writer

    def refine(self, texts: Sequence[str]) -> list[RefineResult]:
        """One result per text, in order (see :meth:`prox.engine.Engine.refine`)."""
        return self.engine.refine(texts)
