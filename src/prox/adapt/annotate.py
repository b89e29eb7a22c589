"""``prox annotate``: a teacher LLM behind an OpenAI-compatible endpoint labels seed documents.

Doc level: two additive 0-5 scores (educational value, format quality); a document is kept when
``edu >= 3`` or ``edu == 2 and format >= 4`` (configurable), and the teacher's reasons are kept.
Chunk level: one few-shot prompt per kind of noise (navigation, link lists, footers and legal text,
in-line noise) over line-numbered chunks; each answer is parsed and checked against its chunk, and the
valid ones are merged into one program per chunk. Whatever fails (an unparsable score, a broken
program, a request that kept failing) is counted and written aside with the reason. Requests run
concurrently, are retried, and are cached on disk, so an interrupted run resumes where it stopped.
Prompts are package data (``prox/adapt/prompts/{web,math}``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterable, Optional, Sequence

from prox.adapt.derive import doc_record
from prox.errors import UsageError
from prox.program.executor import execute_chunk
from prox.program.operations import Normalize, RemoveLines, SkipChunk
from prox.program.parser import parse_program
from prox.text.chunker import MAX_CHUNK_TOKENS, Chunk, chunk_document, numbered_lines, whole_document_chunk

DOMAINS = ("web", "math")
SCORE = {"edu": re.compile(r"educational\s+score\s*[:=]?\s*\**\s*([0-5])\b", re.IGNORECASE),
         "format": re.compile(r"format\s+score\s*[:=]?\s*\**\s*([0-5])\b", re.IGNORECASE)}


@dataclass(frozen=True)
class KeepRule:
    """Keep a document when ``edu >= edu_min`` or (``edu == edu_borderline`` and ``format >= format_min``)."""

    edu_min: int = 3
    edu_borderline: int = 2
    format_min: int = 4

    def keep(self, edu: int, format_score: int) -> bool:
        return edu >= self.edu_min or (edu == self.edu_borderline and format_score >= self.format_min)


@dataclass(frozen=True)
class Prompts:
    doc: dict[str, str]  # "edu" / "format" -> template with {document}
    chunk: str  # template with {task}, {examples}, {chunk}
    tasks: dict[str, dict]  # kind of noise -> task, example_text, example_program

    @classmethod
    def load(cls, domain: str = "web") -> "Prompts":
        if domain not in DOMAINS:
            raise UsageError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
        folder = resources.files("prox.adapt") / "prompts" / domain
        read = lambda name: (folder / name).read_text(encoding="utf-8")  # noqa: E731
        return cls({"edu": read("doc_educational.txt"), "format": read("doc_format.txt")},
                   read("chunk_common.txt"), json.loads(read("chunk_tasks.json")))

    def for_doc(self, kind: str, document: str) -> str:
        return self.doc[kind].replace("{document}", document)

    def for_chunk(self, kind: str, chunk: Chunk) -> str:
        task = self.tasks[kind]
        example = f"Example:\n[doc]\n{task['example_text']}\n[/doc]\nProgram:\n{task['example_program']}\n"
        return self.chunk.replace("{task}", task["task"]).replace("{examples}", example).replace("{chunk}", chunk.text)


class TeacherUnreachable(ConnectionError):
    """The teacher server cannot be reached (or refuses every request): labelling would record only failures."""


@dataclass
class Answer:
    text: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    error: Optional[str] = None
    cached: bool = False


class Teacher:
    """Chat completions from an OpenAI-compatible server, through :class:`prox.serving.ServerClient`."""

    def __init__(self, model: str, base_url: str = "http://127.0.0.1:8000/v1", api_key: Optional[str] = None,
                 max_in_flight: int = 8, timeout: float = 300.0, max_retries: int = 4, backoff: float = 0.5,
                 cache: Optional[str] = None, answer_tokens: int = 512, temperature: float = 0.0, extra_body: Optional[dict] = None):
        from prox.serving import ServerClient

        self.model = model
        self.server = ServerClient(base_url, api_key, max_in_flight, timeout, max_retries, backoff, cache)
        self.answer_tokens, self.temperature, self.extra_body = answer_tokens, temperature, extra_body or {}
        self.answered = 0  # answers without an error, ever

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def requests_sent(self) -> int:
        return self.server.requests_sent

    def ask(self, prompts: Sequence[str]) -> list[Answer]:
        """The teacher's answers; stops with the error when it has never answered and answers none of these."""
        from prox import progress
        from prox.masking import mask_text

        with progress.stage("teacher requests", len(prompts)):  # advanced as each answer arrives
            answers = self.server.each(list(prompts), self._one)
        if answers and not self.answered and all(a.error for a in answers):
            raise TeacherUnreachable(f"the teacher {self.model!r} at {mask_text(self.base_url)} answered none of "
                                     f"{len(answers):,} requests: {answers[0].error}")
        self.answered += sum(1 for a in answers if not a.error)
        return answers

    async def _one(self, http, prompt: str) -> Answer:
        from prox.serving import answer_text

        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], "max_tokens": self.answer_tokens,
                "temperature": self.temperature, **self.extra_body}

        def parse(data: dict) -> dict:
            usage = data.get("usage") or {}
            return {"text": answer_text(data["choices"][0]["message"]["content"], self.answer_tokens),
                    "input_tokens": usage.get("prompt_tokens", 0), "output_tokens": usage.get("completion_tokens", 0)}

        answer, error, cached = await self.server.post(http, "/chat/completions", body, parse)
        return Answer(**answer, cached=cached) if answer is not None else Answer(error=error)


