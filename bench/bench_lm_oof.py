"""Choose ``smollm2-web``'s rule on training pages only: out-of-fold line models, scored on the lines SmolLM2 read.

    python bench/bench_lm_oof.py --work /tmp/prox-smollm2-web

The rule ``both`` removes a line only when the language model's line model and the student's agree; with ``sure`` the
language model also removes alone the lines it gives at least that P(remove). Which ``sure``? Chosen here, on the
training pages of ``recipes/smollm2_web.py`` (the states it cached in ``--work``; run it first), never on validation:

1. Two folds by page (even and odd places in each set's training split). For each fold, the LM's head and line model
   are trained on the other fold's read lines (``LineLM.fit``) and a student line model on every line of the other
   fold's pages (as ``student-web``'s: the same features, parameters and weights).
2. Each read line of the fold gets both models' P(remove); the rules are scored per set (macro line-F1 · content kept).
3. ``sure`` is the smallest on the grid whose content kept is within ``--content-cost`` of ``both``'s on every set:
   the language model may remove alone only where that costs at most that share of content anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "recipes"))
from smollm2_web import training_pages, training_rows  # noqa: E402

LAYERS = (15, 30)
GRID = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def out_of_fold(args) -> tuple[list, list, list, list]:
    """Per training page read: its set, the labels of the lines read, and both models' out-of-fold P(remove)."""
    import lightgbm

    from prox.distill.boosting import LINE_PARAMS, LINE_ROUNDS, boost
    from prox.distill.line_lm import LineLM
    from prox.distill.student import _line_matrix

    def missing():
        sys.exit(f"{args.work} lacks the recipe's states: run python recipes/smollm2_web.py --work {args.work} first")

    features, states, keep = training_rows(missing, LAYERS, args)
    every = training_pages(args.labels, 10**9)
    sets = [name for name in every for _ in range(min(args.pages, len(every[name])))]
    place = [i for name in every for i in range(min(args.pages, len(every[name])))]
    model_p: list = [None] * len(keep)
    student_p: list = [None] * len(keep)
    for fold in (0, 1):
        other = [k for k in range(len(keep)) if place[k] % 2 != fold]
        lm = LineLM.fit([features[k] for k in other], [states[k] for k in other], [keep[k] for k in other], "", LAYERS)
        pages = [page for items in every.values() for i, page in enumerate(items) if i % 2 != fold]
        x, y, w = _line_matrix(pages)  # as student-web's line model learns
        student = boost(lightgbm, {**LINE_PARAMS, "num_threads": os.cpu_count() or 1}, lightgbm.Dataset(x, label=y, weight=w),
                        LINE_ROUNDS, f"student, fold {fold}")
        for k in range(len(keep)):
            if place[k] % 2 == fold:
                model_p[k] = lm.line_model.predict(np.column_stack([features[k], lm.head.logit(states[k].astype(np.float32))]))
                student_p[k] = student.predict(features[k])
        print(f"fold {fold}: trained on {len(other)} pages' read lines and {len(pages)} pages", file=sys.stderr, flush=True)
    return sets, keep, model_p, student_p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=os.path.join(ROOT, "..", "shared", "labels"))
    parser.add_argument("--work", default="/tmp/prox-smollm2-web", help="The recipe's --work.")
    parser.add_argument("--pages", type=int, default=200, help="The recipe's --pages.")
    parser.add_argument("--page-tokens", type=int, default=1024)
    parser.add_argument("--deep-windows", type=int, default=2)
    parser.add_argument("--window-tokens", type=int, default=512)
    parser.add_argument("--content-cost", type=float, default=0.01)
    args = parser.parse_args()

    from prox.distill.line_lm import agree
    from prox.metrics import Confusion

    sets, keep, model_p, student_p = out_of_fold(args)
    rules = {"student": lambda m, s: s, "model": lambda m, s: m, "both": lambda m, s: agree(m, s)}
    rules.update({f"both, sure {sure}": (lambda sure: lambda m, s: agree(m, s, sure))(sure) for sure in GRID})
    names = list(dict.fromkeys(sets))
    kept: dict = {}
    print("\n| rule | " + " | ".join(names) + " | mean F1 |\n" + "|---" * (len(names) + 2) + "|")
    for rule, p_remove in rules.items():
        cells, f1 = [], []
        for name in names:
            score = Confusion()
            for k in (k for k in range(len(keep)) if sets[k] == name):
                score.add(list(p_remove(model_p[k], student_p[k]) >= 0.5), [not x for x in keep[k]])
            kept[rule, name] = score.tn / (score.tn + score.fp)
            cells.append(f"{score.macro_f1:.3f} · {kept[rule, name]:.3f}")
            f1.append(score.macro_f1)
        print(f"| {rule} | " + " | ".join(cells) + f" | {np.mean(f1):.3f} |")
    fits = [sure for sure in GRID if all(kept["both", n] - kept[f"both, sure {sure}", n] <= args.content_cost for n in names)]
    print(f"\nsure: {fits[0] if fits else None} (the smallest whose content kept is within {args.content_cost} of both's on every set)")


if __name__ == "__main__":
    main()
