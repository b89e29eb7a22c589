"""Program writers: one file per backend, all behind :class:`ProgramWriter`.

Backends load their libraries only when built, so importing this package stays light.
"""

from __future__ import annotations

from typing import Any

from prox.writers.base import ProgramWriter, Written
from prox.writers.errors import ModelUnavailable

BACKENDS = ("heuristic", "student", "transformers", "vllm", "llamacpp", "openai")


def default_backend(model: str) -> str:
    """A student folder says what it is; else vLLM where it and a GPU are there, llama.cpp for .gguf files
    when installed, else transformers."""
    import importlib.util

    from prox.writers.student import is_student

    if is_student(model):
        return "student"

    if model.endswith(".gguf"):
        return "llamacpp" if importlib.util.find_spec("llama_cpp") else "transformers"
    if importlib.util.find_spec("vllm") and importlib.util.find_spec("torch"):
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "transformers"


def make_writer(backend: str, model: str | None = None, **options: Any) -> ProgramWriter:
    """A writer for ``backend`` (one of BACKENDS) and ``model`` (hub id, folder, .gguf file or served name)."""
    if backend == "heuristic":  # model options (batch sizes, constraints, ...) do not apply to rules
        from prox.writers.heuristic import HeuristicWriter

        return HeuristicWriter(**{k: v for k, v in options.items() if k in ("line_rules", "doc_filters", "judge")})
    if model is None:
        raise ValueError(f"the {backend} backend needs a model")
    if backend == "student":
        from prox.writers.student import StudentWriter

        return StudentWriter(model, **{k: v for k, v in options.items() if k in ("line_threshold", "drop_threshold")})
    if backend == "transformers":
        from prox.writers.transformers_writer import TransformersWriter

        return TransformersWriter(model, **options)
    if backend == "vllm":
        from prox.writers.vllm_writer import VLLMWriter

        return VLLMWriter(model, **options)
    if backend == "llamacpp":
        from prox.writers.llamacpp_writer import LlamaCppWriter

        return LlamaCppWriter(model, **options)
    if backend == "openai":
        from prox.writers.openai_writer import OpenAIWriter

        return OpenAIWriter(model, **options)
    raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "ModelUnavailable", "ProgramWriter", "Written", "default_backend", "make_writer"]
