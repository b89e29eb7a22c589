import time

import pytest
from conftest import smollm2_gguf
from servers import FlakyServer, SlowServer

import prox
from prox.writers.openai_writer import OpenAIWriter

DOCS = ["A first document about rivers and bridges.", "FAIL this one always fails.", "HANG this one never answers.",
        "A fourth document about mills and flour."]


@pytest.fixture()
def flaky():
    server = FlakyServer(fail_first=2, hang_seconds=3.0)
    yield server
    server.close()


def test_retries_then_errors_recorded_per_document(flaky, llama2_tokenizer, tmp_path):
    writer = OpenAIWriter("flaky", base_url=flaky.url, tokenizer=llama2_tokenizer, mode="text", timeout=1.0,
                          max_retries=3, backoff=0.01, cache=str(tmp_path / "cache.sqlite"))
    written = writer.write_doc(DOCS)
    assert [w.program for w in written] == ["keep_doc()", "", "", "keep_doc()"]
    assert written[0].error is None and written[0].output_tokens == 4 and written[0].input_tokens > 40
    assert "gave up after 4 attempts" in written[1].error and "503" in written[1].error
    assert "gave up after 4 attempts" in written[2].error and "Timeout" in written[2].error
    assert max(flaky.attempts.values()) == 4  # every failing prompt was tried 1 + 3 times

    # the cache answers a rerun without asking the server again for what already succeeded
    before = flaky.requests
    again = OpenAIWriter("flaky", base_url=flaky.url, tokenizer=llama2_tokenizer, mode="text", timeout=1.0,
                         max_retries=0, backoff=0.01, cache=str(tmp_path / "cache.sqlite")).write_doc([DOCS[0], DOCS[3]])
    assert [w.program for w in again] == ["keep_doc()", "keep_doc()"] and flaky.requests == before


def test_refiner_keeps_documents_whose_requests_failed(flaky, llama2_tokenizer):
    refiner = prox.Refiner(doc_model="flaky", backend="openai", stages=["doc"], base_url=flaky.url,
                           tokenizer=llama2_tokenizer, mode="text", timeout=1.0, max_retries=2, backoff=0.01)
    results = refiner.refine(DOCS)
    assert [r.reason for r in results] == ["keep_doc", "writer_error", "writer_error", "keep_doc"]
    assert [r.text for r in results] == DOCS  # nothing lost


def test_unreachable_server_is_an_error_not_a_crash(llama2_tokenizer):
    from servers import free_port

    writer = OpenAIWriter("x", base_url=f"http://127.0.0.1:{free_port()}/v1", tokenizer=llama2_tokenizer,
                          max_retries=1, backoff=0.01, timeout=1.0)
    written = writer.write_chunk(["[000]only line"])
    assert written[0].error and "ConnectError" in written[0].error


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["text", "chat"])  # llama-cpp-python's server takes no token-id prompts
def test_real_llamacpp_server_writes_programs(llamacpp_server, mode):
    from prox.writers.llamacpp_writer import gguf_tokenizer

    tokenizer = gguf_tokenizer(smollm2_gguf())
    writer = OpenAIWriter("smollm2", base_url=llamacpp_server, tokenizer=tokenizer, mode=mode, max_in_flight=2,
                          doc_answer_tokens=12, chunk_answer_tokens=24)
    written = writer.write_doc(DOCS[:1] + DOCS[3:]) + writer.write_chunk(["[000]Home | About\n[001]" + DOCS[0]])
    for w in written:
        assert w.error is None and w.program and 0 < w.output_tokens <= 24 and w.input_tokens > 10


@pytest.mark.slow
def test_server_grammar_constrains_llamacpp_server(llamacpp_server):
    from prox import RemoveLines, parse_program
    from prox.text.chunker import Chunk
    from prox.writers.llamacpp_writer import gguf_tokenizer

    tokenizer = gguf_tokenizer(smollm2_gguf())
    writer = OpenAIWriter("smollm2", base_url=llamacpp_server, tokenizer=tokenizer, mode="text", grammar_field="grammar",
                          doc_answer_tokens=12, chunk_answer_tokens=64)
    for w in writer.write_doc(DOCS[:1] + DOCS[3:]):
        assert w.error is None and w.program.strip() in ("drop_doc()", "keep_doc()")
    chunk = Chunk("[120]Home | About | Contact\n[121]" + DOCS[0] + "\n[122]Copyright 2024", 120, 122, 0)
    (w,) = writer.write_chunk([chunk])
    program = parse_program(w.program)
    assert w.error is None and program.operations
    # a program cut by the token budget may end on a broken line; every complete line is valid and in range
    assert len(program.errors) <= 1 and all(e.line == len(w.program.split("\n")) - 1 for e in program.errors)
    assert all(120 <= op.line_start <= op.line_end <= 122 for op in program.of_type(RemoveLines) if op.line_start <= op.line_end)


@pytest.mark.slow
def test_scoring_through_server_logprobs_agrees_with_grammar_greedy(llamacpp_server):
    from prox.writers.llamacpp_writer import gguf_tokenizer

    tokenizer = gguf_tokenizer(smollm2_gguf())
    texts = [d for d in DOCS if not d.startswith(("FAIL", "HANG"))] + ["Buy cheap watches now!!! Best prices, free shipping."]
    writer = OpenAIWriter("smollm2", base_url=llamacpp_server, tokenizer=tokenizer, mode="text", grammar_field="grammar",
                          doc_answer_tokens=12)
    greedy = writer.write_doc(texts)
    writer.doc_mode = "score"
    scored = writer.write_doc(texts)
    for g, s in zip(greedy, scored):
        assert s.error is None and 0.0 <= s.drop_probability <= 1.0
        assert g.program.strip() == s.program


def test_a_dripping_server_meets_the_deadline_of_the_whole_answer(llama2_tokenizer):
    server = SlowServer(drip=1, pause=0.5, size=10_000)
    try:
        writer = OpenAIWriter("x", base_url=server.url, tokenizer=llama2_tokenizer, mode="text", timeout=1.5, max_retries=1, backoff=0.01)
        start = time.perf_counter()
        (written,) = writer.write_doc([DOCS[0]])
        assert time.perf_counter() - start < 8  # 2 attempts of 1.5 s, not 10,000 reads of 0.5 s
        assert "no whole answer within 1.5 s" in written.error
    finally:
        server.close()


def test_an_endless_answer_is_cut_at_the_byte_cap():
    from prox.serving import ServerClient

    server = SlowServer(drip=1 << 16, pause=0.0, size=float("inf"))
    try:
        client = ServerClient(server.url, timeout=30, max_retries=3, max_answer_bytes=1 << 20)
        start = time.perf_counter()
        (result,) = client.each([0], lambda http, _: client.post(http, "/completions", {"prompt": "x"}, lambda a: a))
        answer, error, _ = result
        assert answer is None and "passed 1,048,576 bytes" in error and client.requests_sent == 1  # final: not retried
        assert time.perf_counter() - start < 10
    finally:
        server.close()
