"""The thresholds issue 25 chose, measured: the student's line and doc thresholds, the heuristic's FineWeb check.

    python bench/bench_thresholds.py --labels ../shared/labels

1. Line threshold: out-of-fold P(remove) on the training splits of ``recipes/student_web.py`` (two folds by page
   id, so a raw page and its extracted form share a fold), macro line-F1 / content kept / boilerplate removed
   at 0.5, 0.6 and 0.7 (line stage only).
2. Doc threshold of the shipped ``student-web``: DCLM validation accuracy, and pages of the Quickstart corpus
   (``examples/web_corpus.jsonl``) dropped, at 0.5, 0.6 and 0.7.
3. The heuristic with FineWeb's line-punctuation check on (datatrove's default 0.12) and off (prox's setting):
   extracted CleanEval validation pages dropped, DCLM accuracy on the training and validation splits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "recipes"))


def figures(p_remove, pages, threshold: float) -> str:
    from prox.metrics import Confusion

    scores = Confusion()
    for p, page in zip(p_remove, pages):
        scores.add(p >= threshold, [not k for k in page.keep])
    kept = scores.tn / max(scores.tn + scores.fp, 1)
    removed = scores.tp / max(scores.tp + scores.fn, 1)
    return f"{scores.macro_f1:.3f} / {kept:.3f} / {removed:.3f}"


def line_threshold(labels: str) -> None:
    from student_web import training_splits

    from prox.distill.sources import Examples, from_labelled
    from prox.distill.student import Student

    train = {name: s for name, s in training_splits(labels).items() if s.kind == "lines"}
    fold = lambda item: int(hashlib.md5(item.id.encode()).hexdigest(), 16) % 2  # noqa: E731
    out = {name: [None] * len(s.items) for name, s in train.items()}
    for held in (0, 1):
        examples = Examples()
        for name, labelled in train.items():
            examples.extend(from_labelled([i for i in labelled.items if fold(i) != held], name))
        student = Student.fit(examples)
        for name, labelled in train.items():
            for k, item in enumerate(labelled.items):
                if fold(item) == held:
                    out[name][k] = student.p_remove([list(item.lines)])[0]
    print("1. Line threshold, out of fold (macro line-F1 / content kept / boilerplate removed):")
    print("| P(remove) >= | " + " | ".join(train) + " |\n|---" + "|---" * len(train) + "|")
    for threshold in (0.5, 0.6, 0.7):
        print(f"| {threshold} | " + " | ".join(figures(out[n], train[n].items, threshold) for n in train) + " |", flush=True)


def doc_threshold(labels: str, corpus: str) -> None:
    from prox.adapt.labels import read_labelled
    from prox.settings import STUDENT_WEB
    from prox.writers.student import StudentWriter

    writer = StudentWriter(STUDENT_WEB)
    validation = read_labelled(os.path.join(labels, "doc_quality_dev.jsonl"), "docs").split()[1]
    with open(corpus, encoding="utf-8") as handle:
        pages = [json.loads(line)["text"] for line in handle]

    def p_drop(texts):
        return np.array([w.drop_probability if w.drop_probability is not None else float(w.program == "drop_doc()")
                         for w in writer.write_doc(texts)])

    docs, quickstart = p_drop([d.text for d in validation.items]), p_drop(pages)
    gold = np.array([not d.keep for d in validation.items])
    print(f"\n2. Doc threshold of student-web (DCLM validation, {len(gold)} documents; {corpus}, {len(pages)} pages):")
    print("| P(drop) >= | DCLM accuracy | Quickstart pages dropped |\n|---|---|---|")
    for threshold in (0.5, 0.6, 0.7):
        print(f"| {threshold} | {((docs >= threshold) == gold).mean():.3f} | {int((quickstart >= threshold).sum())} |")


def punctuation_check(labels: str) -> None:
    from bench_quality import load

    from prox.writers import heuristic

    train, evaluation = load(labels, 0)
    print("\n3. The heuristic with FineWeb's line-punctuation check (extracted CleanEval validation pages dropped;"
          " DCLM accuracy, training / validation):")
    print("| check | pages dropped | DCLM train | DCLM validation |\n|---|---|---|---|")
    for name, threshold in (("on (0.12)", 0.12), ("off (prox)", 0.0)):
        settings = dict(heuristic.FILTER_SETTINGS["fineweb"][1], line_punct_thr=threshold)
        writer = heuristic.HeuristicWriter()
        original = heuristic.FILTER_SETTINGS["fineweb"]
        heuristic.FILTER_SETTINGS["fineweb"] = (original[0], settings)
        try:
            dropped = sum(writer.drop_reason(page.text) is not None for page in evaluation["extracted CleanEval"].items)
            accuracy = [np.mean([(writer.drop_reason(d.text) is None) == d.keep for d in s["DCLM"].items]) for s in (train, evaluation)]
        finally:
            heuristic.FILTER_SETTINGS["fineweb"] = original
        print(f"| {name} | {dropped} of {len(evaluation['extracted CleanEval'].items)} | {accuracy[0]:.3f} | {accuracy[1]:.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default="../shared/labels")
    parser.add_argument("--corpus", default=os.path.join(HERE, "..", "examples", "web_corpus.jsonl"))
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.labels, "extracted_lines_cleaneval.jsonl.gz")):
        print(f"skipped: {args.labels} lacks the label sets")
        return
    line_threshold(args.labels)
    doc_threshold(args.labels, args.corpus)
    punctuation_check(args.labels)


if __name__ == "__main__":
    main()
