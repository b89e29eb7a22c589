"""Hostile programs, hostile inputs and user mistakes: each class an attack on prox found, and its fix.

Every test here failed before the fix: a run that died (and died again on rerun), documents lost with
the counts still balanced, a run that changed without a word, a mistake that passed as success, or a
traceback where a one-line error belongs.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prox.cli import app
from prox.program import execute_chunk, parse_program
from prox.program import parser as parser_module
from prox.program.limits import MAX_LINE_NUMBER, MAX_PROGRAM_CHARS, growth_limit
from prox.program.operations import RemoveLines
from prox.records import read_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

runner = CliRunner()
BODY = ("The river town kept its old stone bridge after the flood because the builders had set it on bedrock. "
        "Engineers who surveyed it a century later found the arches had barely moved and the mortar was sound. ")


def article(i: int, marker: str = "") -> str:
    return "\n".join([f"Story {i}: the bridge {marker}".strip(), BODY * 3, BODY * 2, "Share on Facebook"])


def write_jsonl(path: Path, records) -> Path:
    path.write_bytes(b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records))
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def outputs(run: Path) -> dict[str, list[dict]]:
    found = {}
    for kind in ("kept", "dropped", "rejected"):
        files = sorted((run / kind).glob("*.jsonl")) if (run / kind).is_dir() else sorted(run.glob(f"{kind}.jsonl"))
        found[kind] = [r for path in files for r in read_jsonl(path)]
    return found


def one_line_error(result) -> str:
    text = result.output
    assert result.exit_code == 2, text
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 2, text
    return text


# --- one document's program can no longer kill the task ------------------------------------------------------
def test_huge_line_numbers_are_errors_and_every_call_survives_them():
    program_text = "remove_lines(line_start=0, line_end=0x" + "f" * 5000 + ")\nremove_lines(line_start=1, line_end=1)"
    program = parse_program(program_text)
    assert f"{MAX_LINE_NUMBER:,}" in program.errors[0].message and len(program.operations) == 1
    assert str(program) == "remove_lines(line_start=1, line_end=1)"
    result = execute_chunk("zero\none two three\n" + "word " * 30, program_text)
    assert result.reason == "refined" and "one two three" not in result.text
    with pytest.raises(ValueError, match="limit"):
        RemoveLines(0, 10**5000)


def test_lone_surrogates_in_programs_are_refused_and_in_records_mended(tmp_path):
    assert "lone surrogate" in parse_program('normalize(source_str="a", target_str="\\ud800")').errors[0].message
    assert parse_program('normalize(source_str="a", target_str="\ud800")').errors  # a raw one cannot even be parsed
    # prox execute: a stored program and a text holding lone surrogates (valid JSON escapes) come out as valid UTF-8
    record = {"id": "s", "raw_content": article(0) + " \ud800", "metadata": {
        "doc_program": "keep_doc()", "chunk_program": ['normalize(source_str="bridge", target_str="\ud800")']}}
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(record) + "\n", encoding="ascii")
    result = runner.invoke(app, ["execute", str(source), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (kept,) = outputs(tmp_path / "out")["kept"]
    assert "\ufffd" in kept["text"] and "bridge" not in kept["text"]


def test_normalize_cannot_grow_a_document_without_bound():
    text = "a bridge and a river\n" * 150  # ~3 kB
    result = execute_chunk(text, "\n".join(['normalize(source_str="a", target_str="aa")'] * 20))
    assert len(result.text) <= growth_limit(len(text))
    assert any("would grow the document" in e for e in result.trace.errors)
    assert result.reason == "program_rejected"  # many refused operations: the program is not trusted at all


def test_parse_work_is_linear_in_the_program(monkeypatch):
    parsed_chars = []
    original = parser_module._parse
    monkeypatch.setattr(parser_module, "_parse", lambda source: (parsed_chars.append(len(source)), original(source))[1])
    for lines in (400, 4000):  # ~11 kB, and a program past the size limit
        parsed_chars.clear()
        text = "\n".join(["normalize(source_str='''x"] * lines)
        program = parse_program(text)
        assert sum(parsed_chars) <= 4 * min(len(text), MAX_PROGRAM_CHARS) + 1_000
        assert program.errors and not program.operations
    assert "size limit" in program.errors[-1].message


def test_canonical_text_always_parses_back_even_for_the_longest_programs():
    long = "normalize(source_str=" + json.dumps("\ufeff" * 19_000, ensure_ascii=False) + ")"  # prints 6x longer
    program = parse_program(long + "\n" + "skip_chunk();" * 1500)
    assert parse_program(str(program)).operations == program.operations
    assert any("print on one line" in e.message for e in program.errors)


def test_the_fuzz_benchmark_sample_raises_nothing():
    from bench_fuzz import fuzz

    figures = fuzz(3_000, seed=7)
    assert figures["exceptions"] == 0, figures["examples"]


# --- per-document isolation in the steps ----------------------------------------------------------------------
class Exploding:
    """A writer that raises for any batch holding a document marked BOOM."""

    name = "exploding"

    def write_doc(self, documents):
        from prox.writers.base import Written

        if any("BOOM" in d for d in documents):
            raise RuntimeError("the model fell over")
        return [Written("keep_doc()") for _ in documents]

    def write_chunk(self, chunks):
        from prox.writers.base import Written

        return [Written("skip_chunk()") for _ in chunks]


def test_a_writer_that_fails_on_one_document_costs_only_that_document():
    from datatrove.data import Document

    from prox.pipeline.steps import ExecutePrograms, WriteDocPrograms

    documents = [Document(text=article(i, "BOOM" if i == 2 else ""), id=str(i), metadata={"prox": {}}) for i in range(4)]
    step = WriteDocPrograms(writer=Exploding(), docs_per_step=4)
    done = list(ExecutePrograms(keep_dropped=True).run(step.run(iter(documents))))
    reasons = [d.metadata["prox"]["reason"] for d in done]
    assert reasons == ["keep_doc", "keep_doc", "writer_error", "keep_doc"]
    assert "the model fell over" in done[2].metadata["prox"]["writer_errors"][0] and done[2].text == documents[2].text


def test_a_batch_of_one_failing_document_does_not_end_the_task():
    from datatrove.data import Document

    from prox.pipeline.steps import WriteDocPrograms

    documents = [Document(text=article(i, "BOOM" if i == 0 else ""), id=str(i), metadata={"prox": {}}) for i in range(2)]
    done = list(WriteDocPrograms(writer=Exploding(), docs_per_step=1).run(iter(documents)))
    assert "fell over" in done[0].metadata["prox"]["doc"]["errors"][0] and done[1].metadata["doc_program"] == "keep_doc()"


def test_the_python_refiner_isolates_documents_too():
    import prox

    results = prox.Refiner(stages=["doc"], doc_writer=Exploding()).refine([article(0), article(1, "BOOM"), article(2)])
    assert [r.reason for r in results] == ["keep_doc", "writer_error", "keep_doc"]
    assert "fell over" in results[1].errors[0] and results[1].text == article(1, "BOOM")


def test_a_report_survives_output_records_it_cannot_read(tmp_path):
    from prox.report.html import write_report

    source = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": article(i)} for i in range(3)])
    assert runner.invoke(app, ["refine", str(source), "-o", str(tmp_path / "run"), "--no-progress"]).exit_code == 0
    part = sorted((tmp_path / "run").glob("*/00000-00000.jsonl"))[0]  # kept or dropped, whichever holds these
    with part.open("a") as handle:
        handle.write(json.dumps({"id": "odd", "text": "x", "metadata": {"prox": {"words_before": "many"}}}) + "\n")
    html = Path(write_report(str(tmp_path / "run"))).read_text()
    assert "1 output records had metadata this report cannot read" in html


def test_a_document_that_cannot_be_written_is_set_aside_and_the_task_goes_on(tmp_path):
    from datatrove.data import Document

    from prox.pipeline.output import WriteOutputs

    documents = []
    for i in range(3):
        metadata = {"prox": {"position": i, "dropped": False, "reason": "keep_doc", "source": {"file": "in.jsonl", "where": f"line {i + 1}"}}}
        if i == 1:
            metadata["unwritable"] = 2**70  # no JSON writer takes an integer this large
        documents.append(Document(text=article(i) + (" \ud800" if i == 2 else ""), id=str(i), metadata=metadata))
    list(WriteOutputs(str(tmp_path / "run"), checkpoint_every=10).run(iter(documents)))
    found = outputs(tmp_path / "run")
    assert [r["id"] for r in found["kept"]] == ["0", "2"] and found["kept"][1]["text"].endswith("\ufffd")
    assert "could not be written" in found["rejected"][0]["error"] and found["rejected"][0]["id"] == "1"


def test_records_of_any_shape_fit_the_parquet_output(tmp_path):
    records = [{"id": str(i), "text": article(i), "source_id": "s" if i == 0 else i,
                "metadata": {"chunk_program": ["skip_chunk()"]}} for i in range(6)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    result = runner.invoke(app, ["execute", str(source), "-o", str(tmp_path / "out"), "--format", "parquet"])
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    stats = json.loads((tmp_path / "out/stats.json").read_text())
    # a field whose type varies from record to record is written as JSON text (the file's metadata says so and
    # prox's readers decode it), so no record is turned away
    table = pq.read_table(tmp_path / "out/kept").to_pylist()
    assert stats["kept"] == len(table) == 6 and stats["rejected"] == 0
    assert [json.loads(row["metadata"]["source_id"]) for row in table] == ["s", 1, 2, 3, 4, 5]
    assert [item.data["metadata"]["source_id"] for item in read_file(str(next((tmp_path / "out/kept").glob("*"))))] == \
        ["s", 1, 2, 3, 4, 5]
    assert sum(stats["reasons"].values()) == stats["kept"] + stats["dropped"]


# --- no document lost silently ----------------------------------------------------------------------------------
def test_a_deeply_nested_record_costs_only_its_line(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": article(0)}, b"[" * 200_000 + b"]" * 200_000,
                                                 {"id": "b", "text": article(1)}])
    items = list(read_file(str(source)))
    assert [type(i).__name__ for i in items] == ["Record", "Rejected", "Record"]
    assert "nested too deeply" in items[1].error and items[1].where == "line 2"
    result = runner.invoke(app, ["refine", str(source), "-o", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "run/stats.json").read_text())
    assert (stats["read"], stats["rejected"], stats["kept"] + stats["dropped"]) == (3, 1, 2)


def test_a_zstd_file_cut_in_a_later_frame_is_reported(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    compressor = zstandard.ZstdCompressor()
    frames = [compressor.compress(b"".join(json.dumps({"id": f"{f}-{i}", "text": "x"}).encode() + b"\n" for i in range(50)))
              for f in range(3)]
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(frames[0] + frames[1] + frames[2][: len(frames[2]) // 2])
    items = list(read_file(str(path)))
    assert sum(type(i).__name__ == "Record" for i in items) >= 100
    assert type(items[-1]).__name__ == "Rejected" and "zstd frame" in items[-1].error
    whole = tmp_path / "whole.jsonl.zst"
    whole.write_bytes(b"".join(frames))
    assert [type(i).__name__ for i in read_file(str(whole))] == ["Record"] * 150


def test_byte_order_mark_and_blank_lines_are_not_rejections(tmp_path):
    records = [json.dumps({"id": str(i), "text": article(i)}).encode() for i in range(3)]
    source = tmp_path / "bom.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + b"\r\n\r\n".join(records) + b"\n\n   \n")
    result = runner.invoke(app, ["refine", str(source), "-o", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "run/stats.json").read_text())
    assert (stats["read"], stats["rejected"], stats["blank_lines"]) == (3, 0, 4)  # two "\r", one "", one "   "
    assert not outputs(tmp_path / "run")["rejected"]


# --- runs cannot change under you --------------------------------------------------------------------------------
def test_a_rerun_with_other_settings_is_refused_and_force_starts_over(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": article(i)} for i in range(6)])
    run = tmp_path / "run"
    first = runner.invoke(app, ["refine", str(source), "-o", str(run), "--no-progress"])
    assert first.exit_code == 0, first.output
    identity = (run / "run.json").read_text()
    for change, named in ((["--short-words", "20"], "short_words"), (["--preset", "web"], "preset"),
                          (["-O", "line_threshold=0.7"], "writer_options.line_threshold"), (["--stages", "doc"], "stages")):
        refused = runner.invoke(app, ["refine", str(source), "-o", str(run), "--no-progress", *change])
        assert refused.exit_code == 2 and named in refused.output and "--force" in refused.output, refused.output
        assert (run / "run.json").read_text() == identity
    same = runner.invoke(app, ["refine", str(source), "-o", str(run), "--no-progress", "--batch-size", "8"])
    assert same.exit_code == 0  # how to run (workers, batch sizes) is not what comes out
    forced = runner.invoke(app, ["refine", str(source), "-o", str(run), "--no-progress", "--short-words", "20", "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads((run / "run.json").read_text())["thresholds"]["short_words"] == 20
    stats = json.loads((run / "stats.json").read_text())
    assert stats["read"] == 6 and len(outputs(run)["kept"]) + len(outputs(run)["dropped"]) == 6  # not 12


def test_commands_that_read_runs_refuse_other_folders_and_write_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in (["summary", str(empty)], ["report", str(empty)], ["show", str(empty)]):
        assert "not a prox" in one_line_error(runner.invoke(app, command))
    assert not list(empty.iterdir())
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": article(1)}])
    assert runner.invoke(app, ["execute", str(source), "-o", str(tmp_path / "exec")]).exit_code == 0
    assert runner.invoke(app, ["summary", str(tmp_path / "exec")]).exit_code == 0  # one layout, one stats record
    assert runner.invoke(app, ["report", str(tmp_path / "exec")]).exit_code == 0


def test_execute_refuses_a_folder_that_holds_files(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": article(1), "metadata": {"chunk_program": ["skip_chunk()"]}}])
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert "holds other files (notes.txt)" in one_line_error(runner.invoke(app, ["execute", str(source), "-o", str(taken)]))
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
    out = tmp_path / "out"
    assert runner.invoke(app, ["execute", str(source), "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["execute", str(source), "-o", str(out)]).exit_code == 0  # the same command resumes
    assert "--force" in one_line_error(runner.invoke(app, ["execute", str(source), "-o", str(out), "--short-words", "500"]))
    assert runner.invoke(app, ["execute", str(source), "-o", str(out), "--force", "--short-words", "500"]).exit_code == 0
    assert len(outputs(out)["dropped"]) == 1 and not outputs(out)["kept"]


# --- mistakes do not pass as success -----------------------------------------------------------------------------
def test_a_wrong_text_key_stops_before_anything_is_written(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "body": article(i), "url": "x"} for i in range(5)])
    for command in (["refine", str(source), "-o", str(tmp_path / "run"), "--text-key", "content"],
                    ["execute", str(source), "-o", str(tmp_path / "exec"), "--text-key", "content"]):
        message = one_line_error(runner.invoke(app, command))
        assert "'content'" in message and "body" in message and "url" in message
    assert not (tmp_path / "run").exists() and not (tmp_path / "exec").exists()


def test_a_run_that_reads_nothing_or_rejects_everything_exits_non_zero(tmp_path):
    junk = write_jsonl(tmp_path / "junk.jsonl", [b"not json", b"[1]", b"{broken"])
    result = runner.invoke(app, ["refine", str(junk), "-o", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 1 and "rejected" in result.output
    assert runner.invoke(app, ["execute", str(junk), "-o", str(tmp_path / "exec")]).exit_code == 1
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    result = runner.invoke(app, ["refine", str(empty), "-o", str(tmp_path / "run2"), "--no-progress"])
    assert result.exit_code == 1 and "no records" in result.output


def test_annotate_stops_when_the_teacher_cannot_be_reached(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": article(1)}])
    from prox.adapt.annotate import Teacher, TeacherUnreachable, annotate

    teacher = Teacher("teacher", f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(TeacherUnreachable, match="answered none"):
        annotate([str(source)], str(tmp_path / "labels"), teacher, levels=["doc"])
    result = runner.invoke(app, ["annotate", str(source), "-o", str(tmp_path / "cli"), "--teacher", "t",
                                 "--base-url", f"http://127.0.0.1:{port}/v1", "--levels", "doc"])
    assert result.exit_code == 2 and "answered none" in result.output and "Traceback" not in result.output


def test_server_answers_are_validated(llama2_tokenizer):
    from servers import JsonServer

    from prox.writers.openai_writer import OpenAIWriter

    def respond(body):
        prompt = body["prompt"]
        text = None if "NULL" in prompt else "keep_doc() " * 500_000 if "HUGE" in prompt else "keep_doc()"
        return {"choices": [{"text": text}], "usage": {"completion_tokens": 3}}

    server = JsonServer(respond)
    try:
        writer = OpenAIWriter("m", base_url=server.url, tokenizer=llama2_tokenizer, mode="text", max_retries=3, backoff=0.01)
        written = writer.write_doc([article(0, "NULL"), article(1, "HUGE"), article(2)])
    finally:
        server.close()
    assert "not a string" in written[0].error and "characters" in written[1].error
    assert written[2].program == "keep_doc()" and written[2].error is None
    assert server.requests == 3  # an invalid answer is final: asking again gets the same answer


def test_a_hostile_model_cannot_stop_a_run_or_lose_a_document(tmp_path, llama2_tokenizer):
    from bench_bad_inputs import build, check, hostile_server

    manifest = build(tmp_path / "corpus", scale=2)
    server, url = hostile_server()
    try:
        result = runner.invoke(app, [
            "refine", str(tmp_path / "corpus"), "-o", str(tmp_path / "run"), "--backend", "openai", "--doc-model", "m",
            "--chunk-model", "m", "--no-constrained", "-O", f"base_url={url}", "-O", f"tokenizer={llama2_tokenizer.name_or_path}",
            "-O", "mode=text", "-O", "max_retries=0", "--no-progress", "--checkpoint-every", "7",
            "--max-writer-errors", "1"])  # the hostile answers fail their documents on purpose: none may be lost
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "run/stats.json").read_text())
    figures = check(tmp_path / "run", manifest, stats)
    assert not figures["failures"], figures
    kept = {r["id"]: r for r in outputs(tmp_path / "run")["kept"]}
    grown = [r for r in kept.values() if "GROW" in r["raw_content"]]
    assert grown and all(len(r["text"]) <= growth_limit(len(r["raw_content"])) for r in grown)
    assert stats["writer_errors"] >= 2  # the null and the oversized answers


def test_the_bad_input_benchmark_sample_accounts_for_every_record(tmp_path):
    from bench_bad_inputs import run

    figures = run(scale=2, workdir=str(tmp_path))
    for name, result in figures["commands"].items():
        assert result["exit"] == 0 and not result["failures"], (name, result)


# --- one-line errors, exit status 2 ------------------------------------------------------------------------------
def test_user_mistakes_get_one_line_errors(tmp_path):
    text = tmp_path / "doc.txt"
    text.write_text("a line\n")
    binary = tmp_path / "doc.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    missing = str(tmp_path / "missing.txt")
    for command in (["refine-text", missing], ["refine-text", str(binary)], ["chunk", missing, "--tokenizer", "x"],
                    ["chunk", str(text), "--tokenizer", str(tmp_path / "no-tokenizer")],
                    ["refine", missing, "-o", str(tmp_path / "r")], ["execute", missing, "-o", str(tmp_path / "e")],
                    ["show", missing], ["report", missing], ["summary", missing],
                    ["evaluate", "--lines", missing], ["distill", "--lines", missing, "-o", str(tmp_path / "s")],
                    ["refine-text", str(text), "--preset", "nonsense"],
                    ["refine", str(text), "-o", str(tmp_path / "r2"), "--stages", "nonsense"]):
        one_line_error(runner.invoke(app, command))
