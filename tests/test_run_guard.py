"""A run cannot lose, mix or delete: exclusive folders, input identity, owned parts, records kept as they came.

Each test reproduces a way the landed main lost documents or files (with stats.json saying "balanced"), or
changed a record, and failed before the fix.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpora import article, write_jsonl
from typer.testing import CliRunner

from prox.cli import app

runner = CliRunner()


def corpus(path: Path, count: int = 20, start: int = 0, numbered: bool = False) -> Path:
    return write_jsonl(path, [{"id": i if numbered else f"d{i}", "text": article(i)} for i in range(start, start + count)])


def refine(*args: str):
    return runner.invoke(app, ["refine", *args, "--preset", "heuristic", "--no-progress", "--json"])


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for part in sorted(folder.glob("*.jsonl")) for line in part.read_text().splitlines()]


def outputs(run: Path) -> list[dict]:
    return records(run / "kept") + records(run / "dropped")


# --- an exclusive run folder ---------------------------------------------------------------------------------------

def test_a_second_run_on_a_folder_in_use_stops_at_once_naming_the_holder(tmp_path):
    from prox.pipeline.lock import run_lock

    data = corpus(tmp_path / "data.jsonl")
    (tmp_path / "run").mkdir()
    with run_lock(str(tmp_path / "run")):  # another run holds the folder
        result = refine(str(data), "--output", str(tmp_path / "run"))
    assert result.exit_code == 2, result.output
    assert "in use by another prox run" in result.output and f"pid {os.getpid()}" in result.output
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["run.lock", "run.lock.holder"]  # the holder's only
    assert refine(str(data), "--output", str(tmp_path / "run")).exit_code == 0  # released: the folder is usable


def test_a_task_of_an_earlier_submission_still_writing_is_refused(tmp_path):
    """Slurm and Ray tasks outlive their driver: each holds its task's lock, and a new driver checks them."""
    from prox.pipeline.lock import task_lock

    data = [corpus(tmp_path / "data" / f"{i}.jsonl", 5, 5 * i) for i in range(2)]
    run = tmp_path / "run"
    assert refine(str(tmp_path / "data"), "--output", str(run), "--tasks", "2", "--workers", "2").exit_code == 0
    with task_lock(str(run), 1):
        result = refine(str(tmp_path / "data"), "--output", str(run), "--tasks", "2", "--workers", "2")
    assert result.exit_code == 2 and "task 1 of an earlier run is still writing it" in result.output, result.output
    assert len(outputs(run)) == 10 and data


def test_the_output_step_holds_its_task_lock(tmp_path):
    from datatrove.data import Document

    from prox.pipeline.lock import FolderInUse, task_lock
    from prox.pipeline.output import WriteOutputs

    document = Document(text="x", id="1", metadata={"prox": {"position": 0}})
    with task_lock(str(tmp_path), 0):
        with pytest.raises(FolderInUse, match="task 0"):
            list(WriteOutputs(str(tmp_path)).run(iter([document]), rank=0))


