"""Benchmark the core against the ProX reference, side by side in one run, and print the ratios.

    python bench/bench_core.py --corpus ../shared/corpora/web_sample.jsonl \
        --tokenizer ../shared/tokenizers/llama2 [--warmup-corpus ../shared/conformance/chunks_dev.jsonl.gz ...]

Executor: the 2,180 programs of ``--vectors`` (the reference's own outputs on 218 labelled documents,
doc and chunk programs, well-formed and not) run through ``execute_chunk`` / ``execute_doc`` on program
text, and through a re-implementation of the reference's algorithms (GAIR-NLP/ProX ``utils/chunk_utils.py``
and ``utils/doc_utils.py``: line-by-line string slicing of each call, per-line set of removed numbers,
two line splits and two word counts; ``"drop" in program``), checked to give the same texts.
The parser's caches of lines seen are emptied before every timed pass, so no pass profits from an
earlier one.

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


def reference_lines(text: str) -> list[str]:
    """The reference's ``split_doc``: the lines, copied one by one."""
    lines = []
    for line in text.split("\n"):
        lines.append(line[:])
    return lines


def call_arguments(operation: str) -> tuple[list[str] | None, int]:
    """The reference's reading of a call: the text between "(" and ")" cut at commas (to the end but one
    character when ")" is missing, counted as an error), or None without "("."""
    if "(" not in operation:
        return None, 1
    close = operation.find(")")
    return operation[operation.index("(") + 1 : close].split(","), int(close < 0)


def reference_execute_chunk(text: str, program: str, drop_fraction: float = 0.95, short_words: int = 10,
                            error_limit: int = 2) -> str:
    """The reference's chunk executor, re-implemented step for step (same string handling, same work)."""
    lines = reference_lines(text)
    removed, intervals, errors = set(), [], 0
    original = text
    for operation in program.strip(" ").split("\n"):
        if operation.startswith("remove_lines") and "all=True" not in operation:
            arguments, faults = call_arguments(operation)
            errors += faults
            if arguments is None:
                continue
            try:
                start, end = int(arguments[0].split("=")[1]), int(arguments[1].split("=")[1])
            except (IndexError, ValueError):
                errors += 1
                continue
            intervals.append((start, end))
            for number in range(start, end + 1):
                removed.add(number)
        elif operation.startswith("normalize"):
            arguments, faults = call_arguments(operation)
            errors += faults
            if arguments is None:
                continue
            try:
                if len(arguments) == 1:
                    text = text.replace(arguments[0].split("=")[1].strip('"'), "")
                elif len(arguments) == 2:
                    source, target = arguments[0].split("=")[1].strip('"'), arguments[1].split("=")[1].strip('"')
                    if source not in (" ", ""):
                        text = text.replace(source, target)
            except IndexError:
                errors += 1
        elif operation.startswith("remove_lines"):
            removed = set(range(len(lines)))
    lines = reference_lines(text)
    kept = [line for i, line in enumerate(lines) if i not in removed]
    _noise = [line for i, line in enumerate(lines) if i in removed]
    merged: list = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    errors += sum(1 for start, end in merged if start >= len(lines) or end >= len(lines))
    refined = "\n".join(kept)
    after, before = len(refined.split()), len(original.split())
    if after / before * 1.0 <= (1 - drop_fraction) and errors < error_limit:
        return ""
    if after <= short_words:
        return ""
    if after / before * 1.0 >= 0.0 and errors < error_limit:
        return refined
    return original


def reference_execute_doc(text: str, operations: str) -> str:
    program = operations.strip(" ")
    if "drop" in program:
        return ""
    return text


def load_vectors(path: str) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def run_each(execute, pairs) -> None:
    """Each document executed and its result let go, as a pipeline step does (no list of results grows)."""
    for text, program in pairs:
        execute(text, program)


