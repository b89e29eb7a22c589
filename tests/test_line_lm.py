"""The scoring LM writer: a student whose line model also reads a language model's hidden states (prox.distill.line_lm),
and P(remove) of every line stored so `prox execute --line-threshold` re-decides without a model."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest
from click.testing import CliRunner

import prox
from prox import parse_program
from prox.cli import build
from prox.distill.sources import Examples, Page

NAVIGATION = ["Home | News | Sport | Weather | Contact us", "Share this article: Facebook | Twitter | Email",
              "Copyright 2024 The Valley Gazette. All rights reserved.", "Log in | Register | Subscribe",
              "Related: More stories from the valley", "Privacy policy | Terms of use | Cookies"]
PROSE = ["The river rises in the northern hills and flows south through three market towns before it reaches the sea.",
         "Farmers along its banks have grown barley and apples there for centuries, and the floods of spring feed the fields.",
         "The old stone bridge at the second town was rebuilt twice after floods, the last time in the winter of 1952.",
         "Boats carried wool and timber down to the coast until the railway came, and the wharves are now small gardens.",
         "A walking path follows the water for most of its length, and in summer the meadows are full of wild flowers."]
GREEK = "Ο ποταμός πηγάζει από τους βόρειους λόφους και ρέει νότια μέσα από τρεις πόλεις πριν φτάσει στη θάλασσα."


def labelled_pages(count: int, seed: int = 0) -> list[Page]:
    rng = random.Random(seed)
    pages = []
    for _ in range(count):
        lines = rng.sample(NAVIGATION, 2) + rng.sample(PROSE, 3) + rng.sample(NAVIGATION, 2)
        pages.append(Page(tuple(lines), (False, False, True, True, True, False, False)))
    return pages


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, llama2_tokenizer):
    """A 2-layer random-weight Llama, saved and loaded as a writer loads a base model."""
    pytest.importorskip("torch")
    from models import tiny_llama

    from prox.writers.transformers_writer import load_model

    folder = tiny_llama(tmp_path_factory.mktemp("tiny"), llama2_tokenizer)
    return str(folder), *load_model(str(folder), "auto", "cpu")


@pytest.fixture(scope="module")
def lm_student(tiny, tmp_path_factory):
    """A student with a head trained on the tiny model's states: the smollm2-web recipe, small."""
    from prox.distill.features import line_features
    from prox.distill.line_lm import LineLM, line_states
    from prox.distill.student import Student

    folder, model, tokenizer = tiny
    pages = labelled_pages(40)
    states = line_states(model, tokenizer, [p.lines for p in pages], (1, 2), window_tokens=48)
    lm = LineLM.fit([line_features(list(p.lines)) for p in pages], [s.astype(np.float32) for s in states],
                    [p.keep for p in pages], base=folder, layers=(1, 2), window_tokens=48)
    student = Student.fit(Examples(pages=pages))
    student.lm = lm
    out = tmp_path_factory.mktemp("students") / "lm-student"
    student.save(str(out))
    return str(out)


def test_windows_number_lines_across_the_page_and_keep_to_the_budget(llama2_tokenizer):
    from prox.distill.line_lm import windows

    lines = [f"line {i} of a page about rivers and towns" for i in range(40)] + ["word " * 200]
    found = windows(lines, llama2_tokenizer, 64)
    assert [i for w in found for i in w] == list(range(41))  # every line once, in order
    assert found[-1] == [40]  # a line over the budget is a window of its own
    for window in found[:-1]:
        text = "".join(f"[{i:03d}]{lines[i]}\n" for i in window)
        assert len(llama2_tokenizer(text, add_special_tokens=False)["input_ids"]) <= 64 + len(window)
    read = [i for w in windows(lines, llama2_tokenizer, 64, page_tokens=100) for i in w]
    assert read == list(range(len(read))) and 3 < len(read) < 20  # a training page is read up to page_tokens


def test_states_are_the_same_batched_and_padded_or_one_at_a_time(tiny):
    from prox.distill.line_lm import line_states

    _, model, tokenizer = tiny
    pages = [p.lines for p in labelled_pages(5)] + [(), ("one short line",)]
    alone = line_states(model, tokenizer, pages, (1, 2), window_tokens=40, batch_size=1)
    batched = line_states(model, tokenizer, pages, (1, 2), window_tokens=40, batch_size=4)
    assert [s.shape for s in alone] == [(len(p), 2 * 2 * model.config.hidden_size) for p in pages]
    for a, b in zip(alone, batched):
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=2e-2)


