"""vLLM paths: run where vLLM and a CUDA GPU exist, skipped with the reason elsewhere."""

import pytest


def gpu_or_skip():
    pytest.importorskip("vllm", reason="vLLM is not installed (pip install 'prox-refine[vllm]' on a GPU machine)")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU; none is visible")


def test_vllm_writer_end_to_end(tmp_path, llama2_tokenizer):
    gpu_or_skip()
    from models import tiny_llama

    import prox

    folder = tiny_llama(tmp_path / "tiny", llama2_tokenizer)
    refiner = prox.Refiner(doc_model=str(folder), chunk_model=str(folder), backend="vllm",
                           doc_answer_tokens=8, chunk_answer_tokens=12, gpu_memory_utilization=0.3)
    results = refiner.refine(["first document\nwith lines", "second document"])
    assert len(results) == 2 and all(isinstance(r.doc_program, str) for r in results)
    assert all(w.output_tokens > 0 for r in results for w in r.written)


def test_vllm_writer_constrains_programs_with_grammars(tmp_path, llama2_tokenizer):
    gpu_or_skip()
    from models import tiny_llama

    from prox import parse_program
    from prox.text.chunker import chunk_document
    from prox.writers.vllm_writer import VLLMWriter

    folder = tiny_llama(tmp_path / "tiny", llama2_tokenizer, seed=1)
    writer = VLLMWriter(str(folder), gpu_memory_utilization=0.3)  # constrained by default
    assert {w.program for w in writer.write_doc(["one", "two", "three"])} <= {"drop_doc()", "keep_doc()"}
    chunks = chunk_document("\n".join(f"line {i} \"quoted\" [x]" for i in range(40)), llama2_tokenizer, max_tokens=120)
    for chunk, written in zip(chunks, writer.write_chunk(chunks)):
        program = parse_program(written.program)
        if written.output_tokens < writer.chunk_answer_tokens:  # not cut by the budget: every line is whole
            assert not program.errors, written.program
        numbers = [n for op in program.operations for n in (getattr(op, "line_start", None), getattr(op, "line_end", None)) if n is not None]
        assert all(chunk.line_start <= n <= chunk.line_end for n in numbers)


def test_grammars_compile_in_xgrammar_the_engine_of_vllm_structured_outputs(llama2_tokenizer):
    xgr = pytest.importorskip("xgrammar", reason="xgrammar (vLLM's grammar engine) is not installed")
    from prox.constrain.gbnf import DOC_GRAMMAR, chunk_grammar

    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo.from_huggingface(llama2_tokenizer))

    def accepts(grammar: str, text: str) -> bool:
        matcher = xgr.GrammarMatcher(compiler.compile_grammar(grammar))
        return matcher.accept_string(text) and matcher.accept_token(llama2_tokenizer.eos_token_id)

    assert accepts(DOC_GRAMMAR, "drop_doc()") and accepts(DOC_GRAMMAR, " keep_doc()")
    assert not accepts(DOC_GRAMMAR, "drop_doc() ")
    chunk = chunk_grammar(10, 20)
    assert accepts(chunk, 'remove_lines(line_start=12, line_end=15)\nnormalize(source_str="Click here", target_str="")')
    assert accepts(chunk, "skip_chunk()")
    for bad in ["remove_lines(line_start=15, line_end=12)", "remove_lines(line_start=9, line_end=12)",
                "remove_lines(line_start=12, line_end=21)", 'normalize(source_str="", target_str="x")', "drop_doc()"]:
        assert not accepts(chunk, bad), bad
