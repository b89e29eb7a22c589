import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from prox.cli import app
from prox.jobs import ExecuteJob
from prox.program.stored import Thresholds

WORDS = " ".join(f"w{i}" for i in range(40))


def record(i, doc_program="keep_doc()", chunk_program="remove_lines(0, 0)"):
    return {"id": f"doc-{i}", "raw_content": f"nav bar\n{WORDS}\nfooter",
            "metadata": {"doc_program": doc_program, "chunk_program": chunk_program}}


def read(folder):
    """The records of one output folder (kept/, dropped/ or rejected/), in order."""
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def execute(inputs, output, thresholds=Thresholds(), **options) -> dict:
    return ExecuteJob([str(p) for p in inputs], str(output), thresholds=thresholds, **options).run()


def test_kept_dropped_and_rejected_account_for_every_record(tmp_path):
    lines = [json.dumps(record(0)).encode(), json.dumps(record(1, "drop_doc()")).encode(),
             b'{"id": "broken", "raw_content": "no closing brace"', b"\xff\xfe not utf-8",
             json.dumps({"id": "no-text", "metadata": {}}).encode(), b"[1, 2, 3]", b"",
             json.dumps(record(2, chunk_program="remove_lines(0, 0)\nremove_lines(2, 2)")).encode()]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    stats = execute([source], tmp_path / "out")
    # the blank line is no record: counted as such, neither read nor rejected
    assert [stats[k] for k in ("read", "kept", "dropped", "rejected", "blank_lines")] == [7, 2, 1, 4, 1]
    assert stats["balanced"]
    kept = read(tmp_path / "out/kept")
    assert kept[0]["text"] == f"{WORDS}\nfooter" and kept[0]["raw_content"].startswith("nav bar")
    assert kept[0]["metadata"]["prox"]["removed_lines"] == [[0, 0]]
    assert kept[1]["text"] == WORDS and kept[1]["metadata"]["prox"]["removed_lines"] == [[0, 0], [2, 2]]
    dropped = read(tmp_path / "out/dropped")
    assert dropped[0]["text"] == "" and dropped[0]["metadata"]["prox"]["reason"] == "drop_doc"
    rejected = read(tmp_path / "out/rejected")
    assert [r["where"] for r in rejected] == ["line 3", "line 4", "line 5", "line 6"]
    assert "invalid JSON" in rejected[0]["error"] and rejected[0]["raw"].startswith('{"id": "broken"')
    assert "not UTF-8" in rejected[1]["error"]
    assert "no string field 'raw_content' or 'text'" in rejected[2]["error"]
    assert json.loads(open(tmp_path / "out/stats.json").read())["rejected"] == 4


def test_truncated_gzip_is_reported_and_other_files_still_run(tmp_path):
    data = gzip.compress(("\n".join(json.dumps(record(i)) for i in range(200)) + "\n").encode())
    (tmp_path / "a_truncated.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "b_fine.jsonl.gz").write_bytes(data)
    stats = execute([tmp_path / "*.jsonl.gz"], tmp_path / "out")
    rejected = read(tmp_path / "out/rejected")
    assert len(rejected) == 1 and "a_truncated" in rejected[0]["file"] and "unreadable" in rejected[0]["error"]
    assert stats["kept"] >= 200 and stats["balanced"]


def test_thresholds_change_the_outcome_without_a_model(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(record(0, chunk_program="remove_lines(0, 0)\nremove_lines(9, 9)\nremove_lines(20, 20)")) + "\n")
    assert execute([source], tmp_path / "a")["reasons"] == {"program_rejected": 1}
    assert execute([source], tmp_path / "b", Thresholds(error_limit=3))["reasons"] == {"refined": 1}


def test_parquet_in_and_out(tmp_path):
    pq.write_table(pa.Table.from_pylist([record(i) for i in range(5)]), tmp_path / "in.parquet")
    stats = execute([tmp_path / "in.parquet"], tmp_path / "out", output_format="parquet")
    assert stats["kept"] == 5
    table = pq.read_table(tmp_path / "out/kept").to_pylist()  # prox refine's fixed layout
    assert table[0]["text"] == f"{WORDS}\nfooter" and json.loads(table[0]["metadata"]["prox"])["reason"] == "refined"


def test_cli_execute(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(record(i)) for i in range(3)) + "\n")
    result = CliRunner().invoke(app, ["execute", str(source), "--output", str(tmp_path / "out"), "--error-limit", "3"])
    assert result.exit_code == 0, result.output
    assert len(read(tmp_path / "out/kept")) == 3 and "prox execute" in result.output
    again = CliRunner().invoke(app, ["summary", str(tmp_path / "out")])  # one stats record, read by prox summary
    assert again.exit_code == 0 and "prox execute" in again.output


def test_cli_missing_input_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["execute", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no such input" in result.output and "nope.jsonl" in result.output


def test_stored_drop_probability_is_re_decided_with_a_new_threshold(tmp_path):
    data = record(0, chunk_program="skip_chunk()")
    data["metadata"]["drop_probability"] = 0.7
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(data) + "\n")
    assert execute([source], tmp_path / "a")["reasons"] == {"refined": 1}  # stored keep_doc() stands
    assert execute([source], tmp_path / "b", Thresholds(drop_threshold=0.6))["reasons"] == {"drop_doc": 1}
    assert execute([source], tmp_path / "c", Thresholds(drop_threshold=0.8))["reasons"] == {"refined": 1}


def test_an_execute_run_resumes_and_refuses_other_settings(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(record(i)) for i in range(3)) + "\n")
    first = execute([source], tmp_path / "out")
    again = execute([source], tmp_path / "out")  # resumed: every part was committed, the figures are the same
    assert [again[k] for k in ("read", "kept", "dropped", "rejected")] == [first[k] for k in ("read", "kept", "dropped", "rejected")] == [3, 3, 0, 0]
    result = CliRunner().invoke(app, ["execute", str(source), "-o", str(tmp_path / "out"), "--short-words", "500"])
    assert result.exit_code == 2 and "short_words 10 -> 500" in result.output and "--force" in result.output


def test_a_document_re_kept_by_a_threshold_says_it_is_unrefined(tmp_path):
    """The doc stage dropped it, so no chunk program was ever written for it: kept by a lower bar, it comes out as it
    came, and its reason says so rather than passing for a refined keep."""
    data = record(0, doc_program="drop_doc()", chunk_program=None)
    data["metadata"]["drop_probability"] = 0.7
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(data) + "\n")
    assert execute([source], tmp_path / "a")["reasons"] == {"drop_doc": 1}
    stats = execute([source], tmp_path / "b", Thresholds(drop_threshold=0.9))
    assert stats["reasons"] == {"kept_unrefined": 1} and stats["kept"] == 1
    (kept,) = read(tmp_path / "b/kept")
    assert kept["text"] == data["raw_content"]


def test_a_drop_threshold_with_no_stored_p_drop_says_it_decided_nothing(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(record(0)) + "\n")
    result = CliRunner().invoke(app, ["execute", str(source), "-o", str(tmp_path / "a"), "--drop-threshold", "0.3"])
    assert result.exit_code == 1 and "re-decided nothing" in result.output, result.output
    scored = record(1)
    scored["metadata"]["drop_probability"] = 0.7
    source.write_text(json.dumps(record(0)) + "\n" + json.dumps(scored) + "\n")
    result = CliRunner().invoke(app, ["execute", str(source), "-o", str(tmp_path / "b"), "--drop-threshold", "0.3"])
    assert result.exit_code == 0 and "re-decided 1 of 2 records" in result.output, result.output
