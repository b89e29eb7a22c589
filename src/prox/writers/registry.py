"""The backends: their names, the class each builds, the options each takes, and building a writer.

One registry, so a backend is added in one place: a class in ``prox.writers`` and a line in :data:`BACKENDS`.
Classes load their libraries only when built, so reading the registry stays light.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from prox.errors import UsageError
from prox.writers.base import ProgramWriter

# backend -> the class that writes its programs ("module:Class"); importing one is light
BACKENDS: dict[str, str] = {
    "heuristic": "prox.writers.heuristic:HeuristicWriter",
    "student": "prox.writers.student:StudentWriter",
    "transformers": "prox.writers.transformers_writer:TransformersWriter",
    "vllm": "prox.writers.vllm_writer:VLLMWriter",
    "llamacpp": "prox.writers.llamacpp_writer:LlamaCppWriter",
    "openai": "prox.writers.openai_writer:OpenAIWriter",
}
MODEL_FREE = ("heuristic",)


def writer_class(backend: str) -> type:
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    module, name = BACKENDS[backend].split(":")
    return getattr(importlib.import_module(module), name)


def check_options(backend: str, options: Mapping[str, Any], also: Sequence[str] = ()) -> None:
    """Refuse options ``backend`` does not take, naming the ones it does (and ``also``, taken elsewhere), and
    options whose value is not of the type the writer declares (``prompts_per_batch=many``)."""
    valid = [n for n in backend_options(backend) if n not in also]
    unknown = sorted(set(options) - set(valid) - set(also))
    if unknown:
        more = f" (and {', '.join(also)})" if also else ""
        raise UsageError(f"the {backend} backend takes no option {', '.join(map(repr, unknown))}; its options: "
                         f"{', '.join(valid) or 'none'}{more}")
    hints = option_types(backend)
    for name, value in options.items():
        if name in hints and not fits(value, hints[name]):
            raise UsageError(f"the {backend} backend's option {name} takes {_type_name(hints[name])}, not {value!r}")


def option_types(backend: str) -> dict:
    """The declared type of each option of ``backend``'s writer (its constructor's annotations, bases included)."""
    import typing

    hints: dict = {}
    for cls in reversed(writer_class(backend).__mro__):
        if "__init__" in vars(cls) and cls is not object:
            try:
                hints.update(typing.get_type_hints(cls.__init__))
            except Exception:  # an annotation this Python cannot evaluate: that writer checks its own values
                continue
    hints.pop("return", None)
    return hints


def fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as ``-O key=value`` parsed it: JSON, else a string) has the type ``hint`` names. Types
    this cannot judge (classes, ``Any``) pass: the writer checks them."""
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if hint is type(None) or hint is None:
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint in (dict, list, tuple):
        return isinstance(value, hint)
    if origin in (list, tuple, Sequence):
        return isinstance(value, (list, tuple)) and all(fits(v, args[0]) for v in value) if args else isinstance(value, (list, tuple))
    if origin in (dict, Mapping):
        return isinstance(value, dict)
    return True


def _type_name(hint: Any) -> str:
    import types
    import typing

    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(hint))
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", type(None): "null"}
    if hint in names:
        return names[hint]
    origin = typing.get_origin(hint)
    if origin in (list, tuple, Sequence):
        return "a JSON list"
    if origin in (dict, Mapping):
        return "a JSON object"
    return getattr(hint, "__name__", str(hint))


def backend_options(backend: str) -> tuple[str, ...]:
    """The keyword options a backend's writer takes (its constructor's, and its bases' where it passes them on)."""
    names: list[str] = []
    for cls in writer_class(backend).__mro__:
        if "__init__" not in vars(cls):
            continue
        parameters = inspect.signature(cls.__init__).parameters
        names += [n for n, p in parameters.items()
                  if n not in ("self", "model") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            break
    return tuple(dict.fromkeys(names))


def default_backend(model: str) -> str:
    """A student folder says what it is; else vLLM where it and a GPU are there, llama.cpp for .gguf files
    when installed, else transformers."""
    import importlib.util

    from prox.distill.student import is_student

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
    with the options that backend takes (:func:`check_options` names them)."""
    check_options(backend, options)
    if backend not in MODEL_FREE and model is None:
        raise UsageError(f"the {backend} backend needs a model")
    return build_writer(backend, model, options)


def build_writer(backend: str, model: str | None, options: Mapping[str, Any]) -> ProgramWriter:
    """The writer, its options already checked (:class:`prox.settings.RefineSettings` checks them once)."""
    cls = writer_class(backend)
    return cls(**options) if backend in MODEL_FREE else cls(model, **options)
