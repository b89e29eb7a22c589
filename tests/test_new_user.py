"""What a new user meets first: `--version`, the main path first, help pages whole at 80 columns, hints for the usual
mistakes."""

import re

import pytest
import typer.testing
from typer.testing import CliRunner

from prox import __version__
from prox.cli import COMMANDS, build

BOX = re.compile(r"[│╭╮╰╯─]")


@pytest.fixture(autouse=True)
def runner_takes_the_built_group(monkeypatch):
    """typer's CliRunner builds a click group from a Typer app; these tests give it the group ``prox`` runs."""
    monkeypatch.setattr(typer.testing, "_get_command", lambda group: group)


def words(text: str) -> set[str]:
    return set(BOX.sub(" ", text).split())


def test_version_flag():
    result = CliRunner().invoke(build(), ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"prox {__version__}"


def test_refine_comes_first_and_every_command_is_listed():
    group = build()
    assert list(group.commands) == list(COMMANDS) and COMMANDS[0] == "refine"
    result = CliRunner().invoke(group, ["--help"], env={"COLUMNS": "80"})
    listed = [name for name in COMMANDS if re.search(rf"^  {re.escape(name)}\s", result.output, re.M)]
    assert listed == list(COMMANDS), result.output


def test_every_help_page_fits_80_columns_without_losing_text():
    group = build()
    for name in (None, *COMMANDS):
        command = group if name is None else group.commands[name]
        result = CliRunner().invoke(group, ([name] if name else []) + ["--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (name, result.output)
        assert max(map(len, result.output.splitlines())) <= 80, (name, result.output)
        shown = words(result.output)
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for text in texts:
            missing = words(text) - shown
            assert not missing, (name, missing, result.output)
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("--"):
                    assert flag in result.output, (name, flag)


def test_a_plain_text_file_is_pointed_to_refine_text_and_publishes_nothing(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("A title\nSome words of an article about rivers and bridges.\n")
    result = CliRunner().invoke(build(), ["refine", str(page), "-o", str(tmp_path / "run")])
    assert result.exit_code == 1, result.output
    assert "all 2 records were rejected" in result.output and f"prox refine-text {page}" in result.output
    assert not (tmp_path / "run" / "README.md").exists()  # a run that refined nothing writes no dataset card


def test_chunk_offline_suggests_what_chunk_takes(tmp_path, monkeypatch):
    page = tmp_path / "page.txt"
    page.write_text("one line\n")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(build(), ["chunk", str(page), "--tokenizer", "some-org/not-cached-anywhere"])
    assert result.exit_code == 2 and "cannot load tokenizer" in result.output
    assert "a local tokenizer folder" in result.output and "--preset" not in result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The Quickstart corpus refined by the heuristic and by the default student."""
    from pathlib import Path

    from prox.jobs import RefineJob

    corpus = str(Path(__file__).parent.parent / "examples" / "web_corpus.jsonl")
    folder = tmp_path_factory.mktemp("runs")
    for preset in ("heuristic", "student-web"):
        RefineJob([corpus], str(folder / preset), preset=preset).run(progress=False)
    return folder


def shown(folder, *args) -> list[dict]:
    import json

    result = CliRunner().invoke(build(), ["show", str(folder), "--json", "--sample", "100", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_show_filters_by_decision_and_reason(runs):
    everything = shown(runs / "heuristic")
    dropped, kept = shown(runs / "heuristic", "--dropped"), shown(runs / "heuristic", "--kept")
    assert len(dropped) + len(kept) == len(everything) == 49 and dropped and kept
    assert all(d["dropped"] for d in dropped) and not any(d["dropped"] for d in kept)
    gopher = shown(runs / "heuristic", "--reason", "gopher_quality:")
    assert gopher and {d["reason"].split(":")[0] for d in gopher} == {"gopher_quality"}
    exact = gopher[0]["reason"]
    assert {d["reason"] for d in shown(runs / "heuristic", "--reason", exact)} == {exact}
    result = CliRunner().invoke(build(), ["show", str(runs / "heuristic"), "--reason", "no-such-reason"])
    assert result.exit_code == 1 and "no document" in result.output and "refined" in result.output


def test_show_why_gives_the_rules_evidence_of_a_heuristic_drop(runs):
    (doc,) = shown(runs / "heuristic", "--reason", "gopher_quality:", "--sample", "1", "--why")
    assert any(note.startswith("the line rules keep ") for note in doc["why"])
    assert any(doc["reason"] in note for note in doc["why"] if note.startswith("doc filters"))
    causes = {line["why"] for line in doc["lines"]}
    assert causes & {"rules: boilerplate words", "rules: navigation run", "rules: link bar", "rules: outside the main text"}
    # a kept page: every line the run removed has the rule that removed it
    for page in shown(runs / "heuristic", "--kept", "--why"):
        assert all(line["why"].startswith("rules: ") for line in page["lines"] if line["removed"]), page["id"]


def test_show_why_and_p_drop_of_a_student(runs):
    dropped = shown(runs / "student-web", "--dropped", "--why")
    assert dropped and all(d["drop_probability"] is not None for d in dropped)
    for doc in dropped:
        if doc["reason"] == "drop_doc":
            assert f"P(drop) {doc['drop_probability']:.3f}: drops at >= 0.5" in doc["why"]
            assert all(line["why"].startswith("P(remove) ") for line in doc["lines"] if line["text"].strip())
    plain = CliRunner().invoke(build(), ["show", str(runs / "student-web"), "--dropped", "--sample", "1"]).output
    assert "P(drop) 0." in plain.splitlines()[0]


def test_the_report_shows_p_drop(runs):
    from pathlib import Path

    from prox.report.html import write_report

    page = Path(write_report(str(runs / "student-web"))).read_text(encoding="utf-8")
    assert "dropped (drop_doc, P(drop) 0." in page


def test_model_loading_is_quiet_unless_verbose_or_failing(capsys, monkeypatch):
    import sys

    from prox.writers.transformers_writer import quiet_loading

    monkeypatch.delenv("PROX_VERBOSE", raising=False)
    with quiet_loading():
        sys.stderr.write("Converting and de-quantizing GGUF tensors...: 100%\n")
    assert capsys.readouterr().err == ""
    with pytest.raises(OSError), quiet_loading():
        sys.stderr.write("what the library said before failing\n")
        raise OSError("no such model")
    assert "what the library said before failing" in capsys.readouterr().err
    monkeypatch.setenv("PROX_VERBOSE", "1")
    with quiet_loading():
        sys.stderr.write("a bar\n")
    assert capsys.readouterr().err == "a bar\n"
