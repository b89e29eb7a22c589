"""How prox keeps its state on a datatrove ``Document`` between steps, and how records leave the pipeline.

The reference layout is kept: ``metadata.doc_program``, ``metadata.chunk_program`` (one program per
chunk) and ``metadata.drop_probability``. Everything else prox knows about a document lives under
``metadata["prox"]``: where it came from, what each stage cost, and the execution trace.
"""

from __future__ import annotations

from typing import Any

from prox.records import mend

PROX = "prox"
INTERNAL = ("position", "offset")  # task-stream bookkeeping, not written out


def state(document) -> dict:
    """The document's prox state (created on first use)."""
    return document.metadata.setdefault(PROX, {})


def is_rejected(document) -> bool:
    return "rejected" in document.metadata.get(PROX, {})


def is_blank(document) -> bool:
    """A blank input line: counted, never refined or written."""
    return bool(document.metadata.get(PROX, {}).get("blank"))


def is_empty(document) -> bool:
    return bool(document.metadata.get(PROX, {}).get("empty"))


def writer_errors(document) -> list[str]:
    prox = document.metadata.get(PROX, {})
    return [e for stage in ("doc", "chunk") for e in prox.get(stage, {}).get("errors", [])]


def is_dropped(document) -> bool:
    return bool(document.metadata.get(PROX, {}).get("dropped"))


def output_record(document) -> dict[str, Any]:
    """A kept or dropped document as written: ``id``, ``text`` (refined), ``raw_content`` and metadata.

    Every string is writable: text that cannot be encoded (a lone surrogate from a program or an answer) is
    mended to U+FFFD here, the last step before bytes."""
    metadata = dict(document.metadata)
    prox = {k: v for k, v in metadata.pop(PROX, {}).items() if k not in INTERNAL}
    raw = metadata.pop("raw_content", document.text)
    return mend({"id": document.id, "text": document.text, "raw_content": raw, "metadata": {**metadata, PROX: prox}})


def rejected_record(document) -> dict[str, Any]:
    """A rejected input record as written: file, where in it, the error and the raw text."""
    return mend(dict(document.metadata[PROX]["rejected"]))


def reject(document, error: str) -> None:
    """Turn a document that could not be refined or written into a rejected one, its original text kept."""
    prox = state(document)
    source = prox.get("source", {})
    raw = document.metadata.get("raw_content", document.text)
    prox["rejected"] = {"file": source.get("file", ""), "where": source.get("where", ""), "error": error,
                        "raw": raw if isinstance(raw, str) else "", "id": str(document.id)}


def parquet_record(document) -> dict[str, Any]:
    """:func:`output_record` flattened to a fixed schema, because inputs' extra fields vary from record to record."""
    import json

    record = output_record(document)
    metadata = record["metadata"]
    programs = metadata.get("chunk_program")
    probability = metadata.get("drop_probability")
    doc_program = metadata.get("doc_program")
    return {
        "id": str(record["id"]),
        "text": record["text"],
        "raw_content": record["raw_content"],
        "metadata": {
            "doc_program": doc_program if isinstance(doc_program, str) else None,
            "chunk_program": [p for p in programs if isinstance(p, str)] if isinstance(programs, list) else None,
            "drop_probability": float(probability) if isinstance(probability, (int, float)) else None,
            PROX: json.dumps(metadata.get(PROX, {}), ensure_ascii=False),
            "source": json.dumps({k: v for k, v in metadata.items() if k not in PARQUET_METADATA}, ensure_ascii=False, default=str),
        },
    }


PARQUET_METADATA = ("doc_program", "chunk_program", "drop_probability", PROX)


def parquet_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("raw_content", pa.string()),
            (
                "metadata",
                pa.struct(
                    [
                        ("doc_program", pa.string()),
                        ("chunk_program", pa.list_(pa.string())),
                        ("drop_probability", pa.float64()),
                        (PROX, pa.string()),  # JSON: the trace and the costs
                        ("source", pa.string()),  # JSON: the input record's other fields
                    ]
                ),
            ),
        ]
    )
