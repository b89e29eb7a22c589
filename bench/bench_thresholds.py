"""The thresholds issue 25 chose, measured: the student's line and doc thresholds, the heuristic's FineWeb check.

    python bench/bench_thresholds.py --labels ../shared/labels

1. Line threshold: out-of-fold P(remove) on the training splits of ``recipes/student_web.py`` (two folds by page
   id, so a raw page and its extracted form share a fold), macro line-F1 / content kept / boilerplate removed
   at 0.5, 0.6 and 0.7 (line stage only).
2. Doc threshold of the shipped ``student-web``: DCLM validation accuracy, and pages of the Quickstart corpus
   (``examples/web_corpus.jsonl``) dropped, at 0.5, 0.6 and 0.7.
3. The heuristic with FineWeb's line-punctuation check on (datatrove's default 0.12) and off (prox's setting):
   extracted CleanEval validation pages dropped, DCLM accuracy on the training and validation splits.
4. The shipped ``student-web``'s line threshold from 0.5 to 0.95 on every validation set (line stage): whether one
   threshold keeps >= 0.95 of the content of both extracted sets and still removes >= 0.30 of their boilerplate,
   and where the content of extracted CleanEval is lost (the pages that lose most).
5. Page form: a classifier of raw page text against extracted text (page means of the line features and of
   P(remove), trained on the training splits), and the student with a higher threshold on pages it calls
   extracted: does telling the forms apart keep the extracted content the constant thresholds of 4 cannot?
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
    return train, out


def doc_threshold(labels: str, corpus: str) -> None:
    from prox.labels import read_labelled
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


def _validation_scores(labels: str):
    """The shipped student's P(remove) on every validation line set (with the multilingual pages)."""
    from bench_quality import load

    from prox.distill.student import Student
    from prox.settings import STUDENT_WEB

    train, evaluation = load(labels, 0)
    student = Student.load(STUDENT_WEB)
    scores = {name: [student.p_remove([list(i.lines)])[0] for i in s.items] for name, s in evaluation.items() if name != "DCLM"}
    return train, evaluation, student, scores


def threshold_curve(labels: str) -> None:
    _, evaluation, _, scores = _validation_scores(labels)
    names = list(scores)
    print("\n4. student-web's line threshold on the validation sets (line stage; macro line-F1 / content kept / boilerplate removed):")
    print("| P(remove) >= | " + " | ".join(names) + " |\n|---" + "|---" * len(names) + "|")
    for threshold in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        print(f"| {threshold} | " + " | ".join(figures(scores[n], evaluation[n].items, threshold) for n in names) + " |", flush=True)
    items, p = evaluation["extracted CleanEval"].items, scores["extracted CleanEval"]
    lost = sorted(((int((np.asarray(i.keep) & (q >= 0.5)).sum()), i.id) for i, q in zip(items, p)), reverse=True)
    total = sum(n for n, _ in lost)
    print(f"extracted CleanEval at 0.5: {total} content lines lost; the 4 pages that lose most: "
          + ", ".join(f"{page} {n}" for n, page in lost[:4]) + f" ({sum(n for n, _ in lost[:4]) / max(total, 1):.0%})")


def page_form(labels: str, train: dict, out_of_fold: dict) -> None:
    import lightgbm

    from prox.distill.features import line_features

    _, evaluation, _, scores = _validation_scores(labels)
    own = 19  # the line's own features, first in LINE_FEATURES

    def row(lines, p):
        f = line_features(lines)[:, :own]
        return np.concatenate([f.mean(0), np.percentile(f[:, 0], [10, 50, 90]),
                               [np.log1p(len(lines)), (p >= 0.5).mean(), p.mean(), np.percentile(p, 25), np.percentile(p, 75)]])

    x, y = [], []
    for name, labelled in train.items():  # the training splits with their out-of-fold P(remove) (section 1)
        pairs = [(i, p) for i, p in zip(labelled.items, out_of_fold[name]) if i.lines]
        x += [row(list(i.lines), p) for i, p in pairs]
        y += [name.startswith("extracted")] * len(pairs)
    params = {"objective": "binary", "num_leaves": 7, "min_data_in_leaf": 20, "learning_rate": 0.05, "verbosity": -1,
              "seed": 0, "deterministic": True, "force_row_wise": True}
    model = lightgbm.train(params, lightgbm.Dataset(np.array(x), np.array(y, dtype=float)), 200)
    names = list(scores)
    p_extracted = {n: [model.predict(row(list(i.lines), p)[None])[0] if i.lines else 0.0
                       for i, p in zip(evaluation[n].items, scores[n])] for n in names}
    print("\n5. Page form (validation): share of pages called extracted | " + " | ".join(
        f"{n} {np.mean(np.array(p_extracted[n]) >= 0.5):.2f}" for n in names))
    print("student-web at 0.5 on pages called raw and at T on pages called extracted (macro line-F1 / kept / removed):")
    print("| T | " + " | ".join(names) + " |\n|---" + "|---" * len(names) + "|")
    for high in (0.75, 0.85, 0.95):
        cells = []
        for n in names:
            adjusted = [q - (high - 0.5) * (e >= 0.5) for q, e in zip(scores[n], p_extracted[n])]  # q >= T  <=>  q - (T - 0.5) >= 0.5
            cells.append(figures(adjusted, evaluation[n].items, 0.5))
        print(f"| {high} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default="../shared/labels")
    parser.add_argument("--corpus", default=os.path.join(HERE, "..", "examples", "web_corpus.jsonl"))
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.labels, "extracted_lines_cleaneval.jsonl.gz")):
        print(f"skipped: {args.labels} lacks the label sets")
        return
    train, out_of_fold = line_threshold(args.labels)
    doc_threshold(args.labels, args.corpus)
    punctuation_check(args.labels)
    threshold_curve(args.labels)
    page_form(args.labels, train, out_of_fold)


if __name__ == "__main__":
    main()