@dataclass
class AnnotationStats:
    documents: int = 0
    doc_records: int = 0
    chunk_records: int = 0
    chunks: int = 0
    invalid: dict = field(default_factory=dict)  # reason -> count
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    cached_answers: int = 0

    def count(self, answer: Answer) -> None:
        self.input_tokens += answer.input_tokens
        self.output_tokens += answer.output_tokens
        self.cached_answers += answer.cached

    def reject(self, reason: str) -> None:
        self.invalid[reason] = self.invalid.get(reason, 0) + 1


def parse_score(text: str, kind: str) -> Optional[int]:
    """The last ``<Kind> score: N`` of an answer, or None."""
    found = SCORE[kind].findall(text)
    return int(found[-1]) if found else None


def annotate_docs(teacher: Teacher, documents: Sequence[tuple[str, str]], prompts: Prompts, rule: KeepRule,
                  stats: AnnotationStats, max_chars: int = 6000) -> tuple[list[dict], list[dict]]:
    """Doc-level records (and the invalid ones, with reasons) for ``(id, text)`` documents."""
    asks = [prompts.for_doc(kind, text[:max_chars]) for _, text in documents for kind in ("edu", "format")]
    answers = teacher.ask(asks)
    records, invalid = [], []
    for i, (doc_id, text) in enumerate(documents):
        edu_answer, format_answer = answers[2 * i], answers[2 * i + 1]
        for answer in (edu_answer, format_answer):
            stats.count(answer)
        edu, fmt = parse_score(edu_answer.text, "edu"), parse_score(format_answer.text, "format")
        error = edu_answer.error or format_answer.error
        reason = f"request failed: {error}" if error else "no educational score" if edu is None else "no format score" if fmt is None else None
        if reason:
            stats.reject(reason.split(":")[0])
            invalid.append({"id": doc_id, "level": "doc", "reason": reason, "answers": [edu_answer.text, format_answer.text]})
            continue
        record = doc_record(doc_id, text, rule.keep(edu, fmt), origin=f"teacher:{teacher.model}")
        record["teacher"] = {"edu": edu, "format": fmt, "edu_reason": edu_answer.text.strip(), "format_reason": format_answer.text.strip()}
        records.append(record)
    stats.doc_records += len(records)
    return records, invalid


def check_program(text: str, chunk: Chunk) -> tuple[list, Optional[str]]:
    """The operations of a teacher's chunk program, or why it is invalid for this chunk."""
    program = parse_program(text)
    if program.errors:
        return [], f"parse error: {program.errors[0]}"
    lines = [line for _, line in numbered_lines(chunk)]
    body = "\n".join(lines)
    operations = []
    for op in program.operations:
        if isinstance(op, SkipChunk):
            continue
        if isinstance(op, RemoveLines):
            if not (chunk.line_start <= op.line_start <= op.line_end <= chunk.line_end):
                return [], f"remove_lines({op.line_start}, {op.line_end}) outside lines {chunk.line_start}-{chunk.line_end}"
        elif isinstance(op, Normalize):
            if op.source_str in ("", " ") or op.source_str not in body:
                return [], f"normalize source {op.source_str[:40]!r} is not in the chunk"
        else:
            return [], f"{type(op).__name__} is not a chunk operation"
        operations.append(op)
    return operations, None


def merge(programs: Iterable[list]) -> str:
    """One chunk program from several: the union of removed lines (as runs), each normalization once."""
    from prox.program.stored import line_runs

    removed: set[int] = set()
    normalizations: list[Normalize] = []
    for operations in programs:
        for op in operations:
            if isinstance(op, RemoveLines):
                removed.update(range(op.line_start, op.line_end + 1))
            elif op not in normalizations:
                normalizations.append(op)
    merged = [RemoveLines(a, b) for a, b in line_runs(sorted(removed))] + normalizations
    return "\n".join(str(op) for op in merged) or "skip_chunk()"


