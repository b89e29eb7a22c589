"""Re-apply programs stored in records, so thresholds can change without running a model again.

Records use the reference's layout: ``raw_content`` (the original document), ``text`` (the refined
one), ``metadata.doc_program`` and ``metadata.chunk_program``. Our trace goes to ``metadata.prox``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Iterable, Optional

from prox.program.executor import ExecutionResult
from prox.program.stored import StoredPrograms, Thresholds, execute_stored, trace_summary
from prox.records import Blank, Record, RecordWriter, Rejected, expand, read_records


@dataclass
class ApplyStats:
    read: int = 0
    kept: int = 0
    dropped: int = 0
    rejected: int = 0
    blank_lines: int = 0
    reasons: Counter = field(default_factory=Counter)
    lines_removed: int = 0
    normalizations: int = 0
    program_errors: int = 0
    words_before: int = 0
    words_after: int = 0
    seconds: float = 0.0

    def count(self, result: ExecutionResult, sign: int = 1) -> None:
        """Add an executed record's figures (``sign=-1`` takes back one that could not be written)."""
        self.dropped += sign * result.dropped
        self.kept += sign * (not result.dropped)
        self.reasons[result.reason] += sign
        if not self.reasons[result.reason]:
            del self.reasons[result.reason]
        trace = result.trace
        self.lines_removed += sign * len(trace.removed_lines)
        self.normalizations += sign * sum(1 for n in trace.normalizations if n.count)
        self.program_errors += sign * trace.error_count
        self.words_before += sign * trace.words_before
        self.words_after += sign * len(result.text.split())

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "reasons"}
        data["reasons"] = dict(self.reasons)
        data["docs_per_second"] = round(self.read / self.seconds, 1) if self.seconds else None
        return data


def original_text(data: dict, text_key: Optional[str] = None) -> str:
    """The document as it was before refining: ``raw_content`` when the record has it, else ``text``."""
    keys = [text_key] if text_key else ["raw_content", "text"]
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            return value
    raise KeyError(f"no string field {' or '.join(repr(k) for k in keys)}")


def apply_record(data: dict, thresholds: Thresholds = Thresholds(), text_key: Optional[str] = None) -> tuple[dict, ExecutionResult]:
    """The record with ``text`` recomputed from its stored programs, and the execution result."""
    raw = original_text(data, text_key)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    programs = StoredPrograms.of(metadata)
    result, doc_reason = execute_stored(raw, programs, thresholds)
    out = dict(data)
    out["raw_content"] = raw
    out["text"] = result.text
    out["metadata"] = {**metadata, "prox": trace_summary(result, doc_reason, programs.doc_rule)}
    return out, result


EXECUTE_FILES = ("kept.jsonl", "kept.parquet", "dropped.jsonl", "dropped.parquet", "rejected.jsonl", "stats.json",
                 "run.json", "report.html")


def apply_files(
    inputs: list[str],
    output_dir: str,
    thresholds: Thresholds = Thresholds(),
    text_key: Optional[str] = None,
    output_format: str = "jsonl",
    limit: Optional[int] = None,
    force: bool = False,
) -> ApplyStats:
    """Apply stored programs to every record of ``inputs``; write kept, dropped and rejected records apart.

    Refuses, before reading anything, a folder that already holds files (``force`` replaces a previous
    ``prox execute`` output's files) and a text key that the first records lack. A record that cannot be
    executed or written becomes a rejected entry with the error; the run goes on."""
    from prox.pipeline.folders import clear, command_of, write_identity
    from prox.records import check_text_key, mend
    from prox.writers.errors import describe

    files = expand(inputs)
    if os.path.isdir(output_dir) and os.listdir(output_dir):
        if not force:
            made_by = command_of(output_dir)
            what = f"a prox {made_by} run" if made_by else "other files"
            raise FileExistsError(f"{output_dir} already holds {what}; choose a new --output, or --force to replace "
                                  "a previous prox execute output there")
        clear(output_dir, EXECUTE_FILES)
    check_text_key(files, [text_key] if text_key else ["raw_content", "text"])
    os.makedirs(output_dir, exist_ok=True)
    write_identity(output_dir, {"command": "execute", "inputs": list(inputs), "thresholds": asdict(thresholds),
                                "text_key": text_key, "output_format": output_format, "limit": limit})
    stats = ApplyStats()
    start = time.perf_counter()
    suffix = "parquet" if output_format == "parquet" else "jsonl"
    kept = RecordWriter(os.path.join(output_dir, f"kept.{suffix}"))
    dropped = RecordWriter(os.path.join(output_dir, f"dropped.{suffix}"))
    rejected = RecordWriter(os.path.join(output_dir, "rejected.jsonl"))
    with kept, dropped, rejected:
        for item in read_records(files, blanks=True):
            if isinstance(item, Blank):
                stats.blank_lines += 1
                continue
            if limit is not None and stats.read >= limit:
                break
            stats.read += 1
            if isinstance(item, Record):
                try:
                    out, result = apply_record(item.data, thresholds, text_key)
                    (dropped if result.dropped else kept).write(mend(out), tag=result)
                except Exception as exc:  # a record that cannot be executed or written costs only itself
                    error = str(exc.args[0]) if isinstance(exc, KeyError) else describe(exc)
                    item = Rejected(item.file, item.where, error, json.dumps(mend(item.data), default=str))
            if isinstance(item, Rejected):
                stats.rejected += 1
                rejected.write(mend(item.to_dict()))
                continue
            stats.count(result)
        for writer in (kept, dropped):  # Parquet records the file's schema cannot hold go aside after all
            writer.flush()
            for record, result, why in writer.misfits:
                stats.count(result, -1)
                stats.rejected += 1
                rejected.write(mend({"file": output_dir, "where": f"record {record.get('id')!r}", "error": why,
                                     "raw": json.dumps(record, ensure_ascii=False, default=str)}))
    stats.seconds = time.perf_counter() - start
    with open(os.path.join(output_dir, "stats.json"), "w") as handle:
        json.dump(stats.as_dict(), handle, indent=2)
    return stats
