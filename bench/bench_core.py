"""Benchmark the core: executor docs/s, and the chunker against the reference's per-line encode.

    python bench/bench_core.py --corpus ../shared/corpora/web_sample.jsonl \
        --tokenizer ../shared/tokenizers/llama2 [--warmup-corpus ../shared/conformance/chunks_dev.jsonl.gz ...]

Chunker figures: "cold" starts from an empty piece cache; "steady" first warms the cache on other
documents (each --warmup-corpus in turn, cumulatively; documents that also occur in --corpus are left
out), as a worker's cache is after its first thousands of documents. Every run checks that the
boundaries equal the baseline's. Timings are the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import platform
import sys
import time


def load_texts(path: str) -> list[str]:
    """Texts of a JSONL file: its "text" field, or its "lines" joined (the line-labelled sets)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    return [r["text"] if "text" in r else "\n".join(r["lines"]) for r in records]


def synthetic_program(text: str) -> str:
    """A program of the usual shape: a few line ranges and a normalization of text that occurs."""
    n = len(text.split("\n"))
    words = text.split()
    ops = [f"remove_lines(line_start=0, line_end={min(1, n - 1)})", f"remove_lines(line_start={max(0, n - 3)}, line_end={n - 1})"]
    if len(words) > 5:
        ops.append(f'normalize(source_str="{words[5][:12]}", target_str="")'.replace("\\", ""))
    return "\n".join(ops)


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl")
    parser.add_argument("--tokenizer", default="../shared/tokenizers/llama2")
    parser.add_argument("--warmup-corpus", nargs="*", default=["../shared/conformance/chunks_dev.jsonl.gz"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for path in (args.corpus, args.tokenizer):
        if not os.path.exists(path):
            print(f"skipped: {path} is absent (pass --corpus / --tokenizer)")
            return

    from transformers import AutoTokenizer

    from prox import chunk_document, execute_chunk, execute_doc, parse_program
    from prox.text.chunker import reference_chunks
    from prox.text.tokenizers import LineTokenCounter

    texts = load_texts(args.corpus)
    n_lines = sum(len(t.split("\n")) for t in texts)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, Python {sys.version.split()[0]}")
    print(f"corpus: {args.corpus}: {len(texts)} documents, {n_lines} lines, {sum(map(len, texts)):,} characters")

    # executor
    programs = [synthetic_program(t) for t in texts]
    seconds, _ = best(lambda: [parse_program(p) for p in programs], args.repeat)
    print(f"parse_program:         {len(texts) / seconds:10,.0f} programs/s")
    parsed = [parse_program(p) for p in programs]
    seconds, _ = best(lambda: [execute_chunk(t, p) for t, p in zip(texts, parsed)], args.repeat)
    print(f"execute_chunk (parsed):{len(texts) / seconds:10,.0f} docs/s")
    seconds, _ = best(lambda: [execute_chunk(t, p) for t, p in zip(texts, programs)], args.repeat)
    print(f"execute_chunk (text):  {len(texts) / seconds:10,.0f} docs/s (parse + execute)")
    seconds, _ = best(lambda: [execute_doc(t, "keep_doc()") for t in texts], args.repeat)
    print(f"execute_doc (text):    {len(texts) / seconds:10,.0f} docs/s")

    # prompts: one tokenizer call per prompt vs one batched call (what the writers do)
    from prox.text.prompts import chunk_prompt, chunk_prompts, doc_prompt, doc_prompts

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    chunks = [c for t in texts for c in chunk_document(t, tokenizer)]
    for level, items, one, many in (("doc", texts, doc_prompt, doc_prompts), ("chunk", chunks, chunk_prompt, chunk_prompts)):
        single_s, single = best(lambda: [one(item, tokenizer) for item in items], args.repeat)
        batched_s, batched = best(lambda: many(items, tokenizer), args.repeat)
        print(f"{level} prompts, one by one: {len(items) / single_s:8,.0f}/s; batched: {len(items) / batched_s:8,.0f}/s "
              f"({single_s / batched_s:.1f}x), identical: {single == batched}")

    # chunker: a fresh tokenizer per run, so neither side profits from an earlier run's caches
    def baseline():
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        start = time.perf_counter()
        chunks = [reference_chunks(t, tokenizer) for t in texts]
        return time.perf_counter() - start, chunks

    def ours(warm: list[str]):
        counter = LineTokenCounter(AutoTokenizer.from_pretrained(args.tokenizer))
        for text in warm:
            chunk_document(text, counter)
        start = time.perf_counter()
        chunks = [chunk_document(t, counter) for t in texts]
        return time.perf_counter() - start, chunks

    def identical(ours_chunks, reference) -> bool:
        """Equal chunk strings; an over-budget line, which prox cuts to fit, must be a prefix of the reference's."""
        return all(
            len(a) == len(b) and all(c.text == r or (c.truncated and r.startswith(c.text)) for c, r in zip(a, b))
            for a, b in zip(ours_chunks, reference)
        )

    def best_of(fn):
        seconds, first = fn()
        for _ in range(args.repeat - 1):
            gc.collect()
            seconds = min(seconds, fn()[0])
        return seconds, first

    def batched():
        """Only batching: one encode_batch_fast call per document over its numbered lines."""
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        encode = tokenizer.backend_tokenizer.encode_batch_fast
        start = time.perf_counter()
        for text in texts:
            encode([f"[{i:03d}]{line}" for i, line in enumerate(text.split("\n"))])
        return time.perf_counter() - start, None

    base_s, base_chunks = best_of(baseline)
    print(f"chunker, per-line encode (reference): {len(texts) / base_s:8,.0f} docs/s ({base_s:.3f} s)")
    batch_s, _ = best_of(batched)
    print(f"token counts only, encode_batch_fast: {len(texts) / batch_s:8,.0f} docs/s ({batch_s:.3f} s) {base_s / batch_s:.1f}x (batching alone, for comparison)")
    cold_s, cold_chunks = best_of(lambda: ours([]))
    same = identical(cold_chunks, base_chunks)
    print(f"chunker, prox, cold cache:            {len(texts) / cold_s:8,.0f} docs/s ({cold_s:.3f} s) {base_s / cold_s:.1f}x, identical chunks: {same}")
    warm: list[str] = []
    measured = set(texts)
    for path in args.warmup_corpus:
        if not os.path.exists(path):
            print(f"steady state with {path} skipped: it is absent")
            continue
        warm += [text for text in load_texts(path) if text not in measured]
        steady_s, steady_chunks = best_of(lambda: ours(warm))
        same = identical(steady_chunks, base_chunks)
        print(
            f"chunker, prox, steady state:          {len(texts) / steady_s:8,.0f} docs/s ({steady_s:.3f} s) "
            f"{base_s / steady_s:.1f}x, identical chunks: {same} (cache warmed on {len(warm)} other documents)"
        )


if __name__ == "__main__":
    main()
