"""A run that cannot do its work stops before it starts, in one line, with nothing written; a bug stops it too."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prox.cli import app
from prox.writers.heuristic import HeuristicWriter

CORPUS = str(Path(__file__).parent.parent / "examples" / "web_corpus.jsonl")


def refine(tmp_path, *args):
    result = CliRunner().invoke(app, ["refine", CORPUS, "-o", str(tmp_path / "run"), *args])
    return result, tmp_path / "run"


@pytest.mark.parametrize("option, message", [
    ('line_rules={"nope": 5}', "line_rules takes numbers for"),
    ('doc_filters={"gopher_quality": {}}', "option doc_filters takes true or false or a string or a JSON list"),
    ("judge=3", "option judge takes a string, not 3"),
])
def test_a_writer_option_it_cannot_use_stops_the_run_before_anything_is_written(tmp_path, option, message):
    result, run = refine(tmp_path, "--preset", "heuristic", "-O", option)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not run.exists()


def test_options_in_the_forms_a_command_line_gives_them():
    assert HeuristicWriter(doc_filters="fineweb").doc_filters == ("fineweb",)
    assert HeuristicWriter(doc_filters="gopher_quality, fineweb").doc_filters == ("gopher_quality", "fineweb")
    assert HeuristicWriter(line_rules={"prose_words": 8}).line_rules.prose_words == 8


def test_a_student_folder_with_a_missing_model_stops_the_run(tmp_path):
    from prox.settings import STUDENT_WEB

    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy(Path(STUDENT_WEB) / "student.json", folder / "student.json")
    result, run = refine(tmp_path, "--doc-model", str(folder), "--chunk-model", str(folder))
    assert result.exit_code == 2 and "lines.txt is missing" in result.output, result.output
    assert not run.exists()


def test_a_server_that_does_not_answer_stops_the_run_before_anything_is_written(tmp_path, llama2_tokenizer):
    from conftest import SHARED
    from servers import free_port

    result, run = refine(tmp_path, "--backend", "openai", "--doc-model", "x", "--chunk-model", "x",
                         "-O", f"base_url=http://127.0.0.1:{free_port()}/v1", "-O", f"tokenizer={SHARED / 'tokenizers/llama2'}",
                         "-O", "max_retries=0", "-O", "timeout=2")
    assert result.exit_code == 2 and "failed on a probe page before the run" in result.output, result.output
    assert not run.exists()


class Broken:
    """A writer with a bug: every call raises AttributeError."""

    name = "broken"

    def write_doc(self, texts):
        return self.missing_attribute

    def write_chunk(self, chunks):
        return self.missing_attribute


class Picky:
    """A writer that refuses one document's content (ValueError) and writes keep_doc() for the rest."""

    name = "picky"

    def write_doc(self, texts):
        from prox.writers.base import Written

        if any("poison" in text for text in texts):
            raise ValueError("this document cannot be read")
        return [Written("keep_doc()") for _ in texts]


def test_a_bug_stops_the_run_and_one_documents_error_does_not():
    from prox import Refiner

    with pytest.raises(AttributeError):
        Refiner(doc_writer=Broken(), stages=("doc",)).refine(["a page", "another page"])
    results = Refiner(doc_writer=Picky(), stages=("doc",)).refine(["a page of text", "poison", "more text"])
    assert [r.reason for r in results] == ["keep_doc", "writer_error", "keep_doc"]


def test_a_run_whose_writer_failed_on_too_many_documents_exits_non_zero(tmp_path, llama2_tokenizer):
    from conftest import SHARED
    from servers import FlakyServer

    server = FlakyServer(fail_first=0)
    try:
        corpus = tmp_path / "in.jsonl"
        corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": f"{'FAIL ' if i < 2 else ''}A page about rivers number {i}."}) + "\n"
                                  for i in range(10)))
        args = ["refine", str(corpus), "--stages", "doc", "--backend", "openai", "--doc-model", "x", "-O", f"base_url={server.url}",
                "-O", f"tokenizer={SHARED / 'tokenizers/llama2'}", "-O", "max_retries=0", "-O", "mode=text"]
        result = CliRunner().invoke(app, args + ["-o", str(tmp_path / "a")])
        assert result.exit_code == 1, result.output
        assert "the writers failed on 2 of 10 documents (20.0%" in result.output
        result = CliRunner().invoke(app, args + ["-o", str(tmp_path / "b"), "--max-writer-errors", "0.25"])
        assert result.exit_code == 0, result.output
    finally:
        server.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_hub_preset_offline_is_one_line_and_leaves_no_run_folder(tmp_path, monkeypatch, workers):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    result, run = refine(tmp_path, "--preset", "web", "--workers", workers)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") <= 2 and "HF_HUB_OFFLINE is set" in result.output and "Traceback" not in result.output
    assert not run.exists()
    result, run = refine(tmp_path, "--preset", "heuristic")  # the next command with other settings is not refused
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs FIFOs (POSIX)")
def test_readers_never_block_on_a_fifo(tmp_path):
    import os

    result, run = refine(tmp_path, "--preset", "heuristic")
    assert result.exit_code == 0, result.output
    os.mkfifo(run / "kept" / "zz-planted.jsonl")  # nobody ever writes to it: reading it would wait forever
    for command in (["report", str(run)], ["show", str(run), "--sample", "1"], ["card", str(run)], ["summary", str(run)]):
        outcome = CliRunner().invoke(app, command)
        assert outcome.exit_code == 0, (command, outcome.output)
    fifo = tmp_path / "input.jsonl"
    os.mkfifo(fifo)
    outcome = CliRunner().invoke(app, ["refine", str(fifo), "-o", str(tmp_path / "other")])
    assert outcome.exit_code == 2 and "not a regular file" in outcome.output, outcome.output


