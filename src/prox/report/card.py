"""A Hugging Face dataset card (``README.md``) for a finished run folder, so the folder goes to the Hub as it is.

The front matter comes from ``huggingface_hub``'s ``DatasetCardData`` (the Hub and ``datasets.load_dataset``
read it: the kept documents are the default config, the dropped ones a second); the body says how the corpus
was made, with the figures of ``stats.json`` exactly as they are there, the retention per source and a few
before/after examples. Everything taken from the data is untrusted web text: document text goes in code
blocks fenced longer than any run of backticks in it, every other string is escaped before it is placed.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from collections import Counter
from decimal import Decimal
from typing import Optional, Union

from prox.errors import UsageError
from prox.masking import MASK, is_secret, mask
from prox.report.diff import DocView

CARD_FILE = "README.md"
# front matter keys, short ones first: the tags (which mark a card prox wrote) come before the long lists
ORDER = ("pretty_name", "license", "language", "size_categories", "task_categories", "tags", "source_datasets", "configs")
SAMPLE = 1000  # documents read into the sample that examples and the records' language come from
MAX_LINES = 30  # lines of one example's diff
VIEWED_LINES = 2_000  # lines of a sampled document its example's diff is chosen from
MAX_LINE_CHARS = 200
CONTEXT = 2  # unchanged lines shown around a change
SIZES = ("n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "1B<n<10B",
         "10B<n<100B", "100B<n<1T")
# the environment variable a secret option is read from in the reconstructed command (else its name, upper-cased)
ENVIRONMENT = {"api_key": "OPENAI_API_KEY"}
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
# ASCII punctuation that Markdown gives a meaning to within a line (<, >, &, quotes become HTML entities instead;
# what means something only at the start of a line, - + = 1., never starts one here)
MARKDOWN = re.compile(r"([\\`*_{}\[\]()#!|~$^])")
# controls and bidirectional overrides: shown as U+FFFD, they must neither end a line nor reorder one
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
PAPER = "https://arxiv.org/abs/2409.17115"
CITATION = """@article{zhou2024programming,
  title={Programming Every Example: Lifting Pre-training Data Quality like Experts at Scale},
  author={Zhou, Fan and Wang, Zengzhi and Liu, Qian and Li, Junlong and Liu, Pengfei},
  journal={arXiv preprint arXiv:2409.17115},
  year={2024}
}"""


def write_card(folder: str, *, license: Optional[str] = None, language: Union[str, list, None] = None,
               pretty_name: Optional[str] = None, examples: int = 3) -> str:
    """Write ``FOLDER/README.md`` (local or an fsspec URL such as ``hf://datasets/ORG/NAME``); returns its path."""
    import fsspec

    path = f"{folder.rstrip('/')}/{CARD_FILE}"
    text = render_card(folder, license=license, language=language, pretty_name=pretty_name, examples=examples)
    with fsspec.open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def render_card(folder: str, *, license: Optional[str] = None, language: Union[str, list, None] = None,
                pretty_name: Optional[str] = None, examples: int = 3) -> str:
    """The card's text: YAML front matter, then the Markdown body."""
    from prox.pipeline.folders import read_identity
    from prox.report.run import load

    report = load(folder, SAMPLE, seed=0, max_lines=VIEWED_LINES, keep_raw=False)
    identity = mask(read_identity(folder) or {})  # a card is published: no secret of run.json goes in
    stats = _read_json(f"{folder.rstrip('/')}/stats.json") or report.summary
    if not stats:
        raise UsageError(f"{folder} has no readable stats.json: finish the run (or run prox summary {folder}) first")
    name = pretty_name or _folder_name(folder)
    data = card_data(folder, identity, stats, report, license=license, language=language, pretty_name=name)
    body = "\n\n".join(part for part in (
        f"# {escape(name)}",
        _about(folder, identity, data),
        _settings(identity),
        _figures(stats),
        _reasons(stats, report),
        _sources(report),
        _examples(report, examples),
        "## Citation\n\n" + fence(CITATION, "bibtex"),
    ) if part)
    return f"---\n{data.to_yaml(original_order=list(ORDER))}\n---\n\n{body}\n"


# --- front matter -------------------------------------------------------------------------------------
def card_data(folder: str, identity: dict, stats: dict, report, *, license=None, language=None, pretty_name=None):
    """The ``DatasetCardData``: options first, then what the records or the source datasets' cards say."""
    from huggingface_hub import DatasetCardData

    inputs = [str(i) for i in identity.get("inputs") or []]
    source = source_cards(inputs) if license is None or language is None else {}
    if language is None:
        found = records_language(report)
        language = [found] if found else detected_languages(report) or source.get("language")
    kept = stats.get("kept")
    if not isinstance(kept, int):
        kept = sum(figures[1] for figures in report.sources.values())
    configs = []
    for kind, config in (("kept", "default"), ("dropped", "dropped")):
        pattern = data_files(folder, kind, identity.get("output_format"))
        if pattern:
            configs.append({"config_name": config, "data_files": [{"split": "train", "path": pattern}]})
    return DatasetCardData(
        license=license or source.get("license"),
        language=[language] if isinstance(language, str) else (list(language) if language else None),
        size_categories=[size_category(kept)],
        source_datasets=source_datasets(inputs) or None,
        task_categories=["text-generation"],
        pretty_name=pretty_name,
        tags=["prox", "refined"],
        configs=configs or None,
    )


def size_category(documents: int) -> str:
    """The Hub's size bucket for this many documents."""
    for power, name in enumerate(SIZES, start=3):
        if documents < 10 ** power:
            return name
    return "n>1T"


def hub_id(path: str) -> Optional[str]:
    """``ORG/NAME`` of an ``hf://datasets/ORG/NAME[@revision]/...`` path, else None."""
    match = re.match(r"^hf://datasets/([^/@]+/[^/@]+)", path)
    return match.group(1) if match else None


def source_datasets(inputs: list[str]) -> list[str]:
    """Hub ids of the Hub inputs, the other inputs as given; each once."""
    return list(dict.fromkeys(hub_id(path) or path for path in inputs))


def source_cards(inputs: list[str], limit: int = 20) -> dict:
    """``license`` and ``language`` from the cards of inputs that are Hugging Face dataset folders (or Hub
    datasets): a refined corpus keeps its source's license. Unreadable cards are skipped."""
    import fsspec
    from huggingface_hub import DatasetCard

    licenses: list = []
    languages: list = []
    for path in inputs[:limit]:
        try:
            repo = hub_id(path)
            card = f"hf://datasets/{repo}/{CARD_FILE}" if repo else f"{path.rstrip('/')}/{CARD_FILE}"
            if not repo:
                fs, _, (root,) = fsspec.get_fs_token_paths(path)
                if not fs.isdir(root):
                    continue
            with fsspec.open(card, "r", encoding="utf-8") as handle:
                data = DatasetCard(handle.read(), ignore_metadata_errors=True).data.to_dict()
        except Exception:  # no card, no network, a card that is not one: the source says nothing
            continue
        for values, key in ((licenses, "license"), (languages, "language")):
            found = data.get(key)
            values += [v for v in ([found] if isinstance(found, str) else found or []) if isinstance(v, str) and v not in values]
    return {"license": (licenses[0] if len(licenses) == 1 else licenses) or None, "language": languages or None}


def records_language(report) -> Optional[str]:
    """The most common language of the sampled kept documents (all sampled ones when none is kept): prox keeps an
    input record's top-level ``language`` in ``metadata`` (older Parquet outputs' JSON ``metadata.source`` is
    unfolded when read: :mod:`prox.records`).
    Values that are no language code are ignored."""
    for docs in ([d for d in report.sample if not d.dropped], report.sample):
        counts = Counter(code for code in map(_language_of, docs) if code)
        if counts:
            return min(counts, key=lambda code: (-counts[code], code))
    return None


def detected_languages(report, share: float = 0.05) -> list[str]:
    """The languages prox identified (``metadata.prox.language``) in at least ``share`` of the sampled kept
    documents (all sampled ones when none is kept), most common first: a multilingual crawl lists each."""
    for docs in ([d for d in report.sample if not d.dropped], report.sample):
        codes = [code for code in (_detected(d) for d in docs) if code]
        counts = Counter(codes)
        if counts:
            return sorted((c for c, n in counts.items() if n >= share * len(codes)), key=lambda c: (-counts[c], c))
    return []


def _detected(doc: DocView) -> Optional[str]:
    from prox.pipeline.documents import DocState

    found = DocState.of_record({"metadata": doc.metadata}).get("language")
    return found if isinstance(found, str) and found != "und" and LANGUAGE.match(found) else None


def _language_of(doc: DocView) -> Optional[str]:
    found = doc.metadata.get("language")
    return found if isinstance(found, str) and LANGUAGE.match(found) else None


def data_files(folder: str, kind: str, output_format: Optional[str] = None) -> Optional[str]:
    """The ``data_files`` pattern of ``kind`` (kept or dropped), relative to the folder, when files match it."""
    import fsspec

    from prox.pipeline.output import FORMATS

    fs, _, (root,) = fsspec.get_fs_token_paths(folder)
    formats = ([output_format] if output_format in FORMATS else []) + list(FORMATS)
    patterns = [f"{kind}/*.{f}" for f in formats] + [f"{kind}.jsonl", f"{kind}.parquet"]  # the second: older execute runs
    return next((p for p in patterns if fs.glob(f"{root}/{p}")), None)


# --- body ---------------------------------------------------------------------------------------------
def _about(folder: str, identity: dict, data) -> str:
    command = identity.get("command", "refine")
    sources = ", ".join(escape(s) for s in (data.source_datasets or [])) or "its input corpus"
    repo = hub_id(folder) or "ORG/NAME"
    loading = "\n".join([
        "from datasets import load_dataset",
        "",
        f"kept = load_dataset({json.dumps(repo)}, split=\"train\")",
        *([f"dropped = load_dataset({json.dumps(repo)}, \"dropped\", split=\"train\")"]
          if any(c["config_name"] == "dropped" for c in data.configs or []) else []),
    ])
    return "\n\n".join([
        f"This dataset is a refined version of {sources}, made with prox, an implementation of ProX (Zhou et al. 2024, "
        f"\"Programming Every Example: Lifting Pre-training Data Quality Like Experts at Scale\", "
        f"[arXiv:2409.17115]({PAPER})). In ProX a small language model (or, in the heuristic preset, rules) "
        "writes a tiny program for every document: at the document level `drop_doc()` or `keep_doc()`, then, "
        "chunk by chunk, `remove_lines(...)` and `normalize(...)`; an executor runs the programs.",
        "The default config holds the kept documents (`text` is the refined text, `raw_content` the "
        "original, `metadata.doc_program` and `metadata.chunk_program` the programs, `metadata.prox` what they "
        "did); the `dropped` config holds the dropped ones. `run.json` and `stats.json` in this folder are the "
        "run's settings and figures.",
        fence(loading, "python"),
        "## How it was made",
        f"With `prox {'execute' if command == 'execute' else 'refine'}`, as (reconstructed from `run.json`):",
        fence(line := command_line(identity), "bash"),
        *(["Secrets are not recorded: `\"$NAME\"` is read from the environment, and `***` stands for a secret "
           "(a password in a URL, a key in a nested option) to fill in before running it again."]
          if '="$' in line or MASK in line else []),
    ])


def command_line(identity: dict) -> str:
    """The command that made the run, from ``run.json``: every recorded setting, in the CLI's spelling; a secret
    option is read from the environment (``-O api_key="$OPENAI_API_KEY"``), other secrets are ``***``."""
    identity = mask(identity)
    command = identity.get("command", "refine")
    words = ["prox", command, *[str(i) for i in identity.get("inputs") or []]]
    flags = ["output", "preset", "doc_model", "chunk_model", "backend", "stages", "text_key", "id_key", "limit",
             "tasks", "workers", "executor", "output_format", "checkpoint_every", "docs_per_step"]
    if command == "execute":
        flags = ["output", "text_key", "limit", "tasks", "workers", "output_format", "checkpoint_every"]
    for key in flags:
        value = identity.get(key)
        if value is None or value == []:
            continue
        flag = "--format" if key == "output_format" else "--" + key.replace("_", "-")
        words += [flag, ",".join(map(str, value)) if isinstance(value, list) else str(value)]
    if identity.get("score"):
        words.append("--score")
    for key, value in (identity.get("thresholds") or {}).items():
        if value is not None:
            words += ["--" + key.replace("_", "-"), str(value)]
    options = dict(identity.get("writer_options") or {})
    if options.pop("constrained", None) is False:
        words.append("--no-constrained")
    quoted = [shlex.quote(word) for word in words]
    for flag, pairs in (("-O", options), ("-E", (identity.get("executor_options") or {}) if command != "execute" else {})):
        for key, value in pairs.items():
            quoted += [flag, option_word(str(key), value)]
    return " ".join(quoted)


def option_word(key: str, value) -> str:
    """``key=value`` quoted for the shell; a secret's value (masked in run.json) read from the environment."""
    if is_secret(key) and value not in (None, "", False):
        variable = ENVIRONMENT.get(key) or re.sub(r"\W", "_", key).upper()
        return f'{shlex.quote(key + "=")}"${variable}"'
    return shlex.quote(f"{key}={value if isinstance(value, str) else json.dumps(value, default=str)}")


def _settings(identity: dict) -> str:
    if not identity:
        return ""
    thresholds = identity.get("thresholds") or {}
    rows = [
        ("command", f"prox {identity.get('command', 'refine')}"),
        ("preset", identity.get("preset")),
        ("backend", identity.get("backend") or ("set by the preset" if "backend" in identity else None)),
        ("doc model", identity.get("doc_model") or ("set by the preset" if "doc_model" in identity else None)),
        ("chunk model", identity.get("chunk_model") or ("set by the preset" if "chunk_model" in identity else None)),
        ("stages", ", ".join(map(str, identity["stages"])) if isinstance(identity.get("stages"), list) else identity.get("stages")),
        ("doc stage by scoring P(drop)", {True: "yes", False: "no"}.get(identity.get("score"))),
        *((f"threshold {key.replace('_', ' ')}", "none" if value is None else value) for key, value in thresholds.items()),
        ("writer options", ", ".join(f"{k}={v}" for k, v in mask(identity.get("writer_options") or {}).items()) or "none"),
        ("limit", identity.get("limit")),
        ("output format", identity.get("output_format")),
    ]
    return "## Refinement settings\n\n" + _table(("setting", "value"), [(k, _value(v)) for k, v in rows if v is not None])


FIGURES = (  # label, stats.json key, how the value is shown
    ("documents read", "read", None), ("documents kept", "kept", None), ("documents dropped", "dropped", None),
    ("records rejected (unreadable input)", "rejected", None), ("empty documents", "empty", None),
    ("writer errors", "writer_errors", None), ("words before", "words_before", None), ("words after", "words_after", None),
    ("share of words kept", "words_kept", "percent"), ("lines removed", "lines_removed", None),
    ("normalizations", "normalizations", None), ("programs", "programs", None),
    ("parse-error rate", "parse_error_rate", "percent"), ("tokens in", "tokens_in", None), ("tokens out", "tokens_out", None),
    ("run time in seconds, all invocations", "seconds", None), ("invocations", "invocations", None),
    ("documents per second, all invocations", "docs_per_second", None), ("started", "started", "time"),
    ("finished", "finished", "time"),
)


def _figures(stats: dict) -> str:
    """``stats.json``'s figures as they are there (shares as percentages, exactly)."""
    rows = [(label, _value(stats[key], kind)) for label, key, kind in FIGURES if stats.get(key) is not None]
    for stage, figures in (stats.get("stages") or {}).items():
        if isinstance(figures, dict):
            rows += [(f"{stage} stage: {key.replace('_', ' ')}", _value(figures[key]))
                     for key in ("documents", "docs_per_second", "tokens_per_second") if figures.get(key) is not None]
    if not rows:
        return ""
    return "## Figures\n\nFrom `stats.json`.\n\n" + _table(("figure", "value"), rows)


def _reasons(stats: dict, report) -> str:
    reasons = stats.get("reasons") if isinstance(stats.get("reasons"), dict) else None
    where = "From `stats.json`."
    if reasons is None:
        reasons, where = dict(report.reasons), "Counted from the output records."
    if not reasons:
        return ""
    rows = sorted(reasons.items(), key=lambda item: (-item[1] if isinstance(item[1], (int, float)) else 0, str(item[0])))
    return ("## Why documents were kept or dropped\n\n" + where + "\n\n"
            + _table(("reason", "documents"), [(escape(r), _value(n)) for r, n in rows]))


def _sources(report, top: int = 30) -> str:
    if not report.sources:
        return ""
    ranked = sorted(report.sources.items(), key=lambda item: (-item[1][0], str(item[0])))
    rows = [(escape(source), _value(docs), _value(kept), _share(kept, docs), _value(before), _value(after), _share(after, before))
            for source, (docs, kept, before, after) in ranked[:top]]
    more = f"\n\n{len(ranked) - top:,} more sources are not shown." if len(ranked) > top else ""
    unreadable = (f" {report.unreadable:,} records whose metadata could not be read are not counted."
                  if report.unreadable else "")
    return ("## Retention per source\n\nCounted from the output records (kept and dropped); a source is the record's "
            "`metadata.source`, else its URL's host, else its input file." + unreadable + "\n\n"
            + _table(("source", "documents", "kept", "share kept", "words before", "words after", "share of words kept"), rows)
            + more)


def _examples(report, count: int) -> str:
    """The sampled kept documents changed most, and one dropped document: before and after."""
    if count <= 0 or not report.sample:
        return ""
    kept = sorted((d for d in report.sample if not d.dropped), key=lambda d: (-d.operations, d.id))
    dropped = sorted((d for d in report.sample if d.dropped), key=lambda d: d.id)[:1 if count > 1 or not kept else 0]
    chosen = kept[:count - len(dropped)] + dropped
    parts = ["## Examples", f"Chosen from a sample of {len(report.sample):,} output documents: the kept documents "
             "changed most" + (" and a dropped one" if dropped else "") + ". Lines "
             "starting with `-` were removed (or normalized into the `+` line after them); `@@` marks lines not shown."]
    for number, doc in enumerate(chosen, start=1):
        removed = doc.removed_count
        normalized = sum(1 for n in doc.normalizations if n.get("count"))
        what = "dropped" if doc.dropped else f"kept, {removed:,} lines removed, {normalized:,} normalizations"
        parts.append(f"### Example {number}: {what}")
        parts.append(f"Document {escape(doc.id)} from {escape(doc.source)}: reason {escape(doc.reason)}, "
                     f"words {doc.words_before:,} before, {doc.words_after:,} after.")
        parts.append(fence(diff(doc), "diff"))
        programs = ([doc.doc_program] if doc.doc_program else []) + [p for p in doc.chunk_programs if p]
        if programs:
            lines = "\n".join(programs).split("\n")
            shown = lines[:MAX_LINES] + ([f"# ... {len(lines) - MAX_LINES:,} more lines"] if len(lines) > MAX_LINES else [])
            parts.append("Programs:\n\n" + fence("\n".join(_code_line(line) for line in shown), "python"))
    return "\n\n".join(parts)


def diff(doc: DocView) -> str:
    """The document as a unified diff: changed lines with a little context, long runs of others left out."""
    body: list[str] = []
    changed = [doc.dropped or line.removed or any(p.replaced_by is not None for p in line.pieces) for line in doc.lines]
    near = {j for i, c in enumerate(changed) if c for j in range(i - CONTEXT, i + CONTEXT + 1)}
    skipped = 0
    for i, line in enumerate(doc.lines):
        if i not in near:
            skipped += 1
            continue
        if skipped:
            body.append(_skipped(skipped))
            skipped = 0
        before = "".join(p.text for p in line.pieces)
        after = "".join(p.text if p.replaced_by is None else p.replaced_by for p in line.pieces)
        if not changed[i]:
            body.append(" " + _code_line(before))
        else:
            body.append("-" + _code_line(before))
            if not line.removed and not doc.dropped:
                body.append("+" + _code_line(after))
    skipped += doc.hidden_lines  # lines the view did not hold
    if skipped:
        body.append(_skipped(skipped))
    if len(body) > MAX_LINES:
        body = body[:MAX_LINES] + [f"@@ {len(body) - MAX_LINES:,} more diff lines not shown @@"]
    header = ["--- original", "+++ dropped (no text kept)" if doc.dropped else "+++ refined"]
    return "\n".join(header + body)


# --- safe Markdown ------------------------------------------------------------------------------------
def escape(value, limit: int = 200) -> str:
    """Untrusted text safe in Markdown prose and table cells: one line, no HTML, no Markdown syntax."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    text = " ".join(UNSAFE.sub("\ufffd", text).split())
    if len(text) > limit:
        text = text[:limit] + "…"
    return html.escape(MARKDOWN.sub(r"\\\1", text), quote=False)  # no attribute holds data: quotes may stay


def fence(text: str, info: str = "") -> str:
    """``text`` as a fenced code block whose fence is longer than any run of backticks in it."""
    runs = [len(run) for run in re.findall(r"`+", text)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _skipped(lines: int) -> str:
    return f"@@ {lines:,} unchanged line{'' if lines == 1 else 's'} @@"


def _code_line(line: str) -> str:
    """One line of document text for a code block: valid UTF-8, no line breaks or bidi overrides, cut when long."""
    text = str(line).encode("utf-8", "replace").decode("utf-8").replace("\r", "\u240d")
    text = UNSAFE.sub("\ufffd", text.replace("\t", "    "))
    text = text.replace("\u2028", "\ufffd").replace("\u2029", "\ufffd").replace("\x85", "\ufffd")
    return text[:MAX_LINE_CHARS] + " …" if len(text) > MAX_LINE_CHARS else text


def _table(header: tuple, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def _value(value, kind: Optional[str] = None) -> str:
    """A figure as written in the card: integers with thousands separators, shares as exact percentages."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "percent" and isinstance(value, (int, float)):
        return f"{(Decimal(repr(value)) * 100).normalize():f}%"
    if kind == "time" and isinstance(value, (int, float)):
        import datetime

        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, (int, float)):
        return f"{value:,}"
    return escape(value)


def _share(part, whole) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _folder_name(folder: str) -> str:
    repo = hub_id(folder)
    return repo.rsplit("/", 1)[-1] if repo else (folder.rstrip("/").rsplit("/", 1)[-1] or folder)


def _read_json(path: str) -> Optional[dict]:
    import fsspec

    try:
        with fsspec.open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_dataset_card(output: str) -> None:
    """The card a finished run writes, ``OUTPUT/README.md``, so the folder publishes as a dataset. A README that prox
    did not write is left alone (:func:`~prox.pipeline.folders.check_ours`); a card that cannot be written is a
    warning, never a failed run (``prox card`` writes it again)."""
    import logging

    from prox.pipeline.folders import NotOurs, check_ours

    path = f"{output}/README.md"
    try:
        try:
            check_ours(output, "README.md")
        except NotOurs as exc:
            logging.getLogger("prox").warning("%s", exc)
            return
        write_card(output)
    except Exception as exc:  # noqa: BLE001 - the outputs are complete; only their description failed
        logging.getLogger("prox").warning("could not write the dataset card %s: %s: %s (prox card %s retries)",
                                          path, type(exc).__name__, exc, output)
