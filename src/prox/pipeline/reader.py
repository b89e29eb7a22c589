"""``ReadRecords``: a datatrove reader that loses nothing.

datatrove's own readers log and skip a record they cannot parse. Here every input record becomes a
document: a record that cannot be read (invalid JSON or UTF-8, no text field, a truncated or unreadable
file) travels down the pipeline as a *rejected* document naming the file and line, so that the output
step writes it aside and kept + dropped + rejected always equals read. Each document is stamped with
its position in the task's stream, which is what resuming counts. A blank line is no record: it travels
as a *blank* document that the output step counts as such and writes nowhere.
"""

from __future__ import annotations

import json
from typing import Optional, Sequence

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.readers.base import BaseReader
from datatrove.utils.logging import logger

from prox.errors import describe
from prox.pipeline.checkpoints import Checkpoints
from prox.pipeline.documents import PROX, DocState, state
from prox.records import Blank, Record, Rejected, expand, file_size, read_file


class ReadRecords(BaseReader):
    """Read JSONL (plain, .gz, .zst), Parquet and Arrow files, folders, globs and fsspec URLs.

    Files are shared among tasks round-robin, as datatrove does. ``limit`` counts per task, as in
    datatrove; ``total_limit`` is shared evenly among the tasks instead. With ``checkpoints``, documents an earlier run already committed are skipped without being built.
    """

    name = "prox records"

    def __init__(
        self,
        inputs: Sequence[str],
        text_key: "str | Sequence[str]" = "text",
        id_key: str = "id",
        limit: int = -1,
        checkpoints: Optional[Checkpoints] = None,
        total_limit: Optional[int] = None,
        blanks: bool = False,
        files: Optional[Sequence[str]] = None,
        sizes: Optional[Sequence[int]] = None,
        set_aside: Sequence[str] = (),
    ):
        """``text_key`` may name several fields: the first that holds a string is the document, and the others are
        left out (``("raw_content", "text")`` reads a refined record's original and drops its refined text).
        ``blanks=True`` passes blank lines on as *blank* documents, for :class:`WriteOutputs` to count in
        the run's figures (``prox refine`` does); otherwise they are counted in this step's stats only.
        ``files``: the input files as the job resolved them when it started (else ``inputs`` are expanded when a task
        runs): a resumed task must read exactly the files its run started with; ``sizes``: theirs, in bytes. ``set_aside``: input fields that the
        steps after this one write (``raw_content``, stored programs, ``prox``): an input's own values are kept, under
        ``metadata.prox.input_fields``, and never read as this run's (see :func:`split_fields`)."""
        self.text_keys = (text_key,) if isinstance(text_key, str) else tuple(text_key)
        super().__init__(limit=limit, text_key=self.text_keys[0], id_key=id_key)
        self.total_limit = total_limit
        self.blanks = blanks
        self.inputs = list(inputs)
        self.checkpoints = checkpoints
        self.set_aside = tuple(set_aside)
        self._files: Optional[list[str]] = list(files) if files is not None else None
        self._sizes = dict(zip(self._files, sizes)) if files is not None and sizes is not None else {}

    @property
    def files(self) -> list[str]:
        if self._files is None:
            self._files = expand(self.inputs)
        return self._files

    def shard(self, rank: int, world_size: int) -> list[str]:
        return self.files[rank::world_size]

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        files = self.shard(rank, world_size)
        sizes = [self._sizes[path] if path in self._sizes else file_size(path) for path in files]
        total = sum(sizes)
        limit = self.limit
        if self.total_limit is not None:
            share, extra = divmod(self.total_limit, world_size)
            limit = share + (rank < extra)
        skip = self.checkpoints.committed_documents(rank) if self.checkpoints else 0
        if skip:
            logger.info(f"task {rank}: {skip} documents were committed by an earlier run; skipping them")
        position, records, done = -1, 0, 0  # blank lines take a position (resuming counts them) but no share of the limit
        for path, size in zip(files, sizes):
            offset = 0
            for item in read_file(path, blanks=True):
                position += 1
                records += not isinstance(item, Blank)
                if limit != -1 and records > limit:
                    return
                offset = getattr(item, "offset", offset) or offset
                if position < skip:
                    continue
                if isinstance(item, Blank) and not self.blanks:
                    self.stat_update("blank_lines")
                    continue
                with self.track_time():
                    try:
                        document = self.to_document(item)
                    except Exception as error:  # whatever a record holds, it costs only itself
                        document = self.to_document(Rejected(item.file, item.where, f"unreadable record: {describe(error)}"))
                    prox = state(document)
                    prox.place(position, [min(done + offset, total), total])
                    self.stat_update("rejected" if prox.rejected else "blank" if prox.blank else "read")
                yield document
            done += size

    def to_document(self, item: Record | Rejected | Blank) -> Document:
        if isinstance(item, Blank):  # not a record: it travels only to be counted, and is never written
            return Document(text="", id=f"{item.file}#blank-{item.index + 1}", metadata={PROX: {"blank": True}})
        if isinstance(item, Record):
            data = dict(item.data)
            key = next((k for k in self.text_keys if isinstance(data.get(k), str)), None)
            if key is not None:
                text = data.pop(key)
                for other in self.text_keys:
                    data.pop(other, None)
                return self._document(item, text, data)
            fields = ", ".join(sorted(item.data)) or "none"
            wanted = " or ".join(repr(k) for k in self.text_keys)
            item = Rejected(item.file, item.where, f"no string field {wanted} (fields: {fields})",
                            json.dumps(item.data, ensure_ascii=False, default=str))
        logger.warning(f"rejected {item.file}, {item.where}: {item.error}")
        document_id = f"{item.file}#{item.where.replace(' ', '-')}"
        return Document(text="", id=document_id, metadata={PROX: {"rejected": item.to_dict()}})

    def _document(self, record: Record, text: str, data: dict) -> Document:
        document_id = data.pop(self.id_key, None)
        metadata, input_fields = split_fields(data, self.set_aside)
        prox = {"source": {"file": record.file, "where": record.where}}
        if input_fields:
            prox["input_fields"] = input_fields
        if document_id is not None and not isinstance(document_id, str):
            prox["id"] = document_id  # written back as it came: 7 stays a number
        if not text.strip():
            logger.warning(f"empty document {record.file}, {record.where}: counted as dropped (empty)")
            prox["empty"] = True
        return Document(
            text=text,
            id=_id_text(document_id) if document_id is not None else f"{record.file}/{record.index}",
            metadata={**metadata, PROX: prox},
        )


