"""Constrained vs unconstrained decoding, and doc-level scoring vs generation.

    python bench/bench_constrained.py --corpus ../shared/corpora/web_sample.jsonl --backend llamacpp --docs 10

Chunk level, on every chunk of the first --docs documents: programs with parse errors, line numbers
outside the chunk, normalize sources absent from the chunk, input tokens/s; with and without the
constraint. Doc level: documents/s for constrained generation, unconstrained generation and scoring,
and how often scoring decides as constrained greedy decoding does. Also the cost of building a
chunk's constraint (automaton and first mask).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from bench_writers import default_model


def audit(program: str, chunk) -> tuple[int, int, int]:
    """(parse errors, line numbers outside the chunk, normalize sources absent from the chunk)."""
    from prox import Normalize, RemoveLines, parse_program
    from prox.text.chunker import numbered_lines

    parsed = parse_program(program)
    lines = [line for _, line in numbered_lines(chunk)]
    out_of_range = sum(
        1 for op in parsed.operations if isinstance(op, RemoveLines)
        for n in (op.line_start, op.line_end) if not chunk.line_start <= n <= chunk.line_end
    )
    absent = sum(1 for op in parsed.operations if isinstance(op, Normalize) and not any(op.source_str in line for line in lines))
    return len(parsed.errors), out_of_range, absent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl")
    parser.add_argument("--backend", default="llamacpp", help="llamacpp, transformers-bf16, transformers-fp32")
    parser.add_argument("--model", default=default_model())
    parser.add_argument("--docs", type=int, default=10)
    parser.add_argument("--chunk-new-tokens", type=int, default=256)
    parser.add_argument("--doc-new-tokens", type=int, default=64, help="budget of unconstrained doc generation")
    parser.add_argument("--levels", default="chunk,doc", help="which levels to measure")
    parser.add_argument("--chunk-modes", default="constrained,unconstrained", help="which chunk-level passes to run")
    args = parser.parse_args()
    if not os.path.exists(args.corpus) or not args.model:
        print("skipped: corpus or model absent (pass --corpus / --model)")
        return
    from prox.refiner import Refiner
    from prox.writers import make_writer

    with open(args.corpus, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle][: args.docs]
    dtype = args.backend.partition("-")[2] or "auto"
    extra = {"dtype": dtype} if args.backend.startswith("transformers") else {}
    writer = make_writer(args.backend.partition("-")[0], args.model, chunk_answer_tokens=args.chunk_new_tokens,
                         doc_answer_tokens=args.doc_new_tokens, **extra)
    refiner = Refiner(preset=None, chunk_writer=writer, stages=["chunk"])
    chunks = [chunk for text in texts for chunk in refiner._chunks(text)]
    print(f"backend {args.backend}, model {os.path.basename(args.model)}, {len(texts)} documents, {len(chunks)} chunks")

    start = time.perf_counter()
    for chunk in chunks:
        masks = writer.chunk_masks(chunk)
        masks.get(masks.automaton.start())
    build = (time.perf_counter() - start) / len(chunks)
    print(f"constraint build (automaton + first mask): {build * 1000:.1f} ms per chunk")

    levels = args.levels.split(",")
    modes = args.chunk_modes.split(",")
    passes = [mode == "constrained" for mode in ("constrained", "unconstrained") if mode in modes]
    for constrained in passes if "chunk" in levels else ():
        writer.constrained = constrained
        start = time.perf_counter()
        written = writer.write_chunk(chunks)
        seconds = time.perf_counter() - start
        counts = [audit(w.program, c) for w, c in zip(written, chunks)]
        tokens_in, tokens_out = sum(w.input_tokens for w in written), sum(w.output_tokens for w in written)
        print(
            f"chunk, {'constrained  ' if constrained else 'unconstrained'}: programs with parse errors "
            f"{sum(1 for c in counts if c[0])}/{len(chunks)} (error lines {sum(c[0] for c in counts)}), "
            f"line numbers out of range {sum(c[1] for c in counts)}, absent sources {sum(c[2] for c in counts)}; "
            f"{tokens_in / seconds:.0f} input tokens/s, {tokens_out} output tokens, {seconds:.1f} s"
        )

    if "doc" not in levels:
        return
    writer.constrained = True
    start = time.perf_counter()
    greedy = writer.write_doc(texts)
    generate_s = time.perf_counter() - start
    writer.constrained = False
    start = time.perf_counter()
    free = writer.write_doc(texts)
    free_s = time.perf_counter() - start
    writer.doc_mode = "score"
    start = time.perf_counter()
    scored = writer.write_doc(texts)
    score_s = time.perf_counter() - start
    agree = sum(g.program.strip() == s.program for g, s in zip(greedy, scored)) / len(texts)
    valid_free = sum(1 for w in free if w.program.strip() in ("drop_doc()", "keep_doc()"))
    print(f"doc, constrained generation:   {len(texts) / generate_s:.2f} docs/s")
    print(f"doc, unconstrained generation: {len(texts) / free_s:.2f} docs/s (budget {args.doc_new_tokens} tokens; valid programs {valid_free}/{len(texts)})")
    print(f"doc, scoring:                  {len(texts) / score_s:.2f} docs/s; {generate_s / score_s:.2f}x constrained, "
          f"{free_s / score_s:.2f}x unconstrained; agrees with constrained greedy on {agree:.0%}")


if __name__ == "__main__":
    main()
