"""The Hugging Face dataset card of a run: valid front matter, figures equal to stats.json, hostile text contained."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from prox.jobs import RefineJob
from prox.report.card import FIGURES, command_line, hub_id, size_category, source_cards, write_card

ARTICLE = ["Home | News | Sport | Contact", "Log in | Register",
           "The old mill on the river was restored by volunteers over three summers, using timber from the estate.",
           "Its wheel turns again on open days, and the miller grinds flour that the village bakery sells on Saturdays.",
           "Visitors can climb to the top floor, where the gears are, and watch the stones at work through a window.",
           "The volunteers keep a logbook of every repair, and the school brings its pupils to read it each spring.",
           "A small shop by the door sells the flour, postcards of the mill and a booklet on how the wheel was rebuilt.",
           "Share on Facebook", "Copyright © 2024 Example Media. All rights reserved."]
HOSTILE = [
    "````````````",
    "   ```",
    "inline ``````` seven ```` backticks ``` here",
    "</details><script>alert('card')</script> <img src=x onerror=alert(1)>",
    "---\nlicense: evil\nlanguage: xx\n---",
    "carriage \r``` return \u2028 and \u202e reversed \ud800 broken",
]
EVIL_SOURCE = 'evil "quoted" \'source\'\n---\n| <i>x</i> | `y` [link](javascript:alert(1))'
MD_ROW = re.compile(r"(?<!\\)\|")


def _records(language: str | None = "en") -> list[dict]:
    records = [{"id": f"doc-{i}", "text": "\n".join(ARTICLE), "source": "news"} for i in range(5)]
    records += [{"id": f"<b>hostile</b> | `{i}`", "text": "\n".join(ARTICLE[:2] + [line] + ARTICLE[2:]), "source": EVIL_SOURCE}
                for i, line in enumerate(HOSTILE)]
    records.append({"id": "spam", "text": "buy cheap " * 40, "source": "spam"})
    for i, record in enumerate(records):
        if language:
            record["language"] = "fr" if i == 1 else language
    return records


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A heuristic refine of a file with quotes in its name; the records carry metadata.language."""
    root = tmp_path_factory.mktemp("card")
    source = root / "in \"quoted\" 'name'.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in _records()) + "\n")
    RefineJob([str(source)], str(root / "run")).run()
    return root / "run"


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory) -> Path:
    """A Parquet run of a Hugging Face dataset folder whose card names a license and a language."""
    root = tmp_path_factory.mktemp("card-parquet")
    dataset = root / "dataset"
    (dataset / "data").mkdir(parents=True)
    (dataset / "README.md").write_text("---\nlicense: cc-by-4.0\nlanguage:\n- fr\n---\n\n# A source\n")
    (dataset / "data" / "train.jsonl").write_text("\n".join(json.dumps(r) for r in _records("de")[:6]) + "\n")
    RefineJob([str(dataset)], str(root / "run"), output_format="parquet").run()
    return root / "run"


def front_matter(text: str) -> tuple[dict, str]:
    """The front matter and body, split the way the Hub splits them (huggingface_hub's own regex)."""
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    match = REGEX_YAML_BLOCK.search(text)
    assert match, text[:500]
    return yaml.safe_load(match.group(2)), text[match.end():]


def blocks(body: str) -> tuple[list[str], list[str]]:
    """Fenced code blocks and the prose lines outside them, as CommonMark reads them (any \\r ends a line)."""
    code, prose, fence, current = [], [], None, []
    for line in re.split(r"\r\n|\r|\n", body):
        if fence is None:
            opening = re.match(r"^ {0,3}(`{3,})([^`]*)$", line)
            if opening:
                fence, current = opening.group(1), []
            else:
                prose.append(line)
        elif re.match(rf"^ {{0,3}}`{{{len(fence)},}}\s*$", line):
            code.append("\n".join(current))
            fence = None
        else:
            current.append(line)
    assert fence is None, "a code block is never closed"
    return code, prose