def split_fields(data: dict, set_aside: Sequence[str] = ()) -> tuple[dict, dict]:
    """A record's fields (its text and id taken out) as the document's metadata, and those that must be kept apart.

    Top-level fields join ``metadata`` (datatrove's layout), but never over one of its own: a top-level ``url`` beside
    ``metadata.url`` is kept apart. So are the fields the run writes itself (``set_aside``) and a user's field named
    ``prox`` (prox's state lives there). What is kept apart goes to ``metadata.prox.input_fields``, as it came. The
    trace of a record prox wrote (``prox execute`` reads them) is made again, its ``input_fields`` carried on.
    ``data`` is the caller's own copy: its ``metadata`` is taken out of it."""
    metadata = data.pop("metadata", None)
    metadata = dict(metadata) if isinstance(metadata, dict) else ({} if metadata is None else {"metadata": metadata})
    apart: dict = {}
    if PROX in metadata:
        trace = _trace(metadata[PROX])
        if PROX in set_aside or trace is None:
            apart[PROX] = metadata.pop(PROX)
        else:
            metadata.pop(PROX)
            apart.update(trace.get("input_fields") or {})
    for key in set_aside:
        if key in metadata:
            apart[key] = metadata.pop(key)
    for key, value in data.items():
        if key in metadata or key in set_aside or key == PROX:
            apart["top_level." + key if key in apart else key] = value
        else:
            metadata[key] = value
    return metadata, apart


def _trace(value) -> Optional[dict]:
    """``metadata.prox`` as the trace prox writes (a Parquet output holds it as JSON text), or None for a user's field."""
    trace = DocState.of_record({"metadata": {PROX: value}}).data
    return trace if "reason" in trace and isinstance(trace.get("input_fields", {}), dict) else None


def _id_text(value) -> str:
    """An id as the text datatrove's ``Document.id`` holds (the value itself is written back as it came)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
