"""A run folder read once, streaming: its figures, histograms over every document, and a sample to show."""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterator, Optional

from prox.records import Record, expand, read_records
from prox.report.diff import DocView, prox_metadata, source_of, view

KINDS = ("kept", "dropped")


@dataclass
class RunReport:
    folder: str
    summary: dict
    documents: int = 0
    rejected: list = field(default_factory=list)  # a sample of rejected records
    rejected_total: int = 0
    reasons: Counter = field(default_factory=Counter)
    kept_share: Counter = field(default_factory=Counter)  # tenth of words kept (0-10) -> documents
    operations: Counter = field(default_factory=Counter)  # operations per document (capped) -> documents
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


def load(folder: str, sample_size: int = 200, seed: int = 0, ids: Optional[set] = None) -> RunReport:
    """Read ``folder`` (a ``prox refine`` or ``prox execute`` output); keep a reservoir sample of documents."""
    from prox.pipeline.folders import require_run

    require_run(folder, what="a prox refine or prox execute run folder")
    summary_path = os.path.join(folder, "stats.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    report = RunReport(folder, summary, sample_size=sample_size)
    rng = random.Random(seed)
    reservoir: list[dict] = []
    for kind in KINDS:
        for record in records(folder, kind):
            report.documents += 1
            try:
                _count(report, record, kind == "dropped")
            except Exception:  # a record some other tool wrote oddly: shown, never fatal
                report.unreadable += 1
                continue
            if ids is not None:
                if str(record.get("id")) in ids:
                    reservoir.append(record)
            elif len(reservoir) < sample_size:
                reservoir.append(record)
            elif (slot := rng.randrange(report.documents)) < sample_size:
                reservoir[slot] = record
    for item in read_records(output_files(folder, "rejected")):
        if isinstance(item, Record):
            report.rejected_total += 1
            if len(report.rejected) < 50:
                report.rejected.append(item.data)
    report.sample = []
    for record in reservoir:
        try:
            report.sample.append(view(record))
        except Exception:
            report.unreadable += 1
    return report


def _count(report: RunReport, record: dict, dropped: bool) -> None:
    """Add one output record to the report's figures."""
    prox = prox_metadata(record)
    report.reasons[str(prox.get("reason", "unknown"))] += 1
    before = int(prox.get("words_before") or len(str(record.get("raw_content", "")).split()))
    after = 0 if dropped else len(str(record.get("text", "")).split())
    report.kept_share[min(10, int(10 * after / before)) if before else 0] += 1
    removed = sum(end - start + 1 for start, end in prox.get("removed_lines", []))
    report.operations[min(20, removed + sum(1 for n in prox.get("normalizations", []) if n.get("count")))] += 1
    figures = report.sources[source_of(record)]
    figures[0] += 1
    figures[1] += not dropped
    figures[2] += before
    figures[3] += after
