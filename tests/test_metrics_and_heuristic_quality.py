import pytest
from conftest import read_jsonl, shared_file

from prox.metrics import Confusion


def test_confusion_scores():
    scores = Confusion().add([True, True, False, False, True], [True, False, True, False, True])
    assert (scores.tp, scores.fp, scores.fn, scores.tn) == (2, 1, 1, 1)
    assert scores.precision == 2 / 3 and scores.recall == 2 / 3 and scores.f1 == 2 / 3
    assert scores.negative_f1 == 0.5 and scores.accuracy == 0.6
    assert Confusion().f1 == 0.0 and Confusion().accuracy == 0.0


@pytest.mark.parametrize("name, macro, c4", [("boilerplate_lines_dev.jsonl.gz", 0.80, 0.66), ("boilerplate_lines_dragnet.jsonl.gz", 0.83, 0.73)])
def test_heuristic_line_quality_on_both_line_sets(name, macro, c4):
    """Regression guard for docs/benchmarks.md: the line rules hold on CleanEval (41% boilerplate) and Dragnet
    (76%) alike (macro F1 0.806 and 0.838; C4's line rule 0.656 and 0.727)."""
    from prox.text.line_rules import LineRules

    pages = read_jsonl(shared_file(f"labels/{name}"))
    scores = Confusion()
    rules = LineRules()
    for page in pages:
        scores.add(rules.boilerplate(page["lines"]), [k == 0 for k in page["keep"]])
    assert scores.macro_f1 > macro > c4 + 0.05


ARTICLE = [
    "The council agreed on Tuesday to rebuild the old stone bridge, which the flood of 1910 left standing.",
    "Engineers who surveyed it last year found that the arches had barely moved and that the mortar was sound.",
    "The work will take two summers, and the town will keep a market on the bridge for the whole of that time.",
    "Local historians have asked that the original stones be kept, numbered and put back in the same places.",
    "The museum near the east bank will show photographs of the flood and of the rebuilding that followed it.",
    "Residents who want to comment on the plans can write to the council before the end of the month.",
]


def test_a_good_article_is_not_dropped_for_the_boilerplate_around_it():
    """Judged as a raw page, this article fails FineWeb's line punctuation ratio; judged on its content it passes."""
    from prox import Refiner
    from prox.writers.heuristic import HeuristicWriter

    menu = ["Home", "News", "Sport", "Weather", "Business", "Culture", "Travel", "Video", "Login", "Search"] * 3
    footer = ["Most read", "Bridge to close for two summers", "Market moves to the square", "Terms", "Privacy", "Cookies"]
    text = "\n".join(menu + ["Council to rebuild the old bridge"] + ARTICLE * 2 + footer)
    assert HeuristicWriter(judge="page").drop_reason(text) is not None  # the old judgement condemned it
    assert HeuristicWriter().drop_reason(text) is None
    result = Refiner(preset="heuristic").refine([text])[0]
    assert not result.dropped and "Engineers who surveyed" in result.text and "Weather" not in result.text


def test_heuristic_drops_name_the_rule_that_fired(tmp_path):
    import json

    from prox import Refiner
    from prox.jobs import RefineJob

    short = "A short note of a dozen words that says very little at all."
    assert Refiner(preset="heuristic").refine([short])[0].reason == "gopher_quality:gopher_short_doc"
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "\n".join(ARTICLE * 3)}) + "\n" + json.dumps({"id": "b", "text": short}) + "\n")
    summary = RefineJob([str(source)], str(tmp_path / "run"), preset="heuristic").run()
    assert summary["reasons"] == {"refined": 1, "gopher_quality:gopher_short_doc": 1}
    dropped = [json.loads(line) for path in (tmp_path / "run" / "dropped").glob("*.jsonl") for line in path.read_text().splitlines()]
    assert dropped[0]["metadata"]["prox"]["reason"] == "gopher_quality:gopher_short_doc"
    assert dropped[0]["metadata"]["doc_rule"] == "gopher_quality:gopher_short_doc"