@pytest.mark.parametrize("file, edit", [
    ("run.json", {"inputs": -1}), ("run.json", {"thresholds": "x"}), ("run.json", {"writer_options": -1}),
    ("run.json", {"stages": {"a": 1}}), ("logs/invocations.jsonl", {"seconds": "x"}), ("logs/invocations.jsonl", {"seconds": None}),
    ("checkpoints/00000-00000.json", {"kept": "x"}), ("checkpoints/00000-00000.json", {"stage_seconds": "x"}),
])
def test_a_hand_edited_run_folder_is_one_line_never_a_traceback(tmp_path, file, edit):
    result, run = refine(tmp_path, "--preset", "heuristic")
    assert result.exit_code == 0
    path = run / file
    if file.endswith(".jsonl"):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({**line, **edit}) + "\n" for line in lines))
    else:
        path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    for command in (["summary", str(run)], ["report", str(run)], ["show", str(run), "--sample", "1"], ["card", str(run)],
                    ["refine", CORPUS, "-o", str(run), "--preset", "heuristic"]):
        outcome = CliRunner().invoke(app, command)
        assert outcome.exit_code in (0, 2) and not isinstance(outcome.exception, Exception) or isinstance(outcome.exception, SystemExit), \
            (command, outcome.output, outcome.exception)
        if outcome.exit_code == 2:
            assert "it was edited" in outcome.output, (command, outcome.output)
    if not file.endswith(".jsonl"):  # --force starts such a folder over
        assert CliRunner().invoke(app, ["refine", CORPUS, "-o", str(run), "--preset", "heuristic", "--force"]).exit_code == 0


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid``, from /proc."""
    import os

    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_no_helper_process_outlives_a_killed_run(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps({"id": str(i), "text": "A page about rivers and bridges. " * 50 + f"\nLine {i}."}) + "\n"
                              for i in range(3000)))
    run = subprocess.Popen([sys.executable, "-m", "prox.cli", "refine", str(corpus), "-o", str(tmp_path / "run"), "--preset",
                            "heuristic"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, helpers = time.time() + 60, []
    while not helpers and time.time() < deadline and run.poll() is None:
        time.sleep(0.2)
        helpers = _children(run.pid)  # datatrove's Manager, started for every local run
    assert helpers, "the run ended before it started a helper process"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    time.sleep(2)
    left = [pid for pid in helpers if os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left


def test_documents_the_writers_failed_on_are_retried_by_a_rerun(tmp_path, llama2_tokenizer):
    """A server that failed on some documents answers again: the rerun redoes the parts that hold them (and those
    after), and the run's figures count every document once."""
    from conftest import SHARED
    from servers import JsonServer

    state = {"failing": True}

    def respond(body):
        if state["failing"] and "FAIL" in json.dumps(body):
            return {"choices": []}  # a malformed answer: the document's writing fails
        return {"choices": [{"text": "keep_doc()"}], "usage": {"completion_tokens": 4}}

    server = JsonServer(respond)
    try:
        corpus = tmp_path / "in.jsonl"
        corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": f"{'FAIL ' if i == 5 else ''}A page about rivers number {i}."})
                                  + "\n" for i in range(12)))
        args = ["refine", str(corpus), "-o", str(tmp_path / "run"), "--stages", "doc", "--backend", "openai", "--doc-model", "x",
                "-O", f"base_url={server.url}", "-O", f"tokenizer={SHARED / 'tokenizers/llama2'}", "-O", "max_retries=0",
                "-O", "mode=text", "--checkpoint-every", "4", "--max-writer-errors", "0.5", "--json"]
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 0, first.output
        figures = json.loads(first.stdout)
        assert figures["writer_errors"] == 1 and figures["read"] == 12
        state["failing"] = False
        second = CliRunner().invoke(app, args)
        assert second.exit_code == 0, second.output
        figures = json.loads(second.stdout)
        assert figures["writer_errors"] == 0 and figures["read"] == 12 and figures["kept"] == 12
        assert figures["last_invocation"]["documents"] == 8  # parts 1 and 2 redone (documents 4-11), part 0 kept
        kept = [json.loads(line) for path in sorted((tmp_path / "run" / "kept").glob("*.jsonl")) for line in path.read_text().splitlines()]
        assert sorted(record["id"] for record in kept) == sorted(f"d{i}" for i in range(12))
        third = CliRunner().invoke(app, args)
        assert third.exit_code == 0 and json.loads(third.stdout)["last_invocation"]["documents"] == 0  # nothing left
    finally:
        server.close()