def test_chosen_windows_give_the_rows_a_whole_read_gives_for_their_lines(tiny):
    """Training reads a few windows from deep in long pages: each window is its own pass, so its lines' states are
    those the writer computes when it reads the whole page."""
    from prox.distill.line_lm import line_states, windows

    _, model, tokenizer = tiny
    page = [line for p in labelled_pages(3) for line in p.lines]
    every = windows(page, tokenizer, 40)
    assert len(every) >= 4
    chosen = [every[1], every[-1]]
    [whole] = line_states(model, tokenizer, [page], (1, 2), window_tokens=40)
    [part] = line_states(model, tokenizer, [page], (1, 2), window_tokens=40, chosen=[chosen])
    read = [i for window in chosen for i in window]
    assert part.shape == (len(read), whole.shape[1])
    np.testing.assert_array_equal(part, whole[read])


def test_bench_quality_looks_states_up_and_reads_a_page_it_lacks(tiny, tmp_path, monkeypatch):
    """``bench_quality.py --lm-states`` scores a model from states read once: a cached page is looked up (a model
    would not even be called), a page the cache lacks is read as before."""
    import os

    import prox.distill.line_lm as line_lm

    monkeypatch.syspath_prepend(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
    from bench_quality import look_up_states, page_key

    _, model, tokenizer = tiny
    cached, fresh = labelled_pages(2, seed=3)
    marker = np.full((len(cached.lines), 4), 7, np.float16)
    np.savez(tmp_path / "states.npz", **{page_key(cached.lines): marker})
    [expected] = line_lm.line_states(model, tokenizer, [fresh.lines], (1, 2), window_tokens=40)
    monkeypatch.setattr(line_lm, "line_states", line_lm.line_states)  # undone after the test
    look_up_states(str(tmp_path / "states.npz"))
    tokens: list = []
    [looked_up] = line_lm.line_states(None, None, [cached.lines], (1, 2), window_tokens=40, tokens=tokens)
    np.testing.assert_array_equal(looked_up, marker)
    [read] = line_lm.line_states(model, tokenizer, [fresh.lines], (1, 2), window_tokens=40)
    np.testing.assert_array_equal(read, expected)
    assert tokens == [0]


def bench_quality_figures(tmp_path, monkeypatch, *more) -> dict:
    """Run ``bench/bench_quality.py`` on 2 pages a set of ``../shared/labels`` (no students, no speed); its ``--json``."""
    import json
    import os
    import sys

    from conftest import shared_file

    labels = shared_file("labels")
    monkeypatch.syspath_prepend(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
    import bench_quality

    out = tmp_path / "figures.json"
    monkeypatch.setattr(sys, "argv", ["bench_quality.py", "--labels", str(labels), "--pages", "2", "--no-students",
                                      "--corpus", str(tmp_path / "none"), "--json", str(out), *more])
    bench_quality.main()
    return json.loads(out.read_text())


def test_bench_quality_writes_the_figures_it_prints_unrounded(tmp_path, monkeypatch, capsys):
    """Done-when points are decided at 0.001: ``--json`` keeps every figure of the table, unrounded."""
    figures = bench_quality_figures(tmp_path, monkeypatch)
    printed = {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in capsys.readouterr().out.splitlines()
               if line.startswith("| ") and not line.startswith("| writer")}
    assert list(figures) == list(printed)
    for writer, sets in figures.items():
        for at, cell in enumerate(sets.values()):
            if cell and "macro_f1" in cell:
                assert printed[writer][at].startswith(f"{cell['macro_f1']:.3f} · {cell['kept']:.2f} / {cell['removed']:.2f}")
    assert figures["heuristic"]["DCLM"]["accuracy"] >= 0


def test_bench_quality_scores_only_the_sets_named(tmp_path, monkeypatch, capsys):
    """``--sets`` lets one set be read further than the rest: the same figures for it, no others (DCLM's too)."""

    def line_figures(cell):
        return {k: v for k, v in cell.items() if k != "rate"}

    every, one = bench_quality_figures(tmp_path, monkeypatch), bench_quality_figures(tmp_path, monkeypatch, "--sets", "raw Dragnet")
    assert "| writer | raw Dragnet | docs/s |" in capsys.readouterr().out
    assert list(one) == list(every)
    for writer, sets in one.items():
        assert list(sets) == ["raw Dragnet"]
        assert line_figures(sets["raw Dragnet"]) == line_figures(every[writer]["raw Dragnet"])


def test_bench_quality_refuses_a_set_it_does_not_have(tmp_path, monkeypatch, capsys):
    """A misspelt ``--sets`` would score nothing and print an empty table: it is an error naming the sets there are."""
    with pytest.raises(SystemExit) as stopped:
        bench_quality_figures(tmp_path, monkeypatch, "--sets", "raw dragnet")
    assert stopped.value.code == 2
    assert "no set named raw dragnet" in capsys.readouterr().err


def test_a_tiny_model_trains_a_head_and_the_student_writes_valid_programs(lm_student, monkeypatch):
    from prox.distill.line_lm import LineLM

    read: list = []
    real = LineLM.p_remove
    monkeypatch.setattr(LineLM, "p_remove", lambda self, pages, **given: read.extend(pages) or real(self, pages, **given))
    english = "\n".join(labelled_pages(1, seed=7)[0].lines)
    greek = "\n".join([NAVIGATION[0], GREEK, GREEK, NAVIGATION[2]])
    refiner = prox.Refiner(doc_model=lm_student, chunk_model=lm_student)
    assert refiner.settings.models.for_stage("chunk").backend == "student"
    results = refiner.refine([english, greek])
    assert [list(page) for page in read] == [english.split("\n")]  # the language model reads the English page only
    for result, text in zip(results, (english, greek)):
        assert not result.errors and not result.dropped
        [program] = result.chunk_programs
        assert not parse_program(program).errors
        [written] = result.written[1:]
        assert len(written.remove_probabilities) == len(text.split("\n"))
        assert (written.input_tokens > 20) == (text == english)  # what the language model read, for the stats
        assert set(result.text.split("\n")) <= set(text.split("\n"))  # lines removed, none invented
    assert PROSE[0] not in english or PROSE[0] in results[0].text


def written_with_rule(lm_student: str, folder: str, rule: str, sure=None) -> tuple:
    """The student of ``lm_student`` saved in ``folder`` with ``rule`` and ``sure``, then one page written by it:
    (its manifest, the line model's P(remove) under the rule ``model``, the program, the student's own P(remove))."""
    from prox.distill.student import Student
    from prox.text.chunker import whole_document_chunk
    from prox.writers.registry import make_writer

    student = Student.load(lm_student)
    student.lm.rule, student.lm.sure = rule, sure
    student.save(folder)
    lines = list(labelled_pages(1, seed=3)[0].lines)
    chunk = whole_document_chunk("\n".join(lines))
    [alone] = make_writer("student", lm_student).write_chunk([chunk])
    writer = make_writer("student", folder)
    [written] = writer.write_chunk([chunk])
    [own] = writer.student.p_remove([lines])
    manifest = json.loads(open(os.path.join(folder, "student.json")).read())
    return manifest, np.asarray(alone.remove_probabilities), written, own


def test_the_rule_both_removes_a_line_only_when_the_student_would_too(lm_student, tmp_path):
    """``both``: P(remove) is the smaller of the LM's and the student's own, so the LM can save content the student
    would delete but never delete a line the student keeps."""
    from prox.distill.student import Student
    from prox.errors import UsageError

    manifest, lm, both, own = written_with_rule(lm_student, str(tmp_path / "both"), "both")
    assert manifest["lm"]["rule"] == "both"
    assert both.input_tokens > 20  # the language model read the page
    np.testing.assert_allclose(both.remove_probabilities, np.minimum(lm, own), atol=1e-4)
    manifest["lm"]["rule"] = "either"
    (tmp_path / "both" / "student.json").write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match="rule"):
        Student.load(str(tmp_path / "both"))


def test_with_sure_the_language_model_removes_alone_only_the_lines_it_is_sure_of(lm_student, tmp_path):
    """``both`` with ``sure``: the smaller P(remove), except where the LM's is at least ``sure``; saved in the folder,
    absent (plain ``both``) in older folders, and a ``sure`` that is not a P(remove) of 0.5 to 1 is refused."""
    from prox.distill.line_lm import agree
    from prox.distill.student import Student
    from prox.errors import UsageError

    model, own = np.array([0.95, 0.85, 0.6, 0.1]), np.array([0.2, 0.9, 0.3, 0.8])
    np.testing.assert_array_equal(agree(model, own), [0.2, 0.85, 0.3, 0.1])
    np.testing.assert_array_equal(agree(model, own, 0.8), [0.95, 0.85, 0.3, 0.1])

    manifest, lm, sure, own = written_with_rule(lm_student, str(tmp_path / "sure"), "both", sure=0.8)
    assert manifest["lm"]["sure"] == 0.8
    np.testing.assert_allclose(sure.remove_probabilities, np.where(lm >= 0.8, lm, np.minimum(lm, own)), atol=1e-4)
    del manifest["lm"]["sure"]
    (tmp_path / "sure" / "student.json").write_text(json.dumps(manifest))
    assert Student.load(str(tmp_path / "sure")).lm.sure is None
    for wrong in (0.3, 2, "sure", [0.8]):
        manifest["lm"]["sure"] = wrong
        (tmp_path / "sure" / "student.json").write_text(json.dumps(manifest))
        with pytest.raises(UsageError, match="sure"):
            Student.load(str(tmp_path / "sure"))


def test_the_doc_stage_never_loads_the_language_model(lm_student):
    from prox.writers.registry import make_writer

    writer = make_writer("student", lm_student, batch_size=2)
    [written] = writer.write_doc(["\n".join(labelled_pages(1)[0].lines)])
    assert written.program in ("keep_doc()", "drop_doc()") and writer.student.lm.encoder is None
    writer.write_chunk([])
    assert writer.student.lm.encoder is None  # nor a chunk stage with no English page


def test_a_folder_from_elsewhere_is_checked_before_any_model_loads(lm_student, tmp_path):
    import shutil

    from prox.distill.student import Student
    from prox.errors import UsageError

    broken = tmp_path / "broken"
    shutil.copytree(lm_student, broken)
    (broken / "lm_head.npz").unlink()
    with pytest.raises(UsageError, match="lm_head.npz is missing"):
        Student.load(str(broken))
    manifest = json.loads((broken / "student.json").read_text())
    manifest["lm"]["head"] = "../../etc/passwd"  # names in the manifest never lead out of the folder
    shutil.copy(f"{lm_student}/lm_head.npz", broken / "lm_head.npz")
    (broken / "student.json").write_text(json.dumps(manifest))
    assert Student.load(str(broken)).lm is not None


def test_p_remove_is_stored_and_execute_re_decides_the_lines_from_it(tmp_path):
    pages = ["\n".join(p.lines) for p in labelled_pages(3, seed=3)]
    source = tmp_path / "pages.jsonl"
    source.write_text("".join(json.dumps({"id": str(i), "text": text}) + "\n" for i, text in enumerate(pages)))
    runner = CliRunner()
    result = runner.invoke(build(), ["refine", str(source), "-o", str(tmp_path / "run")])  # the default student
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for path in sorted((tmp_path / "run" / "kept").glob("*.jsonl"))
               for line in path.read_text().splitlines()]
    assert len(records) == 3
    for record in records:
        p_remove = record["metadata"]["remove_probability"]
        assert len(p_remove) == len(record["raw_content"].split("\n"))
        assert all(0.0 <= p <= 1.0 for p in p_remove)

    def executed(*options) -> dict:
        out = tmp_path / f"execute{len(list(tmp_path.iterdir()))}"
        done = runner.invoke(build(), ["execute", str(tmp_path / "run" / "kept"), "-o", str(out), "--json", *options])
        assert done.exit_code == 0, done.output
        kept = {}
        for path in sorted((out / "kept").glob("*.jsonl")):
            kept.update({r["id"]: r["text"] for r in map(json.loads, path.read_text().splitlines())})
        return kept

    same = executed("--line-threshold", "0.5")  # the student's own threshold: the programs as written
    assert same == {r["id"]: r["text"] for r in records}
    none_removed = executed("--line-threshold", "1.01", "--short-words", "0")
    assert all(text == r["raw_content"] for r in records for text in [none_removed[r["id"]]])
    assert executed("--line-threshold", "0", "--drop-fraction", "1") == {}  # every line removed: nothing is left


def test_a_line_threshold_without_stored_scores_says_so(tmp_path):
    source = tmp_path / "programs.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "one\ntwo", "metadata": {"chunk_program": ["skip_chunk()"]}}) + "\n")
    result = CliRunner().invoke(build(), ["execute", str(source), "-o", str(tmp_path / "out"), "--line-threshold", "0.5"])
    assert result.exit_code == 1 and "--line-threshold re-decided nothing" in result.output


def test_why_shows_the_p_remove_that_decided(lm_student):
    from prox.report.diff import DocView
    from prox.report.why import Explainer
    from prox.writers.registry import make_writer

    writer = make_writer("student", lm_student)
    text = "\n".join(labelled_pages(1)[0].lines)
    stored = [0.91, 0.92, 0.03, 0.04, 0.05, 0.96, 0.97]
    view = DocView("a", False, "refined", "", "keep_doc()", ["skip_chunk()"], [], [], [], 0, 0,
                   metadata={"remove_probability": stored}, raw=text)
    why = Explainer(writer, writer).explain(view)
    assert why.lines[0] == "P(remove) 0.91 -> remove" and why.lines[2] == "P(remove) 0.03"
    assert writer.student.lm.encoder is None  # the evidence of a page the language model read is what it stored
