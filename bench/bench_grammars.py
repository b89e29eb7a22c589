"""Cost of the GBNF grammars in xgrammar, the grammar engine of vLLM's structured outputs.

    python bench/bench_grammars.py --corpus ../shared/corpora/web_sample.jsonl --tokenizer ../shared/tokenizers/llama2

Prints the one-off tokenizer setup, then the compile time of the doc grammar and of one grammar per
chunk of the corpus (median and worst). Skipped where xgrammar is not installed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from importlib.metadata import version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl")
    parser.add_argument("--tokenizer", default="../shared/tokenizers/llama2")
    args = parser.parse_args()
    try:
        import xgrammar as xgr
    except ImportError:
        print("skipped: xgrammar is not installed (it comes with vLLM)")
        return
    from prox.constrain.gbnf import DOC_GRAMMAR, grammar_of
    from prox.text.chunker import chunk_document
    from prox.text.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(args.tokenizer)
    with open(args.corpus, encoding="utf-8") as handle:
        chunks = [c for line in handle for c in chunk_document(json.loads(line)["text"], tokenizer)]
    start = time.perf_counter()
    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo.from_huggingface(tokenizer), cache_enabled=False)
    print(f"xgrammar {version('xgrammar')}: tokenizer setup {time.perf_counter() - start:.3f} s")
    start = time.perf_counter()
    compiler.compile_grammar(DOC_GRAMMAR)
    print(f"doc grammar: {(time.perf_counter() - start) * 1000:.1f} ms")
    times = []
    for chunk in chunks:
        grammar = grammar_of(chunk)
        start = time.perf_counter()
        compiler.compile_grammar(grammar)
        times.append((time.perf_counter() - start) * 1000)
    print(f"chunk grammars: {len(chunks)} chunks, median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms")


if __name__ == "__main__":
    main()
