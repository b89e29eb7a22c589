"""Every writer against the plain baselines on every labelled set, with cross-set results, and speed.

    python bench/bench_quality.py --cleaneval ../shared/labels/boilerplate_lines_dev.jsonl.gz \
        --dragnet ../shared/labels/boilerplate_lines_dragnet.jsonl.gz --docs ../shared/labels/doc_quality_dev.jsonl \
        --corpus ../shared/corpora/web_sample.jsonl

Each set is split 70/30 (``LabelledSet.split``, seed 0); every figure is on a validation split, and
students are trained on training splits only: ``student[CE]`` on CleanEval's, ``student[DN]`` on
Dragnet's, ``student[CE+DN]`` on both (each with the DCLM doc training split for its doc model). So
``student[CE]`` on Dragnet and ``student[DN]`` on CleanEval are pages from a set the student never saw.
Line sets run both stages, as ``prox refine`` does: a dropped page removes all its lines. Baselines:
remove nothing; C4's line rule (datatrove's ``C4QualityFilter`` line by line: < 3 words or no terminal
punctuation and its other line rules); remove lines of < 5 words; drop pages of < 100 words. Speed: both
stages on ``--corpus`` through ``prox.Refiner``, heuristic and student side by side, best of ``--repeat``.

``--model smollm2-web`` (a preset, a model folder or ``backend:model``; repeatable) adds language-model
writers. They are slow on a CPU, so they run on the first ``--model-pages`` pages of each line set's
validation split (0: all) and on all of DCLM's; the baselines and the heuristic are scored again on exactly
those pages beside them, with each model's throughput (documents and input tokens per second).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_heuristic import c4_removed


def baseline_scores(pages, predict) -> dict:
    from prox.metrics import Confusion

    scores = Confusion()
    for page in pages:
        scores.add(predict(list(page.lines)), [not keep for keep in page.keep])
    return {"macro_f1": scores.macro_f1, "remove_precision": scores.precision, "remove_recall": scores.recall, "documents_dropped": None}


LINE_BASELINES = {
    "remove nothing": lambda lines: [False] * len(lines),
    "C4 line rule": c4_removed,
    "< 5 words": lambda lines: [len(line.split()) < 5 for line in lines],
    "drop < 100 words": lambda lines: [sum(len(line.split()) for line in lines) < 100] * len(lines),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleaneval", default="../shared/labels/boilerplate_lines_dev.jsonl.gz")
    parser.add_argument("--dragnet", default="../shared/labels/boilerplate_lines_dragnet.jsonl.gz")
    parser.add_argument("--docs", default="../shared/labels/doc_quality_dev.jsonl")
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--students", default=None, help="Keep the trained students in this folder.")
    parser.add_argument("--no-students", action="store_true", help="Skip training and scoring the students.")
    parser.add_argument("--model", action="append", default=[], help="A model writer to add (preset, folder or backend:model).")
    parser.add_argument("--model-pages", type=int, default=40, help="Validation pages per line set for model writers (0: all).")
    args = parser.parse_args()

    from prox.adapt.evaluate import evaluate
    from prox.adapt.labels import read_labelled
    from prox.distill.sources import Examples, from_labelled
    from prox.distill.student import Student

    for path in (args.cleaneval, args.dragnet, args.docs):
        if not os.path.exists(path):
            print(f"skipped: {path} is absent (the labelled sets are in ../shared/labels/)")
            return
    splits = {name: read_labelled(path, kind).split() for name, path, kind in
              (("CleanEval", args.cleaneval, "lines"), ("Dragnet", args.dragnet, "lines"), ("DCLM", args.docs, "docs"))}
    for name, (train, validation) in splits.items():
        print(f"{name}: {len(train.items)} train / {len(validation.items)} validation {train.kind}")

    if args.model:
        models(splits, args.model, args.model_pages)
    if args.no_students:
        return
    folder = args.students or tempfile.mkdtemp(prefix="prox-students-")
    docs_train = from_labelled(splits["DCLM"][0].items, "DCLM train")
    students = {}
    for name, sets in (("student[CE]", ["CleanEval"]), ("student[DN]", ["Dragnet"]), ("student[CE+DN]", ["CleanEval", "Dragnet"])):
        examples = Examples()
        for set_name in sets:
            examples.extend(from_labelled(splits[set_name][0].items, f"{set_name} train"))
        examples.extend(docs_train)
        start = time.perf_counter()
        student = Student.fit(examples)
        seconds = time.perf_counter() - start
        path = os.path.join(folder, name.replace("[", "-").replace("]", "").replace("+", "-"))
        student.save(path)
        students[name] = path
        print(f"trained {name} on {examples.origins}: {seconds:.1f} s (features and both models, 2 cores)")

    writers = {"heuristic": {"preset": "heuristic"}, "heuristic, doc stage off": {"preset": "heuristic", "stages": ["chunk"]}}
    writers.update({name: {"preset": None, "doc_model": path, "chunk_model": path} for name, path in students.items()})
    writers["student[CE+DN], doc stage off"] = {**writers["student[CE+DN]"], "stages": ["chunk"]}

    print("\nLine sets (validation splits; macro line-F1, remove precision / recall, pages dropped):")
    header = f"  {'writer':26}" + "".join(f"{name + ' val':>30}" for name in ("CleanEval", "Dragnet"))
    print(header)
    for name, predict in LINE_BASELINES.items():
        cells = [baseline_scores(splits[s][1].items, predict) for s in ("CleanEval", "Dragnet")]
        print(f"  {name:26}" + "".join(_cell(c) for c in cells))
    for name, settings in writers.items():
        cells = [evaluate(splits[s][1], **dict(settings)) for s in ("CleanEval", "Dragnet")]
        seen = {"student[CE]": " (Dragnet unseen)", "student[DN]": " (CleanEval unseen)"}.get(name, "")
        print(f"  {name + seen:26}" + "".join(_cell(c) for c in cells))

    print("\nDoc set (DCLM validation split; accuracy, drop precision / recall / F1):")
    validation = splits["DCLM"][1]
    gold = [not d.keep for d in validation.items]
    from prox.metrics import Confusion

    doc_baselines = {"keep everything": lambda text: False, "drop < 100 words": lambda text: len(text.split()) < 100}
    for name, predict in doc_baselines.items():
        scores = Confusion().add([predict(d.text) for d in validation.items], gold)
        print(f"  {name:26} accuracy {scores.accuracy:.3f} | drop P {scores.precision:.3f} R {scores.recall:.3f} F1 {scores.f1:.3f}")
    for name, settings in writers.items():
        if "stages" in settings:
            continue
        figures = evaluate(validation, **dict(settings))
        print(f"  {name:26} accuracy {figures['accuracy']:.3f} | drop P {figures['drop_precision']:.3f} "
              f"R {figures['drop_recall']:.3f} F1 {figures['drop_f1']:.3f}")

    if os.path.exists(args.corpus):
        speed(args.corpus, {"heuristic": writers["heuristic"], "student[CE+DN]": writers["student[CE+DN]"]}, args.repeat)
    else:
        print(f"\nspeed skipped: {args.corpus} is absent")


def models(splits: dict, specs: list[str], pages: int) -> None:
    """Model writers beside the baselines and the heuristic, on the same validation items."""
    from prox.adapt.evaluate import evaluate, writer_settings
    from prox.adapt.labels import LabelledSet
    from prox.metrics import Confusion

    sets = {}
    for name in ("CleanEval", "Dragnet", "DCLM"):
        validation = splits[name][1]
        size = pages if pages and validation.kind == "lines" else len(validation.items)
        sets[name] = LabelledSet(validation.path, validation.kind, validation.items[:size])
    print(f"\nModel writers on {', '.join(f'{len(v.items)} {k} validation {v.kind}' for k, v in sets.items())}"
          " (macro line-F1, remove P / R, pages dropped | DCLM accuracy, drop F1 | docs/s, input tokens/s):")
    print(f"  {'writer':26}{'CleanEval':>30}{'Dragnet':>30}{'DCLM':>24}")
    for name, predict in LINE_BASELINES.items():
        cells = "".join(_cell(baseline_scores(sets[s].items, predict)) for s in ("CleanEval", "Dragnet"))
        doc_rule = {"remove nothing": lambda text: False, "drop < 100 words": lambda text: len(text.split()) < 100}.get(name)
        if doc_rule is None:  # a line rule: no document decision
            print(f"  {name:26}{cells}")
            continue
        docs = Confusion().add([doc_rule(d.text) for d in sets["DCLM"].items], [not d.keep for d in sets["DCLM"].items])
        print(f"  {name:26}{cells}   accuracy {docs.accuracy:.3f} F1 {docs.f1:.3f}")
    for spec in ["heuristic", *specs]:
        built: dict = {}  # the model loads once for the three sets
        figures = {name: evaluate(labelled, 8, writers=built, **writer_settings(spec)) for name, labelled in sets.items()}
        items = sum(f["items"] for f in figures.values())
        seconds = sum(f["seconds"] for f in figures.values())
        tokens = sum(f["input_tokens"] for f in figures.values())
        doc = figures["DCLM"]
        print(f"  {spec[-26:]:26}{_cell(figures['CleanEval'])}{_cell(figures['Dragnet'])}   accuracy {doc['accuracy']:.3f} "
              f"F1 {doc['drop_f1']:.3f} | {items / seconds:.2f} docs/s, {tokens / seconds:,.0f} tokens/s"
              f" | parse errors {max(f['parse_error_rate'] for f in figures.values()):.3f}", flush=True)


def speed(corpus: str, writers: dict, repeat: int) -> None:
    import json

    from prox import Refiner

    with open(corpus) as handle:
        texts = [json.loads(line)["text"] for line in handle]
    words = sum(len(t.split()) for t in texts)
    print(f"\nSpeed: {corpus}: {len(texts)} documents, {words:,} words; both stages through prox.Refiner, best of {repeat}")
    rates = {}
    for name, settings in writers.items():
        best = float("inf")
        for _ in range(repeat):
            refiner = Refiner(**settings, writers={})
            refiner.refine(["A line to build filters and load models before the clock starts."])
            start = time.perf_counter()
            results = refiner.refine(texts)
            best = min(best, time.perf_counter() - start)
        rates[name] = len(texts) / best
        kept = sum(not r.dropped for r in results)
        print(f"  {name:26} {rates[name]:8,.1f} docs/s ({best:.3f} s), {kept} kept")
    names = list(rates)
    print(f"  {names[1]} / {names[0]}: {rates[names[1]] / rates[names[0]]:.1f}x")


def _cell(figures: dict) -> str:
    dropped = figures.get("documents_dropped")
    return (f"{figures['macro_f1']:>10.3f} P {figures['remove_precision']:.2f} R {figures['remove_recall']:.2f}"
            + (f" d{dropped:>3}" if dropped is not None else "     "))


if __name__ == "__main__":
    main()
