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

How many training pages? ``--sizes 200,300,400`` draws the learning curve instead, also on training pages only: each
fold's language model is trained on the other fold's pages among the first SIZE of each set, and every size is scored
on the same lines (the fold's pages among the first of ``--sizes``' largest), with the recipe's rule. The size chosen
is the one with the best mean macro line-F1 whose content kept is within ``--content-cost`` of the smallest size's on
every set (ties: the smaller).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "recipes"))
from smollm2_web import SURE, training_pages, training_rows  # noqa: E402

LAYERS = (15, 30)
GRID = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def out_of_fold(args, sizes=None) -> tuple[list, list, dict, list]:
    """Per training page read: its set, the labels of the lines read, and both models' out-of-fold P(remove) (the
    language model's per training size: trained on the other fold's pages among the first SIZE of each set)."""
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
    sizes = sizes or (args.pages,)
    model_p = {size: [None] * len(keep) for size in sizes}
    student_p: list = [None] * len(keep)
    for fold in (0, 1):
        mine = [k for k in range(len(keep)) if place[k] % 2 == fold]
        for size in sizes:
            other = [k for k in range(len(keep)) if place[k] % 2 != fold and place[k] < size]
            lm = LineLM.fit([features[k] for k in other], [states[k] for k in other], [keep[k] for k in other], "", LAYERS)
            for k in mine:
                model_p[size][k] = lm.line_model.predict(np.column_stack([features[k], lm.head.logit(states[k].astype(np.float32))]))
            print(f"fold {fold}, size {size}: the language model trained on {len(other)} pages' read lines", file=sys.stderr, flush=True)
        pages = [page for items in every.values() for i, page in enumerate(items) if i % 2 != fold]
        x, y, w = _line_matrix(pages)  # as student-web's line model learns
        student = boost(lightgbm, {**LINE_PARAMS, "num_threads": os.cpu_count() or 1}, lightgbm.Dataset(x, label=y, weight=w),
                        LINE_ROUNDS, f"student, fold {fold}")
        for k in mine:
            student_p[k] = student.predict(features[k])
        print(f"fold {fold}: the student trained on {len(pages)} pages", file=sys.stderr, flush=True)
    return sets, keep, model_p, student_p


def scored(sets: list, keep: list, p_remove) -> dict:
    """Set -> (macro line-F1, content kept) of the lines read, from each read page's P(remove)."""
    from prox.metrics import Confusion

    scores: dict = {}
    for k, name in enumerate(sets):
        scores.setdefault(name, Confusion()).add(list(p_remove(k) >= 0.5), [not x for x in keep[k]])
    return {name: (s.macro_f1, s.tn / (s.tn + s.fp)) for name, s in scores.items()}


def learning_curve(args, sizes: list[int]) -> None:
    """Score the recipe's rule per training size on the same out-of-fold lines, and choose the size."""
    from prox.distill.line_lm import agree

    sets, keep, model_p, student_p = out_of_fold(args, sizes)
    figures = {size: scored(sets, keep, lambda k, size=size: agree(model_p[size][k], student_p[k], SURE)) for size in sizes}
    mean_f1 = {size: round(float(np.mean([f1 for f1, _ in row.values()])), 4) for size, row in figures.items()}
    names = list(figures[sizes[0]])
    print(f"\nboth, sure {SURE}, out of fold on the same lines (macro line-F1 · content kept)\n")
    print("| training pages a set | " + " | ".join(names) + " | mean F1 |\n" + "|---" * (len(names) + 2) + "|")
    for size, row in figures.items():
        cells = " | ".join(f"{f1:.4f} · {kept:.4f}" for f1, kept in row.values())
        print(f"| {size} | {cells} | {mean_f1[size]:.4f} |")
    fits = [size for size in sizes
            if all(figures[sizes[0]][n][1] - figures[size][n][1] <= args.content_cost for n in names)]
    best = max(fits, key=lambda size: (mean_f1[size], -size))
    print(f"\ntraining pages: {best} (the best mean F1 whose content kept is within {args.content_cost} of {sizes[0]}'s on every set)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=os.path.join(ROOT, "..", "shared", "labels"))
    parser.add_argument("--work", default="/tmp/prox-smollm2-web", help="The recipe's --work.")
    parser.add_argument("--pages", type=int, default=200, help="The recipe's --pages.")
    parser.add_argument("--page-tokens", type=int, default=1024)
    parser.add_argument("--deep-windows", type=int, default=2)
    parser.add_argument("--window-tokens", type=int, default=512)
    parser.add_argument("--content-cost", type=float, default=0.01)
    parser.add_argument("--sizes", default=None, help="Comma-separated training pages a set: draw the learning curve.")
    args = parser.parse_args()
    if args.sizes:
        sizes = sorted(int(size) for size in args.sizes.split(","))
        args.pages = sizes[-1]
        return learning_curve(args, sizes)

    from prox.distill.line_lm import agree

    sets, keep, model_p, student_p = out_of_fold(args)
    model_p = model_p[args.pages]
    rules = {"student": lambda m, s: s, "model": lambda m, s: m, "both": lambda m, s: agree(m, s)}
    rules.update({f"both, sure {sure}": (lambda sure: lambda m, s: agree(m, s, sure))(sure) for sure in GRID})
    figures = {rule: scored(sets, keep, lambda k, rule=rule: p_remove(model_p[k], student_p[k])) for rule, p_remove in rules.items()}
    names = list(figures["both"])
    print("\n| rule | " + " | ".join(names) + " | mean F1 |\n" + "|---" * (len(names) + 2) + "|")
    for rule, row in figures.items():
        cells = " | ".join(f"{f1:.3f} · {kept:.3f}" for f1, kept in row.values())
        print(f"| {rule} | {cells} | {np.mean([f1 for f1, _ in row.values()]):.3f} |")
    fits = [sure for sure in GRID
            if all(figures["both"][n][1] - figures[f"both, sure {sure}"][n][1] <= args.content_cost for n in names)]
    print(f"\nsure: {fits[0] if fits else None} (the smallest whose content kept is within {args.content_cost} of both's on every set)")


if __name__ == "__main__":
    main()
