"""Output that survives a pipe: a diff that patch applies, marked plain text from show, JSON for scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from test_pipeline import BODY, BOILERPLATE, document, write_jsonl

PROX = [sys.executable, "-m", "prox.cli"]


def prox(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The command in a subprocess, its output read exactly (UTF-8, no newline translation)."""
    done = subprocess.run(PROX + list(args), input=stdin.encode() if stdin is not None else None, capture_output=True,
                          timeout=300)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.mark.parametrize("ending", ["\n", ""])
def test_refine_text_diff_is_a_patch_from_the_input_to_the_output(tmp_path, ending):
    if not shutil.which("patch"):
        pytest.skip("patch is not installed")
    text = "\n".join(BOILERPLATE[:2] + ["Story: a report from the river town."] + BODY * 2 + BOILERPLATE[2:]
                     + ["Click here to subscribe", "tabs\tand\rcarriage returns stay inside their lines"]) + ending
    source = tmp_path / "page.txt"
    source.write_text(text, encoding="utf-8", newline="")
    diff = prox("refine-text", str(source), "--diff")
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.startswith("--- a/page.txt\n+++ b/page.txt\n@@ ")  # the whole diff on stdout ...
    assert "kept" in diff.stderr and "--- " not in diff.stderr  # ... and the decision on stderr
    refined = json.loads(prox("refine-text", str(source), "--json").stdout)
    assert not refined["dropped"] and refined["removed_lines"] and refined["text"] != text
    patched = tmp_path / "patched.txt"
    patched.write_text(text, encoding="utf-8", newline="")
    (tmp_path / "page.diff").write_text(diff.stdout, encoding="utf-8", newline="")
    applied = subprocess.run(["patch", "-s", str(patched), str(tmp_path / "page.diff")], capture_output=True, text=True)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert patched.read_bytes().decode("utf-8") == refined["text"]
    same = prox("refine-text", "--diff", "--stages", "doc", stdin=text)  # nothing changed: an empty diff
    assert same.returncode == 0 and same.stdout == ""


def test_piped_show_marks_every_removed_and_normalized_line(tmp_path):
    records = [document(i) for i in range(3)] + [
        {"id": "plain", "text": "\n".join(BODY * 3)},  # nothing to remove
        {"id": "spam", "text": "buy cheap pills now " * 30}]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    run = tmp_path / "run"
    assert prox("refine", str(source), "-o", str(run)).returncode == 0
    shown = prox("show", str(run), "--sample", "10")
    assert shown.returncode == 0 and "\x1b[" not in shown.stdout  # no terminal: no escape codes
    lines = json_lines(prox("show", str(run), "--sample", "10", "--json").stdout)
    assert {doc["id"] for doc in lines} == {r["id"] for r in records}
    removed_total = 0
    rows_of, current = {}, None
    for row in shown.stdout.split("\n"):
        if row.startswith("# ") and " · " in row:  # a document's header
            current = rows_of.setdefault(row[2:].split(" · ")[0], [])
        elif row[:1] in "-~ " and row[2:5].isdigit():
            current.append(row)
    for doc in lines:
        rows = rows_of[doc["id"]]
        assert len(rows) == len(doc["lines"])  # every line shown, in order
        for row, line in zip(rows, doc["lines"]):
            assert row.startswith("- " if line["removed"] else ("~ " if line["normalized"] != line["text"] else "  "))
            assert row[2:].startswith(f"{line['number']:03d} ")
            removed_total += line["removed"]
    assert removed_total == sum(len(BOILERPLATE) for _ in range(3))  # the boilerplate lines, each marked "-"


def test_summary_and_refine_print_json_for_scripts(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [document(i) for i in range(4)])
    run = tmp_path / "run"
    refined = prox("refine", str(source), "-o", str(run), "--json")
    assert refined.returncode == 0, refined.stderr
    figures = json.loads(refined.stdout)
    assert figures == json.loads((run / "stats.json").read_text())
    assert figures["read"] == 4 and figures["last_invocation"]["documents"] == 4 and figures["invocations"] == 1
    again = json.loads(prox("summary", str(run), "--json").stdout)
    assert again["kept"] == figures["kept"] and again["last_invocation"]["documents"] == 4
    card = (run / "README.md").read_text()
    resumed = json.loads(prox("refine", str(source), "-o", str(run), "--json").stdout)
    assert resumed["last_invocation"]["documents"] == 0 and resumed["invocations"] == 2
    # a resume with nothing to do publishes the run's figures, not its own: all 4 documents over both invocations
    assert resumed["seconds"] >= figures["seconds"] and resumed["docs_per_second"] == round(4 / resumed["seconds"], 3)
    resumed_card = (run / "README.md").read_text()
    assert "| run time in seconds, all invocations |" in resumed_card and "| documents per second, all invocations |" in resumed_card
    assert "documents this invocation" not in resumed_card and "| invocations | 2 |" in resumed_card
    assert card.count("| documents read | 4 |") == resumed_card.count("| documents read | 4 |") == 1
    assert "Stats:" not in refined.stderr  # datatrove's statistics went to the run's logs, not the terminal
    logs = "".join(p.read_text() for p in (run / "logs" / "logs").glob("*.log"))
    assert logs.count("Stats: {read: 4}") == 1


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_help_pages_have_no_typer_placeholders():
    for args in (["--help"], ["refine", "--help"], ["refine-text", "--help"], ["show", "--help"]):
        page = prox(*args)
        assert page.returncode == 0 and "<bool>" not in page.stdout and "{" not in page.stdout.split("\n", 3)[1], args
    assert "INPUTS..." in prox("refine", "--help").stdout
