"""`prox refine` at growing corpus sizes: peak memory must stay flat; pipeline overhead per document.

    python bench/bench_pipeline.py --sizes 10000 100000 --stages chunk
    python bench/bench_pipeline.py --sizes 2000 --stages doc,chunk
    python bench/bench_pipeline.py --sizes 2000 --corpus ../shared/corpora/web_sample.jsonl --against-datatrove student-web heuristic

Each size runs ``prox refine`` (heuristic writer, local executor, one task) in a fresh process on a
synthetic web-like corpus and reports wall time, docs/s, the process's peak RSS, the time spent in the
writers (from the run's stats) and the rest: reading, execution, writing, checkpoints, per document.
With ``--corpus`` (e.g. ../shared/corpora/web_sample.jsonl, or examples/web_corpus.jsonl) its documents
are repeated to each size instead of the synthetic ones. ``--against-datatrove`` times ``prox refine`` beside
a plain datatrove JSONL read -> write of the same corpus, the floor any datatrove pipeline pays.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

NAV = ["Home | News | Sport | Weather | Contact", "Log in | Register", "Skip to main content", "Search this site"]
FOOT = ["Share on Facebook", "Tweet", "Related posts", "Copyright © 2024 Example Media. All rights reserved.",
        "Privacy Policy | Terms of Use | Sitemap", "Back to top"]
WORDS = ("river bridge market museum engineer arch flood stone town history survey mortar rain harvest "
         "garden soil seed recipe flour oven bread method result measure sample theory proof").split()


def synthetic(i: int, rng: random.Random) -> dict:
    body = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40))).capitalize() + "." for _ in range(rng.randint(3, 12))]
    lines = rng.sample(NAV, 2) + [f"Report {i}"] + body + rng.sample(FOOT, 3)
    return {"id": f"doc-{i}", "text": "\n".join(lines)}


def write_corpus(path: str, size: int, corpus: str | None) -> int:
    rng = random.Random(0)
    seeds = None
    if corpus:
        with open(corpus, encoding="utf-8") as handle:
            seeds = [json.loads(line) for line in handle]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(size):
            record = dict(seeds[i % len(seeds)], id=f"doc-{i}") if seeds else synthetic(i, rng)
            if seeds and i >= len(seeds):  # a repeated document gets a line of its own: no writer sees a text twice
                record["text"] = f"{record['text']}\nReference {i}."
            handle.write(json.dumps(record) + "\n")
    return os.path.getsize(path)


def run(size: int, stages: str, corpus: str | None, checkpoint_every: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "corpus.jsonl")
        nbytes = write_corpus(source, size, corpus)
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "prox.cli", "refine", source, "-o", os.path.join(folder, "run"),
                                    "--stages", stages, "--checkpoint-every", str(checkpoint_every), "--no-progress",
                                    "--preset", "heuristic"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)  # this process's own peak, not a running maximum
        wall = time.perf_counter() - start
        if status:
            raise SystemExit(f"prox refine failed on {size} documents (status {status})")
        with open(os.path.join(folder, "run", "stats.json")) as handle:
            stats = json.load(handle)
    writers = sum(stage["seconds"] for stage in stats["stages"].values())
    assert stats["read"] == size and stats["balanced"], stats
    return {
        "documents": size, "corpus_mb": round(nbytes / 2**20, 1), "wall_s": round(wall, 2),
        "docs_per_s": round(size / wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "writer_s": round(writers, 2), "overhead_ms_per_doc": round((stats["seconds"] - writers) / size * 1000, 3),
        "kept": stats["kept"], "dropped": stats["dropped"],
    }


DATATROVE_COPY = """
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
source, output = sys.argv[1:3]
LocalPipelineExecutor([JsonlReader(source), JsonlWriter(output + "/out")], tasks=1, logging_dir=output + "/logs").run()
"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def against_datatrove(size: int, corpus: str | None, presets: list[str], repeat: int) -> None:
    """``prox refine`` (one task) beside a plain datatrove JSONL read -> write of the same corpus, each a fresh
    process (start-up included, as a user runs them), best of ``repeat``, in alternation."""
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "corpus.jsonl")
        nbytes = write_corpus(source, size, corpus)
        best: dict = {}
        for attempt in range(repeat):
            runs = {"datatrove read -> write": [sys.executable, "-c", DATATROVE_COPY, source, os.path.join(folder, f"dt{attempt}")]}
            for preset in presets:
                runs[f"prox refine --preset {preset}"] = [sys.executable, "-m", "prox.cli", "refine", source, "-o",
                                                          os.path.join(folder, f"{preset}{attempt}"), "--preset", preset,
                                                          "--tasks", "1", "--no-progress"]
            for name, command in runs.items():
                best[name] = min(best.get(name, float("inf")), timed(command))
    print(f"{size} documents ({nbytes / 2**20:.1f} MB, {corpus or 'synthetic'}), one task, best of {repeat}, start-up included:")
    base = size / best["datatrove read -> write"]
    print("| run | wall s | docs/s | share of datatrove's docs/s |\n|---|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.2f} | {size / seconds:,.0f} | {size / seconds / base:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--stages", default="chunk")
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--against-datatrove", nargs="*", metavar="PRESET", default=None,
                        help="Time `prox refine` with these presets (default: the default preset) beside a plain datatrove "
                             "JSONL read -> write of the same corpus, at the first --sizes.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.corpus and not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus} is absent: run without --corpus to use the synthetic corpus")
    if args.against_datatrove is not None:
        from prox.settings import DEFAULT_PRESET

        against_datatrove(args.sizes[0], args.corpus, args.against_datatrove or [DEFAULT_PRESET], args.repeat)
        return
    print(f"stages={args.stages} checkpoint_every={args.checkpoint_every} corpus={args.corpus or 'synthetic'}")
    print("| documents | corpus MB | wall s | docs/s | peak RSS MB | writer s | overhead ms/doc | kept | dropped |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        figures = run(size, args.stages, args.corpus, args.checkpoint_every)
        print("| " + " | ".join(str(v) for v in figures.values()) + " |", flush=True)


if __name__ == "__main__":
    main()
