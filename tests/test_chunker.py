
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prox import chunk_document
from prox.text.chunker import reference_chunks
from prox.text.tokenizers import LineTokenCounter


def tiny_wordlevel_tokenizer():
    """A tiny tokenizer built from a config (no download): exercises the generic, batched path."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<s>": 1, "[": 2, "]": 3, **{str(d): 4 + d for d in range(10)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)])
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", unk_token="<unk>")


def test_generic_path_on_a_tiny_tokenizer():
    tokenizer = tiny_wordlevel_tokenizer()
    counter = LineTokenCounter(tokenizer)
    assert not counter.fast
    text = "\n".join(f"w{i} " * (i % 7) for i in range(40))
    chunks = chunk_document(text, counter, max_tokens=30)
    assert [c.text for c in chunks] == reference_chunks(text, tokenizer, 30)
    assert chunks[0].line_start == 0 and chunks[-1].line_end == 39
    assert all(a.line_end + 1 == b.line_start for a, b in zip(chunks, chunks[1:]))


def test_fast_path_is_used_for_llama2(llama2_counter):
    assert llama2_counter.fast


def test_fast_counts_equal_per_line_encode_on_the_corpus(llama2_tokenizer, llama2_counter, web_sample):
    counter = llama2_counter
    for record in web_sample:
        lines = record["text"].split("\n")
        expected = [len(llama2_tokenizer.encode(f"[{i:03d}]{line}")) for i, line in enumerate(lines)]
        assert counter.count(lines) == expected, record["id"]


def test_counts_stay_exact_when_the_fast_path_starts(llama2_tokenizer, web_sample):
    counter = LineTokenCounter(llama2_tokenizer, fast_after_lines=100)
    for record in web_sample[:20]:
        lines = record["text"].split("\n")
        assert counter.count(lines) == [len(llama2_tokenizer.encode(f"[{i:03d}]{line}")) for i, line in enumerate(lines)]
    assert counter._fast is True  # set up once more than 100 lines were counted


line_text = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab c  \t1234567890[](),.<>/s▁é日🙂\u00a0\r")), max_size=40),
    st.text(max_size=40).filter(lambda t: "\n" not in t),
)


@pytest.fixture(scope="module")
def llama2_counter(llama2_tokenizer):
    return LineTokenCounter(llama2_tokenizer, fast_after_lines=0)  # the piece-cache path from the first line


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line_text, min_size=1, max_size=12))
def test_fast_counts_equal_per_line_encode_on_random_lines(llama2_tokenizer, llama2_counter, lines):
    counter = llama2_counter
    expected = [len(llama2_tokenizer.encode(f"[{i:03d}]{line}")) for i, line in enumerate(lines)]
    assert counter.count(lines) == expected


def test_line_numbers_widen_past_999(llama2_tokenizer):
    text = "\n".join(["x"] * 1005)
    chunks = chunk_document(text, llama2_tokenizer, max_tokens=1500)
    assert chunks[-1].text.endswith("[999]x\n[1000]x\n[1001]x\n[1002]x\n[1003]x\n[1004]x")
    assert [c.text for c in chunks] == reference_chunks(text, llama2_tokenizer, 1500)


def test_over_budget_line_is_cut_to_fit(llama2_tokenizer):
    text = "short line\n" + "word " * 3000 + "\nlast"
    chunks = chunk_document(text, llama2_tokenizer, max_tokens=200)
    assert [(c.line_start, c.line_end, c.truncated) for c in chunks] == [(0, 0, False), (1, 1, True), (2, 2, False)]
    assert len(llama2_tokenizer.encode(chunks[1].text)) <= 200
    assert chunks[1].n_tokens > 200  # the packing measure still tells the line's full size


def test_empty_document_is_one_empty_line(llama2_tokenizer):
    assert [c.text for c in chunk_document("", llama2_tokenizer)] == ["[000]"]


def test_tokenizer_given_as_a_path(llama2_tokenizer):
    from conftest import shared_file

    path = str(shared_file("tokenizers/llama2"))
    assert [c.text for c in chunk_document("a\nb", path)] == ["[000]a\n[001]b"]
