"""The heuristic writer on the human-labelled dev sets, against simple baselines.

    python bench/bench_heuristic.py --lines ../shared/labels/boilerplate_lines_dev.jsonl.gz \
        --docs ../shared/labels/doc_quality_dev.jsonl

Lines: the heuristic's chunk programs are executed on each page (one chunk: the rules need no token
budget) and a line counts as removed when the program removes it; scores are for "remove" (precision,
recall, F1) and the macro F1 of remove and keep. Baselines: remove nothing; C4's line rules alone
(datatrove's C4QualityFilter applied line by line). Docs: drop precision / recall / F1 and accuracy;
baselines: keep everything; each datatrove filter alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time


def read(path: str) -> list[dict]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def heuristic_removed(writer, lines: list[str]) -> list[bool]:
    from prox import execute_chunk
    from prox.text.chunker import number_line

    numbered = "\n".join(number_line(i, line) for i, line in enumerate(lines))
    program = writer.chunk_program(numbered)
    trace = execute_chunk("\n".join(lines), program).trace
    removed = set(trace.removed_lines)
    return [i in removed for i in range(len(lines))]


def c4_removed(lines: list[str]) -> list[bool]:
    from datatrove.data import Document
    from datatrove.pipeline.filters import C4QualityFilter

    rules = C4QualityFilter(min_num_sentences=-1)
    removed = []
    for line in lines:
        document = Document(text=line, id="")
        removed.append(rules.filter(document) is not True or not document.text.strip())
    return removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", default="../shared/labels/boilerplate_lines_dev.jsonl.gz")
    parser.add_argument("--docs", default="../shared/labels/doc_quality_dev.jsonl")
    args = parser.parse_args()

    from prox.metrics import Confusion
    from prox.writers.heuristic import HeuristicWriter

    writer = HeuristicWriter()
    if os.path.exists(args.lines):
        pages = read(args.lines)
        print(f"lines: {args.lines}: {len(pages)} pages, {sum(len(p['lines']) for p in pages)} lines")
        systems = {
            "remove nothing": lambda lines: [False] * len(lines),
            "C4 line rules": c4_removed,
            "prox heuristic": lambda lines: heuristic_removed(writer, lines),
        }
        for name, predict in systems.items():
            start = time.perf_counter()
            scores = Confusion()
            for page in pages:
                scores.add(predict(page["lines"]), [k == 0 for k in page["keep"]])
            print(f"  {name:16} remove P {scores.precision:.3f} R {scores.recall:.3f} F1 {scores.f1:.3f} | "
                  f"keep F1 {scores.negative_f1:.3f} | macro F1 {scores.macro_f1:.3f} ({time.perf_counter() - start:.1f} s)")
    else:
        print(f"lines skipped: {args.lines} is absent")

    if os.path.exists(args.docs):
        from datatrove.data import Document

        docs = read(args.docs)
        gold = [d["keep"] == 0 for d in docs]
        print(f"docs: {args.docs}: {len(docs)} documents, {sum(gold)} labelled drop")

        def single(quality_filter):
            return lambda text: quality_filter.filter(Document(text=text, id="")) is not True

        systems = {"keep everything": lambda text: False}
        for name, quality_filter in writer.filters:
            systems[f"{name} alone"] = single(quality_filter)
        systems["prox heuristic"] = lambda text: writer.doc_program(text) == "drop_doc()"
        for name, predict in systems.items():
            start = time.perf_counter()
            scores = Confusion().add([predict(d["text"]) for d in docs], gold)
            print(f"  {name:28} accuracy {scores.accuracy:.3f} | drop P {scores.precision:.3f} R {scores.recall:.3f} "
                  f"F1 {scores.f1:.3f} ({time.perf_counter() - start:.1f} s)")
    else:
        print(f"docs skipped: {args.docs} is absent")


if __name__ == "__main__":
    main()