def table(body: str, heading: str) -> list[list[str]]:
    section = body.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.split("\n") if line.startswith("|")]
    return [[cell.strip() for cell in MD_ROW.split(row)[1:-1]] for row in rows[2:]]


def number(text: str):
    text = text.replace(",", "")
    return float(text) if "." in text or "e" in text else int(text)


def test_front_matter_is_valid_and_complete(run):
    path = write_card(str(run), license="odc-by", language=["en", "fr"])
    assert path == f"{run}/README.md"
    data, body = front_matter(Path(path).read_text(encoding="utf-8"))
    stats = json.loads((run / "stats.json").read_text())
    assert data["license"] == "odc-by" and data["language"] == ["en", "fr"]
    assert data["size_categories"] == [size_category(stats["kept"])] == ["n<1K"]
    assert data["source_datasets"] == [str(run.parent / "in \"quoted\" 'name'.jsonl")]
    assert "prox" in data["tags"] and data["task_categories"] == ["text-generation"] and data["pretty_name"] == "run"
    configs = {c["config_name"]: c["data_files"][0]["path"] for c in data["configs"]}
    assert configs == {"default": "kept/*.jsonl", "dropped": "dropped/*.jsonl"}
    assert sorted(p.name for p in run.glob(configs["default"])) == sorted(p.name for p in (run / "kept").iterdir())
    assert list(run.glob(configs["dropped"]))
    assert body.lstrip().startswith("# run\n") and "arXiv:2409.17115" in body


def test_figures_agree_with_stats_json(run):
    write_card(str(run))
    _, body = front_matter((run / "README.md").read_text(encoding="utf-8"))
    stats = json.loads((run / "stats.json").read_text())
    shown = dict(table(body, "Figures"))
    labels = {label: (key, kind) for label, key, kind in FIGURES}
    compared = 0
    for label, value in shown.items():
        if label not in labels:
            stage, _, figure = label.partition(" stage: ")
            assert number(value) == stats["stages"][stage][figure.replace(" ", "_")]
            continue
        key, kind = labels[label]
        if kind == "time" and isinstance(stats[key], str):
            assert value == stats[key], label
        elif kind == "percent":
            assert Decimal(value.rstrip("%")) / 100 == Decimal(repr(stats[key])), label
        else:
            assert number(value) == stats[key], label
        compared += 1
    assert compared >= 12 and {"documents read", "documents kept", "words before", "share of words kept"} <= set(shown)
    reasons = {escaped.replace("\\", ""): number(count) for escaped, count in table(body, "Why documents were kept or dropped")}
    assert reasons == stats["reasons"]
    sources = table(body, "Retention per source")
    assert sum(number(row[1]) for row in sources) == stats["kept"] + stats["dropped"]
    assert sum(number(row[2]) for row in sources) == stats["kept"]


def test_hostile_text_stays_in_its_code_blocks(run):
    write_card(str(run), examples=20, pretty_name="x\n---\nlicense: evil\n</details>")
    text = (run / "README.md").read_text(encoding="utf-8")
    data, body = front_matter(text)
    assert data["pretty_name"] == "x\n---\nlicense: evil\n</details>" and "license" not in data
    code, prose = blocks(body)
    outside = "\n".join(prose)
    assert "<" not in outside and ">" not in outside  # no HTML outside code: names, ids, sources all escaped
    assert "\r" not in body and "\u202e" not in body and "\ud800" not in text
    diffs = "\n".join(code)
    for planted in ("</details><script>alert('card')</script>", "````````````", "inline ``````` seven", "license: evil"):
        assert planted in diffs, planted
    for section in ("Figures", "Why documents were kept or dropped"):
        assert all(len(row) == 2 for row in table(body, section))
    sources = table(body, "Retention per source")
    assert all(len(row) == 7 for row in sources) and len(sources) == 3
    evil = next(row[0] for row in sources if "evil" in row[0])
    assert "\n" not in evil and '"quoted"' in evil and "&lt;i&gt;" in evil and "\\`y\\`" in evil


