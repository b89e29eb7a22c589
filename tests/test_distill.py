"""prox distill: a LightGBM student from labels, annotation records and run folders; loading by folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

pytest.importorskip("lightgbm", reason="the student needs LightGBM (the [distill] extra)")

from conftest import read_jsonl, shared_file  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from prox import Refiner  # noqa: E402
from prox.distill.sources import Examples, Page, from_annotations, from_run, gather  # noqa: E402
from prox.distill.student import Student  # noqa: E402
from prox.metrics import Confusion  # noqa: E402

WORDS = ("river town bridge flood stone engineers century arches mortar market museum photographs history "
         "council winter harvest school teacher children library station railway farmers weather road "
         "the the of and to that with have be in").split()
MENU = ["Home", "News", "Sport", "Weather", "About us", "Contact", "Archive", "Login", "Subscribe", "Search"]
FOOTER = ["Copyright © 2024 Example Media. All rights reserved.", "Privacy policy | Terms of use", "Follow us on Twitter",
          "Share on Facebook", "Related posts", "Leave a comment"]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def page(rng: random.Random, content: bool = True) -> Page:
    """A page of menus, an article (or a list of links instead) and a footer, with line labels."""
    lines, keep = [], []
    for item in rng.sample(MENU, rng.randint(3, 8)):
        lines.append(item), keep.append(False)
    if content:
        lines.append(f"{rng.choice(WORDS).capitalize()} news: {sentence(rng, 4)[:-1]}"), keep.append(True)
        for _ in range(rng.randint(4, 12)):
            lines.append(sentence(rng, rng.randint(14, 40))), keep.append(True)
    else:
        for _ in range(rng.randint(5, 15)):
            lines.append(" ".join(rng.choice(WORDS) for _ in range(3)).title()), keep.append(False)
    for item in rng.sample(FOOTER, rng.randint(2, 5)):
        lines.append(item), keep.append(False)
    return Page(tuple(lines), tuple(keep))


def pages(n: int, seed: int, spam: float = 0.2) -> list[Page]:
    rng = random.Random(seed)
    return [page(rng, content=rng.random() > spam) for _ in range(n)]


def write_lines(path: Path, items: list[Page]) -> Path:
    with open(path, "w") as handle:
        for i, item in enumerate(items):
            handle.write(json.dumps({"id": f"p{i}", "lines": list(item.lines), "keep": [int(k) for k in item.keep]}) + "\n")
    return path


def write_docs(path: Path, items: list[Page]) -> Path:
    with open(path, "w") as handle:
        for i, item in enumerate(items):
            handle.write(json.dumps({"id": f"d{i}", "text": "\n".join(item.lines), "keep": int(any(item.keep))}) + "\n")
    return path


def line_scores(folder: str, items: list[Page]) -> Confusion:
    results = Refiner(preset=None, doc_model=folder, chunk_model=folder).refine(["\n".join(p.lines) for p in items])
    scores = Confusion()
    for item, result in zip(items, results):
        removed = set(range(len(item.lines))) if result.dropped else set(result.trace.removed_lines)
        scores.add([i in removed for i in range(len(item.lines))], [not k for k in item.keep])
    return scores


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("student")
    lines = write_lines(folder / "lines.jsonl", pages(80, seed=1))
    docs = write_docs(folder / "docs.jsonl", pages(60, seed=2, spam=0.5))
    result = CliRunner().invoke(__import__("prox.cli", fromlist=["app"]).app,
                                ["distill", "--lines", str(lines), "--docs", str(docs), "-o", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return str(folder / "out")


def test_distill_learns_lines_and_docs_and_loads_by_folder(student_folder):
    manifest = json.loads(Path(student_folder, "student.json").read_text())
    assert manifest["kind"] == "prox-student" and manifest["line_model"] and manifest["doc_model"]
    assert manifest["training"]["pages"] == 80 and manifest["training"]["docs"] == 60
    held_out = pages(40, seed=3)
    scores = line_scores(student_folder, held_out)  # no backend named: the folder says it is a student
    assert scores.macro_f1 > 0.9, scores
    refiner = Refiner(preset=None, doc_model=student_folder, chunk_model=student_folder)
    assert refiner.doc_writer.name == "student"
    results = refiner.refine(["\n".join(p.lines) for p in held_out])
    assert all(r.drop_probability is not None and 0 <= r.drop_probability <= 1 for r in results)
    spam = [r for r, p in zip(results, held_out) if not any(p.keep)]
    assert spam and all(r.dropped for r in spam)
    assert all(r.chunk_programs[0].startswith(("remove_lines", "skip_chunk")) for r in results if not r.dropped)


def test_student_programs_store_p_drop_for_execute_to_redecide(student_folder, tmp_path):
    from prox.jobs import ExecuteJob, RefineJob
    from prox.program.stored import Thresholds

    items = pages(20, seed=4, spam=0.5)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": f"x{i}", "text": "\n".join(p.lines)}) + "\n" for i, p in enumerate(items)))
    summary = RefineJob([str(source)], str(tmp_path / "run"), preset=None, doc_model=student_folder, chunk_model=student_folder).run()
    assert summary["read"] == 20 and summary["balanced"] and 0 < summary["dropped"] < 20
    records = [json.loads(line) for kind in ("kept", "dropped") for path in sorted((tmp_path / "run" / kind).glob("*.jsonl"))
               for line in path.read_text().splitlines()]
    assert all(isinstance(r["metadata"]["drop_probability"], float) for r in records)
    keep_all = ExecuteJob([str(tmp_path / "run" / "dropped")], str(tmp_path / "again"), thresholds=Thresholds(drop_threshold=1.01)).run()
    assert keep_all["read"] == summary["dropped"] and "drop_doc" not in keep_all["reasons"] and keep_all["kept"] >= 1


def test_the_three_sources_reduce_to_the_same_examples(tmp_path):
    from prox.cli import app

    items = pages(12, seed=5)
    lines = write_lines(tmp_path / "lines.jsonl", items)
    derived = tmp_path / "derived.jsonl"
    result = CliRunner().invoke(app, ["derive", "--lines", str(lines), "-o", str(derived)])
    assert result.exit_code == 0, result.output
    from_records = from_annotations(str(derived))
    from_labels = gather(lines=[str(lines)])
    assert [p.keep for p in from_records.pages] == [p.keep for p in from_labels.pages] == [p.keep for p in items]
    assert [p.lines for p in from_records.pages] == [p.lines for p in items]


def test_distilled_from_a_heuristic_run_it_agrees_with_that_run_on_held_out_pages(tmp_path):
    """A student learns a writer from its run folder alone: it reproduces the run's line decisions."""
    from prox.jobs import RefineJob

    corpus = pages(300, seed=6, spam=0.15)
    train, held_out = corpus[:220], corpus[220:]
    source = tmp_path / "train.jsonl"
    source.write_text("".join(json.dumps({"id": f"t{i}", "text": "\n".join(p.lines)}) + "\n" for i, p in enumerate(train)))
    RefineJob([str(source)], str(tmp_path / "run")).run()
    examples = from_run(str(tmp_path / "run"))
    assert len(examples.docs) == 220 and examples.pages
    Student.fit(examples).save(str(tmp_path / "student"))
    assert agreement(str(tmp_path / "student"), held_out) >= 0.9


