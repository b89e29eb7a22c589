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

from prox.pipeline.checkpoints import Checkpoints
from prox.pipeline.documents import PROX, state
from prox.records import Blank, Record, Rejected, expand, file_size, read_file
from prox.writers.errors import describe


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
    ):
        """``text_key`` may name several fields: the first that holds a string is the document, and the others are
        left out (``("raw_content", "text")`` reads a refined record's original and drops its refined text).
        ``blanks=True`` passes blank lines on as *blank* documents, for :class:`WriteOutputs` to count in
        the run's figures (``prox refine`` does); otherwise they are counted in this step's stats only."""
        self.text_keys = (text_key,) if isinstance(text_key, str) else tuple(text_key)
        super().__init__(limit=limit, text_key=self.text_keys[0], id_key=id_key)
        self.total_limit = total_limit
        self.blanks = blanks
        self.inputs = list(inputs)
        self.checkpoints = checkpoints
        self._files: Optional[list[str]] = None

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
        sizes = [file_size(path) for path in files]
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
        metadata = data.pop("metadata", None)
        metadata = metadata if isinstance(metadata, dict) else ({} if metadata is None else {"metadata": metadata})
        prox = {"source": {"file": record.file, "where": record.where}}
        if not text.strip():
            logger.warning(f"empty document {record.file}, {record.where}: counted as dropped (empty)")
            prox["empty"] = True
        return Document(
            text=text,
            id=str(document_id) if document_id is not None else f"{record.file}/{record.index}",
            metadata={**metadata, **data, PROX: prox},
        )
