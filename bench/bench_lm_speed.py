"""Throughput of the scoring LM writer (the ``smollm2-web`` preset) against what its hardware can do.

    python bench/bench_lm_speed.py --corpus ../shared/corpora/web_sample.jsonl --docs 20

Refines the first ``--docs`` documents through ``prox.Refiner`` (both stages, as ``prox refine`` runs them) and
prints docs/s, the tokens SmolLM2 read per second, and the floor: the forward pass alone on random ids of the
same shape (the most the writer could reach) and, on a GPU, the FLOP floor (2 x parameters x tokens at the
card's dense bf16 peak, ``--peak-tflops``). On CPU the reference point is the guide's 565 tokens/s, bf16
prefill on cores with AVX-512 BF16; cores with AVX2 alone compute in fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl")
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--preset", default="smollm2-web")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: a GPU when there is one)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="The GPU's dense bf16 peak (H100 SXM: 989).")
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        print(f"skipped: {args.corpus} is absent")
        return
    import torch

    import prox

    with open(args.corpus) as handle:
        texts = [json.loads(line)["text"] for line, _ in zip(handle, range(args.docs))]
    options = {"device": args.device} if args.device else {}
    refiner = prox.Refiner(preset=args.preset, batch_size=args.batch_size, **options)
    refiner.refine(texts[:1])  # warm up: first calls allocate
    start = time.perf_counter()
    results = refiner.refine(texts)
    seconds = time.perf_counter() - start
    chunk = [w for r in results for w in r.written[1:]]
    tokens = sum(w.input_tokens for w in chunk)
    lm_seconds = sum(w.seconds for w in chunk if w.input_tokens)
    writer = refiner.engine.chunk_writer
    model, _ = writer.student.lm.encoder  # loaded by the first chunk
    device, dtype = next(model.parameters()).device, next(model.parameters()).dtype
    print(f"{len(texts)} documents, {sum(len(t.split()) for t in texts):,} words; {sum(r.dropped for r in results)} dropped; "
          f"{sum(bool(w.input_tokens) for w in chunk)} read by the language model")
    print(f"end to end: {len(texts) / seconds:.2f} docs/s ({seconds:.1f} s)")
    print(f"language model: {tokens:,} tokens in {lm_seconds:.1f} s = {tokens / max(lm_seconds, 1e-9):,.0f} tokens/s "
          f"({device}, {dtype}, batch {args.batch_size}; {lm_seconds / seconds:.0%} of the time)")

    width = 512
    ids = torch.randint(0, model.config.vocab_size, (args.batch_size, width), device=device)
    with torch.inference_mode():
        model(ids[:1, :32], output_hidden_states=True)
        start = time.perf_counter()
        model(ids, output_hidden_states=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        floor = time.perf_counter() - start
    print(f"forward alone, {args.batch_size} x {width} random ids: {args.batch_size * width / floor:,.0f} tokens/s")
    if device.type == "cuda":
        parameters = sum(p.numel() for p in model.parameters())
        flops = 2 * parameters * tokens
        print(f"FLOP floor: {flops / (args.peak_tflops * 1e12) * 1e3:.2f} ms for {tokens:,} tokens at {args.peak_tflops} TFLOP/s; "
              f"reached {flops / max(lm_seconds, 1e-9) / 1e12:.1f} TFLOP/s")
    else:
        print(f"CPU: torch capability {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads; "
              "565 tokens/s is bf16 prefill on 2 cores with AVX-512 BF16")


if __name__ == "__main__":
    main()