def side_by_side(first, second, repeat: int, setup=lambda: None) -> tuple[float, float]:
    """Best times of two functions run in turn, so a busy moment of the machine hits both alike; ``setup``
    runs untimed before each."""
    a, b = [], []
    for _ in range(repeat):
        for fn, times in ((first, a), (second, b)):
            setup()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(a), min(b)


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
    parser.add_argument("--large-corpus", default="../shared/labels/boilerplate_lines_dev.jsonl.gz",
                        help="A large corpus for the chunker, timed once per side, cold")
    parser.add_argument("--vectors", default="../shared/conformance/executor_dev.jsonl.gz")
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

    # executor, side by side with the reference on its own vectors
    from prox.program import parser as program_parser

    def cold(fn):
        def run():
            program_parser.forget_lines()
            return fn()
        return run

    ratios = {}
    if os.path.exists(args.vectors):
        vectors = load_vectors(args.vectors)
        for kind, ours, theirs in (("chunk", execute_chunk, reference_execute_chunk), ("doc", execute_doc, reference_execute_doc)):
            chosen = [v for v in vectors if v["kind"] == kind]
            # a doc pass over 436 programs takes 0.1 ms, too short to time steadily: each pass runs them 20 times
            pairs = [(v["text"], v["program"]) for v in chosen] * (20 if kind == "doc" else 1)
            wellformed = [v for v in chosen if str(v["wellformed"]) == "True"]
            agree = sum(ours(v["text"], v["program"]).text == theirs(v["text"], v["program"]) for v in wellformed)
            ref_s, our_s = side_by_side(lambda: run_each(theirs, pairs), lambda: run_each(ours, pairs),
                                        3 * args.repeat if kind == "chunk" else 60,
                                        setup=program_parser.forget_lines)
            ratios[f"execute_{kind}"] = ref_s / our_s
            print(f"execute_{kind} on program text: reference {len(pairs) / ref_s:10,.0f}/s, prox {len(pairs) / our_s:10,.0f}/s: "
                  f"{ref_s / our_s:.2f}x the reference (same text on {agree}/{len(wellformed)} well-formed programs)")
    else:
        print(f"executor ratios skipped: {args.vectors} is absent")
    from prox.program import words

    counters = {"str.split": lambda: [len(t.split()) for t in texts], "prox": lambda: [words.word_count(t) for t in texts]}
    if words.word_count is not words._python_word_count:
        counters["prox, pure Python"] = lambda: [words._python_word_count(t) for t in texts]
    split_s, expected = best(counters["str.split"], args.repeat)
    for name, count in list(counters.items())[1:]:
        seconds, found = best(count, args.repeat)
        print(f"word counts, {name}: {split_s / seconds:.1f}x str.split ({len(texts) / seconds:,.0f} docs/s), same: {found == expected}")
    programs = [synthetic_program(t) for t in texts]
    seconds, _ = best(cold(lambda: [parse_program(p) for p in programs]), args.repeat)
    print(f"parse_program:         {len(texts) / seconds:10,.0f} programs/s")
    parsed = [parse_program(p) for p in programs]
    seconds, _ = best(lambda: [execute_chunk(t, p) for t, p in zip(texts, parsed)], args.repeat)
    print(f"execute_chunk (parsed):{len(texts) / seconds:10,.0f} docs/s")
    seconds, _ = best(cold(lambda: [execute_chunk(t, p) for t, p in zip(texts, programs)]), args.repeat)
    print(f"execute_chunk (text):  {len(texts) / seconds:10,.0f} docs/s (parse + execute)")

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

    def ours(warm: list[str], corpus: list[str] = texts):
        """Cold (no warm-up): the time includes building the counter, as a fresh process pays it."""
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        start = time.perf_counter()
        counter = LineTokenCounter(tokenizer)
        if warm:
            for text in warm:
                chunk_document(text, counter)
            start = time.perf_counter()
        chunks = [chunk_document(t, counter) for t in corpus]
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
    if os.path.exists(args.large_corpus):
        large = load_texts(args.large_corpus)
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        start = time.perf_counter()
        reference = [reference_chunks(t, tokenizer) for t in large]
        base_s = time.perf_counter() - start
        cold_s, cold_chunks = ours([], large)
        lines = sum(len(t.split("\n")) for t in large)
        print(f"chunker on {args.large_corpus} ({len(large)} documents, {lines:,} lines), once each, cold: reference "
              f"{base_s:.2f} s, prox {cold_s:.2f} s: {base_s / cold_s:.1f}x, identical chunks: {identical(cold_chunks, reference)}")


if __name__ == "__main__":
    main()
