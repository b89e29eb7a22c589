import pytest

import prox
from prox.errors import ModelUnavailable
from prox.text.chunker import numbered_lines
from prox.text.line_rules import LineRules
from prox.writers import make_writer
from prox.writers.heuristic import HeuristicWriter

ARTICLE = "\n".join(
    ["Home | News | Sport | Weather | Contact", "Menu", "Search", "Log in"]
    + [
        "Paragraph 0: the river rises in the northern hills and flows south through three market towns.",
        "Farmers along its banks grow barley, beans and apples, and sell them at the Saturday markets.",
        "In spring the snowmelt swells the water, and the old stone bridges sometimes close for a week.",
        "The council built new flood walls in 2019, after two wet winters damaged dozens of houses.",
        "Engineers measured the flow every hour and published the figures on a public website.",
        "Local schools use the data in geography lessons, plotting floods against rainfall by season.",
        "A walking trail follows the water for forty kilometres, with benches and maps at each village.",
        "Birdwatchers come for kingfishers, herons and the rare otters that returned a decade ago.",
        "Fishing is allowed from June to October with a permit bought at any post office in the valley.",
        "The mill museum explains how water once powered looms, saws and the grinding of flour.",
        "Volunteers clear litter from the banks on the first Sunday of every month, rain or shine.",
        "Visitors are asked to keep dogs on leads near the nesting areas during the breeding season.",
    ]
    + ["Share on Facebook", "Copyright 2024 Example. All rights reserved.", "Privacy policy"]
)


def test_heuristic_line_rules_find_navigation_and_legal_lines():
    flags = LineRules().boilerplate(ARTICLE.split("\n"))
    assert flags[:4] == [True] * 4 and not any(flags[4:16]) and flags[16:] == [True] * 3


def test_heuristic_chunk_program_uses_global_line_numbers():
    writer = HeuristicWriter()
    text = "\n".join(f"[{i + 100}]{line}" for i, line in enumerate(ARTICLE.split("\n")))
    program = writer.chunk_program(text)
    assert program.split("\n") == ["remove_lines(line_start=100, line_end=103)", "remove_lines(line_start=116, line_end=118)"]
    assert numbered_lines("[007]a\n[1000]b") == [(7, "a"), (1000, "b")]


def test_refiner_heuristic_end_to_end():
    spam = "buy now " * 40
    results = prox.Refiner(preset="heuristic").refine([ARTICLE, spam, ""])
    assert len(results) == 3
    article, dropped, empty = results
    assert not article.dropped and article.reason == "refined"
    assert article.doc_program == "keep_doc()" and len(article.chunk_programs) == 1
    assert article.text.split("\n")[0].startswith("Paragraph 0") and "Copyright" not in article.text
    assert dropped.dropped and dropped.doc_program == "drop_doc()" and dropped.chunk_programs == ()
    assert empty.dropped


def test_refiner_stages_and_validation():
    only_doc = prox.Refiner(preset="heuristic", stages=["doc"]).refine([ARTICLE])[0]
    assert only_doc.text == ARTICLE and only_doc.chunk_programs == ()
    only_chunk = prox.Refiner(preset="heuristic", stages=["chunk"]).refine([ARTICLE])[0]
    assert only_chunk.doc_program is None and only_chunk.reason == "refined"
    with pytest.raises(ValueError, match="unknown preset"):
        prox.Refiner(preset="nope")
    with pytest.raises(ValueError, match="unknown stages"):
        prox.Refiner(stages=["doc", "line"])


class FailingWriter(HeuristicWriter):
    def write_chunk(self, chunks):
        from prox.writers.base import Written

        return [Written("", error="server unreachable") for _ in chunks]


def test_writer_errors_keep_the_document_and_say_why():
    result = prox.Refiner(preset="heuristic", chunk_writer=FailingWriter()).refine([ARTICLE])[0]
    assert result.reason == "writer_error" and result.text == ARTICLE and not result.dropped
    assert result.errors == ("server unreachable",)


def test_missing_model_is_one_clear_line(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="the transformers backend needs torch (pip install -e '.[hf]')")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailable) as info:
        make_writer("transformers", str(tmp_path / "no-such-model"))
    message = str(info.value)
    assert "\n" not in message and "--preset student-web or heuristic" in message and ".gguf" in message


def test_tiny_transformers_model_end_to_end(tmp_path, llama2_tokenizer):
    pytest.importorskip("torch", reason="the transformers backend needs torch (pip install -e '.[hf]')")
    from models import tiny_llama

    folder = tiny_llama(tmp_path / "tiny", llama2_tokenizer)
    refiner = prox.Refiner(doc_model=str(folder), chunk_model=str(folder), backend="transformers",
                           doc_answer_tokens=8, chunk_answer_tokens=12, prompts_per_batch=2, chunk_tokens=200)
    texts = [ARTICLE, "short doc\nwith two lines", ARTICLE * 3]
    results = refiner.refine(texts)
    assert len(results) == 3
    for text, result in zip(texts, results):
        assert isinstance(result.doc_program, str)
        doc_cost = result.written[0]
        assert doc_cost.input_tokens > 30 and 0 < doc_cost.output_tokens <= 8
        # garbage from random weights is parsed, never executed: the document is kept, refined or dropped by rule
        assert result.reason in {"no_doc_operation", "keep_doc", "drop_doc", "refined", "program_rejected", "too_short", "mostly_removed"}
        if result.chunks:
            assert len(result.chunk_programs) == len(result.chunks)
            assert result.chunks[0].line_start == 0 and result.chunks[-1].line_end == len(text.split("\n")) - 1
    assert len(results[2].chunks) > 1  # a 200-token budget splits the long document


def test_unreachable_hub_model_fails_fast_in_one_line(monkeypatch):
    from prox.models.hub import ensure_loadable

    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModelUnavailable, match="unreachable") as info:  # one check, no minute of retries
        ensure_loadable("gair-prox/no-such-refining-lm")
    assert "\n" not in str(info.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        ensure_loadable("gair-prox/no-such-refining-lm")
