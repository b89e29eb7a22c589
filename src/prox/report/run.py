"""A run folder read once, streaming: its figures, histograms over every document, and a sample to show."""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from prox.program.words import word_count
from prox.records import Record, expand, read_records
from prox.report.diff import DocView, prox_metadata, source_of, view

KINDS = ("kept", "dropped")
MAX_REJECTED = 50  # rejected records kept to show; all are counted
MAX_SOURCES = 10_000  # distinct sources counted one by one; the rest are counted together (memory stays bounded)
OTHER_SOURCES = "(other sources)"
DROPPED_WORDS = (0, 10, 20, 50, 80, 100, 200, 500, 1000, 5000)  # lower edges of the dropped documents' word bins


@dataclass
class RunReport:
    folder: str
    summary: dict  # stats.json
    identity: dict = field(default_factory=dict)  # run.json: the command and its settings
    documents: int = 0
    rejected: list = field(default_factory=list)  # a sample of rejected records
    rejected_total: int = 0
    kept: int = 0  # kept and dropped output documents counted in the figures (those with readable metadata)
    dropped: int = 0
    reasons: Counter = field(default_factory=Counter)  # reason -> documents, kept and dropped
    dropped_reasons: Counter = field(default_factory=Counter)  # reason -> dropped documents
    kept_share: Counter = field(default_factory=Counter)  # tenth of words kept (0-10) -> kept documents
    operations: Counter = field(default_factory=Counter)  # operations per kept document (capped at 20) -> documents
    dropped_words: Counter = field(default_factory=Counter)  # bin of DROPPED_WORDS -> dropped documents
    words_before: int = 0  # words of the documents counted, before refining
    words_removed_kept: int = 0  # words the programs removed from kept documents
    words_dropped: int = 0  # words of the dropped documents
    sources: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))  # docs, kept, words before, after
    sample: list[DocView] = field(default_factory=list)
    sample_size: int = 0
    unreadable: int = 0  # output records whose metadata could not be read (written by another tool)


def output_files(folder: str, kind: str) -> list[str]:
    path = os.path.join(folder, kind)
    if os.path.isdir(path):
        return expand([path])
    single = [os.path.join(folder, f"{kind}.{suffix}") for suffix in ("jsonl", "parquet")]  # prox execute's layout
    return [p for p in single if os.path.exists(p)]


def records(folder: str, kind: str) -> Iterator[dict]:
    for item in read_records(output_files(folder, kind)):
        if isinstance(item, Record):
            yield item.data


def load(folder: str, sample_size: int = 200, seed: int = 0, ids: Optional[set] = None,
         where: Optional[Callable[[dict, bool], bool]] = None, max_lines: Optional[int] = None,
         keep_raw: bool = True) -> RunReport:
    """Read ``folder`` (a ``prox refine`` or ``prox execute`` output); keep a reservoir sample of documents (those
    ``where(record, dropped)`` accepts, when given: the figures still count every document), each viewed up to
    ``max_lines`` lines (:func:`prox.report.diff.view`) as it enters the sample, so the sample holds views, not
    records (a thousand books would be gigabytes). ``keep_raw=False``: the views hold no whole original text."""
    from prox.pipeline.folders import read_identity, require_run

    require_run(folder, what="a prox refine or prox execute run folder")
    summary_path = os.path.join(folder, "stats.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    report = RunReport(folder, summary, read_identity(folder) or {}, sample_size=sample_size)
    rng = random.Random(seed)
    reservoir: list[tuple[tuple, Optional[DocView]]] = []  # (where in the input, the view; None: unreadable)
    candidates = 0  # documents the sample draws from
    for kind in KINDS:
        for record in records(folder, kind):
            report.documents += 1
            try:
                _count(report, record, kind == "dropped")
            except Exception:  # a record some other tool wrote oddly: shown, never fatal
                report.unreadable += 1
                continue
            if where is not None and not where(record, kind == "dropped"):
                continue
            candidates += 1
            if ids is not None:
                if str(record.get("id")) in ids:
                    reservoir.append(_entry(report.documents, record, max_lines, keep_raw))
            elif len(reservoir) < sample_size:
                reservoir.append(_entry(report.documents, record, max_lines, keep_raw))
            elif (slot := rng.randrange(candidates)) < sample_size:
                reservoir[slot] = _entry(report.documents, record, max_lines, keep_raw)
    for item in read_records(output_files(folder, "rejected")):
        if isinstance(item, Record):
            report.rejected_total += 1
            if len(report.rejected) < MAX_REJECTED:
                report.rejected.append(item.data)
    report.sample = [doc for _, doc in sorted(reservoir, key=lambda entry: entry[0]) if doc is not None]
    report.unreadable += sum(1 for _, doc in reservoir if doc is None)
    return report


def _entry(position: int, record: dict, max_lines: Optional[int], keep_raw: bool) -> tuple[tuple, Optional[DocView]]:
    """A sampled record as the sample keeps it: where it was, and its view (None when it cannot be viewed)."""
    try:
        doc = view(record, max_lines)
        if not keep_raw:
            doc.raw = ""
    except Exception:
        doc = None
    return _input_order(position, record), doc


def _input_order(position: int, record: dict) -> tuple:
    """Where a sampled record was in the input (file, line or row), then where it was in the outputs."""
    try:
        where = prox_metadata(record).source
        number = re.search(r"\d+", str(where.get("where", "")))
        return str(where.get("file", "")), int(number.group()) if number else -1, position
    except Exception:
        return "", -1, position


def _count(report: RunReport, record: dict, dropped: bool) -> None:
    """Add one output record to the report's figures: all of it is computed before anything is counted, so a
    record that cannot be read counts nowhere."""
    prox = prox_metadata(record)
    reason = str(prox.get("reason", "unknown"))
    before = int(prox.get("words_before") or word_count(str(record.get("raw_content", ""))))
    after = 0 if dropped else word_count(str(record.get("text", "")))
    removed = sum(end - start + 1 for start, end in prox.get("removed_lines", []))
    operations = removed + sum(1 for n in prox.get("normalizations", []) if n.get("count"))
    source = source_of(record)
    report.reasons[reason] += 1
    report.words_before += before
    if dropped:
        report.dropped += 1
        report.dropped_reasons[reason] += 1
        report.words_dropped += before
        report.dropped_words[sum(1 for edge in DROPPED_WORDS[1:] if before >= edge)] += 1
    else:
        report.kept += 1
        report.kept_share[max(0, min(10, int(10 * after / before))) if before else 10] += 1
        report.operations[min(20, operations)] += 1
        report.words_removed_kept += max(0, before - after)
    if source not in report.sources and len(report.sources) >= MAX_SOURCES:
        source = OTHER_SOURCES
    figures = report.sources[source]
    figures[0] += 1
    figures[1] += not dropped
    figures[2] += before
    figures[3] += after
