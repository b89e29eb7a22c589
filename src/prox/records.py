"""Read and write record files (JSONL, plain or compressed, and Parquet) through fsspec.

Input is untrusted: a record that cannot be read (invalid JSON or UTF-8, not an object, a truncated
or corrupt file) becomes a :class:`Rejected` naming the file and line or row, and reading goes on.
"""

from __future__ import annotations

import glob as globlib
import json
import os
import re
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any, Iterable, Iterator, Union

from prox.errors import UsageError
from prox.program.limits import mend as mend_text

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
COMPRESSIONS = (".gz", ".zst", ".bz2", ".xz")
PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow",)  # Hugging Face ``datasets.save_to_disk`` folders hold Arrow stream files
PARQUET_BATCH = 1024
PARQUET_BATCH_BYTES = 64 << 20


@dataclass(frozen=True)
class Record:
    file: str
    index: int  # 0-based line (JSONL) or row (Parquet, Arrow)
    data: dict
    offset: int = 0  # bytes of the (compressed) file read so far: progress without counting records first

    @property
    def where(self) -> str:
        return f"{'line' if is_jsonl(self.file) else 'row'} {self.index + 1}"


@dataclass(frozen=True)
class Rejected:
    file: str
    where: str  # "line 12", "row 3", or "file" when the file itself could not be read
    error: str
    raw: str = ""  # the undecodable or unparsable text, kept so nothing is lost

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Blank:
    """A blank line of a JSONL file: no record, so neither read nor rejected, but counted where it matters."""

    file: str
    index: int
    offset: int = 0


def expand(inputs: Iterable[str]) -> list[str]:
    """Files named by paths, folders (searched recursively) and globs, local or fsspec URLs."""
    import fsspec

    files: list[str] = []
    for item in inputs:
        fs, _, paths = fsspec.get_fs_token_paths(item)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        for path in sorted(paths):
            if not fs.exists(path):
                raise FileNotFoundError(f"no such input: {item}")
            local = protocol in ("file", "local")
            found = [p for p in fs.find(path) if _readable(p) and (not local or _regular(p))] if fs.isdir(path) else [path]
            if local and not fs.isdir(path) and not _regular(path):
                raise UsageError(f"{item} is not a regular file (a FIFO, a device or a socket): prox reads files, "
                                 "which it may read more than once")
            for p in sorted(found):
                files.append(p if protocol in ("file", "local") else f"{protocol}://{p}")
        if not paths and not globlib.has_magic(item):
            raise FileNotFoundError(f"no such input: {item}")
    return files