def test_hostile_reason_in_stats_does_not_break_the_tables(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    stats = json.loads((copy / "stats.json").read_text())
    stats["reasons"]["evil | reason\n## heading <script>"] = 1
    stats.pop("seconds", None)  # an older run's stats.json lacks keys: they are left out
    (copy / "stats.json").write_text(json.dumps(stats))
    _, body = front_matter(Path(write_card(str(copy), examples=0)).read_text(encoding="utf-8"))
    reasons = table(body, "Why documents were kept or dropped")
    assert all(len(row) == 2 for row in reasons) and any(r[0] == "evil \\| reason \\#\\# heading &lt;script&gt;" for r in reasons)
    assert "## Examples" not in body and "run time in seconds" not in body and "\n## heading" not in body


def test_language_from_records_and_license_from_the_source_card(run, parquet_run):
    data, _ = front_matter(Path(write_card(str(run))).read_text(encoding="utf-8"))
    assert data["language"] == ["en"] and "license" not in data  # the most common metadata.language
    data, _ = front_matter(Path(write_card(str(parquet_run))).read_text(encoding="utf-8"))
    assert data["license"] == "cc-by-4.0" and data["language"] == ["de"]  # records first, then the source's card
    assert data["configs"][0] == {"config_name": "default", "data_files": [{"split": "train", "path": "kept/*.parquet"}]}
    assert list(parquet_run.glob("kept/*.parquet"))
    dataset = json.loads((parquet_run / "run.json").read_text())["inputs"]
    assert source_cards(dataset) == {"license": "cc-by-4.0", "language": ["fr"]}


def test_cli_writes_the_card_and_prints_its_path(run):
    from typer.testing import CliRunner

    from prox.cli import app

    result = CliRunner().invoke(app, ["card", str(run), "--license", "mit", "--language", "en", "--language", "de",
                                      "--name", "Mill pages", "--examples", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"{run}/README.md"
    data, body = front_matter((run / "README.md").read_text(encoding="utf-8"))
    assert data["license"] == "mit" and data["language"] == ["en", "de"] and data["pretty_name"] == "Mill pages"
    assert body.count("### Example") == 1
    missing = CliRunner().invoke(app, ["card", str(run / "nothing")])
    assert missing.exit_code == 2


def test_helpers():
    assert [size_category(n) for n in (0, 999, 1000, 99_999, 100_000, 10**12)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "n>1T"]
    assert hub_id("hf://datasets/org/name@main/data/*.parquet") == "org/name" and hub_id("s3://b/org/name") is None
    line = command_line({"command": "refine", "inputs": ["a b.jsonl"], "output": "out", "preset": "web", "stages": ["doc"],
                         "score": True, "thresholds": {"drop_fraction": 0.9, "drop_threshold": None},
                         "writer_options": {"api_key": "***", "constrained": False, "base_url": "http://h/v1"}})
    assert line == ("prox refine 'a b.jsonl' --output out --preset web --stages doc --score --drop-fraction 0.9 "
                    '--no-constrained -O api_key="$OPENAI_API_KEY" -O base_url=http://h/v1')


def test_every_finished_run_writes_its_card_and_leaves_a_foreign_readme_alone(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in _records()[:5]) + "\n")
    written = RefineJob([str(source)], str(tmp_path / "run")).run()
    card = (tmp_path / "run" / "README.md").read_text()
    data, _ = front_matter(card)
    assert "prox" in data["tags"] and data["size_categories"] == ["n<1K"] and written["read"] == 5
    other = tmp_path / "theirs"
    other.mkdir()
    (other / "README.md").write_text("# Somebody's notes\n")
    RefineJob([str(source)], str(other)).run(existing_folder=True)
    assert (other / "README.md").read_text() == "# Somebody's notes\n"  # not a prox card: not replaced
