"""GPU throughput of the model writers with a ~0.3B Llama shape (random weights), against the floor.

    python bench/bench_gpu.py --corpus ../shared/corpora/web_sample.jsonl --tokenizer ../shared/tokenizers/llama2 \
        --repeat 8 --backends transformers,vllm

Random weights are fine for speed: a random model never ends early, so every program runs to its token
budget and the figures are printed with that budget. The floor is the prefill's FLOPs (weights and
causal attention, per prompt length) over the bf16 matrix-product rate measured on this GPU first; the
measured input tokens/s over the floor's is the share of the chip the writer uses. Backends that
cannot run here are reported as not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def matmul_tflops(size: int = 8192, repeats: int = 10, device: str = "cuda") -> float:
    """The bf16 matrix-product rate of this device on random data (median of timed runs after warm-up)."""
    import torch

    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        a @ b
        sync()
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e12


def llama_config(tokenizer, layers: int, hidden: int, intermediate: int, heads: int):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False,
    )


def prefill_flops(lengths: list[int], config) -> float:
    """Weights (2 FLOPs per parameter per token) plus causal attention, per prompt; the LM head once."""
    d, layers, vocab = config.hidden_size, config.num_hidden_layers, config.vocab_size
    per_layer = 4 * d * d + 3 * d * config.intermediate_size
    return sum(2 * layers * per_layer * n + 2 * layers * d * n * n + 2 * d * vocab for n in lengths)


def timed(fn, *args):
    sync()
    start = time.perf_counter()
    out = fn(*args)
    sync()
    return out, time.perf_counter() - start


def profile_prefill(writer, chunks) -> None:
    """The kernels that take the GPU time of one chunk batch's prefill (one new token), heaviest first."""
    from torch.profiler import ProfilerActivity, profile

    writer.chunk_answer_tokens, writer.constrained = 1, False
    writer.write_chunk(chunks)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        _, seconds = timed(writer.write_chunk, chunks)
    print(f"profile of one batch of {len(chunks)} chunks, 1 new token: {seconds:.3f} s wall")
    print(prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=14, max_name_column_width=70))