def test_two_runs_started_together_lose_nothing(tmp_path):
    """The same command started twice (a retrying scheduler): one runs, the other stops; every document once."""
    data = write_jsonl(tmp_path / "data.jsonl", [{"id": i, "text": article(i)} for i in range(3000)])
    command = [sys.executable, "-c", "from prox.cli import app; app()", "refine", str(data), "--output", str(tmp_path / "run"), "--preset",
               "heuristic", "--no-progress", "--checkpoint-every", "100", "--json"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (tmp_path / "run" / "checkpoints").exists() and time.time() < deadline and first.poll() is None:
        time.sleep(0.05)
    together = first.poll() is None
    second = subprocess.run(command, capture_output=True, text=True)
    first.communicate()
    codes = sorted([first.returncode, second.returncode])
    if not together:  # the first ended before the second started: that is a resume, not this case
        pytest.skip("the first run ended before the second started")
    assert codes == [0, 2], (first.returncode, second.stderr)
    assert "in use by another prox run" in second.stderr
    ids = [r["id"] for r in outputs(tmp_path / "run")]
    assert sorted(ids) == list(range(3000))


def test_drivers_of_slices_of_one_run_run_beside_each_other(tmp_path):
    """One driver per GPU, each running a slice of the run's tasks (docs/architecture.md): both run; a driver of a
    slice already running is refused."""
    for i in range(2):
        corpus(tmp_path / "data" / f"{i}.jsonl", 300, 300 * i, numbered=True)
    command = [sys.executable, "-c", "from prox.cli import app; app()", "refine", str(tmp_path / "data"), "--output",
               str(tmp_path / "run"), "--preset", "heuristic", "--no-progress", "--tasks", "2", "--checkpoint-every", "20"]
    drivers = [subprocess.Popen([*command, "-E", "local_tasks=1", "-E", f"local_rank_offset={rank}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in (0, 1)]
    results = [driver.communicate() for driver in drivers]
    assert [driver.returncode for driver in drivers] == [0, 0], results
    assert sorted(r["id"] for r in outputs(tmp_path / "run")) == list(range(600))
    from prox.pipeline.lock import task_lock

    with task_lock(str(tmp_path / "run"), 1):
        done = subprocess.run([*command, "-E", "local_tasks=1", "-E", "local_rank_offset=1"], capture_output=True, text=True)
    assert done.returncode == 2 and "task 1 of an earlier run is still writing it" in done.stderr, done.stderr


# --- input identity --------------------------------------------------------------------------------------------------

def test_an_output_inside_its_input_folder_is_refused(tmp_path):
    corpus(tmp_path / "data" / "a.jsonl")
    result = refine(str(tmp_path / "data"), "--output", str(tmp_path / "data" / "out"), "--tasks", "2")
    assert result.exit_code == 2 and "is inside the input" in result.output, result.output
    assert not (tmp_path / "data" / "out").exists()
    result = refine(str(tmp_path / "data"), "--output", str(tmp_path / "data"))
    assert result.exit_code == 2 and "is inside the input" in result.output


def test_a_file_added_after_a_finished_run_is_reported_not_skipped(tmp_path):
    corpus(tmp_path / "data" / "a.jsonl")
    run = str(tmp_path / "run")
    assert refine(str(tmp_path / "data"), "--output", run).exit_code == 0
    corpus(tmp_path / "data" / "b.jsonl", 5, 100)
    result = refine(str(tmp_path / "data"), "--output", run)
    assert result.exit_code == 2, result.output
    assert "1 added (not read by this run)" in result.output and "b.jsonl" in result.output
    result = refine(str(tmp_path / "data"), "--output", run, "--force")
    assert result.exit_code == 0 and len(outputs(tmp_path / "run")) == 25


def test_a_file_added_between_a_kill_and_the_resume_does_not_shift_the_shares(tmp_path):
    for name in "ab":
        corpus(tmp_path / "data" / f"{name}.jsonl", 10, 10 * "ab".index(name))
    run = tmp_path / "run"
    assert refine(str(tmp_path / "data"), "--output", str(run), "--tasks", "2", "--checkpoint-every", "5").exit_code == 0
    for marker in (run / "checkpoints").glob("*-00001.json"):  # a kill before the last parts committed
        marker.unlink()
    corpus(tmp_path / "data" / "0.jsonl", 10, 100)  # sorts first: every file would move to the other task
    result = refine(str(tmp_path / "data"), "--output", str(run), "--tasks", "2", "--checkpoint-every", "5")
    assert result.exit_code == 2 and "0.jsonl" in result.output, result.output


def test_a_relative_input_resumed_from_another_directory_is_refused(tmp_path, monkeypatch):
    corpus(tmp_path / "one" / "data.jsonl")
    corpus(tmp_path / "two" / "data.jsonl", 20, 50)
    run = str(tmp_path / "run")
    monkeypatch.chdir(tmp_path / "one")
    assert refine("data.jsonl", "--output", run).exit_code == 0
    monkeypatch.chdir(tmp_path / "two")
    result = refine("data.jsonl", "--output", run)
    assert result.exit_code == 2 and "other input files" in result.output, result.output
    assert {r["id"] for r in outputs(tmp_path / "run")} == {f"d{i}" for i in range(20)}


def test_the_same_files_named_another_way_resume(tmp_path, monkeypatch):
    corpus(tmp_path / "data" / "a.jsonl")
    run = str(tmp_path / "run")
    assert refine(str(tmp_path / "data"), "--output", run).exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = refine("data/a.jsonl", "--output", run)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["read"] == 20


def test_a_student_redistilled_in_place_is_noticed(tmp_path):
    from prox.settings import STUDENT_WEB

    student = tmp_path / "student"
    shutil.copytree(STUDENT_WEB, student)
    data = corpus(tmp_path / "data.jsonl")
    args = [str(data), "--output", str(tmp_path / "run"), "--doc-model", str(student), "--chunk-model", str(student)]
    assert runner.invoke(app, ["refine", *args, "--no-progress"]).exit_code == 0
    lines = (student / "lines.txt").read_text()
    (student / "lines.txt").write_text(lines.replace("Tree=0", "Tree=0\n", 1))  # retrained, same name
    result = runner.invoke(app, ["refine", *args, "--no-progress"])
    assert result.exit_code == 2 and "model_files" in result.output, result.output


def test_a_run_without_recorded_files_still_resumes(tmp_path):
    """Folders made before run.json recorded input files resume as before (their inputs compared as written)."""
    data = corpus(tmp_path / "data.jsonl")
    run = tmp_path / "run"
    assert refine(str(data), "--output", str(run)).exit_code == 0
    identity = json.loads((run / "run.json").read_text())
    for key in ("input_files", "model_files", "owns"):
        del identity[key]
    (run / "run.json").write_text(json.dumps(identity))
    assert refine(str(data), "--output", str(run)).exit_code == 0


# --- prox owns only what it wrote ----------------------------------------------------------------------------------

def test_a_folder_of_other_files_is_used_only_when_the_user_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus(tmp_path / "data.jsonl")
    (tmp_path / "progress").mkdir()
    (tmp_path / "progress" / "mine.txt").write_text("mine")
    (tmp_path / "stats.json").write_text('{"mine": 1}')
    result = refine("data.jsonl", "--output", ".")
    assert result.exit_code == 2 and "--existing-folder" in result.output, result.output
    result = refine("data.jsonl", "--output", ".", "--existing-folder")
    assert result.exit_code == 2 and "progress, stats.json" in result.output, result.output
    assert (tmp_path / "progress" / "mine.txt").read_text() == "mine" and (tmp_path / "stats.json").read_text() == '{"mine": 1}'


def test_force_deletes_only_what_the_run_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus(tmp_path / "data.jsonl")
    (tmp_path / "README.md").write_text("# my notes\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "app.log").write_text("mine")
    assert refine("data.jsonl", "--output", ".", "--existing-folder").exit_code == 0
    owns = json.loads((tmp_path / "run.json").read_text())["owns"]
    assert "README.md" not in owns and "kept" in owns and "notes" not in owns
    assert (tmp_path / "README.md").read_text() == "# my notes\n"  # no card over the user's README
    result = refine("data.jsonl", "--output", ".", "--stages", "doc", "--force")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "README.md").read_text() == "# my notes\n" and (tmp_path / "notes" / "app.log").read_text() == "mine"
    assert (tmp_path / "data.jsonl").exists() and len(outputs(tmp_path)) == 20
    result = runner.invoke(app, ["card", "."])  # prox card leaves it alone too
    assert result.exit_code == 2 and "was not written by prox" in result.output
    assert (tmp_path / "README.md").read_text() == "# my notes\n"


def test_force_never_deletes_an_input_of_the_same_command(tmp_path):
    refined, run = tmp_path / "refined", tmp_path / "run"
    assert refine(str(corpus(tmp_path / "data.jsonl")), "--output", str(refined)).exit_code == 0
    assert runner.invoke(app, ["execute", str(refined / "kept"), "-o", str(run)]).exit_code == 0
    before = outputs(run)
    result = runner.invoke(app, ["execute", str(run / "kept"), "-o", str(run), "--force", "--drop-fraction", "0.5"])
    assert result.exit_code == 2 and "which this run writes (and --force deletes)" in result.output, result.output
    assert outputs(run) == before and len(before) == 20


def test_prox_card_replaces_only_a_card_of_its_own(tmp_path):
    run = tmp_path / "run"
    assert refine(str(corpus(tmp_path / "data.jsonl")), "--output", str(run)).exit_code == 0
    assert runner.invoke(app, ["card", str(run)]).exit_code == 0  # its own card: rewritten
    (run / "README.md").write_text("# written by hand\n")
    result = runner.invoke(app, ["card", str(run)])
    assert result.exit_code == 2 and "was not written by prox" in result.output
    assert (run / "README.md").read_text() == "# written by hand\n"


# --- records kept as they came ---------------------------------------------------------------------------------------

def test_input_fields_are_never_overwritten_or_lost(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", [
        {"id": 7, "text": article(0), "raw_content": "<html>original page</html>", "url": "top",
         "metadata": {"url": "meta", "source": "crawl-3"}, "prox": {"mine": True}},
        {"id": {"nested": 1}, "text": article(1)},
        {"id": "s", "text": article(2), "metadata": {"doc_program": "drop_doc()", "drop_probability": 0.99}},
    ])
    run = tmp_path / "run"
    assert refine(str(data), "--output", str(run), "--stages", "chunk").exit_code == 0
    by_order = sorted(outputs(run), key=lambda r: json.dumps(r["id"]))
    found = {json.dumps(r["id"]): r for r in by_order}
    first = found["7"]
    assert first["id"] == 7 and first["raw_content"] == article(0)
    assert first["metadata"]["url"] == "meta" and first["metadata"]["source"] == "crawl-3"
    assert first["metadata"]["prox"]["input_fields"] == {"raw_content": "<html>original page</html>", "url": "top",
                                                         "prox": {"mine": True}}
    assert found[json.dumps({"nested": 1})]["id"] == {"nested": 1}
    third = found['"s"']  # a stored program this run did not write is not run: the document is kept
    assert third["metadata"]["prox"]["reason"] != "drop_doc" and third["text"]
    assert "doc_program" not in third["metadata"] and "drop_probability" not in third["metadata"]
    assert third["metadata"]["prox"]["input_fields"] == {"doc_program": "drop_doc()", "drop_probability": 0.99}
    # prox execute re-runs this run's programs, and carries the input's fields and id types on
    result = runner.invoke(app, ["execute", str(run / "kept"), "-o", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    again = {json.dumps(r["id"]): r for r in outputs(tmp_path / "again")}
    assert again["7"]["metadata"]["prox"]["input_fields"] == first["metadata"]["prox"]["input_fields"]
    assert again[json.dumps({"nested": 1})]["id"] == {"nested": 1}
