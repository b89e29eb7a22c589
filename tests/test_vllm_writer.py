"""vLLM paths: run where vLLM and a CUDA GPU exist, skipped with the reason elsewhere."""

import pytest


def gpu_or_skip():
    pytest.importorskip("vllm", reason="vLLM is not installed (pip install 'prox-refine[vllm]' on a GPU machine)")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU; none is visible")


def test_vllm_writer_end_to_end(tmp_path, llama2_tokenizer):
    gpu_or_skip()
    import prox
    from models import tiny_llama

    folder = tiny_llama(tmp_path / "tiny", llama2_tokenizer)
    refiner = prox.Refiner(doc_model=str(folder), chunk_model=str(folder), backend="vllm",
                           doc_max_new_tokens=8, chunk_max_new_tokens=12, gpu_memory_utilization=0.3)
    results = refiner.refine(["first document\nwith lines", "second document"])
    assert len(results) == 2 and all(isinstance(r.doc_program, str) for r in results)
    assert all(w.output_tokens > 0 for r in results for w in r.written)
