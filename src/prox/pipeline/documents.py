"""How prox keeps its state on a datatrove ``Document`` between steps, and how records leave the pipeline.

The reference layout is kept: ``metadata.doc_program``, ``metadata.chunk_program`` (one program per
chunk) and ``metadata.drop_probability``. Everything else prox knows about a document lives under
``metadata["prox"]``: where it came from, what each stage cost, and the execution trace.
"""

from __future__ import annotations

from typing import Any, Optional

from prox.records import mend

PROX = "prox"
INTERNAL = ("position", "offset", "id")  # task-stream bookkeeping, and the input's id (written back in its place)
# what a refine run writes into a record: an input's own values of these are kept apart (``input_fields``)
STORED_PROGRAMS = ("doc_program", "chunk_program", "drop_probability", "doc_rule", "remove_probability")  # what the writers store
WRITTEN_FIELDS = ("raw_content", *STORED_PROGRAMS, PROX)
STAGES = ("doc", "chunk")


class DocState:
    """prox's state of one document, kept as plain JSON in ``metadata["prox"]`` so it travels between steps
    and processes and is written out with the document. Every module reads and writes it through here.

    Keys: ``source`` (file, where), ``position`` / ``offset`` (the stream's), ``id`` (the input's, when not a
    string), ``input_fields`` (the input's fields that collided with prox's), ``blank``, ``empty``,
    ``rejected`` (file, where, error, raw), one cost per stage (``doc``, ``chunk``: items, tokens, seconds,
    errors), and the execution: ``dropped``, ``reason``, ``doc_reason``, ``removed_lines``,
    ``normalizations``, ``errors``, ``words_before``, ``words_after``, ``programs``,
    ``programs_with_parse_errors``, ``writer_errors``, and ``language`` (the original text's, ISO 639-1)."""

    __slots__ = ("data",)

    def __init__(self, metadata: dict, create: bool = True):
        found = metadata.get(PROX)
        if not isinstance(found, dict):
            found = {}
            if create:
                metadata[PROX] = found
        self.data: dict = found

    @classmethod
    def of_record(cls, record: dict) -> "DocState":
        """The state of a written output record, read only (Parquet outputs hold it as JSON text)."""
        import json

        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        found = metadata.get(PROX, {})
        if isinstance(found, str):
            try:
                found = json.loads(found)
            except ValueError:
                found = {}
        return cls({PROX: found if isinstance(found, dict) else {}}, create=False)

    # where it came from
    @property
    def source(self) -> dict:
        return self.data.get("source", {})

    @property
    def position(self) -> int:
        return self.data["position"]

    def place(self, position: int, offset: list) -> None:
        """Where the document sits in its task's stream (resuming counts positions; the bar reads offsets)."""
        self.data["position"], self.data["offset"] = position, offset

    @property
    def offset(self) -> Optional[list]:
        return self.data.get("offset")

    # what it is
    @property
    def blank(self) -> bool:
        return bool(self.data.get("blank"))

    @property
    def empty(self) -> bool:
        return bool(self.data.get("empty"))

    @property
    def rejected(self) -> Optional[dict]:
        return self.data.get("rejected")

    @property
    def refinable(self) -> bool:
        """Whether a writer should see it: not rejected, blank or empty, and no stage failed on it."""
        return not (self.rejected or self.blank or self.empty or self.writer_errors)

    # what the stages cost
    def cost(self, stage: str) -> dict:
        return self.data.get(stage) or {}

    def set_cost(self, stage: str, cost: dict) -> None:
        self.data[stage] = cost

    @property
    def writer_errors(self) -> list[str]:
        return [e for stage in STAGES for e in self.cost(stage).get("errors", [])]

    # what execution made of it
    @property
    def dropped(self) -> bool:
        return bool(self.data.get("dropped"))

    @property
    def reason(self) -> str:
        return self.data.get("reason", "unknown")

    def executed(self, **figures) -> None:
        self.data.update(figures)

    def get(self, key: str, default=None):
        """A recorded figure (``removed_lines``, ``words_before``, ...), for readers of finished records."""
        return self.data.get(key, default)


def state(document) -> DocState:
    """The document's prox state (created on first use)."""
    return DocState(document.metadata)


def is_rejected(document) -> bool:
    return bool(DocState(document.metadata, create=False).rejected)


def is_blank(document) -> bool:
    """A blank input line: counted, never refined or written."""
    return DocState(document.metadata, create=False).blank


def writer_errors(document) -> list[str]:
    return DocState(document.metadata, create=False).writer_errors


def is_dropped(document) -> bool:
    return DocState(document.metadata, create=False).dropped


def output_record(document) -> dict[str, Any]:
    """A kept or dropped document as written: ``id``, ``text`` (refined), ``raw_content`` and metadata.

    Every string is writable: text that cannot be encoded (a lone surrogate from a program or an answer) is
    mended to U+FFFD here, the last step before bytes."""
    metadata = dict(document.metadata)
    found = metadata.pop(PROX, {})
    prox = {k: v for k, v in found.items() if k not in INTERNAL}
    raw = metadata.pop("raw_content", document.text)
    identifier = found.get("id", document.id)  # the input's id keeps its JSON type
    return mend({"id": identifier, "text": document.text, "raw_content": raw, "metadata": {**metadata, PROX: prox}})


def rejected_record(document) -> dict[str, Any]:
    """A rejected input record as written: file, where in it, the error and the raw text."""
    return mend(dict(state(document).rejected))


def reject(document, error: str) -> None:
    """Turn a document that could not be refined or written into a rejected one, its original text kept."""
    prox = state(document)
    source = prox.source
    raw = document.metadata.get("raw_content", document.text)
    prox.data["rejected"] = {"file": source.get("file", ""), "where": source.get("where", ""), "error": error,
                        "raw": raw if isinstance(raw, str) else "", "id": str(document.id)}