def annotate_chunks(teacher: Teacher, documents: Sequence[tuple[str, str]], prompts: Prompts, stats: AnnotationStats,
                    tokenizer: Any = None, chunk_tokens: int = MAX_CHUNK_TOKENS, kinds: Optional[Sequence[str]] = None) -> tuple[list[dict], list[dict]]:
    """Chunk-level records: every chunk of every document, one teacher prompt per kind of noise, merged."""
    kinds = list(kinds or prompts.tasks)
    texts = dict(documents)
    chunks = [(doc_id, n, chunk) for doc_id, text in documents
              for n, chunk in enumerate(chunk_document(text, tokenizer, chunk_tokens) if tokenizer is not None else [whole_document_chunk(text)])]
    answers = teacher.ask([prompts.for_chunk(kind, chunk) for _, _, chunk in chunks for kind in kinds])
    records, invalid = [], []
    for i, (doc_id, n, chunk) in enumerate(chunks):
        valid = []
        for k, kind in enumerate(kinds):
            answer = answers[i * len(kinds) + k]
            stats.count(answer)
            operations, reason = check_program(_strip_fences(answer.text), chunk) if not answer.error else ([], f"request failed: {answer.error}")
            if reason:
                stats.reject(reason.split(":")[0].split("(")[0].strip())
                invalid.append({"id": f"{doc_id}#{n}", "level": "chunk", "kind": kind, "reason": reason, "answer": answer.text})
            else:
                valid.append(operations)
        if not valid:  # no answer to trust: the chunk is set aside, not labelled clean
            stats.reject("no valid program for the chunk")
            continue
        program = merge(valid)
        errors = execute_chunk(texts[doc_id], program, error_limit=1).trace.errors  # executed, not only parsed
        if errors:
            stats.reject("execution error")
            invalid.append({"id": f"{doc_id}#{n}", "level": "chunk", "kind": "merged", "reason": errors[0], "answer": program})
            continue
        records.append({"id": f"{doc_id}#{n}", "level": "chunk", "chunk": chunk.text, "line_start": chunk.line_start,
                        "line_end": chunk.line_end, "program": program, "origin": f"teacher:{teacher.model}",
                        "teacher": {"kinds": kinds, "valid": len(valid)}})
    stats.chunks += len(chunks)
    stats.chunk_records += len(records)
    return records, invalid


def _strip_fences(text: str) -> str:
    """The program inside a markdown code fence, when the teacher wrapped it in one."""
    match = re.search(r"```[a-z]*\n(.*?)```", text, re.DOTALL)
    return (match.group(1) if match else text).strip()


def annotate(inputs: Sequence[str], output: str, teacher: Teacher, domain: str = "web", levels: Sequence[str] = ("doc", "chunk"),
             text_key: str = "text", limit: Optional[int] = None, tokenizer: Any = None, chunk_tokens: int = MAX_CHUNK_TOKENS,
             rule: KeepRule = KeepRule(), batch_size: int = 64) -> AnnotationStats:
    """Label the documents of ``inputs``; writes ``annotations.jsonl``, ``invalid.jsonl`` and ``stats.json`` to ``output``."""
    import os
    from itertools import islice

    from prox.records import Record, RecordWriter, check_text_key, expand, read_records

    prompts, stats = Prompts.load(domain), AnnotationStats()
    files = expand(list(inputs))
    check_text_key(files, [text_key])  # a wrong key would send no document and label nothing
    os.makedirs(output, exist_ok=True)
    items = read_records(files)
    with RecordWriter(os.path.join(output, "annotations.jsonl")) as annotations, \
            RecordWriter(os.path.join(output, "invalid.jsonl")) as invalid:
        while batch := list(islice(items, batch_size if limit is None else max(0, min(batch_size, limit - stats.documents)))):
            documents = []
            for item in batch:
                stats.documents += 1
                text = item.data.get(text_key) if isinstance(item, Record) else None
                if not isinstance(text, str) or not text.strip():
                    why = item.error if not isinstance(item, Record) else f"no text in {text_key!r}"
                    stats.reject("unreadable or empty input")
                    invalid.write({"id": f"{item.file}#{item.where}", "level": "input", "reason": why})
                    continue
                documents.append((str(item.data.get("id", f"{item.file}/{item.index}")), text))
            for level, run in (("doc", lambda: annotate_docs(teacher, documents, prompts, rule, stats)),
                               ("chunk", lambda: annotate_chunks(teacher, documents, prompts, stats, tokenizer, chunk_tokens))):
                if level in levels and documents:
                    good, bad = run()
                    for record in good:
                        annotations.write(record)
                    for record in bad:
                        invalid.write(record)
    stats.requests = teacher.requests_sent
    with open(os.path.join(output, "stats.json"), "w") as handle:
        json.dump(stats.__dict__, handle, indent=2)
    return stats
