from conftest import read_jsonl, shared_file
from prox.metrics import Confusion


def test_confusion_scores():
    scores = Confusion().add([True, True, False, False, True], [True, False, True, False, True])
    assert (scores.tp, scores.fp, scores.fn, scores.tn) == (2, 1, 1, 1)
    assert scores.precision == 2 / 3 and scores.recall == 2 / 3 and scores.f1 == 2 / 3
    assert scores.negative_f1 == 0.5 and scores.accuracy == 0.6
    assert Confusion().f1 == 0.0 and Confusion().accuracy == 0.0


def test_heuristic_line_quality_on_the_cleaneval_dev_set():
    """Regression guard for the figure in docs/benchmarks.md (macro F1 0.776; remove nothing scores 0.373)."""
    from prox.writers.heuristic import LineRules

    pages = read_jsonl(shared_file("labels/boilerplate_lines_dev.jsonl.gz"))
    scores = Confusion()
    rules = LineRules()
    for page in pages:
        scores.add(rules.boilerplate(page["lines"]), [k == 0 for k in page["keep"]])
    assert scores.macro_f1 > 0.76 and scores.precision > 0.7