def agreement(folder: str, items: list[Page]) -> float:
    """Share of lines on which the student and the heuristic (both stages) make the same decision."""
    texts = ["\n".join(p.lines) for p in items]
    same = total = 0
    for ours, theirs, item in zip(Refiner(preset=None, doc_model=folder, chunk_model=folder).refine(texts),
                                  Refiner(preset="heuristic").refine(texts), items):
        removed = [set(range(len(item.lines))) if r.dropped else set(r.trace.removed_lines) for r in (ours, theirs)]
        same += sum((i in removed[0]) == (i in removed[1]) for i in range(len(item.lines)))
        total += len(item.lines)
    return same / total


def test_distilled_from_a_heuristic_run_on_real_pages(tmp_path):
    """The same on CleanEval's real pages: trained on a run over 500 of them, judged on the other 239."""
    from prox.jobs import RefineJob

    records = read_jsonl(shared_file("labels/boilerplate_lines_dev.jsonl.gz"))
    items = [Page(tuple(r["lines"]), tuple(bool(k) for k in r["keep"])) for r in records]
    source = tmp_path / "train.jsonl"
    source.write_text("".join(json.dumps({"id": f"t{i}", "text": "\n".join(p.lines)}) + "\n" for i, p in enumerate(items[:500])))
    RefineJob([str(source)], str(tmp_path / "run")).run()
    result = CliRunner().invoke(__import__("prox.cli", fromlist=["app"]).app, ["distill", str(tmp_path / "run"), "-o", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert agreement(str(tmp_path / "s"), items[500:]) >= 0.9


def test_evaluate_takes_a_student_folder(student_folder, tmp_path):
    from prox.adapt.evaluate import writer_settings
    from prox.cli import app

    assert writer_settings(student_folder)["doc_model"] == student_folder
    lines = write_lines(tmp_path / "val.jsonl", pages(10, seed=7))
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["evaluate", "-w", student_folder, "-w", "heuristic", "--lines", str(lines), "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures[student_folder][str(lines)]["macro_f1"] > 0.9


def test_bad_student_folders_and_sources_are_clear_errors(tmp_path):
    from prox.cli import app

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "student.json").write_text(json.dumps({"kind": "prox-student", "version": 99}))
    with pytest.raises(ValueError, match="not a prox student"):
        Student.load(str(tmp_path / "s"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"level": "chunk"}) + "\n")
    result = CliRunner().invoke(app, ["distill", str(bad), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "bad.jsonl, line 1" in result.output
    result = CliRunner().invoke(app, ["distill", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no training examples" in result.output
    with pytest.raises(ValueError):
        Student.fit(Examples())


def test_several_files_after_one_flag_and_a_warning_for_too_few(tmp_path):
    """``--lines A B`` reads B as line labels too (a source is told apart by its fields), and a student made from a
    few dozen examples says so."""
    from prox.cli import app

    first = write_lines(tmp_path / "a.jsonl", pages(30, seed=1))
    second = write_lines(tmp_path / "b.jsonl", pages(20, seed=2))
    docs = write_docs(tmp_path / "d.jsonl", pages(40, seed=3, spam=0.5))
    result = CliRunner().invoke(app, ["distill", "--lines", str(first), str(second), str(docs), "-o", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    training = json.loads((tmp_path / "s" / "student.json").read_text())["training"]
    assert training["pages"] == 50 and training["docs"] == 40
    assert "learned from 50 pages" in result.output and "learned from 40 labelled documents" in result.output


def test_an_annotation_record_costs_its_chunk_not_its_ranges(tmp_path):
    """remove_lines ranges reaching far past a chunk cost only the chunk's lines (they once built sets of up to a
    million numbers per operation)."""
    from prox.distill.sources import from_annotations

    program = "\n".join(f"remove_lines(line_start={i * 999_999}, line_end={(i + 1) * 999_999 - 1})" for i in range(500))
    record = {"id": "d#0", "level": "chunk", "chunk": "[000]Home\n[001]A line of text.\n[002]Footer", "program": program}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (page,) = from_annotations(str(path)).pages
    assert page.keep == (False, False, False)
