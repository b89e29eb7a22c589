"""Parquet records kept as they came (issue 26): the JSONL layout in Parquet, nothing lost to a schema or to
Arrow's limits, and Parquet or Arrow inputs whose values have no JSON form."""

from __future__ import annotations

import base64
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from corpora import article, write_jsonl
from datatrove.data import Document
from typer.testing import CliRunner

from prox.cli import app
from prox.jobs import RefineJob
from prox.pipeline.output import WriteOutputs
from prox.records import JSON_FIELDS, Record, read_file

runner = CliRunner()


def read_run(folder: Path, kind: str = "kept") -> dict[str, dict]:
    """Records of a run's kind by id, as prox's readers give them."""
    files = sorted((folder / kind).glob("*.parquet")) + sorted((folder / kind).glob("*.jsonl"))
    return {item.data["id"]: item.data for path in files for item in read_file(str(path)) if isinstance(item, Record)}


def documents(metadata: list[dict]) -> list[Document]:
    """Documents as the output step receives them, one per metadata."""
    return [Document(text=article(i), id=str(i), metadata={
        **fields, "prox": {"position": i, "dropped": False, "reason": "keep_doc", "source": {"file": "in", "where": f"row {i}"}}})
        for i, fields in enumerate(metadata)]


def test_parquet_outputs_keep_the_jsonl_layout(tmp_path):
    records = [{"id": f"d{i}", "text": article(i), "source": f"site{i % 3}", "meta": {"n": i}}
               | ({"url": f"https://example{i}.org/a"} if i % 2 else {}) | ({"license": "cc-by-4.0"} if i == 3 else {})
               for i in range(6)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    RefineJob([str(source)], str(tmp_path / "jsonl")).run()
    RefineJob([str(source)], str(tmp_path / "parquet"), output_format="parquet").run()
    as_jsonl, as_parquet = read_run(tmp_path / "jsonl"), read_run(tmp_path / "parquet")
    assert sorted(as_parquet) == sorted(as_jsonl) == [f"d{i}" for i in range(6)]
    for key, expected in as_jsonl.items():
        found = as_parquet[key]
        for record in (found, expected):
            record["metadata"]["prox"] = {k: v for k, v in record["metadata"]["prox"].items() if k not in ("doc", "chunk")}
        missing = {k: None for k in found["metadata"].keys() - expected["metadata"].keys()}  # nullable columns
        assert found == {**expected, "metadata": {**expected["metadata"], **missing}}
        assert set(missing) <= {"url", "license"}
    schema = pq.ParquetFile(next((tmp_path / "parquet/kept").glob("*.parquet"))).schema_arrow
    metadata = schema.field("metadata").type
    assert {"source", "url", "license", "meta", "doc_program", "chunk_program", "drop_probability", "remove_probability",
            "prox"} == {metadata.field(i).name for i in range(metadata.num_fields)}
    assert pa.types.is_floating(metadata.field("remove_probability").type.value_type)  # P(remove) per line, as numbers
    assert metadata.field("meta").type == pa.struct([("n", pa.int64())]) and schema.field("id").type == pa.large_string()
    assert json.loads(schema.metadata[JSON_FIELDS.encode()]) == [["metadata", "prox"]]

    from prox.report.run import load

    assert set(load(str(tmp_path / "parquet")).sources) == {"site0", "site1", "site2"}


def test_fields_that_cannot_share_a_column_are_written_as_json_and_read_back(tmp_path):
    metadata = [
        {"n": 1, "shape": {"a": 1}, "deep": {"k": 1, "same": "x"}, "big": 1, "empty": {}, "mixed": [1, 2], "later": None},
        {"n": "one", "shape": [1, 2], "deep": {"k": "s", "same": "y"}, "big": 2**70, "empty": {}, "mixed": [1, "a"]},
        {"deep": None, "later": {"z": [True]}},
    ]
    list(WriteOutputs(str(tmp_path / "run"), "parquet", checkpoint_every=10).run(iter(documents(metadata))))
    (path,) = (tmp_path / "run/kept").glob("*.parquet")
    named = json.loads(pq.ParquetFile(path).schema_arrow.metadata[JSON_FIELDS.encode()])
    assert sorted(named) == [["metadata", "big"], ["metadata", "deep", "k"], ["metadata", "empty"],
                             ["metadata", "mixed"], ["metadata", "n"], ["metadata", "prox"], ["metadata", "shape"]]
    found = read_run(tmp_path / "run")
    for i, fields in enumerate(metadata):
        written = {k: v for k, v in found[str(i)]["metadata"].items() if v is not None and k != "prox"}
        assert written == {k: v for k, v in fields.items() if v is not None}
        assert found[str(i)]["metadata"]["prox"]["reason"] == "keep_doc"


def test_row_groups_are_bounded_by_bytes_and_every_record_is_kept(tmp_path):
    from prox.pipeline.documents import output_record
    from prox.pipeline.parquet import ParquetRecordWriter

    folder = tmp_path / "kept"
    writer = ParquetRecordWriter(str(folder), "${rank}.parquet", adapter=lambda _, d: output_record(d),
                                 max_rows=100, max_bytes=5_000)
    many = documents([{"n": i} for i in range(40)])
    with writer:
        for document in many:
            writer.write(document, 0)
        assert writer._held["00000.parquet"]._spill is not None  # past max_bytes the records wait on disk
    parquet = pq.ParquetFile(folder / "00000.parquet")
    sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
    assert sum(sizes) == 40 and len(sizes) >= 10 and max(sizes) <= 3  # a record is some 2,400 characters
    rows = pq.read_table(folder / "00000.parquet").to_pylist()
    assert [(r["id"], r["text"], r["metadata"]["n"]) for r in rows] == [(d.id, d.text, i) for i, d in enumerate(many)]

    counted = ParquetRecordWriter(str(tmp_path / "rows"), "${rank}.parquet", adapter=lambda _, d: output_record(d), max_rows=7)
    with counted:
        for document in many:
            counted.write(document, 0)
    parquet = pq.ParquetFile(tmp_path / "rows/00000.parquet")
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [7] * 5 + [5]


def test_a_parquet_record_that_cannot_be_written_costs_only_itself(tmp_path):
    metadata = [{"n": 0}, {"n": 1, "tags": {"a", "b"}}, {"n": 2}]  # a set has no JSON form
    list(WriteOutputs(str(tmp_path / "run"), "parquet", checkpoint_every=10).run(iter(documents(metadata))))
    assert sorted(read_run(tmp_path / "run")) == ["0", "2"]
    (rejected,) = [item.data for path in (tmp_path / "run/rejected").glob("*.jsonl") for item in read_file(str(path))]
    assert rejected["id"] == "1" and "could not be written" in rejected["error"] and "set" in rejected["error"]


def test_parquet_and_arrow_inputs_with_values_without_json_form(tmp_path):
    when = pa.array([1_700_000_000_123_456_789], pa.timestamp("ns", tz="UTC"))
    columns = {
        "id": pa.array(["a"]),
        "text": pa.array([article(0)]).dictionary_encode(),
        "price": pa.array([Decimal("12.50")], pa.decimal128(6, 2)),
        "blob": pa.array([b"\x00\xffraw"]),
        "took": pa.array([1_500_000_000], pa.duration("ns")),
        "day": pa.array([datetime.date(2024, 2, 29)]),
        "at": pa.array([datetime.time(13, 45, 1)]),
        "when": when,
        "nested": pa.array([{"blob": b"x", "prices": [Decimal("1.5"), None]}],
                           pa.struct([("blob", pa.binary()), ("prices", pa.list_(pa.decimal128(4, 2)))])),
    }
    expected = {"price": "12.50", "blob": base64.b64encode(b"\x00\xffraw").decode(), "took": 1.5, "day": "2024-02-29",
                "at": "13:45:01.000000", "when": "2023-11-14T22:13:20.123456789Z",
                "nested": {"blob": base64.b64encode(b"x").decode(), "prices": ["1.50", None]}}
    table = pa.table(columns)
    pq.write_table(table, tmp_path / "in.parquet")
    with pa.OSFile(str(tmp_path / "in.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    for name in ("in.parquet", "in.arrow"):
        (item,) = read_file(str(tmp_path / name))
        assert {k: v for k, v in item.data.items() if k in expected} == expected
        assert datetime.datetime.fromisoformat(item.data["when"][:26] + "+00:00")  # ISO 8601
        summary = RefineJob([str(tmp_path / name)], str(tmp_path / f"run-{name}")).run()
        assert (summary["rejected"], summary["kept"] + summary["dropped"]) == (0, 1)
        (record,) = (read_run(tmp_path / f"run-{name}") or read_run(tmp_path / f"run-{name}", "dropped")).values()
        assert {k: v for k, v in record["metadata"].items() if k in expected} == expected


def test_execute_show_report_and_card_read_a_parquet_run(tmp_path):
    records = [{"id": f"d{i}", "text": article(i), "source": f"site{i % 2}", "url": f"https://e{i}.org"} for i in range(4)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    RefineJob([str(source)], str(tmp_path / "run"), output_format="parquet").run()
    result = runner.invoke(app, ["execute", str(tmp_path / "run" / "kept"), "-o", str(tmp_path / "again"), "--format", "parquet"])
    assert result.exit_code == 0, result.output
    first, again = read_run(tmp_path / "run"), read_run(tmp_path / "again")
    assert sorted(again) == sorted(first)
    for key, record in again.items():
        assert (record["metadata"]["source"], record["metadata"]["url"]) == (first[key]["metadata"]["source"],
                                                                             first[key]["metadata"]["url"])
        assert record["metadata"]["prox"]["reason"] == first[key]["metadata"]["prox"]["reason"]
    for command in (["show", str(tmp_path / "again")], ["report", str(tmp_path / "again")], ["card", str(tmp_path / "run")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)


def test_older_parquet_outputs_are_read_with_their_fields(tmp_path):
    """Earlier outputs held the input's fields as one JSON object in metadata.source, and the trace as JSON."""
    schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("raw_content", pa.string()), ("metadata", pa.struct([
        ("doc_program", pa.string()), ("chunk_program", pa.list_(pa.string())), ("drop_probability", pa.float64()),
        ("prox", pa.string()), ("source", pa.string())]))])
    row = {"id": "d0", "text": article(0), "raw_content": article(0), "metadata": {
        "doc_program": "keep_doc()", "chunk_program": ["keep_chunk()"], "drop_probability": None,
        "prox": json.dumps({"reason": "refined"}), "source": json.dumps({"source": "site", "url": "https://e.org"})}}
    (tmp_path / "old").mkdir()
    pq.write_table(pa.Table.from_pylist([row], schema=schema), tmp_path / "old/00000-00000.parquet")
    (item,) = read_file(str(tmp_path / "old/00000-00000.parquet"))
    assert item.data["metadata"] == {"source": "site", "url": "https://e.org", "doc_program": "keep_doc()",
                                     "chunk_program": ["keep_chunk()"], "drop_probability": None, "prox": {"reason": "refined"}}
