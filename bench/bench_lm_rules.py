"""How should SmolLM2's reading of a line become P(remove)? Rules compared on whole validation pages.

    python bench/bench_lm_rules.py --work /tmp/prox-smollm2-web

The writer reads whole pages; the go/no-go (``bench/bench_lm_lines.py``) read each page's first 1,024 tokens. This
scores line rules where the writer works:

1. Training: the states ``recipes/smollm2_web.py`` cached in ``--work`` (the beginnings of the first ``--train-pages``
   training pages of each English set, and with ``--deep`` the windows it drew from past them; run the recipe first).
2. Validation: the first ``--pages`` validation pages of each English line set that ``rules_language`` calls English
   (the pages the writer gives SmolLM2), read whole and cached in ``WORK/validation_whole.npz`` (resumable: 352,500
   tokens for 20 pages a set, 40 minutes on 2 cores; 50 pages a set, 87 minutes). The shipped rule was chosen on the
   first ``--chosen-on`` of them, so the pages past those are also scored apart: they are the held-out check. Where
   ``--pages`` is under 50, a last table scores pages ``--pages`` to 49 as far as the go/no-go read them, from its
   caches in ``--lines-work`` when they are there.
3. Rules, each from the same head and trees: ``student-web`` (the shipped student's line model: the baseline),
   ``head`` (the logistic head alone), ``model`` (LightGBM on the student's features and the head's logit: the
   ``model`` rule), ``mean logit`` (of the head and student-web), ``both`` (the smaller of student-web's P(remove)
   and the model's: a line goes only when both would remove it), ``both, head`` (the same with the head alone) and
   ``both, sure`` (``both``, but the model removes alone a line it gives at least the recipe's ``SURE``: the shipped
   rule, its ``SURE`` chosen on training pages by ``bench/bench_lm_oof.py``).

Line figures only (the doc stage is the same for every rule): macro line-F1 · content kept / boilerplate removed.
``bench/bench_quality.py --writer smollm2-web`` scores the shipped rule with both stages.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(ROOT, "recipes"))
from bench_quality import LINE_SETS, load, page_key  # noqa: E402
from smollm2_web import SURE, training_rows  # noqa: E402

LAYERS = (15, 30)


def whole_states(pages: dict, args) -> dict:
    """sha1 of a page's text -> its states read whole, as the writer reads it (batched by 4); saved every 10 pages."""
    from prox.distill.line_lm import line_states

    path = os.path.join(args.work, "validation_whole.npz")
    found = dict(np.load(path, allow_pickle=False)) if os.path.exists(path) else {}
    todo = [page for items in pages.values() for page in items if page_key(page.lines) not in found]
    if todo:
        from bench_lm_lines import smollm2

        model, tokenizer = smollm2()
        start = time.perf_counter()
        for n, page in enumerate(todo, 1):
            [found[page_key(page.lines)]] = line_states(model, tokenizer, [list(page.lines)], LAYERS, batch_size=4)
            if n % 10 == 0 or n == len(todo):
                np.savez(path, **found)
            print(f"validation pages read whole: {n}/{len(todo)}, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return found


def rules(lm, student):
    """name -> P(remove) of a page's lines from (lines, its states)."""
    from prox.distill.features import line_features
    from prox.distill.line_lm import agree

    def parts(lines, states):
        z = lm.head.logit(states)
        model = lm.line_model.predict(np.column_stack([line_features(list(lines))[: len(states)], z]))
        own = student.p_remove([list(lines)])[0][: len(states)]
        return z, model, own

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def logit(p):
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    return parts, {
        "student-web": lambda z, model, own: own,
        "head": lambda z, model, own: sigmoid(z),
        "model": lambda z, model, own: model,
        "mean logit": lambda z, model, own: sigmoid((z + logit(own)) / 2),
        "both": lambda z, model, own: np.minimum(model, own),
        "both, head": lambda z, model, own: np.minimum(sigmoid(z), own),
        f"both, sure {SURE}": lambda z, model, own: agree(model, own, SURE),
    }


def table(title: str, pages: dict, parts, named: dict) -> None:
    from prox.metrics import Confusion

    cells: dict = {name: [] for name in named}
    for items in pages.values():
        scores = {name: Confusion() for name in named}
        for lines, keep, states in items:
            truth = [not k for k in keep[: len(states)]]
            got = parts(lines, states.astype(np.float32))
            for name, rule in named.items():
                scores[name].add(list(rule(*got) >= 0.5), truth)
        for name, s in scores.items():
            kept = s.tn / (s.tn + s.fp) if s.tn + s.fp else 1.0
            removed = s.tp / (s.tp + s.fn) if s.tp + s.fn else 0.0
            cells[name].append(f"{s.macro_f1:.3f} · {kept:.2f} / {removed:.2f}")
    print(f"\n{title}\n\n| rule | " + " | ".join(pages) + " |\n" + "|---" * (len(pages) + 1) + "|")
    for name, row in cells.items():
        print(f"| {name} | " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=os.path.join(ROOT, "..", "shared", "labels"))
    parser.add_argument("--work", default="/tmp/prox-smollm2-web", help="The recipe's --work.")
    parser.add_argument("--lines-work", default="/tmp/prox-lm-lines", help="bench_lm_lines.py's --work (second table).")
    parser.add_argument("--train-pages", type=int, default=200)
    parser.add_argument("--page-tokens", type=int, default=1024)
    parser.add_argument("--deep-windows", type=int, default=2, help="As the recipe drew them (0: beginnings only).")
    parser.add_argument("--window-tokens", type=int, default=512)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--chosen-on", type=int, default=20, help="The rule was chosen on this many first pages.")
    parser.add_argument("--sets", default=",".join(LINE_SETS), help="Comma-separated line sets to read and score.")
    args = parser.parse_args()
    unknown = [name for name in args.sets.split(",") if name not in LINE_SETS]
    if unknown:
        parser.error(f"--sets: no line set named {', '.join(unknown)} (sets: {', '.join(LINE_SETS)})")
    sets = [name for name in LINE_SETS if name in args.sets.split(",")]

    from prox.distill.line_lm import LineLM
    from prox.distill.student import Student
    from prox.models import SMOLLM2, shipped
    from prox.text.language import rules_language

    def missing():
        sys.exit(f"{args.work} lacks the recipe's states: run python recipes/smollm2_web.py --work {args.work} first")

    recipe = argparse.Namespace(**{**vars(args), "pages": args.train_pages})  # the recipe calls them pages
    features, states, keep = training_rows(missing, LAYERS, recipe)
    lm = LineLM.fit(features, states, keep, SMOLLM2, LAYERS, args.window_tokens)
    print(f"trained on {len(keep)} pages, {sum(map(len, keep))} lines (deep windows: {args.deep_windows})", flush=True)
    parts, named = rules(lm, Student.load(shipped("student-web")))

    _, evaluation = load(args.labels, 0)
    english = {name: [page for page in evaluation[name].items[: args.pages] if rules_language("\n".join(page.lines)) == "en"]
               for name in sets}
    found = whole_states(english, args)
    table(f"Whole pages: the first {args.pages} validation pages of each set",
          {name: [(p.lines, p.keep, found[page_key(p.lines)]) for p in items] for name, items in english.items()}, parts, named)
    if args.pages > args.chosen_on:
        past = {name: [(p.lines, p.keep, found[page_key(p.lines)]) for p in evaluation[name].items[args.chosen_on: args.pages]
                       if rules_language("\n".join(p.lines)) == "en"] for name in sets}
        table(f"Whole pages {args.chosen_on} to {args.pages - 1}, which the rule was not chosen on", past, parts, named)

    later = {}
    for name in sets:
        path = os.path.join(args.lines_work, name.replace(" ", "_") + ".npz")
        if os.path.exists(path):
            cached = np.load(path, allow_pickle=False)
            later[name] = [(page.lines, page.keep, cached[str(i)]) for i, page in enumerate(evaluation[name].items[:50])
                           if i >= args.pages and str(i) in cached and rules_language("\n".join(page.lines)) == "en"]
    if any(later.values()):
        table(f"First 1,024 tokens of validation pages {args.pages} to 49 (bench_lm_lines.py's caches)", later, parts, named)


if __name__ == "__main__":
    main()
