import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from prox.apply import apply_files
from prox.program.stored import Thresholds
from prox.cli import app

WORDS = " ".join(f"w{i}" for i in range(40))


def record(i, doc_program="keep_doc()", chunk_program="remove_lines(0, 0)"):
    return {"id": f"doc-{i}", "raw_content": f"nav bar\n{WORDS}\nfooter",
            "metadata": {"doc_program": doc_program, "chunk_program": chunk_program}}


def read(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_kept_dropped_and_rejected_account_for_every_record(tmp_path):
    lines = [json.dumps(record(0)).encode(), json.dumps(record(1, "drop_doc()")).encode(),
             b'{"id": "broken", "raw_content": "no closing brace"', b"\xff\xfe not utf-8",
             json.dumps({"id": "no-text", "metadata": {}}).encode(), b"[1, 2, 3]", b"",
             json.dumps(record(2, chunk_program="remove_lines(0, 0)\nremove_lines(2, 2)")).encode()]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    stats = apply_files([str(source)], str(tmp_path / "out"))
    # the blank line is no record: counted as such, neither read nor rejected
    assert (stats.read, stats.kept, stats.dropped, stats.rejected, stats.blank_lines) == (7, 2, 1, 4, 1)
    assert stats.kept + stats.dropped + stats.rejected == stats.read
    kept = read(tmp_path / "out/kept.jsonl")
    assert kept[0]["text"] == f"{WORDS}\nfooter" and kept[0]["raw_content"].startswith("nav bar")
    assert kept[0]["metadata"]["prox"]["removed_lines"] == [[0, 0]]
    assert kept[1]["text"] == WORDS and kept[1]["metadata"]["prox"]["removed_lines"] == [[0, 0], [2, 2]]
    dropped = read(tmp_path / "out/dropped.jsonl")
    assert dropped[0]["text"] == "" and dropped[0]["metadata"]["prox"]["reason"] == "drop_doc"
    rejected = read(tmp_path / "out/rejected.jsonl")
    assert [r["where"] for r in rejected] == ["line 3", "line 4", "line 5", "line 6"]
    assert "invalid JSON" in rejected[0]["error"] and rejected[0]["raw"].startswith('{"id": "broken"')
    assert "not UTF-8" in rejected[1]["error"]
    assert "no string field" in rejected[2]["error"]
    assert json.loads(open(tmp_path / "out/stats.json").read())["rejected"] == 4


def test_truncated_gzip_is_reported_and_other_files_still_run(tmp_path):
    data = gzip.compress(("\n".join(json.dumps(record(i)) for i in range(200)) + "\n").encode())
    (tmp_path / "a_truncated.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "b_fine.jsonl.gz").write_bytes(data)
    stats = apply_files([str(tmp_path / "*.jsonl.gz")], str(tmp_path / "out"))
    rejected = read(tmp_path / "out/rejected.jsonl")
    assert len(rejected) == 1 and "a_truncated" in rejected[0]["file"] and "unreadable" in rejected[0]["error"]
    assert stats.kept >= 200 and stats.kept + stats.dropped + stats.rejected == stats.read


def test_thresholds_change_the_outcome_without_a_model(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(record(0, chunk_program="remove_lines(0, 0)\nremove_lines(9, 9)\nremove_lines(20, 20)")) + "\n")
    assert apply_files([str(source)], str(tmp_path / "a")).reasons == {"program_rejected": 1}
    assert apply_files([str(source)], str(tmp_path / "b"), Thresholds(error_limit=3)).reasons == {"refined": 1}


def test_parquet_in_and_out(tmp_path):
    pq.write_table(pa.Table.from_pylist([record(i) for i in range(5)]), tmp_path / "in.parquet")
    stats = apply_files([str(tmp_path)], str(tmp_path / "out"), output_format="parquet")
    assert stats.kept == 5
    table = pq.read_table(tmp_path / "out/kept.parquet").to_pylist()
    assert table[0]["text"] == f"{WORDS}\nfooter" and table[0]["metadata"]["prox"]["reason"] == "refined"


def test_cli_execute(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(record(i)) for i in range(3)) + "\n")
    result = CliRunner().invoke(app, ["execute", str(source), "--output", str(tmp_path / "out"), "--error-limit", "3"])
    assert result.exit_code == 0, result.output
    assert len(read(tmp_path / "out/kept.jsonl")) == 3


def test_cli_missing_input_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["execute", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no such input" in result.output and "nope.jsonl" in result.output


def test_stored_drop_probability_is_re_decided_with_a_new_threshold(tmp_path):
    data = record(0, chunk_program="skip_chunk()")
    data["metadata"]["drop_probability"] = 0.7
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(data) + "\n")
    assert apply_files([str(source)], str(tmp_path / "a")).reasons == {"refined": 1}  # stored keep_doc() stands
    assert apply_files([str(source)], str(tmp_path / "b"), Thresholds(drop_threshold=0.6)).reasons == {"drop_doc": 1}
    assert apply_files([str(source)], str(tmp_path / "c"), Thresholds(drop_threshold=0.8)).reasons == {"refined": 1}
