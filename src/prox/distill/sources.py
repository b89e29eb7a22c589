"""Training examples for a student, from every place labels live in prox.

Whatever the source, examples come down to two kinds: pages with a keep flag per line (for the line
model) and documents with a keep flag (for the doc model).

- line-labelled pages and doc-labelled documents (the formats of ``../shared/labels/``);
- the records ``prox derive`` and ``prox annotate`` write: doc records give doc labels, chunk records
  give line labels (a chunk's lines are kept unless its program removes them), and the chunks of one
  document are put back together so lines keep their page around them;
- a finished ``prox refine`` or ``prox execute`` folder: its stored programs, executed again, say which
  lines its writer removed and which documents it dropped, so a student learns to imitate that writer.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from prox.labels import LabelError, read_labelled
from prox.program.executor import execute_doc
from prox.program.operations import RemoveLines
from prox.program.parser import parse_program
from prox.records import Record, expand, read_records
from prox.text.chunker import numbered_lines


@dataclass(frozen=True)
class Page:
    lines: tuple[str, ...]
    keep: tuple[bool, ...]


@dataclass(frozen=True)
class Doc:
    text: str
    keep: bool
    from_page: bool = False  # read off a line-labelled page (keep when it has content), not labelled as a document


@dataclass
class Examples:
    pages: list[Page] = field(default_factory=list)
    docs: list[Doc] = field(default_factory=list)
    origins: dict = field(default_factory=dict)  # source -> {"pages": n, "docs": n}

    def extend(self, other: "Examples") -> "Examples":
        self.pages += other.pages
        self.docs += other.docs
        for source, counts in other.origins.items():
            self.origins[source] = counts
        return self

    def count(self, source: str) -> "Examples":
        self.origins[source] = {"pages": len(self.pages), "docs": len(self.docs)}
        return self


def from_labelled(items: Iterable, source: str = "labels") -> Examples:
    """Examples from :class:`~prox.labels.LabelledPage` / ``LabelledDoc`` items."""
    examples = Examples()
    for item in items:
        if hasattr(item, "lines"):
            examples.pages.append(Page(tuple(item.lines), tuple(item.keep)))
        else:
            examples.docs.append(Doc(item.text, item.keep))
    return examples.count(source)


def from_label_files(lines: Iterable[str] = (), docs: Iterable[str] = ()) -> Examples:
    examples = Examples()
    for kind, paths in (("lines", lines), ("docs", docs)):
        for path in paths:
            examples.extend(from_labelled(read_labelled(path, kind).items, path))
    return examples


def from_annotations(path: str) -> Examples:
    """Examples from the records ``prox derive`` / ``prox annotate`` write (``level`` doc or chunk)."""
    examples = Examples()
    chunks: dict[str, dict[int, tuple[str, bool]]] = defaultdict(dict)
    for item in read_records(expand([path])):
        if not isinstance(item, Record):
            raise LabelError(f"{item.file}, {item.where}: {item.error}")
        data = item.data
        program = data.get("program")
        if data.get("level") == "doc" and isinstance(data.get("text"), str) and isinstance(program, str):
            examples.docs.append(Doc(data["text"], not execute_doc(data["text"], program).dropped))
        elif data.get("level") == "chunk" and isinstance(data.get("chunk"), str) and isinstance(program, str):
            numbered = numbered_lines(data["chunk"])
            removed = _removed(program, numbered[0][0], numbered[-1][0]) if numbered else set()
            document = str(data.get("id", f"{item.file}/{item.index}")).rsplit("#", 1)[0]
            for number, line in numbered:
                chunks[document][number] = (line, number not in removed)
        else:
            raise LabelError(f"{item.file}, {item.where}: an annotation record needs level 'doc' (text, program) "
                             "or 'chunk' (chunk, program)")
    for lines in chunks.values():
        ordered = [lines[number] for number in sorted(lines)]
        examples.pages.append(Page(tuple(line for line, _ in ordered), tuple(keep for _, keep in ordered)))
    return examples.count(path)


def _removed(program: str, first: int, last: int) -> set[int]:
    """The line numbers the program removes between ``first`` and ``last`` (the chunk's): a range reaching past them
    costs only the chunk's lines."""
    removed: set[int] = set()
    for op in parse_program(program).of_type(RemoveLines):
        removed.update(range(max(op.line_start, first), min(op.line_end, last) + 1))
    return removed


def is_run_folder(path: str) -> bool:
    """A ``prox refine`` folder (``run.json``) or a ``prox execute`` folder (``kept.*`` beside ``stats.json``)."""
    if not os.path.isdir(path):
        return False
    names = os.listdir(path)
    return "run.json" in names or ("stats.json" in names and any(n.startswith("kept.") for n in names))


def from_run(folder: str) -> Examples:
    """What a finished run's writer decided: its doc programs as doc labels, its chunk programs as line labels."""
    from prox.program.stored import StoredPrograms, execute_stored

    paths = [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.startswith(("kept", "dropped"))]
    examples = Examples()
    for item in read_records(expand(paths)):
        if not isinstance(item, Record):
            continue  # a run's own outputs; anything unreadable there was never a decision of its writer
        data = item.data
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        raw = data.get("raw_content", metadata.get("raw_content"))
        if not isinstance(raw, str):
            raise LabelError(f"{item.file}, {item.where}: a run record needs its original text in 'raw_content'")
        doc_program = metadata.get("doc_program")
        if isinstance(doc_program, str):
            dropped = execute_doc(raw, doc_program).dropped
            examples.docs.append(Doc(raw, not dropped))
            if dropped:
                continue
        if metadata.get("chunk_program") is None:
            continue
        result, _ = execute_stored(raw, StoredPrograms.of({"chunk_program": metadata["chunk_program"]}))
        lines = raw.split("\n")
        if any("\n" in n.source_str or "\n" in n.target_str for n in result.trace.normalizations if n.count):
            continue  # a normalization moved line boundaries: the removed numbers no longer name raw lines
        removed = set(result.trace.removed_lines)
        examples.pages.append(Page(tuple(lines), tuple(i not in removed for i in range(len(lines)))))
    return examples.count(folder)


def label_kind(path: str) -> str | None:
    """``lines`` or ``docs`` when ``path``'s first record is a labelled page or document (and no annotation
    record, which has a ``level``), else None."""
    for item in read_records(expand([path])):
        data = item.data if isinstance(item, Record) else {}
        if "level" in data or "keep" not in data:
            return None
        return "lines" if "lines" in data else "docs" if "text" in data else None
    return None


def gather(sources: Iterable[str] = (), lines: Iterable[str] = (), docs: Iterable[str] = ()) -> Examples:
    """All examples of ``sources`` (annotation record files, run folders, or label files, told apart by their
    fields) and of the files given as line or doc labels."""
    examples = Examples()
    for source in sources:
        if not os.path.exists(source):
            raise FileNotFoundError(f"no such input: {source}")
        if is_run_folder(source):
            examples.extend(from_run(source))
        elif kind := label_kind(source):
            examples.extend(from_label_files(*(([source], ()) if kind == "lines" else ((), [source]))))
        else:
            examples.extend(from_annotations(source))
    return examples.extend(from_label_files(lines, docs))
