"""``ParquetRecordWriter``: output records to Parquet in the layout of the JSONL outputs, nothing lost.

datatrove's ``ParquetWriter`` takes its schema from the first document (or a fixed one) and writes batches
of a fixed number of documents: records vary (a field some records hold, a number here and a string
there), and a batch of books overflows an Arrow string array. Here each file's schema is inferred from all
of its records, so a field only some hold is a nullable column. A field whose values cannot share a column
(an integer in one record and a string in another, an integer past 64 bits, an empty object) is written as
JSON text and named in the file's key-value metadata (:data:`prox.records.JSON_FIELDS`), from which
prox's readers decode it; so are the ``json_fields`` the caller names (prox's free-form trace).

A file's records are held until it is closed (its part committed), spilled to a local temporary file past
``max_bytes``, then written in row groups of at most ``max_rows`` records and about ``max_bytes``
characters, every string a ``large_string``: no Arrow array overflows, however long the documents.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from typing import IO, Callable, Iterator, Optional, Sequence

from datatrove.io import DataFolderLike
from datatrove.pipeline.writers.disk_base import DiskWriter

from prox.records import JSON_FIELDS

MAX_ROWS = 1000
MAX_BYTES = 64 << 20  # characters of record data per row group, and held in memory per open file
JSON = "json"  # the shape of a field no column holds: written as JSON text


class ParquetRecordWriter(DiskWriter):
    """A datatrove disk writer (``write(document, rank, **tags)``, ``close_file``, ``close``) for Parquet."""

    default_output_filename = "${rank}.parquet"
    name = "📒 Parquet (prox)"
    _requires_dependencies = ["pyarrow"]

    def __init__(self, output_folder: DataFolderLike, output_filename: Optional[str] = None,
                 adapter: Optional[Callable] = None, json_fields: Sequence[Sequence[str]] = (),
                 max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES, compression: Optional[str] = "snappy"):
        super().__init__(output_folder, output_filename, compression=None, adapter=adapter, mode="wb")
        self.json_fields = [tuple(path) for path in json_fields]
        self.max_rows, self.max_bytes, self.parquet_compression = max_rows, max_bytes, compression
        self._held: dict[str, Held] = {}

    def _write(self, document: dict, file_handler: IO, filename: str) -> None:
        """Hold one record; a record no file can hold raises here, before anything is held."""
        for path in self.json_fields:
            document = replaced(document, path, _dump)
        shape = shape_of(document)
        self._held.setdefault(filename, Held(self.max_bytes)).add(document, shape, size_of(document))

    def close_file(self, filename: str) -> None:
        """Write the file's records, now that all are in, and close it (a file that got none is removed)."""
        held = self._held.pop(filename, None)
        try:
            if held is not None and held.count:
                self._write_parquet(self.output_mg.get_file(filename), held)
        finally:
            if held is not None:
                held.close()
        super().close_file(filename)
        if held is None or not held.count:
            self.output_folder.rm(filename)

    def _write_parquet(self, handle: IO, held: "Held") -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        inferred: list[tuple] = []
        schema = pa.schema(arrow_type(held.shape, (), inferred))
        named = sorted({*self.json_fields, *inferred})
        schema = schema.with_metadata({JSON_FIELDS: json.dumps([list(p) for p in named], ensure_ascii=False)})
        with pq.ParquetWriter(handle, schema, compression=self.parquet_compression, **_optimized()) as writer:
            for rows in held.groups(self.max_rows, self.max_bytes):
                for path in inferred:
                    rows = [replaced(row, path, _dump) for row in rows]
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))

    def close(self) -> None:
        for filename in list(self._held):
            self.close_file(filename)
        super().close()


