"""Every writer on every labelled set at once, with the plain baselines and cross-set students, and speed.

    python bench/bench_quality.py --labels ../shared/labels --corpus ../shared/corpora/web_sample.jsonl

Sets (``../shared/labels``; each line set and the DCLM docs split 70/30 by ``LabelledSet.split``, seed 0; an
extracted page is in the validation split when its raw page is, so no writer trained on a training split has
seen a validation page in either form):

- raw CleanEval and raw Dragnet page lines (validation splits): 41% and 76% boilerplate;
- the same pages after an HTML extractor (``extracted_lines_*``, validation splits): content must survive;
- multilingual news pages per language (zh, el, pl, ru; all pages: GPL-3.0, never trained on);
- DCLM documents (validation split; document decisions only).

Figures: macro line-F1 (the mean of the remove and keep F1), content kept (share of content lines left),
boilerplate removed (share of boilerplate lines taken out), pages dropped (a dropped page removes every
line), and docs/s; on DCLM, accuracy and drop F1. Line sets run both stages as ``prox refine`` does.

Writers: the plain baselines (C4's line rule, lines of < 5 words, pages of < 100 words), the heuristic, the
shipped ``student-web`` preset, and fresh students each trained without one family of sets, then scored
on it: ``student -extracted`` (raw pages and DCLM only) on extracted text, ``student -raw`` on raw pages,
``student -CleanEval`` / ``student -Dragnet`` on the other corpus in both forms. ``--writer SPEC`` adds a
writer (a preset, a model folder or ``backend:model``; repeatable) and ``--pages N`` scores every writer on
the first N items of each set (for slow model writers; every figure is then on the same N items).
``--corpus`` adds speed: both stages through ``prox.Refiner``, best of ``--repeat``. ``--lm-states FILE`` looks up
the language model's states of pages ``bench/bench_lm_rules.py`` read whole (its ``validation_whole.npz``) instead of
reading them again (a page not there is read): the same figures in minutes, and no speed for such a writer.
``--json FILE`` also writes every figure of the table unrounded (``{writer: {set: figures}}``): comparisons at 0.001.
``--sets`` scores only the sets named (comma-separated), e.g. one set read further than the rest.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_heuristic import c4_removed

LINE_SETS = {  # name: (file, the raw file whose split decides, or None)
    "raw CleanEval": ("boilerplate_lines_dev.jsonl.gz", None),
    "raw Dragnet": ("boilerplate_lines_dragnet.jsonl.gz", None),
    "extracted CleanEval": ("extracted_lines_cleaneval.jsonl.gz", "boilerplate_lines_dev.jsonl.gz"),
    "extracted Dragnet": ("extracted_lines_dragnet.jsonl.gz", "boilerplate_lines_dragnet.jsonl.gz"),
}
MULTILINGUAL = ("boilerplate_lines_multilingual.jsonl.gz", ("zh", "el", "pl", "ru"))
DOCS = "doc_quality_dev.jsonl"
LINE_BASELINES = {
    "C4 line rule": c4_removed,
    "< 5 words": lambda lines: [len(line.split()) < 5 for line in lines],
    "drop < 100 words": lambda lines: [sum(len(line.split()) for line in lines) < 100] * len(lines),
}
HOLD_OUT = {  # fresh students: trained on every training split but these sets' (and DCLM's), shown on them
    "student -extracted": ("extracted CleanEval", "extracted Dragnet"),
    "student -raw": ("raw CleanEval", "raw Dragnet"),
    "student -CleanEval": ("raw CleanEval", "extracted CleanEval"),
    "student -Dragnet": ("raw Dragnet", "extracted Dragnet"),
}


def load(labels: str, pages: int) -> tuple[dict, dict]:
    """(training splits, evaluation sets), by name."""
    import gzip
    import json

    from prox.labels import LabelledSet, read_labelled

    train, evaluation = {}, {}
    for name, (file, raw) in LINE_SETS.items():
        labelled = read_labelled(os.path.join(labels, file), "lines")
        if raw is None:
            train[name], evaluation[name] = labelled.split()
        else:
            raw_name = next(n for n, (f, _) in LINE_SETS.items() if f == raw)
            train[name], evaluation[name] = labelled.split_as(evaluation[raw_name])
    path = os.path.join(labels, MULTILINGUAL[0])
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        language = {record["id"]: record["lang"] for record in map(json.loads, handle)}
    multilingual = read_labelled(path, "lines")
    for code in MULTILINGUAL[1]:
        evaluation[code] = LabelledSet(path, "lines", tuple(i for i in multilingual.items if language[i.id] == code))
    train["DCLM"], evaluation["DCLM"] = read_labelled(os.path.join(labels, DOCS), "docs").split()
    if pages:
        evaluation = {name: LabelledSet(s.path, s.kind, s.items[:pages]) for name, s in evaluation.items()}
    return train, evaluation


def students(train: dict, folder: str) -> dict:
    """Fresh students, each without one family of sets; name -> (folder, the sets it never saw)."""
    from prox.distill.sources import Examples, from_labelled
    from prox.distill.student import Student

    made = {}
    for name, held in HOLD_OUT.items():
        examples = Examples()
        for set_name, labelled in train.items():
            if set_name not in held:
                examples.extend(from_labelled(labelled.items, f"{set_name} train"))
        start = time.perf_counter()
        student = Student.fit(examples)
        path = os.path.join(folder, name.replace(" ", "").replace("-", "-without-"))
        student.save(path)
        made[name] = (path, held)
        print(f"trained {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return made


def baseline(items, predict) -> dict:
    from prox.metrics import Confusion

    scores, dropped = Confusion(), 0  # a page whose every line goes counts as dropped
    for page in items:
        removed = predict(list(page.lines))
        dropped += bool(removed) and all(removed)
        scores.add(removed, [not keep for keep in page.keep])
    return figures_of(scores, dropped, None)


def figures_of(scores, dropped: int, rate) -> dict:
    kept = scores.tn / (scores.tn + scores.fp) if scores.tn + scores.fp else 1.0
    removed = scores.tp / (scores.tp + scores.fn) if scores.tp + scores.fn else 0.0
    return {"macro_f1": scores.macro_f1, "kept": kept, "removed": removed, "dropped": dropped, "rate": rate}


def scored(labelled, settings: dict, built: dict) -> dict:
    """A writer's figures on one set (``prox.adapt.evaluate``, which runs the stages as ``prox refine`` does)."""
    from prox.adapt.evaluate import evaluate
    from prox.metrics import Confusion

    figures = evaluate(labelled, 32, writers=built, **dict(settings))
    rate = figures["items"] / figures["seconds"] if figures["seconds"] else None
    counts = figures["confusion"]
    if labelled.kind == "docs":
        return {"accuracy": figures["accuracy"], "drop_f1": figures["drop_f1"], "rate": rate}
    return figures_of(Confusion(**counts), figures["documents_dropped"], rate)


