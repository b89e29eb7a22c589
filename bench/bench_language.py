"""Language identifiers side by side on the shared label sets: accuracy per language and documents per second.

    pip install py3langid lingua-language-detector   # the two compared with pycld2 (prox's own)
    python bench/bench_language.py --labels ../shared/labels

Every page of the multilingual news set (zh, el, pl, ru, yue: its ``lang`` field is the truth) and every
English page and document (raw and extracted CleanEval and Dragnet pages, DCLM documents) is identified
whole and as prox reads it (``prox.text.language.sample``: head, middle and tail, 1,500 characters).
Chinese variants count as Chinese (CLD2 says ``zh-Hant`` for traditional script, py3langid ``yue``).
Identifiers that are not installed are skipped with a note.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from collections import Counter

ENGLISH = ("boilerplate_lines_dev.jsonl.gz", "boilerplate_lines_dragnet.jsonl.gz", "extracted_lines_cleaneval.jsonl.gz",
           "extracted_lines_dragnet.jsonl.gz")
CHINESE = ("zh", "zh-Hant", "yue")


def documents(labels: str) -> list[tuple[str, str]]:
    def read(name):
        with gzip.open(os.path.join(labels, name), "rt", encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]

    found = [("\n".join(r["lines"]), r["lang"]) for r in read("boilerplate_lines_multilingual.jsonl.gz")]
    found += [("\n".join(r["lines"]), "en") for name in ENGLISH for r in read(name)]
    with open(os.path.join(labels, "doc_quality_dev.jsonl"), encoding="utf-8") as handle:
        found += [(json.loads(line)["text"], "en") for line in handle]
    return found


def identifiers() -> dict:
    from prox.text.language import identify

    found = {"pycld2 (prox)": lambda text: identify(text, size=None)}
    try:
        from py3langid.langid import classify

        found["py3langid"] = lambda text: classify(text)[0]
    except ImportError:
        print("py3langid is not installed: skipped")
    try:
        from lingua import LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()

        def lingua(text: str) -> str:
            language = detector.detect_language_of(text)
            return language.iso_code_639_1.name.lower() if language else "und"

        found["lingua (low accuracy mode)"] = lingua
    except ImportError:
        print("lingua-language-detector is not installed: skipped")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default="../shared/labels")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.labels, "boilerplate_lines_multilingual.jsonl.gz")):
        print(f"skipped: {args.labels} lacks the label sets")
        return
    from prox.text.language import sample

    docs = documents(args.labels)
    truth = ["zh" if lang in CHINESE else lang for _, lang in docs]
    totals = Counter(truth)
    print(f"{len(docs)} documents, {sum(len(t) for t, _ in docs) / 1e6:.1f} M characters: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    print("| identifier | reads | " + " | ".join(totals) + " | docs/s |\n|---" * 1 + "|---" * (len(totals) + 2) + "|")
    for name, identify in identifiers().items():
        for reads, view in (("whole", lambda t: t), ("sample", sample)):
            start = time.perf_counter()
            found = [identify(view(text)) for text, _ in docs]
            seconds = time.perf_counter() - start
            right = Counter(t for t, f in zip(truth, found) if ("zh" if f in CHINESE else f) == t)
            print(f"| {name} | {reads} | " + " | ".join(f"{right[k]}/{totals[k]}" for k in totals) + f" | {len(docs) / seconds:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
