"""Adaptation: deriving programs from labels, evaluating writers, fine-tuning a refiner."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prox import execute_chunk
from prox.adapt.derive import align, chunk_records, from_labelled, from_pair
from prox.adapt.evaluate import evaluate, writer_settings
from prox.labels import LabelError, LabelledDoc, LabelledPage, LabelledSet, read_labelled

PAGE = ["Home | About | Contact", "How to prune roses [edit]", "Cut just above an outward-facing bud, at an angle.",
        "Remove dead wood first, then crossing stems.", "Share on Facebook", "Copyright © 2024 Garden Club"]


def test_line_flags_become_programs_that_remove_exactly_those_lines():
    page = LabelledPage("p", tuple(PAGE), (False, True, True, True, False, False))
    records = list(from_labelled(LabelledSet("x", "lines", (page,))))
    assert [r["program"] for r in records] == ["remove_lines(line_start=0, line_end=0)\nremove_lines(line_start=4, line_end=5)"]
    result = execute_chunk("\n".join(PAGE), [r["program"] for r in records], short_words=0)
    assert result.text.split("\n") == PAGE[1:4]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=30), st.booleans()), min_size=1, max_size=40))
def test_derived_programs_reproduce_any_line_labels(rows):
    lines, keep = [r[0] for r in rows], [r[1] for r in rows]
    removed = [i for i, k in enumerate(keep) if not k]
    programs = [r["program"] for r in chunk_records("d", "\n".join(lines), removed)]
    result = execute_chunk("\n".join(lines), programs, short_words=-1, drop_fraction=1.01)
    assert tuple(result.trace.removed_lines) == tuple(removed)


def test_chunk_programs_follow_the_chunk_boundaries(llama2_tokenizer):
    text = "\n".join(f"line {i} " + "words " * 30 for i in range(60))
    removed = list(range(0, 60, 7))
    records = chunk_records("d", text, removed, tokenizer=llama2_tokenizer, max_tokens=300)
    assert len(records) > 2
    for record in records:
        assert record["chunk"].startswith(f"[{record['line_start']:03d}]")
        mine = [n for n in removed if record["line_start"] <= n <= record["line_end"]]
        result = execute_chunk(text, record["program"], short_words=-1, drop_fraction=1.01, error_limit=99)
        assert list(result.trace.removed_lines) == mine


def test_aligning_raw_and_clean_text():
    raw = "\n".join(PAGE)
    clean = "How to prune roses\nCut just above an outward-facing bud, at an angle.\nRemove dead wood first, then crossing stems."
    alignment = align(raw, clean)
    assert alignment.removed == {0, 4, 5} and [n.source_str for n in alignment.normalizations] == [" [edit]"]
    programs = [r["program"] for r in from_pair("p", raw, clean)]
    assert execute_chunk(raw, programs, short_words=0).text == clean
    # a rewritten line cannot be produced by a program: it stays, and is counted
    rewritten = align("a first line\nsecond line", "A FIRST LINE\nsecond line")
    assert rewritten.removed == {0} or rewritten.unmatched_clean_lines == 1


def test_labelled_files_are_read_as_they_are_and_split(tmp_path):
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps({"id": f"p{i}", "lines": ["a", "b"], "keep": [1, 0]}) for i in range(10)) + "\n")
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"text": "hello", "keep": 1}) + "\n" + json.dumps({"text": "spam", "keep": 0}) + "\n")
    line_set, doc_set = read_labelled(str(lines)), read_labelled(str(docs))
    assert line_set.kind == "lines" and doc_set.kind == "docs" and doc_set.items[1] == LabelledDoc(f"{docs}/1", "spam", False)
    train, validation = line_set.split(0.3)
    assert len(train.items) == 7 and len(validation.items) == 3 and not set(train.items) & set(validation.items)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"lines": ["a"], "keep": [1, 0]}) + "\n")
    with pytest.raises(LabelError, match="bad.jsonl, line 1"):
        read_labelled(str(bad))


class FixedWriter:
    """Writes one fixed chunk program: evaluation arithmetic can then be checked by hand."""

    name = "fixed"

    def __init__(self, program: str):
        self.program = program

    def write_doc(self, documents):
        from prox.writers.base import Written

        return [Written("keep_doc()") for _ in documents]

    def write_chunk(self, chunks):
        from prox.writers.base import Written

        return [Written(self.program) for _ in chunks]


def test_evaluate_scores_lines_and_docs():
    page = LabelledPage("p", tuple(PAGE), (False, True, True, True, False, False))
    pages = LabelledSet("lines", "lines", (page,))
    exact = FixedWriter('remove_lines(line_start=0, line_end=0)\nremove_lines(line_start=4, line_end=5)\nnormalize(source_str=" [edit]", target_str="")')
    figures = evaluate(pages, stages=["chunk"], preset=None, chunk_writer=exact)
    assert figures["remove_precision"] == 1.0 and figures["remove_recall"] == 1.0 and figures["macro_f1"] == 1.0
    assert figures["parse_error_rate"] == 0.0 and figures["normalize_source_found"] == 1.0
    half = FixedWriter('remove_lines(line_start=0, line_end=1)\nnormalize(source_str="absent", target_str="")\nnot a call')
    figures = evaluate(pages, stages=["chunk"], preset=None, chunk_writer=half)
    assert figures["remove_precision"] == 0.5 and figures["remove_recall"] == round(1 / 3, 4)
    assert figures["parse_error_rate"] == 1.0 and figures["normalize_source_found"] == 0.0
    good = ("Roses flower on new wood, so a hard cut in late winter is what gives the summer its blooms. Start with "
            "the dead and damaged stems, which are brown and brittle inside, and take them back to the base. Then look "
            "for stems that cross and rub against each other: keep the stronger one. Finally cut each remaining stem "
            "just above an outward-facing bud, at a slight angle so that rain runs off the cut. The plant will look "
            "bare for a few weeks, but the new shoots grow outwards, which keeps the centre open to light and air.")
    docs = LabelledSet("docs", "docs", (LabelledDoc("a", good, True), LabelledDoc("b", "buy cheap " * 50, False)))
    figures = evaluate(docs, **writer_settings("heuristic"))
    assert figures["accuracy"] == 1.0 and figures["drop_f1"] == 1.0 and figures["items"] == 2


def test_writer_specs():
    assert writer_settings("web") == {"preset": "web"}
    assert writer_settings("transformers:out/refiner")["doc_model"] == "out/refiner"
    spec = writer_settings("openai:teacher@http://127.0.0.1:8000/v1")
    assert spec["base_url"] == "http://127.0.0.1:8000/v1" and spec["chunk_model"] == "teacher"


def test_train_tiny_model_masks_prompts_resumes_and_loads_in_a_writer(tmp_path, llama2_tokenizer):
    pytest.importorskip("torch", reason="training needs torch (pip install -e '.[train]')")
    from models import tiny_llama

    from prox.adapt.train import IGNORE, TrainConfig, examples, train
    from prox.writers import make_writer

    base = tiny_llama(tmp_path / "base", llama2_tokenizer)
    page = LabelledPage("p", tuple(PAGE), (False, True, True, True, False, False))
    records = list(from_labelled(LabelledSet("x", "lines", (page,)), llama2_tokenizer))
    records += [{"id": "d", "level": "doc", "text": "buy cheap " * 20, "program": "drop_doc()"}]
    data, too_long = examples(records, llama2_tokenizer)
    assert too_long == 0 and len(data) == 2
    for example in data:
        program = [t for t in example["labels"] if t != IGNORE]
        assert program[-1] == llama2_tokenizer.eos_token_id
        assert example["input_ids"][-len(program):] == program and example["labels"][0] == IGNORE
    config = TrainConfig(str(base), str(tmp_path / "refiner"), max_steps=2, batch_size=2, save_steps=2)
    first = train(config, records)
    assert first["steps"] == 2 and first["resumed_from"] is None
    config.max_steps = 4
    second = train(config, records)
    assert second["steps"] == 4 and second["resumed_from"].endswith("checkpoint-2")
    writer = make_writer("transformers", str(tmp_path / "refiner"), doc_answer_tokens=16)
    assert writer.write_doc(["a short document"])[0].program in ("keep_doc()", "drop_doc()")


def test_train_with_lora_merges_into_a_plain_model_folder(tmp_path, llama2_tokenizer):
    pytest.importorskip("peft", reason="LoRA needs peft (pip install -e '.[train]')")
    from models import tiny_llama

    from prox.adapt.train import TrainConfig, train
    from prox.writers.transformers_writer import load_model

    base = tiny_llama(tmp_path / "base", llama2_tokenizer)
    records = [{"id": "d", "level": "doc", "text": "some text " * 10, "program": "keep_doc()"}]
    figures = train(TrainConfig(str(base), str(tmp_path / "lora"), max_steps=1, batch_size=1, lora=True, lora_rank=4), records)
    assert figures["steps"] == 1
    model, _ = load_model(str(tmp_path / "lora"), "fp32", "cpu")
    assert not any("lora" in name for name, _ in model.named_parameters())
    # the unmerged adapter (what prox ships) loads on its base and computes what the merged folder does
    import torch

    adapter = tmp_path / "lora" / "adapter"
    assert (adapter / "adapter_config.json").exists()
    shipped, _ = load_model(str(adapter), "fp32", "cpu")
    ids = torch.tensor([llama2_tokenizer.encode("keep_doc() some text")])
    with torch.no_grad():
        assert torch.allclose(shipped(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-4)
    # a second round goes on from the adapter: its rank, and (at a vanishing learning rate) its weights
    from safetensors.torch import load_file

    again = train(TrainConfig(str(base), str(tmp_path / "round2"), max_steps=1, batch_size=1, lora=True, lora_rank=8,
                              learning_rate=1e-12, init_adapter=str(adapter)), records)
    assert again["steps"] == 1
    before = load_file(str(adapter / "adapter_model.safetensors"))
    after = load_file(str(tmp_path / "round2" / "adapter" / "adapter_model.safetensors"))
    assert before.keys() == after.keys() and any(t.abs().sum() > 0 for k, t in before.items() if "lora_B" in k)
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
    with pytest.raises(ValueError, match="lora=True"):
        train(TrainConfig(str(base), str(tmp_path / "full"), max_steps=1, init_adapter=str(adapter)), records)


def test_program_loss_is_the_loss_of_the_answer_tokens_alone(tmp_path, llama2_tokenizer):
    """Computing logits only from the first answer token on changes nothing but the work."""
    import torch
    from models import tiny_llama
    from transformers import AutoModelForCausalLM, DataCollatorForSeq2Seq

    from prox.adapt.train import IGNORE, examples, program_loss

    model = AutoModelForCausalLM.from_pretrained(tiny_llama(tmp_path / "base", llama2_tokenizer)).eval()
    records = [{"id": "a", "level": "doc", "text": "some text " * 30, "program": "keep_doc()"},
               {"id": "b", "level": "chunk", "chunk": "[000]Home\n[001]A sentence of prose.", "line_start": 0, "line_end": 1,
                "program": "remove_lines(line_start=0, line_end=0)"}]
    data, _ = examples(records, llama2_tokenizer)
    llama2_tokenizer.pad_token = llama2_tokenizer.eos_token
    llama2_tokenizer.padding_side = "left"
    batch = DataCollatorForSeq2Seq(llama2_tokenizer, padding=True, label_pad_token_id=IGNORE)(data)
    assert batch["attention_mask"][:, 0].tolist() != [1, 1]  # one row is left-padded
    with torch.no_grad():
        fast = program_loss(model, batch)
        positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=positions).logits
        full = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), batch["labels"][:, 1:].reshape(-1),
                                                 ignore_index=IGNORE)
    assert torch.allclose(fast, full, atol=1e-5)


class TeacherServer:
    """An OpenAI-compatible chat server answering like a well-behaved teacher, with one broken answer."""

    def __init__(self):
        from servers import JsonServer

        self.server = JsonServer(self.respond)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> int:
        return self.server.requests

    def respond(self, body: dict) -> dict:
        prompt = body["messages"][0]["content"]
        return {"choices": [{"message": {"content": self.answer(prompt)}}],
                "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": 7}}

    @staticmethod
    def answer(prompt: str) -> str:
        spam = "buy cheap" in prompt
        if "Educational score" in prompt:
            return f"Reasoning here.\nEducational score: {0 if spam else 3}"
        if "Format score" in prompt:
            return "Looks fine.\n**Format score: 4**" if "ROSES" in prompt else "Format score: five"  # one unparsable
        if "find navigation" in prompt and "[/doc]" in prompt:
            return "```\nremove_lines(line_start=0, line_end=0)\n```"
        if "find footers" in prompt:
            return "remove_lines(line_start=4, line_end=99)"  # beyond the chunk: invalid, set aside
        if "noise inside lines" in prompt:
            return 'normalize(source_str=" [edit]", target_str="")'
        return "skip_chunk()"

    def close(self):
        self.server.close()


def test_annotate_with_a_teacher_server_parses_checks_merges_and_caches(tmp_path):
    from prox.adapt.annotate import Teacher, annotate

    server = TeacherServer()
    source = tmp_path / "seed.jsonl"
    page = "\n".join(PAGE).replace("How to prune", "ROSES: how to prune")
    source.write_text(json.dumps({"id": "roses", "text": page}) + "\n" + json.dumps({"id": "spam", "text": "buy cheap pills"}) + "\n"
                      + "{broken\n")
    try:
        teacher = Teacher("teacher", server.url, cache=str(tmp_path / "out" / "cache.sqlite"))
        stats = annotate([str(source)], str(tmp_path / "out"), teacher)
        first_requests = server.requests
        again = annotate([str(source)], str(tmp_path / "out"), Teacher("teacher", server.url, cache=str(tmp_path / "out" / "cache.sqlite")))
    finally:
        server.close()
    records = [json.loads(line) for line in (tmp_path / "out" / "annotations.jsonl").read_text().splitlines()]
    invalid = [json.loads(line) for line in (tmp_path / "out" / "invalid.jsonl").read_text().splitlines()]
    doc = next(r for r in records if r["level"] == "doc")
    assert doc["id"] == "roses" and doc["program"] == "keep_doc()" and doc["teacher"]["format"] == 4  # edu 3 keeps it
    reasons = sorted(r["reason"].split(":")[0].split(" (")[0][:20] for r in invalid)
    assert any(r["level"] == "doc" and r["id"] == "spam" and r["reason"] == "no format score" for r in invalid)
    assert any(r["level"] == "input" for r in invalid) and reasons
    chunks = {r["id"]: r for r in records if r["level"] == "chunk"}
    roses = chunks["roses#0"]["program"].split("\n")
    assert roses == ["remove_lines(line_start=0, line_end=0)", 'normalize(source_str=" [edit]", target_str="")']
    assert any(r.get("kind") == "footer" and "outside lines" in r["reason"] for r in invalid)
    assert stats.documents == 3 and stats.input_tokens > 0 and stats.output_tokens > 0
    assert first_requests == stats.requests and server.requests == first_requests  # the rerun was served from the cache
    assert again.cached_answers == 2 * 2 + 2 * 4  # both documents: 2 doc prompts and 4 chunk prompts each


def test_prompts_are_package_data_for_both_domains():
    from prox.adapt.annotate import Prompts

    for domain in ("web", "math"):
        prompts = Prompts.load(domain)
        assert "{document}" in prompts.doc["edu"] and set(prompts.tasks) >= {"navigation", "links", "footer", "inline"}
        assert "[/doc]" in prompts.for_chunk("links", whole_chunk("a\nb"))
    assert "mathemat" in Prompts.load("math").doc["edu"]


def whole_chunk(text):
    from prox.text.chunker import whole_document_chunk

    return whole_document_chunk(text)


@pytest.mark.slow
def test_annotate_with_smollm2_behind_a_real_llamacpp_server(llamacpp_server, tmp_path):
    """A weak teacher: whatever it writes is parsed and checked; every document and chunk is accounted for."""
    from prox.adapt.annotate import Teacher, annotate

    source = tmp_path / "seed.jsonl"
    source.write_text("\n".join(json.dumps({"id": f"d{i}", "text": text}) for i, text in
                                enumerate(["\n".join(PAGE), "Buy cheap watches now!!! Best prices. Click here."])) + "\n")
    cache = str(tmp_path / "out" / "cache.sqlite")
    stats = annotate([str(source)], str(tmp_path / "out"), Teacher("smollm2", llamacpp_server, answer_tokens=64, cache=cache, max_in_flight=2))
    invalid = [json.loads(line) for line in (tmp_path / "out" / "invalid.jsonl").read_text().splitlines()]
    assert stats.documents == 2 and stats.requests == 2 * 2 + 2 * 4
    assert stats.doc_records + sum(1 for r in invalid if r["level"] == "doc") == 2
    assert stats.chunk_records + stats.invalid.get("no valid program for the chunk", 0) == stats.chunks == 2
    assert stats.input_tokens > 200 and stats.output_tokens > 0
    for record in (json.loads(line) for line in (tmp_path / "out" / "annotations.jsonl").read_text().splitlines()):
        assert record["program"] and (record["level"] == "doc" or record["program"].count("\n") < 40)
    again = annotate([str(source)], str(tmp_path / "out2"), Teacher("smollm2", llamacpp_server, answer_tokens=64, cache=cache))
    assert again.requests == 0 and again.cached_answers == 12


def test_derive_and_evaluate_commands(tmp_path):
    from typer.testing import CliRunner

    from prox.cli import app

    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps({"id": "p", "lines": PAGE, "keep": [0, 1, 1, 1, 0, 0]}) + "\n")
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"text": "buy cheap " * 50, "keep": 0}) + "\n")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"id": "q", "raw": "\n".join(PAGE), "clean": "\n".join(PAGE[1:4])}) + "\n")
    runner = CliRunner()
    derived = runner.invoke(app, ["derive", "-o", str(tmp_path / "derived.jsonl"), "--lines", str(lines), "--docs", str(docs),
                                  "--pairs", str(pairs)])
    assert derived.exit_code == 0, derived.output
    records = [json.loads(line) for line in (tmp_path / "derived.jsonl").read_text().splitlines()]
    assert [r["level"] for r in records] == ["chunk", "doc", "chunk"] and records[1]["program"] == "drop_doc()"
    evaluated = runner.invoke(app, ["evaluate", "--lines", str(lines), "--docs", str(docs), "-w", "heuristic",
                                    "--stages", "chunk", "--json", str(tmp_path / "eval.json")])
    assert evaluated.exit_code == 0, evaluated.output
    figures = json.loads((tmp_path / "eval.json").read_text())["heuristic"]
    assert set(figures) == {str(lines), str(docs)}
    assert "macro_f1" in figures[str(lines)] and figures[str(docs)]["accuracy"] == 1.0
    bad = runner.invoke(app, ["evaluate", "--docs", str(lines)])
    assert bad.exit_code == 2 and "lines.jsonl, line 1" in bad.output


def test_model_trained_from_a_gguf_runs_in_llamacpp_with_the_same_programs(tmp_path):
    """Fine-tuned from a GGUF, the output folder also holds model.gguf: llama.cpp and transformers agree on it."""
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python (the [llamacpp] extra)")
    pytest.importorskip("torch", reason="training needs torch")
    from conftest import smollm2_gguf
    from models import tiny_llama_gguf

    import prox
    from prox.adapt.train import TrainConfig, train

    base = tiny_llama_gguf(tmp_path / "base.gguf", smollm2_gguf())
    records = [{"id": "d", "level": "doc", "text": "buy cheap " * 20, "program": "drop_doc()"},
               {"id": "k", "level": "doc", "text": " ".join(PAGE), "program": "keep_doc()"}]
    train(TrainConfig(str(base), str(tmp_path / "refiner"), max_steps=3, batch_size=2, learning_rate=1e-3,
                      gguf_dtype="f32"), records)  # f32: random weights leave near-ties that f16 rounding flips
    assert (tmp_path / "refiner" / "model.gguf").exists()
    # the GGUF holds exactly the trained weights: transformers reads it back to the same tensors
    from prox.writers.transformers_writer import load_model

    trained, _ = load_model(str(tmp_path / "refiner"), "fp32", "cpu")
    exported, _ = load_model(str(tmp_path / "refiner" / "model.gguf"), "fp32", "cpu")
    mine, theirs = trained.state_dict(), exported.state_dict()
    assert set(mine) == set(theirs) and all(bool((mine[k] == theirs[k]).all()) for k in mine)
    docs = ["\n".join(PAGE), "Buy cheap watches now!!! Best prices, free shipping, click here.", "A note about rivers."]
    programs = {}
    for backend, extra in [("llamacpp", {}), ("transformers", {"dtype": "fp32"})]:
        refiner = prox.Refiner(doc_model=str(tmp_path / "refiner"), chunk_model=str(tmp_path / "refiner"), backend=backend,
                               stages=["doc"], doc_answer_tokens=8, **extra)
        programs[backend] = [r.doc_program for r in refiner.refine(docs)]
        assert all(p in ("keep_doc()", "drop_doc()") for p in programs[backend])
    assert programs["llamacpp"] == programs["transformers"]