def run_writer(name, writer, texts, chunks, config, tflops, args) -> list[dict]:
    rows = []

    def report(label, written, seconds, items, floor_flops=None):
        tokens_in = sum(w.input_tokens for w in written)
        tokens_out = sum(w.output_tokens for w in written)
        row = {"backend": name, "pass": label, "items": items, "input_tokens": tokens_in, "output_tokens": tokens_out,
               "seconds": round(seconds, 2), "items_per_s": round(items / seconds, 1),
               "input_tokens_per_s": round(tokens_in / seconds), "errors": sum(1 for w in written if w.error)}
        if floor_flops is not None:
            floor_s = floor_flops / (tflops * 1e12)
            row["floor_input_tokens_per_s"] = round(tokens_in / floor_s)
            row["share_of_floor"] = round(floor_s / seconds, 3)
        rows.append(row)
        extra = f" floor {row['floor_input_tokens_per_s']:>9,} ({row['share_of_floor']:.0%})" if floor_flops else ""
        print(f"{name:12} {label:34} {items:6} {tokens_in:10,} {tokens_out:8,} {seconds:7.2f} {row['items_per_s']:8} "
              f"{row['input_tokens_per_s']:>10,}{extra}", flush=True)
        return written

    if args.chunk_budgets:
        writer.write_chunk(chunks[: args.batch_size])  # warm-up: kernels, allocator, constraint tables
    chunk_flops = None
    for budget in args.chunk_budgets:
        writer.chunk_answer_tokens = budget
        modes = (False, True) if budget > 1 and writer.supports_constraints else (False,)
        for constrained in modes:
            writer.constrained = constrained
            written, seconds = timed(writer.write_chunk, chunks)
            if chunk_flops is None:
                chunk_flops = prefill_flops([w.input_tokens for w in written], config)
            label = f"chunk, {budget} new tokens" + (", constrained" if constrained else "")
            report(label, written, seconds, len(chunks), chunk_flops if budget == 1 else None)

    writer.constrained = writer.supports_constraints
    writer.doc_answer_tokens = args.doc_budget
    writer.write_doc(texts[: args.batch_size])
    greedy, seconds = timed(writer.write_doc, texts)
    report(f"doc, generation{', constrained' if writer.constrained else ''}", greedy, seconds, len(texts))
    generate_s = seconds
    try:
        writer.doc_mode = "score"
        scored, seconds = timed(writer.write_doc, texts)
    except NotImplementedError as exc:
        print(f"{name:12} doc, scoring: not measured: {exc}")
        return rows
    finally:
        writer.doc_mode = "generate"
    report("doc, scoring", scored, seconds, len(texts), prefill_flops([w.input_tokens for w in scored], config))
    valid = [i for i, g in enumerate(greedy) if g.program.strip() in ("drop_doc()", "keep_doc()")]
    agree = sum(greedy[i].program.strip() == scored[i].program for i in valid)
    print(f"{name:12} scoring {generate_s / seconds:.2f}x faster than generation; agrees with greedy on "
          f"{agree}/{len(valid)} documents with a valid greedy program", flush=True)
    disagree = sorted({texts[i] for i in valid if greedy[i].program.strip() != scored[i].program})
    if disagree:  # near-ties flipped by arithmetic, or a real difference? Look at margins, then unpadded
        margins = sorted(abs(w.drop_probability - 0.5) for w, i in zip(scored, range(len(texts))) if texts[i] in disagree)
        everyone = statistics.median(abs(w.drop_probability - 0.5) for w in scored)
        print(f"{name:12} {len(disagree)} distinct documents disagree; |P(drop) - 0.5| there {margins[0]:.2e}..{margins[-1]:.2e} "
              f"(median over all documents {everyone:.2e})")
        batch_size, writer.prompts_per_batch = writer.prompts_per_batch, 1
        alone = writer.write_doc(disagree)
        writer.doc_mode = "score"
        alone_scored = writer.write_doc(disagree)
        writer.doc_mode, writer.prompts_per_batch = "generate", batch_size
        same = sum(a.program.strip() == b.program for a, b in zip(alone, alone_scored))
        print(f"{name:12} the same documents one at a time (no padding): agree on {same}/{len(disagree)}")
    rows.append({"backend": name, "pass": "doc, agreement", "agree": agree, "valid": len(valid),
                 "speedup": round(generate_s / seconds, 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl")
    parser.add_argument("--tokenizer", default="../shared/tokenizers/llama2")
    parser.add_argument("--repeat", type=int, default=8, help="the corpus this many times over, to fill the GPU")
    parser.add_argument("--backends", default="transformers,vllm")
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--intermediate", type=int, default=2816)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--max-batch-tokens", type=int, default=160_000)
    parser.add_argument("--chunk-budgets", type=int, nargs="*", default=[1, 32], help="new tokens per chunk program")
    parser.add_argument("--doc-budget", type=int, default=16)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--profile", action="store_true", help="print where the GPU time of one prefill batch goes")
    parser.add_argument("--device", default="cuda", help="cpu only to try this script with a small --layers/--hidden")
    args = parser.parse_args()

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("skipped: no CUDA GPU visible")
        return
    import transformers
    from transformers import LlamaForCausalLM

    from prox.engine import Engine
    from prox.text.tokenizers import load_tokenizer
    from prox.writers import make_writer

    tokenizer = load_tokenizer(args.tokenizer)
    with open(args.corpus, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle] * args.repeat
    config = llama_config(tokenizer, args.layers, args.hidden, args.intermediate, args.heads)
    tflops = matmul_tflops(8192 if args.device == "cuda" else 1024, device=args.device)
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"{name}; torch {torch.__version__}, transformers {transformers.__version__}; "
          f"{platform.machine()}, {os.cpu_count()} cpus")
    print(f"bf16 matmul rate: {tflops:.1f} TFLOP/s (median of 10)")

    torch.manual_seed(0)
    with torch.device(args.device):
        model = LlamaForCausalLM(config).to(torch.bfloat16).eval()
    params = sum(p.numel() for p in model.parameters())
    embeddings = 2 * config.vocab_size * config.hidden_size
    print(f"model: Llama, {args.layers} layers, hidden {args.hidden}, {params / 1e6:.0f}M parameters "
          f"({(params - embeddings) / 1e6:.0f}M without embeddings), random weights, bf16, "
          f"attention {model.config._attn_implementation}")
    results, folder = [], None
    print(f"{'backend':12} {'pass':34} {'items':>6} {'in tok':>10} {'out tok':>8} {'s':>7} {'items/s':>8} {'in tok/s':>10}")
    for backend in args.backends.split(","):
        options = {"prompts_per_batch": args.batch_size, "max_batch_tokens": args.max_batch_tokens}
        try:
            if backend == "transformers":
                writer = make_writer("transformers", model, tokenizer=tokenizer, **options)
            elif backend == "vllm":
                import vllm  # noqa: F401  (not installed: reported below)

                if folder is None:
                    folder = "/tmp/prox-bench-llama"
                    model.save_pretrained(folder)
                    tokenizer.save_pretrained(folder)
                torch.cuda.empty_cache()  # the transformers copy (under 1 GB) stays: vLLM takes a share of what is free
                writer = make_writer("vllm", folder, gpu_memory_utilization=0.85)
            else:
                raise ValueError(f"unknown backend {backend}")
        except Exception as exc:
            print(f"{backend:12} not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
            results.append({"backend": backend, "not_measured": str(exc)[:300]})
            continue
        chunks = [chunk for text in texts[: len(texts) // args.repeat] for chunk in Engine(None, writer).chunks(text)] * args.repeat
        if args.profile and backend == "transformers":
            profile_prefill(writer, chunks[: args.batch_size])
        results += run_writer(backend, writer, texts, chunks, config, tflops, args)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "tflops": tflops, "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
