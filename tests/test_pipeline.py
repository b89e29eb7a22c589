"""`prox refine` end to end: outputs, exact-once resume after SIGKILL, bad input, executors."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prox.jobs import RefineJob
from prox.pipeline import SettingsChanged

BODY = [
    "The river town kept its old stone bridge after the flood of 1910 because the builders had set it on bedrock.",
    "Engineers who surveyed it a century later found the arches had barely moved, and the mortar was still sound.",
    "Today the bridge carries foot traffic only, and the town holds a market on it every second Saturday.",
    "Local historians keep a small museum near the east bank with photographs of the flood and the rebuilding.",
]
BOILERPLATE = ["Home | News | Sport | Contact", "Log in | Register", "Share on Facebook", "Copyright © 2023 Example Media. All rights reserved."]


def document(i: int) -> dict:
    lines = BOILERPLATE[:2] + [f"Story {i}: a report from the river town."] + BODY + BOILERPLATE[2:]
    return {"id": f"doc-{i:05d}", "text": "\n".join(lines), "source": "test"}


def write_jsonl(path: Path, records, opener=open) -> Path:
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path


def read_outputs(run: Path) -> dict[str, list[dict]]:
    found = {}
    for kind in ("kept", "dropped", "rejected"):
        records = []
        for path in sorted((run / kind).glob("*.jsonl*")) + sorted(run.glob(f"{kind}.jsonl")):  # refine / execute
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as handle:
                records += [json.loads(line) for line in handle]
        found[kind] = records
    return found


def test_heuristic_run_writes_reference_layout_and_balances(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(30)] + [{"id": "spam", "text": "buy cheap " * 40}])
    summary = RefineJob([str(source)], str(tmp_path / "run"), checkpoint_every=7).run()
    outputs = read_outputs(tmp_path / "run")
    assert summary["read"] == 31 and summary["balanced"]
    assert len(outputs["kept"]) == summary["kept"] and len(outputs["dropped"]) == summary["dropped"]
    assert summary["dropped"] >= 1 and summary["kept"] >= 25
    ids = [r["id"] for kind in ("kept", "dropped") for r in outputs[kind]]
    assert sorted(ids) == sorted([f"doc-{i:05d}" for i in range(30)] + ["spam"])
    kept = outputs["kept"][0]
    assert kept["raw_content"].startswith("Home | News") and "Home | News" not in kept["text"]
    metadata = kept["metadata"]
    assert metadata["doc_program"] == "keep_doc()" and isinstance(metadata["chunk_program"], list)
    assert metadata["source"] == "test" and metadata["prox"]["reason"] == "refined"
    assert metadata["prox"]["removed_lines"] and "position" not in metadata["prox"]
    dropped = next(r for r in outputs["dropped"] if r["id"] == "spam")
    assert dropped["text"] == "" and dropped["metadata"]["doc_program"] == "drop_doc()"
    # 31 documents in parts of 7: five committed parts whose figures add up to the summary
    assert len(list((tmp_path / "run" / "checkpoints").glob("*.json"))) == 5
    assert json.loads((tmp_path / "run" / "stats.json").read_text())["read"] == 31


def test_outputs_re_execute_with_prox_execute(tmp_path):
    from prox.jobs import ExecuteJob
    from prox.program.stored import Thresholds

    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(5)])
    RefineJob([str(source)], str(tmp_path / "run")).run()
    stats = ExecuteJob([str(tmp_path / "run" / "kept")], str(tmp_path / "again")).run()
    assert stats["kept"] == 5
    before = {r["id"]: r["text"] for r in read_outputs(tmp_path / "run")["kept"]}
    after = {r["id"]: r["text"] for r in read_outputs(tmp_path / "again")["kept"]}
    assert before == after  # stored programs, re-executed, give the same text
    strict = ExecuteJob([str(tmp_path / "run" / "kept")], str(tmp_path / "strict"), thresholds=Thresholds(short_words=1000)).run()
    assert strict["dropped"] == 5  # new thresholds, no model


def test_rerun_of_a_finished_run_does_nothing_and_changed_layout_is_refused(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(6)])
    first = RefineJob([str(source)], str(tmp_path / "run"), stages=["chunk"]).run()
    again = RefineJob([str(source)], str(tmp_path / "run"), stages=["chunk"]).run()
    assert first["read"] == again["read"] == 6
    assert len(read_outputs(tmp_path / "run")["kept"]) == 6
    with pytest.raises(SettingsChanged, match="tasks"):
        RefineJob([str(source)], str(tmp_path / "run"), stages=["chunk"], tasks=2).run()


def test_bad_input_is_rejected_with_file_and_line_and_counts_balance(tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    good = write_jsonl(data / "a-good.jsonl", [document(i) for i in range(4)])
    write_jsonl(data / "b-mixed.jsonl", [
        document(10),
        "{not json",
        {"id": "no-text", "body": "the text is under another key"},
        {"id": "empty", "text": "   \n  "},
        {"id": "not-a-string", "text": 42},
        document(11),
    ])
    with open(data / "b-mixed.jsonl", "ab") as handle:
        handle.write(b'{"id": "latin1", "text": "caf\xe9"}\n')
    blob = gzip.compress("".join(json.dumps(document(20 + i)) + "\n" for i in range(50)).encode())
    (data / "c-truncated.jsonl.gz").write_bytes(blob[: len(blob) // 2])
    (data / "d-garbage.jsonl.zst").write_bytes(b"this is not zstandard at all")
    long_doc = {"id": "long", "text": "\n".join(f"line {i} of a very long page with some words on it" for i in range(200_000))}
    write_jsonl(data / "e-long.jsonl", [long_doc])

    summary = RefineJob([str(data)], str(tmp_path / "run"), stages=["chunk"], tasks=2, workers=1).run()
    outputs = read_outputs(tmp_path / "run")
    assert summary["balanced"]
    assert summary["read"] == len(outputs["kept"]) + len(outputs["dropped"]) + len(outputs["rejected"])
    rejected = {(Path(r["file"]).name, r["where"]): r["error"] for r in outputs["rejected"]}
    assert "invalid JSON" in rejected[("b-mixed.jsonl", "line 2")]
    assert "no string field 'text'" in rejected[("b-mixed.jsonl", "line 3")]
    assert "no string field 'text'" in rejected[("b-mixed.jsonl", "line 5")]
    assert "not UTF-8" in rejected[("b-mixed.jsonl", "line 7")]
    assert "unreadable" in rejected[("d-garbage.jsonl.zst", "file")]
    truncated = [where for (name, where) in rejected if name == "c-truncated.jsonl.gz"]
    assert len(truncated) == 1 and truncated[0].startswith("after line")
    empty = next(r for r in outputs["dropped"] if r["id"] == "empty")
    assert empty["metadata"]["prox"]["reason"] == "empty"
    long = next(r for r in outputs["kept"] + outputs["dropped"] if r["id"] == "long")
    assert long["raw_content"].count("\n") == 199_999
    assert any(r["id"] == "doc-00000" for r in outputs["kept"]) and good.exists()


def test_parquet_and_arrow_inputs_with_text_key_and_parquet_output(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": f"r{i}", "raw_content": document(i)["text"], "meta": {"n": i}} for i in range(6)]
    pq.write_table(pa.Table.from_pylist(rows[:3]), tmp_path / "part.parquet")
    folder = tmp_path / "hf_dataset"  # what datasets.save_to_disk writes: Arrow stream files and bookkeeping
    folder.mkdir()
    table = pa.Table.from_pylist(rows[3:])
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    (folder / "dataset_info.json").write_text("{}")
    (folder / "state.json").write_text('{"_data_files": []}')
    summary = RefineJob([str(tmp_path / "part.parquet"), str(folder)], str(tmp_path / "run"), text_key="raw_content",
                        output_format="parquet").run()
    assert summary["read"] == 6 and summary["rejected"] == 0
    kept = pq.read_table(tmp_path / "run" / "kept").to_pylist()
    assert sorted(r["id"] for r in kept) == [f"r{i}" for i in range(6)]
    assert kept[0]["metadata"]["doc_program"] == "keep_doc()"
    assert kept[0]["metadata"]["meta"]["n"] in range(6)  # the input's fields are columns, as in JSONL outputs


def test_sigkill_mid_task_then_rerun_completes_exactly_once(tmp_path):
    n = 4000
    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(n)])
    second = write_jsonl(tmp_path / "in2.jsonl", [document(n + i) for i in range(n)])
    run = tmp_path / "run"
    command = [sys.executable, "-m", "prox.cli", "refine", str(source), str(second), "-o", str(run), "--stages", "chunk",
               "--tasks", "2", "--workers", "1", "--checkpoint-every", "100", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((run / "checkpoints").glob("00000-*.json"))) < 3:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    committed = len(list((run / "checkpoints").glob("*.json")))
    assert 3 <= committed < 2 * n // 100, "the kill must land mid-run"
    assert not (run / "logs" / "completions" / "00001").exists()

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    outputs = read_outputs(run)
    ids = [r["id"] for kind in ("kept", "dropped") for r in outputs[kind]]
    assert len(ids) == len(set(ids)) == 2 * n  # every document exactly once
    summary = json.loads((run / "stats.json").read_text())
    assert summary["read"] == 2 * n and summary["balanced"]
    read = json.loads((run / "logs" / "stats.json").read_text())[0]["stats"]["read"]  # this (second) run's reader
    read = read["total"] if isinstance(read, dict) else read
    assert read <= 2 * n - committed * 100 + 100  # committed parts were not redone


def test_tiny_transformers_model_through_the_pipeline(tmp_path, llama2_tokenizer):
    pytest.importorskip("torch", reason="the transformers backend needs torch (pip install -e '.[hf]')")
    from models import tiny_llama

    folder = tiny_llama(tmp_path / "tiny", llama2_tokenizer)
    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(4)])
    job = RefineJob([str(source)], str(tmp_path / "run"), preset=None, doc_model=str(folder), chunk_model=str(folder),
                    backend="transformers", docs_per_step=2, checkpoint_every=3,
                    writer_options={"doc_answer_tokens": 8, "chunk_answer_tokens": 16, "chunk_tokens": 60,
                                    "prompts_per_batch": 3})  # as `-O prompts_per_batch=3` gives it
    assert [step.writer.prompts_per_batch for step in job.pipeline()[1:3]] == [3, 3]
    summary = job.run()
    assert summary["read"] == 4 and summary["balanced"]
    assert summary["parse_error_rate"] == 0.0  # constrained decoding: random weights write valid programs
    assert summary["stages"]["doc"]["input_tokens"] > 4 * 50
    outputs = read_outputs(tmp_path / "run")
    records = outputs["kept"] + outputs["dropped"]
    assert len(records) == 4
    for record in records:
        assert record["metadata"]["doc_program"] in ("keep_doc()", "drop_doc()")
        if record["metadata"]["doc_program"] == "keep_doc()":
            assert len(record["metadata"]["chunk_program"]) > 1  # a 60-token budget cuts the document


def test_ray_executor_runs_the_same_job(tmp_path):
    pytest.importorskip("ray", reason="the Ray executor needs ray (pip install -e '.[ray]')")
    source = write_jsonl(tmp_path / "a.jsonl", [document(i) for i in range(10)])
    other = write_jsonl(tmp_path / "b.jsonl", [document(10 + i) for i in range(10)])
    options = {"ray_init": {"num_cpus": 2, "include_dashboard": False, "log_to_driver": False}}
    summary = RefineJob([str(source), str(other)], str(tmp_path / "run"), stages=["chunk"], executor="ray",
                        tasks=2, workers=2, executor_options=options).run()
    import ray

    ray.shutdown()
    assert summary["read"] == 20 and summary["balanced"]
    assert {p.name for p in (tmp_path / "run" / "kept").iterdir()} == {"00000-00000.jsonl", "00001-00000.jsonl"}


def test_steps_drop_into_a_plain_datatrove_pipeline(tmp_path):
    import runpy

    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(5)] + [{"id": "spam", "text": "buy cheap " * 40}])
    example = runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / "datatrove_pipeline.py"))
    example["main"]([str(source), str(tmp_path / "out")])
    kept = read_outputs(tmp_path / "out")["kept"]
    dropped = read_outputs(tmp_path / "out")["dropped"]
    assert sorted(r["id"] for r in kept) == [f"doc-{i:05d}" for i in range(5)]
    assert [r["id"] for r in dropped] == ["spam"]
    assert all("Home | News" not in r["text"] and r["metadata"]["raw_content"].startswith("Home") for r in kept)


def test_fsspec_url_input_and_progress_bar(tmp_path):
    import fsspec

    with fsspec.open("memory://prox-test/corpus.jsonl", "w") as handle:
        for i in range(12):
            handle.write(json.dumps(document(i)) + "\n")
    summary = RefineJob(["memory://prox-test/*.jsonl"], str(tmp_path / "run"), stages=["chunk"], limit=10,
                        checkpoint_every=4).run(progress=True)
    assert summary["read"] == 10 and summary["kept"] == 10  # --limit counts documents in all
    progress = json.loads((tmp_path / "run" / "progress" / "00000.json").read_text())
    assert progress["documents"] == 10 and progress["final"] and progress["bytes"] == progress["total_bytes"] > 0


def test_parallel_local_workers_share_files_and_limit(tmp_path):
    files = [write_jsonl(tmp_path / f"in-{k}.jsonl", [document(10 * k + i) for i in range(10)]) for k in range(3)]
    summary = RefineJob([str(f) for f in files], str(tmp_path / "run"), stages=["chunk"], tasks=3, workers=2,
                        limit=25).run()
    assert summary["read"] == 25 and summary["balanced"]  # 9 + 8 + 8: the limit is shared among tasks
    ids = [r["id"] for r in read_outputs(tmp_path / "run")["kept"]]
    assert len(set(ids)) == 25


def test_slurm_executor_is_built_with_the_job_and_needs_partition_and_time(tmp_path):
    from datatrove.executor.slurm import SlurmPipelineExecutor

    job = RefineJob(["in.jsonl"], str(tmp_path / "run"), executor="slurm", tasks=8,
                    executor_options={"partition": "gpu", "time": "12:00:00", "gpus_per_task": 1})
    executor = job.build_executor()
    assert isinstance(executor, SlurmPipelineExecutor) and executor.tasks == 8 and executor.partition == "gpu"
    assert [type(step).__name__ for step in executor.pipeline] == [
        "ReadRecords", "WriteDocPrograms", "WriteChunkPrograms", "ExecutePrograms", "WriteOutputs"]
    with pytest.raises(ValueError, match="partition, time"):
        RefineJob(["in.jsonl"], str(tmp_path / "run2"), executor="slurm").build_executor()