@pytest.mark.parametrize("edit", [
    lambda text: text.replace("num_leaves=7", "num_leaves=2000000000", 1),  # aborted the process inside LightGBM
    lambda text: text.replace("split_feature=", "split_feature=99999 ", 1),
    lambda text: text.replace("max_feature_idx=", "max_feature_idx=1", 1),
    lambda text: "not a model\n" + text,
    lambda text: text.replace("Tree=0", "Tree=0\n", 1),  # a blank line: LightGBM threw across threads and aborted
])
def test_a_hostile_student_model_file_is_refused_before_lightgbm_reads_it(tmp_path, edit):
    from prox.distill.student import Student
    from prox.settings import STUDENT_WEB

    folder = tmp_path / "student"
    shutil.copytree(STUDENT_WEB, folder)
    lines = folder / "lines.txt"
    lines.write_text(edit(lines.read_text()))
    with pytest.raises(ValueError, match="lines.txt"):
        Student.load(str(folder))


@pytest.fixture()
def small_disk(tmp_path):
    """A 300 KB file system (tmpfs), where this machine lets the tests mount one."""
    import subprocess

    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a small file system here (needs root)")
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_full_disk_is_one_error_line_per_task_not_pages_of_tracebacks(tmp_path, small_disk):
    import subprocess
    import sys

    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps({"id": str(i), "text": "A page about rivers and bridges. " * 40}) + "\n" for i in range(2000)))
    done = subprocess.run([sys.executable, "-m", "prox.cli", "refine", str(corpus), "-o", str(small_disk / "run"), "--preset",
                           "heuristic"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3, done.stderr  # it was 265 lines


def test_a_bug_inside_a_prompted_writer_is_raised_not_recorded_per_document(llama2_tokenizer, monkeypatch):
    """The prompted writers catch a failing batch so its documents carry the error; a bug is no document's fault."""
    from prox.writers.openai_writer import OpenAIWriter

    writer = OpenAIWriter("x", base_url="http://127.0.0.1:9/v1", tokenizer=llama2_tokenizer, mode="text")
    monkeypatch.setattr(writer, "generate", lambda *a, **k: None.missing)  # AttributeError, as a coding slip raises
    with pytest.raises(AttributeError):
        writer.write_doc(["A page about rivers.", "Another page."])
    monkeypatch.setattr(writer, "generate", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("refused")))
    written = writer.write_doc(["A page about rivers."])
    assert written[0].error and "refused" in written[0].error  # an error of the outside world: recorded per document


@pytest.mark.parametrize("error, status", [(ValueError("an internal slip"), 1), (KeyError("chunk"), 1),
                                           (ImportError("cannot import name 'x' from 'prox.y'"), 1)])
def test_a_bug_is_a_traceback_and_status_1_never_passed_off_as_the_users_mistake(monkeypatch, error, status):
    from prox.refiner import Refiner

    def broken(self, texts):
        raise error

    monkeypatch.setattr(Refiner, "refine", broken)
    result = CliRunner().invoke(app, ["refine-text", "--preset", "heuristic", "-"], input="A line of text.\n")
    assert result.exit_code == status and result.exception is error  # the runner holds what typer prints as a traceback
    assert "error:" not in result.output


@pytest.mark.parametrize("error", ["UsageError", "MissingExtra"])
def test_a_users_mistake_is_one_line_and_status_2(monkeypatch, error):
    import prox.errors
    from prox.refiner import Refiner

    def refused(self, texts):
        raise getattr(prox.errors, error)("the thing you gave cannot be used: try another")

    monkeypatch.setattr(Refiner, "refine", refused)
    result = CliRunner().invoke(app, ["refine-text", "--preset", "heuristic", "-"], input="A line of text.\n")
    assert result.exit_code == 2 and result.output.strip() == "error: the thing you gave cannot be used: try another"
