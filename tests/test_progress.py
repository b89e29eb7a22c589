"""Progress that moves with the work: model batches are counted as they finish, not when outputs commit."""

from __future__ import annotations

import json
import threading
import time

import pytest
from test_pipeline import document, write_jsonl


def test_a_model_run_shows_progress_before_its_first_commit(tmp_path, llama2_tokenizer, monkeypatch):
    pytest.importorskip("torch", reason="the transformers backend needs torch (pip install -e '.[hf]')")
    from models import tiny_llama

    import prox.pipeline.progress as run_progress
    from prox.jobs import RefineJob

    monkeypatch.setattr(run_progress, "EVERY_S", 0.0)  # every batch rewrites its file: the test sees each one
    folder = tiny_llama(tmp_path / "tiny", llama2_tokenizer)
    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(6)])
    run = tmp_path / "run"
    # one step takes the whole corpus and one commit holds it all: the output sees nothing until the end
    job = RefineJob([str(source)], str(run), preset=None, doc_model=str(folder), chunk_model=str(folder),
                    backend="transformers", docs_per_step=64, checkpoint_every=1000,
                    writer_options={"doc_answer_tokens": 8, "chunk_answer_tokens": 8, "chunk_tokens": 60,
                                    "prompts_per_batch": 1})
    seen, stop = [], threading.Event()

    def watch():
        while not stop.is_set():
            figures = run_progress.read(str(run / "progress"))
            committed = any((run / "checkpoints").glob("*-*.json"))  # a commit marker (not the task's lock)
            if figures:
                seen.append((figures, committed))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        summary = job.run()
    finally:
        stop.set()
        watcher.join()
    assert summary["read"] == 6
    before_commit = [f for f, committed in seen if not committed and not f.get("output", {}).get("documents")]
    doc_counts = sorted({f.get("doc", {}).get("documents", 0) for f in before_commit})
    assert any(0 < n < 6 for n in doc_counts), doc_counts  # the doc stage moved, one prompt at a time
    chunk_items = {f.get("chunk", {}).get("items", 0) for f in before_commit}
    assert any(n > 0 for n in chunk_items)  # and so did the chunk stage, before anything was written
    assert max(f.get("doc", {}).get("input_tokens", 0) for f in before_commit) > 0  # tokens for the bar's tokens/s
    final = json.loads((run / "progress" / "00000-doc.json").read_text())
    assert final["documents"] == 6 and final["items"] == 6


def test_progress_listeners_count_what_a_writer_did_not_report():
    from prox import progress
    from prox.writers.base import Written

    seen = []
    with progress.listening(lambda s: seen.append((s.name, s.done, s.input_tokens, s.finished))):
        with progress.stage("chunk", 4, documents=2) as stage:
            progress.advance(1, 10, 2)  # a model writer reports its batch
            stage.finish([Written("skip_chunk()", 10, 2)] + [Written("skip_chunk()", 5, 1)] * 3)
    assert seen[0] == ("chunk", 0, 0, False) and seen[1] == ("chunk", 1, 10, False)
    assert seen[-1] == ("chunk", 4, 25, True)  # the rest counted once the call returned
    progress.advance(3)  # no stage open: nothing to count, no error


def test_slow_rates_keep_their_figures():
    from prox.progress import rate

    assert rate(3, 100) == "0.03" and rate(49, 3.2) == "15.3" and rate(5000, 2) == "2,500" and rate(0, 1) == "0"
