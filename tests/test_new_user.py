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
