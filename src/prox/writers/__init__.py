"""Program writers: one file per backend, all behind :class:`ProgramWriter`.

Backends load their libraries only when built, so importing this package stays light.
"""

from __future__ import annotations

from typing import Any

from prox.writers.base import ProgramWriter, Written
from prox.writers.errors import ModelUnavailable



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
    """A writer for ``backend`` (one of BACKENDS) and ``model`` (hub id, folder, .gguf file or served name),
    with the options that backend takes (:func:`prox.settings.check_options` names them)."""
    from prox.settings import MODEL_FREE, check_options, writer_class

    cls = writer_class(backend)
    check_options(backend, options)
    if backend in MODEL_FREE:
        return cls(**options)
    if model is None:
        raise ValueError(f"the {backend} backend needs a model")
    return cls(model, **options)


__all__ = ["ModelUnavailable", "ProgramWriter", "Written", "default_backend", "make_writer"]