def _regular(path: str) -> bool:
    """Whether a local path is a regular file: a FIFO would block its reader, a device never ends."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


DATASET_FILES = ("dataset_info.json", "state.json", "dataset_dict.json")  # a datasets folder's bookkeeping


def _readable(path: str) -> bool:
    """Whether a file found inside a folder is data (hidden files and datasets bookkeeping are not)."""
    name = path.lower()
    base = name.rsplit("/", 1)[-1]
    if base.startswith(".") or base in DATASET_FILES:
        return False
    for suffix in COMPRESSIONS:
        name = name.removesuffix(suffix)
    return name.endswith(JSONL_SUFFIXES + PARQUET_SUFFIXES + ARROW_SUFFIXES)


def is_parquet(path: str) -> bool:
    return path.lower().endswith(PARQUET_SUFFIXES)


def is_arrow(path: str) -> bool:
    return path.lower().endswith(ARROW_SUFFIXES)


def is_jsonl(path: str) -> bool:
    return not (is_parquet(path) or is_arrow(path))


def file_size(path: str) -> int:
    """Size in bytes (0 when it cannot be had): the unit of progress and of balancing tasks."""
    import fsspec

    try:
        fs, _, (resolved,) = fsspec.get_fs_token_paths(path)
        return int(fs.size(resolved) or 0)
    except Exception:
        return 0


TEXT_KEY_PROBE = 100  # records read before a run starts, to catch a wrong text key


def check_text_key(files: Iterable[str], keys: list[str], probe: int = TEXT_KEY_PROBE) -> None:
    """Fail before any work when none of the first readable records holds a string under any of ``keys``:
    a wrong ``--text-key`` would otherwise reject every record of a long run, one warning at a time."""
    readable = (item for path in files for item in read_file(path) if isinstance(item, Record))
    seen: dict[str, None] = {}
    first, count = None, 0
    for record in islice(readable, probe):
        count += 1
        if any(isinstance(record.data.get(key), str) for key in keys):
            return
        first = first or record.file
        seen.update(dict.fromkeys(record.data))
    if count:
        wanted = " or ".join(repr(k) for k in keys)
        fields = ", ".join(list(seen)[:20]) or "none"
        raise UsageError(f"{first}: none of the first {count:,} records has a string field {wanted} "
                         f"(fields seen: {fields}); choose the field with --text-key")


def read_records(files: Iterable[str], blanks: bool = False) -> Iterator[Union[Record, Rejected, Blank]]:
    for path in files:
        yield from read_file(path, blanks)


def read_file(path: str, blanks: bool = False) -> Iterator[Union[Record, Rejected, Blank]]:
    """Records of one file, and a :class:`Rejected` for each that cannot be read; blank JSONL lines are
    skipped, or yielded as :class:`Blank` with ``blanks=True`` for a reader that counts them."""
    if is_parquet(path):
        return _read_parquet(path)
    if is_arrow(path):
        return _read_arrow(path)
    items = _read_jsonl(path)
    return items if blanks else (item for item in items if not isinstance(item, Blank))


def _read_jsonl(path: str) -> Iterator[Union[Record, Rejected]]:
    """Lines of a JSONL file; a truncated or corrupt file gives every line that could be read, then one rejection."""
    import fsspec
    from fsspec.compression import compr
    from fsspec.utils import infer_compression

    index, pending = -1, []  # pending: the pieces of a line not ended yet (joined once: linear in a long line)
    try:
        with fsspec.open(path, "rb") as raw:
            compression = infer_compression(path)
            if compression == "gzip":
                blocks = _gunzip(raw)  # the standard reader loses the lines of a truncated file's last block
            elif compression == "zstd":
                blocks = _unzstd(raw)  # the standard reader stops silently in a cut frame after the first
            else:
                handle = compr[compression](raw, mode="rb") if compression else raw
                blocks = iter(lambda: handle.read(READ_BLOCK), b"")
            for block in blocks:
                if b"\n" not in block:
                    pending.append(block)
                    continue
                first, *lines, rest = block.split(b"\n")
                lines.insert(0, b"".join([*pending, first]) if pending else first)
                pending = [rest] if rest else []
                for position in range(len(lines)):
                    index += 1
                    record = _decode_line(path, index, lines[position], raw.tell())
                    lines[position] = b""  # the bytes are read: not held while the record is worked on
                    yield record
            if pending:  # a last line without a newline
                index, last, pending = index + 1, b"".join(pending), []
                yield _decode_line(path, index, last, raw.tell())
    except Exception as exc:  # truncated gzip, corrupt zstd, unreadable file
        tail = b"".join(pending)
        where = "file" if index < 0 and not tail else f"after line {index + 1}"
        yield Rejected(path, where, f"unreadable: {type(exc).__name__}: {exc}", tail.decode("utf-8", "replace"))


READ_BLOCK = 1 << 16


def _members(raw, start, unit: str) -> Iterator[bytes]:
    """Decompressed blocks of a stream of compressed units (gzip members, zstd frames), one decompressor
    per unit (``start()`` makes one), up to where the stream breaks off: a unit cut short is an error."""
    inflate, inside = start(), False
    while block := raw.read(READ_BLOCK):
        while block:
            inside = True
            yield inflate.decompress(block)
            block = inflate.unused_data
            if inflate.eof:  # a unit ended; another may follow
                inflate, inside = start(), False
    if inside:
        raise EOFError(f"compressed file ended in the middle of a {unit}")


def _gunzip(raw) -> Iterator[bytes]:
    import zlib

    return _members(raw, lambda: zlib.decompressobj(wbits=31), "gzip member")


def _unzstd(raw) -> Iterator[bytes]:
    import zstandard

    return _members(raw, zstandard.ZstdDecompressor().decompressobj, "zstd frame")


def _decode_line(path: str, index: int, raw: bytes, offset: int = 0) -> Union[Record, Rejected]:
    where = f"line {index + 1}"
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(path, where, f"not UTF-8: {exc.reason} at byte {exc.start}", raw.decode("utf-8", "replace"))
    if index == 0 and line.startswith("\ufeff"):
        line = line[1:]  # a byte-order mark is not part of the first record
    if not line.strip():
        return Blank(path, index, offset)
    try:
        data = json.loads(line)
    except ValueError as exc:
        return Rejected(path, where, f"invalid JSON: {exc}", line)
    except RecursionError:
        return Rejected(path, where, "invalid JSON: nested too deeply to read", line)
    if not isinstance(data, dict):
        return Rejected(path, where, f"not a JSON object but {type(data).__name__}", line)
    if "\\u" in line and re.search(r"\\u[dD][89a-fA-F]", line):  # surrogate escapes: valid JSON, not valid text
        try:
            data = mend(data)
        except RecursionError:
            return Rejected(path, where, "invalid JSON: nested too deeply to read", mend_text(line))
    return Record(path, index, data, offset)


def mend(value):
    """``value`` with every string made writable: lone surrogates (from ``\\ud800``-style JSON escapes, a
    server's answer, a Python caller) become U+FFFD. Containers are rebuilt only when something changed."""
    if isinstance(value, str):
        return mend_text(value)
    if isinstance(value, dict):
        items = [(mend(k), mend(v)) for k, v in value.items()]
        same = all(a is k and b is v for (a, b), (k, v) in zip(items, value.items()))
        return value if same else dict(items)
    if isinstance(value, (list, tuple)):
        mended = [mend(v) for v in value]
        return value if all(a is b for a, b in zip(mended, value)) else mended
    return value


def plain(batch):
    """``batch`` with every value that has no JSON form made into one, so that a Parquet or Arrow record can be
    written as JSON (and ``to_pylist`` never fails on a nanosecond): decimals become strings, binary base64
    strings, dates, times and timestamps ISO 8601 strings, durations seconds (a float). At any depth."""
    import pyarrow as pa

    if all(_is_plain(t) for t in batch.schema.types):
        return batch
    return pa.RecordBatch.from_arrays([_plain_array(column) for column in batch.columns], names=batch.schema.names)


def _is_plain(kind) -> bool:
    """Whether an Arrow type's values come out of ``to_pylist`` as JSON values."""
    import pyarrow.types as t

    if t.is_struct(kind):
        return all(_is_plain(kind.field(i).type) for i in range(kind.num_fields))
    if t.is_map(kind):
        return _is_plain(kind.key_type) and _is_plain(kind.item_type)
    if t.is_list(kind) or t.is_large_list(kind) or t.is_fixed_size_list(kind):
        return _is_plain(kind.value_type)
    return (t.is_null(kind) or t.is_boolean(kind) or t.is_integer(kind) or t.is_floating(kind) or t.is_string(kind)
            or t.is_large_string(kind))


def _plain_array(array):
    """One column of :func:`plain`, nested columns rebuilt around their converted children."""
    import base64

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as t

    kind = array.type
    if _is_plain(kind):
        return array
    if array.offset:  # a slice (a struct's child): rebuilt from its own offsets and nulls only once copied
        array = array.take(pa.array(range(len(array)), pa.int64()))
    nulls = array.is_null()
    if isinstance(kind, pa.BaseExtensionType):
        return _plain_array(array.storage)
    if t.is_dictionary(kind):
        return _plain_array(array.dictionary_decode())
    if t.is_fixed_size_list(kind):
        return _plain_array(array.cast(pa.list_(kind.value_type)))
    if t.is_struct(kind):
        names = [kind.field(i).name for i in range(kind.num_fields)]
        return pa.StructArray.from_arrays([_plain_array(c) for c in array.flatten()], names=names, mask=nulls)
    if t.is_map(kind):
        return pa.MapArray.from_arrays(array.offsets, _plain_array(array.keys), _plain_array(array.items), mask=nulls)
    if t.is_list(kind) or t.is_large_list(kind):
        return type(array).from_arrays(array.offsets, _plain_array(array.values), mask=nulls)
    if t.is_binary(kind) or t.is_large_binary(kind) or t.is_fixed_size_binary(kind):
        return pa.array([None if b is None else base64.b64encode(b).decode("ascii") for b in array.to_pylist()],
                        pa.large_string())
    if t.is_duration(kind):
        per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
        return pc.divide(array.cast(pa.int64()).cast(pa.float64()), per_second)
    if t.is_timestamp(kind):
        return pc.replace_substring(array.cast(pa.string()), " ", "T", max_replacements=1)
    return array.cast(pa.string())  # decimals, dates, times (already ISO 8601); an unknown type fails its file


JSON_FIELDS = "prox.json_fields"  # Parquet key-value metadata: the fields a file holds as JSON text
LEGACY_METADATA = {"doc_program", "chunk_program", "drop_probability", "prox", "source"}


def json_decoder(schema):
    """How a row of a Parquet file prox wrote becomes the record it was: the fields its key-value metadata names
    as JSON text decoded. Parquet outputs of earlier versions held the input's fields as one JSON object in
    ``metadata.source``: those are unfolded again."""
    named = json.loads((schema.metadata or {}).get(JSON_FIELDS.encode(), b"[]"))
    paths = [p for p in named if isinstance(p, list) and p] if isinstance(named, list) else []
    legacy = False
    if not paths and "metadata" in schema.names:
        metadata = schema.field("metadata").type
        names = {metadata.field(i).name for i in range(metadata.num_fields)} if hasattr(metadata, "num_fields") else set()
        legacy = names == LEGACY_METADATA
        paths = [["metadata", "prox"]] if legacy else []
    if not paths:
        return lambda row: row

    def decode(row: dict) -> dict:
        for path in paths:
            _decode_at(row, path)
        return _unfold_source(row) if legacy else row

    return decode


def _decode_at(row: dict, path: list) -> None:
    """Decode the JSON text at ``path`` in place; text that is not JSON is left as it is."""
    *parents, last = path
    for key in parents:
        row = row.get(key) if isinstance(row, dict) else None
    if isinstance(row, dict) and isinstance(row.get(last), str):
        try:
            row[last] = json.loads(row[last])
        except ValueError:
            pass


def _unfold_source(row: dict) -> dict:
    metadata = row.get("metadata")
    source = metadata.get("source") if isinstance(metadata, dict) else None
    if isinstance(source, str) and source.startswith("{"):
        try:
            fields = json.loads(source)
        except ValueError:
            return row
        if isinstance(fields, dict):
            row["metadata"] = {**fields, **{k: v for k, v in metadata.items() if k != "source"}}
    return row


def batch_rows(metadata) -> int:
    """Rows read at a time: :data:`PARQUET_BATCH`, fewer where rows are wide (books), so that a batch of Python
    records holds about :data:`PARQUET_BATCH_BYTES` of data, not a thousand books."""
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
    rows, data = sum(g.num_rows for g in groups), sum(g.total_byte_size for g in groups)
    return max(1, min(PARQUET_BATCH, PARQUET_BATCH_BYTES * rows // data)) if rows and data else PARQUET_BATCH


def _read_parquet(path: str) -> Iterator[Union[Record, Rejected]]:
    import fsspec
    import pyarrow.parquet as pq

    row = -1
    try:
        with fsspec.open(path, "rb") as handle:
            parquet = pq.ParquetFile(handle)
            size, rows = file_size(path), max(parquet.metadata.num_rows, 1)
            decode = json_decoder(parquet.schema_arrow)
            for batch in parquet.iter_batches(batch_size=batch_rows(parquet.metadata)):
                for data in plain(batch).to_pylist():
                    row += 1
                    yield Record(path, row, decode(data), size * (row + 1) // rows)
    except Exception as exc:
        where = "file" if row < 0 else f"after row {row + 1}"
        yield Rejected(path, where, f"unreadable: {type(exc).__name__}: {exc}")


def _read_arrow(path: str) -> Iterator[Union[Record, Rejected]]:
    """An Arrow IPC stream (what ``datasets.save_to_disk`` writes) or an Arrow IPC file."""
    import fsspec
    import pyarrow as pa

    row = -1
    try:
        with fsspec.open(path, "rb") as handle:
            try:
                reader = pa.ipc.open_stream(handle)
            except pa.ArrowInvalid:
                handle.seek(0)
                file_reader = pa.ipc.open_file(handle)
                reader = (file_reader.get_batch(i) for i in range(file_reader.num_record_batches))
            for batch in reader:
                for data in plain(batch).to_pylist():
                    row += 1
                    yield Record(path, row, data, handle.tell())
    except Exception as exc:
        where = "file" if row < 0 else f"after row {row + 1}"
        yield Rejected(path, where, f"unreadable: {type(exc).__name__}: {exc}")


class RecordWriter:
    """Writes dicts to a JSONL (optionally compressed) or Parquet file, created on the first record.

    A Parquet file has one schema (the first batch's); a record that does not fit it (a field that is a
    number here and a string there) is not written but kept in ``misfits``, with the ``tag`` it was written
    with, for the caller to set aside."""

    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self.misfits: list[tuple[dict, Any, str]] = []  # (record, tag, why) for records the schema cannot hold
        self._handle = None
        self._parquet = None
        self._buffer: list[tuple[dict, Any]] = []

    def write(self, data: dict, tag: Any = None) -> None:
        self.count += 1
        if is_parquet(self.path):
            self._buffer.append((data, tag))
            if len(self._buffer) >= PARQUET_BATCH:
                self.flush()
            return
        if self._handle is None:
            self._handle = _open_write(self.path)
        self._handle.write((json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8"))

    def flush(self) -> None:
        """Write buffered Parquet records (so that ``misfits`` is complete); nothing to do for JSONL."""
        if not self._buffer:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        buffered, self._buffer = self._buffer, []
        schema = self._parquet.schema if self._parquet is not None else None
        try:
            table = pa.Table.from_pylist([row for row, _ in buffered], schema=schema)
        except (pa.ArrowException, TypeError, ValueError):  # one record spoils the batch: find it, keep the rest
            schema = schema or _first_schema([row for row, _ in buffered])
            fitting = []
            for row, tag in buffered:
                try:
                    pa.Table.from_pylist([row], schema=schema)
                    fitting.append(row)
                except (pa.ArrowException, TypeError, ValueError) as exc:
                    self.misfits.append((row, tag, f"does not fit the Parquet schema of {self.path}: {exc}"))
            table = pa.Table.from_pylist(fitting, schema=schema)
        if self._parquet is None:
            self._handle = _open_write(self.path)
            self._parquet = pq.ParquetWriter(self._handle, table.schema)
        self._parquet.write_table(table)

    def close(self) -> None:
        if self._parquet is not None or self._buffer:
            self.flush()
            self._parquet.close()
        if self._handle is None and not is_parquet(self.path):
            self._handle = _open_write(self.path)  # an empty JSONL file says "none" better than no file
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _first_schema(rows: list[dict]):
    """The schema of the first record that has one on its own."""
    import pyarrow as pa

    for row in rows:
        try:
            return pa.Table.from_pylist([row]).schema
        except (pa.ArrowException, TypeError, ValueError):
            continue
    return pa.schema([])


def _open_write(path: str):
    import fsspec

    if "://" not in path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return fsspec.open(path, "wb", compression="infer").open()
