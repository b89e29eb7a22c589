"""Refine a few texts in memory with the heuristic preset and show what each program did.

    python examples/refine_texts.py
"""

import json
from pathlib import Path

import prox

records = [json.loads(line) for line in Path(__file__).with_name("sample_programs.jsonl").open(encoding="utf-8")]
texts = [record["raw_content"] for record in records]

for record, result in zip(records, prox.Refiner(preset="heuristic").refine(texts)):
    print(f"{record['id']}: {'dropped' if result.dropped else 'kept'} ({result.reason})")
    print(f"  doc program: {result.doc_program}")
    for program in result.chunk_programs:
        print("  chunk program:", program.replace("\n", "\n                 "))
    print(f"  words {result.trace.words_before} -> {result.trace.words_after}")