def cell(figures: dict, unseen: bool = False) -> str:
    if figures is None:
        return "—"
    mark = "*" if unseen else ""
    if "accuracy" in figures:
        return f"{figures['accuracy']:.3f}{mark} (F1 {figures['drop_f1']:.2f})"
    return f"{figures['macro_f1']:.3f}{mark} · {figures['kept']:.2f} / {figures['removed']:.2f} · d{figures['dropped']}"


def page_key(lines) -> str:
    """A page's key in a cache of states: the sha1 of its lines joined."""
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()


def look_up_states(path: str) -> None:
    """Make ``prox.distill.line_lm.line_states`` look a page's states up in ``path`` (page_key -> states) before it
    reads the page: the states are the same call's, so the figures are the model's."""
    import numpy as np

    import prox.distill.line_lm as line_lm

    found, read = dict(np.load(path, allow_pickle=False)), line_lm.line_states

    def states(model, tokenizer, pages, layers, window_tokens=line_lm.WINDOW_TOKENS, batch_size=1, page_tokens=None,
               tokens=None, chosen=None):
        if page_tokens is not None or chosen is not None:
            return read(model, tokenizer, pages, layers, window_tokens, batch_size, page_tokens, tokens, chosen)
        out = []
        for lines in pages:
            key = page_key(lines)
            if key not in found:
                found[key] = read(model, tokenizer, [lines], layers, window_tokens, batch_size)[0]
                print(f"{path} lacks a page: read it", file=sys.stderr, flush=True)
            out.append(found[key])
        if tokens is not None:
            tokens.extend([0] * len(pages))
        return out

    line_lm.line_states = states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default="../shared/labels", help="The folder of the labelled sets.")
    parser.add_argument("--corpus", default="../shared/corpora/web_sample.jsonl", help="Documents for the speed figures.")
    parser.add_argument("--writer", "--model", action="append", default=[], help="Another writer: a preset, a model folder or backend:model.")
    parser.add_argument("--pages", type=int, default=0, help="Score every writer on the first N items of each set (0: all).")
    parser.add_argument("--no-students", action="store_true", help="Skip the fresh cross-set students.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lm-states", default=None, help="bench_lm_rules.py's cache of whole pages' states to look up.")
    parser.add_argument("--json", default=None, help="Also write every figure unrounded: {writer: {set: figures}}.")
    parser.add_argument("--sets", default=None, help="Comma-separated sets to score (default: all), e.g. 'raw Dragnet'.")
    args = parser.parse_args()

    files = [f for f, _ in LINE_SETS.values()] + [MULTILINGUAL[0], DOCS]
    missing = [f for f in files if not os.path.exists(os.path.join(args.labels, f))]
    if missing:
        print(f"skipped: {args.labels} lacks {', '.join(missing)} (the labelled sets are in ../shared/labels/)")
        return
    from prox.adapt.evaluate import writer_settings

    if args.lm_states:
        look_up_states(args.lm_states)
    train, evaluation = load(args.labels, args.pages)
    if args.sets:
        named = args.sets.split(",")
        unknown = [name for name in named if name not in evaluation]
        if unknown:
            parser.error(f"--sets: no set named {', '.join(unknown)} (sets: {', '.join(evaluation)})")
        evaluation = {name: s for name, s in evaluation.items() if name in named}
    print("Sets: " + ", ".join(f"{name} {len(s.items)}" for name, s in evaluation.items()))
    writers = {"heuristic": (writer_settings("heuristic"), ()), "student-web (shipped)": (writer_settings("student-web"), ())}
    writers.update({spec: (writer_settings(spec), ()) for spec in args.writer})
    if not args.no_students:
        for name, (path, held) in students(train, tempfile.mkdtemp(prefix="prox-students-")).items():
            writers[name] = (writer_settings(path), held)

    names = list(evaluation)
    rows = {name: [baseline(evaluation[s].items, predict) if evaluation[s].kind == "lines" else None for s in names]
            for name, predict in LINE_BASELINES.items()}
    if "DCLM" in evaluation:
        from prox.metrics import Confusion

        docs = evaluation["DCLM"]
        short = Confusion().add([len(d.text.split()) < 100 for d in docs.items], [not d.keep for d in docs.items])
        rows["drop < 100 words"][names.index("DCLM")] = {"accuracy": short.accuracy, "drop_f1": short.f1, "rate": None}
    rates = {}
    for name, (settings, _) in writers.items():
        built: dict = {}
        rows[name] = [scored(evaluation[s], settings, built) for s in names]
        seconds = sum(len(evaluation[s].items) / f["rate"] for s, f in zip(names, rows[name]) if f["rate"])
        rates[name] = sum(len(evaluation[s].items) for s in names) / seconds if seconds else None
        if args.lm_states and name in args.writer:
            rates[name] = None  # its states were looked up, not computed: no speed
        print(f"scored {name}", file=sys.stderr, flush=True)

    print("\nEach cell: macro line-F1 · content kept / boilerplate removed · pages dropped; DCLM: accuracy (drop F1);"
          " * marks a set the student never saw in training (every set is unseen by the rules).\n")
    print("| writer | " + " | ".join(names) + " | docs/s |")
    print("|---" * (len(names) + 2) + "|")
    for name, cells in rows.items():
        held = writers.get(name, (None, ()))[1]
        rate = rates.get(name)
        print(f"| {name} | " + " | ".join(cell(c, s in held) for c, s in zip(cells, names))
              + f" | {f'{rate:,.0f}' if rate else '—'} |")
    if args.json:
        import json

        with open(args.json, "w") as handle:
            json.dump({name: dict(zip(names, cells)) for name, cells in rows.items()}, handle, indent=1)
    if os.path.exists(args.corpus):
        speed(args.corpus, {"heuristic": writers["heuristic"][0], "student-web": writers["student-web (shipped)"][0]}, args.repeat)
    else:
        print(f"\nspeed skipped: {args.corpus} is absent")


def speed(corpus: str, writers: dict, repeat: int) -> None:
    import json

    from prox import Refiner

    with open(corpus, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    words = sum(len(t.split()) for t in texts)
    print(f"\nSpeed: {corpus}: {len(texts)} documents, {words:,} words; both stages through prox.Refiner, best of {repeat}")
    for name, settings in writers.items():
        best = float("inf")
        for _ in range(repeat):
            refiner = Refiner(**settings, writers={})
            refiner.refine(["A line to build filters and load models before the clock starts."])
            start = time.perf_counter()
            results = refiner.refine(texts)
            best = min(best, time.perf_counter() - start)
        print(f"  {name:14} {len(texts) / best:8,.1f} docs/s ({best:.3f} s), {sum(not r.dropped for r in results)} kept")


if __name__ == "__main__":
    main()