class Held:
    """The records of one open file until it is closed: in memory up to ``max_bytes``, then in a local
    temporary file, with the shape they share so far."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.shape: dict = {}
        self.count = 0
        self._rows: list[tuple[dict, int]] = []
        self._bytes = 0
        self._spill: Optional[IO] = None

    def add(self, record: dict, shape: dict, size: int) -> None:
        if self._rows and self._bytes + size > self.max_bytes:
            self._spill_rows()  # may fail: then nothing has changed
        self.shape = merge(self.shape, shape)
        self._rows.append((record, size))
        self._bytes += size
        self.count += 1

    def _spill_rows(self) -> None:
        self._spill = self._spill or tempfile.TemporaryFile(prefix="prox-parquet-")
        start = self._spill.tell()
        try:
            for item in self._rows:
                pickle.dump(item, self._spill, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            self._spill.seek(start)
            self._spill.truncate()
            raise
        self._rows, self._bytes = [], 0

    def __iter__(self) -> Iterator[tuple[dict, int]]:
        """(record, size) in the order they came."""
        if self._spill is not None:
            self._spill.seek(0)
            while True:
                try:
                    yield pickle.load(self._spill)
                except EOFError:
                    break
        yield from self._rows

    def groups(self, max_rows: int, max_bytes: int) -> Iterator[list[dict]]:
        """Row groups: at most ``max_rows`` records, and no more than ``max_bytes`` past their first."""
        group, size = [], 0
        for record, record_size in self:
            if group and (len(group) >= max_rows or size + record_size > max_bytes):
                yield group
                group, size = [], 0
            group.append(record)
            size += record_size
        if group:
            yield group

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()


# --- shapes: the Arrow type of records, as a tree that merges -----------------------------------------------
def shape_of(value):
    """The shape of a JSON value: a dict of shapes for an object, a one-item list for an array, an Arrow type
    for a scalar, or :data:`JSON` where no column type fits. What JSON cannot hold raises ``TypeError``."""
    import pyarrow as pa

    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64() if -(2**63) <= value < 2**63 else JSON
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, str):
        return pa.large_string()
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("an object with keys that are not strings has no JSON form")
        return {key: shape_of(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_items_shape(value)]
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _items_shape(values) -> object:
    import pyarrow as pa

    kinds = set(map(type, values))
    if kinds == {int}:  # long arrays of numbers or strings: no walk in Python
        return pa.int64() if -(2**63) <= min(values) and max(values) < 2**63 else JSON
    if len(kinds) == 1 and kinds <= {str, float, bool}:
        return shape_of(values[0])
    shape = pa.null()
    for value in values:
        shape = merge(shape, shape_of(value))
    return shape


def merge(a, b):
    """The shape that holds values of both shapes: objects merge field by field, arrays by their items, a
    null fits anything; any other difference is :data:`JSON`."""
    import pyarrow as pa

    if isinstance(a, pa.DataType) and pa.types.is_null(a):
        return b
    if isinstance(b, pa.DataType) and pa.types.is_null(b):
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, shape in b.items():
            merged[key] = merge(a[key], shape) if key in a else shape
        return merged
    if isinstance(a, list) and isinstance(b, list):
        return [merge(a[0], b[0])]
    if isinstance(a, pa.DataType) and isinstance(b, pa.DataType) and a.equals(b):
        return a
    return JSON


def arrow_type(shape, path: tuple, json_paths: list):
    """The Arrow type of a shape (a list of fields for the record itself); the paths of fields written as JSON
    text are added to ``json_paths``: fields that are :data:`JSON`, empty objects, and arrays whose items
    hold either (JSON inside an array is the whole array's)."""
    import pyarrow as pa

    if isinstance(shape, dict) and shape:
        fields = [pa.field(key, arrow_type(item, (*path, key), json_paths)) for key, item in shape.items()]
        return fields if not path else pa.struct(fields)
    if isinstance(shape, list):
        inside: list = []
        item = arrow_type(shape[0], path, inside)
        if not inside:
            return pa.list_(item)
    elif isinstance(shape, pa.DataType):
        return shape
    json_paths.append(path)
    return pa.large_string()


# --- records --------------------------------------------------------------------------------------------
def replaced(record: dict, path: Sequence[str], change: Callable) -> dict:
    """``record`` with the value at ``path`` changed (where there is one), the objects on the way copied."""
    key, *rest = path
    if not isinstance(record, dict) or key not in record:
        return record
    value = record[key]
    if rest:
        inner = replaced(value, rest, change)
        return record if inner is value else {**record, key: inner}
    return {**record, key: change(value)}


def _dump(value) -> Optional[str]:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def size_of(value) -> int:
    """About how many bytes a record takes in a row group (characters for text)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(map(size_of, value.values())) + 8 * len(value)
    if isinstance(value, (list, tuple)):
        return sum(map(size_of, value)) + 8
    return 8


def _optimized() -> dict:
    """datatrove's Parquet options for the Hub (content-defined chunking, a page index) where pyarrow has them."""
    import pyarrow as pa

    try:
        from datatrove.pipeline.writers.parquet import DEFAULT_CDC_OPTIONS
    except ImportError:
        return {}
    if int(pa.__version__.split(".")[0]) < 21:
        return {}
    return {"use_content_defined_chunking": DEFAULT_CDC_OPTIONS, "write_page_index": True}
