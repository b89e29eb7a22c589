"""The ``prox`` command: thin typer commands over the library; each one calls a public function."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from prox.errors import USER_ERRORS, UsageError
from prox.program.executor import DROP_FRACTION, ERROR_LIMIT, SHORT_WORDS
from prox.settings import DEFAULT_PRESET
from prox.text.chunker import MAX_CHUNK_TOKENS

app = typer.Typer(help="Refine pre-training corpora by programming every example (ProX).", no_args_is_help=True,
                  rich_markup_mode=None)  # click's plain help: wrapped, never cut, no markup read in "[hf]"
console = Console(stderr=True)
# the order of ``prox --help``: the main path first (refine, look at it, publish it), then making models
COMMANDS = ("refine", "refine-text", "execute", "summary", "show", "report", "card", "evaluate", "annotate", "derive",
            "train", "distill", "chunk", "version")


def _print_version(value: bool) -> None:
    if value:
        from prox import __version__

        typer.echo(f"prox {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="Print the version and exit."),
         verbose: bool = typer.Option(False, "--verbose", help="Let the model libraries print what they print while a model loads (progress bars, warnings); held back otherwise.")) -> None:
    """Refine pre-training corpora by programming every example (ProX)."""
    if verbose:
        os.environ["PROX_VERBOSE"] = "1"  # in the environment, so datatrove's worker processes see it too


def command(*args, **kwargs):
    """``app.command`` with the one error policy: a user's mistake (:data:`prox.errors.USER_ERRORS`: a bad setting or
    value, a missing or unreadable file, a missing extra, a model that cannot load) is one line and exit status 2
    (``PROX_TRACEBACK=1`` shows its traceback too); any other error is a bug: its traceback, exit status 1."""
    register = app.command(*args, **kwargs)

    def decorate(function):
        @functools.wraps(function)
        def run(*a, **k):
            try:
                return function(*a, **k)
            except USER_ERRORS as exc:
                if os.environ.get("PROX_TRACEBACK"):  # for a bug report
                    raise
                fail(exc)

        return register(run)

    return decorate


def fail(error, status: int = 2):
    """Print one error line and exit with ``status``."""
    console.print(f"error: {str(error) or type(error).__name__}", style="red", soft_wrap=True, markup=False, highlight=False)
    raise typer.Exit(status)


PLAIN_TEXT = (".txt", ".text", ".md", ".html", ".htm")


def check_outcome(read: int, rejected: int, where: str, inputs: List[str] = ()) -> None:
    """A run that read nothing, or could read none of its records, did not do its job: exit status 1 (with the
    command for a plain text file, when that is what it was given)."""
    if read == 0:
        fail(f"{where}: no records were read from the inputs", 1)
    if rejected == read:
        texts = [path for path in inputs if path.lower().endswith(PLAIN_TEXT)]
        hint = (f"; {texts[0]} is plain text, and prox refine reads records (JSONL, Parquet, Arrow): "
                f"`prox refine-text {texts[0]}` refines one text file") if texts else ""
        fail(f"{where}: all {read:,} records were rejected (see {where}/rejected*){hint}", 1)


OPTION_HELP = ("Backend option key=value (repeatable), e.g. base_url=..., dtype=bf16, or a batching setting: prompts_per_batch, "
               "chunk_tokens, doc_answer_tokens, chunk_answer_tokens. An option the backend does not take is an error naming those it does.")

# options several commands take: defined once, so a flag has one name, one meaning and one help text everywhere
PRESET = typer.Option(DEFAULT_PRESET, help="student-web (prox's distilled student, offline, the default), heuristic (rules), smollm2-web (the student with SmolLM2-135M reading English lines, offline, needs [smollm2]), web or math (the ProX models, from the hub).")
DOC_MODEL = typer.Option(None, help="Doc-level model: hub id, folder or .gguf file.")
CHUNK_MODEL = typer.Option(None, help="Chunk-level model: hub id, folder or .gguf file.")
BACKEND = typer.Option(None, help="heuristic, transformers, vllm, llamacpp or openai.")
STAGES = typer.Option("doc,chunk", help="Stages to run, comma-separated.")
CONSTRAINED = typer.Option(True, "--constrained/--no-constrained", help="Constrained decoding (valid programs only).")
SCORE = typer.Option(False, "--score", help="Doc stage by scoring P(drop) in one forward pass instead of generating.")
DROP_THRESHOLD = typer.Option(None, help="Drop when P(drop) is at least this (--score, or a student).")
DROP_FRACTION_OPTION = typer.Option(DROP_FRACTION, help="Drop a document when this share of its words was removed.")
SHORT_WORDS_OPTION = typer.Option(SHORT_WORDS, help="Drop a document left with at most this many words.")
ERROR_LIMIT_OPTION = typer.Option(ERROR_LIMIT, help="Keep a document unchanged when its chunk programs have this many errors.")
WRITER_OPTIONS = typer.Option([], "--option", "-O", help=OPTION_HELP)
FORMAT = typer.Option("jsonl", "--format", help="jsonl, jsonl.gz, jsonl.zst or parquet.")
TASKS = typer.Option(1, help="Tasks the input files are shared among (one file is never split).")
WORKERS = typer.Option(1, help="Tasks run at once.")
CHECKPOINT_EVERY = typer.Option(1000, help="Commit outputs every N documents: a rerun redoes at most N per task.")
RUN_PROGRESS = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: when the terminal shows it).")
FORCE = typer.Option(False, "--force", help="When --output holds a run made with other settings or input files, discard its outputs and start over (only what the run created: other files in the folder are never touched).")
EXISTING_FOLDER = typer.Option(False, "--existing-folder", help="Write into an --output folder that already holds other files; the run then owns, and ever deletes, only what it creates there.")
SUMMARY_JSON = typer.Option(False, "--json", help="Print the summary as JSON on standard output (stats.json's figures) instead of a table.")
CHUNK_TOKENS = typer.Option(MAX_CHUNK_TOKENS, "--chunk-tokens", "--max-chunk-tokens", help="Token budget of a chunk, in the tokenizer's tokens.")


@command()
def execute(
    inputs: List[str] = typer.Argument(..., help="JSONL (.gz/.zst) or Parquet files, folders, globs or fsspec URLs: records with stored programs (a prox refine run's kept/ and dropped/)."),
    output: str = typer.Option(..., "--output", "-o", help="Run folder, as prox refine writes it: kept/, dropped/, rejected/ (when a record cannot be read), stats.json. Rerun the same command to resume."),
    drop_fraction: float = DROP_FRACTION_OPTION,
    short_words: int = SHORT_WORDS_OPTION,
    error_limit: int = ERROR_LIMIT_OPTION,
    drop_threshold: Optional[float] = typer.Option(None, help="Re-decide the doc stage from stored metadata.drop_probability. A document it keeps that the doc stage had dropped has no chunk program: it comes out unrefined, with reason kept_unrefined."),
    line_threshold: Optional[float] = typer.Option(None, help="Re-decide the chunk stage's remove_lines from stored metadata.remove_probability (P(remove) of each line; students write it): remove a line when it is at least this. The programs' normalizations stay."),
    text_key: Optional[str] = typer.Option(None, help="Field with the original text (default: raw_content, else text)."),
    output_format: str = FORMAT,
    limit: Optional[int] = typer.Option(None, help="Stop after this many records."),
    tasks: int = TASKS,
    workers: int = WORKERS,
    checkpoint_every: int = CHECKPOINT_EVERY,
    progress: Optional[bool] = RUN_PROGRESS,
    force: bool = FORCE,
    existing_folder: bool = EXISTING_FOLDER,
    as_json: bool = SUMMARY_JSON,
) -> None:
    """Execute the programs stored in records (metadata.doc_program / chunk_program) again, with chosen thresholds."""
    from prox.jobs import ExecuteJob
    from prox.program.stored import Thresholds

    job = ExecuteJob(inputs, output, text_key=text_key, limit=limit, tasks=tasks, workers=workers,
                     output_format=output_format, checkpoint_every=checkpoint_every,
                     thresholds=Thresholds(drop_fraction, short_words, error_limit, drop_threshold, line_threshold))
    summary = job.run(progress=console.is_terminal if progress is None else progress, force=force,
                      existing_folder=existing_folder)
    report_summary(summary, f"prox execute -> {output}", as_json)
    check_outcome(summary["read"], summary["rejected"], output)
    records = summary["read"] - summary["rejected"]
    for option, threshold, key, what, field, writers in (
            ("--drop-threshold", drop_threshold, "scored", "P(drop)", "drop_probability", "students and --score write it"),
            ("--line-threshold", line_threshold, "lines_scored", "P(remove) of its lines", "remove_probability", "students write it")):
        if threshold is None:
            continue
        if summary[key] == 0:
            fail(f"{output}: {option} re-decided nothing: none of the {records:,} records has a stored {what} "
                 f"(metadata.{field}; {writers})", 1)
        if summary[key] < records:
            console.print(f"[yellow]warning:[/yellow] {option} re-decided {summary[key]:,} of {records:,} "
                          f"records; the others have no stored {what}, so their stored programs stand", soft_wrap=True)


def parse_options(pairs: List[str]) -> dict:
    """``key=value`` writer options; values that read as JSON numbers or booleans become those."""
    import json

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--option takes key=value, not {pair!r}")
        try:
            options[key.replace("-", "_")] = json.loads(value)
        except ValueError:
            options[key.replace("-", "_")] = value
    return options



def backend_options(pairs: List[str], constrained: bool = True) -> dict:
    """``-O`` options, with ``--no-constrained`` (passed only when asked: rules have no decoding to constrain)."""
    options = parse_options(pairs)
    if not constrained:
        options["constrained"] = False
    return options


def split_stages(stages: str) -> list[str]:
    return [s.strip() for s in stages.split(",") if s.strip()]


@command("refine-text")
def refine_text(
    path: str = typer.Argument("-", help="A text file holding one document, or - for standard input."),
    preset: Optional[str] = PRESET,
    doc_model: Optional[str] = DOC_MODEL,
    chunk_model: Optional[str] = CHUNK_MODEL,
    backend: Optional[str] = BACKEND,
    stages: str = STAGES,
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff against the input (that patch applies) instead of the refined text."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object: text, decision, programs, removed lines, errors."),
    constrained: bool = CONSTRAINED,
    score: bool = SCORE,
    drop_threshold: Optional[float] = DROP_THRESHOLD,
    option: List[str] = WRITER_OPTIONS,
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress of the model stages (default: when the terminal shows it)."),
) -> None:
    """Refine one document and print the refined text (or a diff, or JSON) to try a preset or model by hand.

    Standard output holds only the text, the diff or the JSON; what was decided and why goes to standard error."""
    import sys

    from prox.progress import Display
    from prox.refiner import Refiner

    text = read_text(path)
    with Display("refining", progress):
        refiner = Refiner(preset=preset, doc_model=doc_model, chunk_model=chunk_model, backend=backend,
                          stages=split_stages(stages), score=score, drop_threshold=drop_threshold,
                          **backend_options(option, constrained))
        result = refiner.refine([text])[0]
    if as_json:
        import json

        typer.echo(json.dumps(result_json(result), ensure_ascii=False))
        return
    console.print(f"[bold]{'dropped' if result.dropped else 'kept'}[/bold] ({result.reason})", markup=True, highlight=False)
    if result.doc_program is not None:
        probability = f" (P(drop) = {result.drop_probability:.3f})" if result.drop_probability is not None else ""
        console.print(f"doc program: {result.doc_program!r}{probability}", markup=False, highlight=False)
    for number, program in enumerate(result.chunk_programs):
        console.print(f"chunk {number} program:\n{program}", markup=False, highlight=False)
    for error in result.errors + tuple(result.trace.errors):
        console.print(f"error: {error}", style="yellow", markup=False, highlight=False)
    if diff:
        from prox.report.patch import unified_diff

        patch = unified_diff(text, result.text, "stdin" if path == "-" else Path(path).name)
        out = Console(highlight=False)
        if out.is_terminal:
            for line in patch.splitlines():
                style = "red" if line.startswith("-") else "green" if line.startswith("+") else "cyan" if line.startswith("@@") else None
                out.print(line, style=style, markup=False, soft_wrap=True, emoji=False)
        else:
            sys.stdout.write(patch)
    else:
        typer.echo(result.text)


def result_json(result) -> dict:
    """A :class:`prox.engine.RefineResult` as JSON-ready data."""
    trace = result.trace
    return {"text": result.text, "dropped": result.dropped, "reason": result.reason,
            "doc_program": result.doc_program, "drop_probability": result.drop_probability,
            "chunk_programs": list(result.chunk_programs), "removed_lines": list(trace.removed_lines),
            "normalizations": [{"source_str": n.source_str, "target_str": n.target_str, "count": n.count}
                               for n in trace.normalizations],
            "errors": list(result.errors) + list(trace.errors),
            "words_before": trace.words_before, "words_after": trace.words_after}


@command()
def refine(
    inputs: List[str] = typer.Argument(..., help="JSONL (.gz/.zst), Parquet or Arrow files, folders (Hugging Face dataset folders too), globs or fsspec URLs (s3://, gs://, hf://)."),
    output: str = typer.Option(..., "--output", "-o", help="Run folder: kept/, dropped/, rejected/ (when a record cannot be read), stats.json, checkpoints. Rerun the same command to resume."),
    preset: Optional[str] = PRESET,
    doc_model: Optional[str] = DOC_MODEL,
    chunk_model: Optional[str] = CHUNK_MODEL,
    backend: Optional[str] = BACKEND,
    stages: str = STAGES,
    text_key: str = typer.Option("text", help="Field holding the document (RedPajama: raw_content)."),
    id_key: str = typer.Option("id", help="Field holding the document id (default: file/line)."),
    limit: Optional[int] = typer.Option(None, help="Refine at most this many documents in all."),
    tasks: int = TASKS,
    workers: int = WORKERS,
    executor: str = typer.Option("local", help="local, slurm or ray."),
    output_format: str = FORMAT,
    checkpoint_every: int = CHECKPOINT_EVERY,
    docs_per_step: int = typer.Option(64, "--docs-per-step", "--batch-size", help="Documents a step hands the engine at a time (prompts per model batch: -O prompts_per_batch=N)."),
    constrained: bool = CONSTRAINED,
    score: bool = SCORE,
    drop_threshold: Optional[float] = DROP_THRESHOLD,
    drop_fraction: float = DROP_FRACTION_OPTION,
    short_words: int = SHORT_WORDS_OPTION,
    error_limit: int = ERROR_LIMIT_OPTION,
    option: List[str] = WRITER_OPTIONS,
    executor_option: List[str] = typer.Option([], "--executor-option", "-E", help="Executor option key=value (repeatable): slurm partition=, time=, gpus_per_task=; ray cpus_per_task=, gpus_per_task=."),
    progress: Optional[bool] = RUN_PROGRESS,
    force: bool = FORCE,
    existing_folder: bool = EXISTING_FOLDER,
    as_json: bool = SUMMARY_JSON,
    max_writer_errors: float = typer.Option(0.05, "--max-writer-errors", min=0.0, max=1.0, help="Exit with status 1 when the writers failed on more than this share of the documents read (they are kept unchanged, reason writer_error)."),
) -> None:
    """Refine a corpus: doc-level programs, chunk-level programs, execution; resumable and exact-once."""
    from prox.jobs import RefineJob
    from prox.program.stored import Thresholds

    job = RefineJob(
        inputs, output, preset=preset, doc_model=doc_model, chunk_model=chunk_model, backend=backend,
        stages=split_stages(stages), text_key=text_key, id_key=id_key, limit=limit,
        tasks=tasks, workers=workers, executor=executor, output_format=output_format, checkpoint_every=checkpoint_every,
        docs_per_step=docs_per_step, score=score, thresholds=Thresholds(drop_fraction, short_words, error_limit, drop_threshold),
        writer_options=backend_options(option, constrained), executor_options=parse_options(executor_option))
    summary = job.run(progress=console.is_terminal if progress is None else progress, force=force,
                      existing_folder=existing_folder)
    if summary is None:
        console.print(f"submitted to {executor}; when it is done, `prox summary {output}` prints the figures")
        return
    report_summary(summary, f"prox refine -> {output}", as_json)
    check_outcome(summary["read"], summary["rejected"], output, inputs)
    failed = summary["writer_errors"]
    if failed > max_writer_errors * summary["read"]:
        fail(f"{output}: the writers failed on {failed:,} of {summary['read']:,} documents ({failed / summary['read']:.1%}, more "
             f"than --max-writer-errors {max_writer_errors:g}); they are kept unchanged (see `prox show {output} --reason "
             "writer_error`)", 1)


@command()
def summary(
    output: str = typer.Argument(..., help="A prox refine or prox execute run folder."),
    as_json: bool = typer.Option(False, "--json", help="Print stats.json's figures as JSON on standard output."),
) -> None:
    """Print (and rewrite stats.json for) a refine or execute run's figures, from its committed parts."""
    from prox.pipeline.folders import read_identity, require_run
    from prox.pipeline.summary import summarize

    command = require_run(output, what="a prox refine or prox execute run folder")
    if read_identity(output) is None and command == "execute":
        fail(f"{output} is an older prox execute output (kept.jsonl, no parts): its stats.json holds its figures")
    figures = summarize(output)
    if as_json:
        import json

        typer.echo(json.dumps(figures, indent=2))
        return
    print_summary(figures, f"prox {command} -> {output}")


def read_text(path: str) -> str:
    """A text file's content exactly (no newline translation: a "\\r" stays one), or standard input for "-";
    a one-line error naming it when it cannot be read as UTF-8 text."""
    import sys

    try:
        return (sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror or exc}") from None


def report_summary(summary: dict, title: str, as_json: bool = False) -> None:
    """The summary as a table on standard error, or as JSON on standard output."""
    if as_json:
        import json

        typer.echo(json.dumps(summary, indent=2))
    else:
        print_summary(summary, title)


def print_summary(summary: dict, title: str) -> None:
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name in ("read", "kept", "dropped", "rejected", "empty", "writer_errors", "lines_removed", "normalizations", "programs"):
        table.add_row(name.replace("_", " "), f"{summary[name]:,}")
    table.add_row("parse-error rate", f"{summary['parse_error_rate']:.2%}")
    if summary["words_kept"] is not None:
        table.add_row("words kept", f"{summary['words_kept']:.1%}")
    table.add_row("tokens in / out", f"{summary['tokens_in']:,} / {summary['tokens_out']:,}")
    for reason, count in summary["reasons"].items():
        table.add_row(f"reason: {reason}", f"{count:,}")
    from prox.progress import rate

    for stage, figures in summary["stages"].items():
        busy, tokens = figures["seconds"], figures["input_tokens"] + figures["output_tokens"]
        shown = f"{rate(figures['documents'], busy)} docs/s" + (f", {rate(tokens, busy)} tokens/s" if tokens else "")
        table.add_row(f"{stage} stage", f"{shown} ({figures['documents']:,} docs in {busy:,.1f} s)" if busy else "-")
    last = summary.get("last_invocation") or {}
    if summary.get("invocations", 0) > 1 and last:
        done = last["documents"]
        table.add_row("this invocation", f"{done:,} docs in {last['seconds']:,.1f} s, {rate(done, last['seconds'])} docs/s" if done
                      else f"nothing left to do ({last['seconds']:,.1f} s): all {summary['read']:,} were done before")
    if summary.get("seconds") is not None:
        runs = f"{summary['invocations']} invocations, " if summary.get("invocations", 0) > 1 else ""
        table.add_row("this run", f"{runs}{summary['read']:,} docs in {summary['seconds']:,.1f} s, "
                      f"{rate(summary['read'], summary['seconds'])} docs/s")
    table.add_row("kept + dropped + rejected = read", "yes" if summary["balanced"] else "[red]NO[/red]")
    console.print(table)


@command()
def evaluate(
    lines: List[str] = typer.Option([], "--lines", help="Line-labelled JSONL (lines + keep flags; docs/formats.md). Repeat the flag for several files."),
    docs: List[str] = typer.Option([], "--docs", help="Doc-labelled JSONL (text + keep; docs/formats.md). Repeat the flag for several files."),
    writer: List[str] = typer.Option([], "--writer", "-w", help="Writers side by side: a preset (student-web, heuristic, smollm2-web, web, math), a model folder or backend:model, e.g. transformers:runs/refiner, openai:name@http://host/v1."),
    preset: Optional[str] = typer.Option(DEFAULT_PRESET, help="The writer when no --writer is given: student-web, heuristic, smollm2-web, web or math."),
    doc_model: Optional[str] = typer.Option(None, help="Doc-level model (with --backend), instead of a preset."),
    chunk_model: Optional[str] = typer.Option(None, help="Chunk-level model (with --backend), instead of a preset."),
    backend: Optional[str] = BACKEND,
    stages: str = typer.Option("doc,chunk", help="Stages run on line sets (doc sets use the doc stage)."),
    limit: Optional[int] = typer.Option(None, help="Evaluate on the first N records of each file."),
    batch_size: int = typer.Option(16, help="Documents refined at once."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write the figures here: writer -> file -> figures."),
    option: List[str] = typer.Option([], "--option", "-O", help="Writer option key=value (repeatable)."),
) -> None:
    """Score writers on labelled data: drop P/R/F1 on doc sets, removed-line P/R/F1 and macro F1 on line sets."""
    import json

    from prox.adapt.evaluate import evaluate as score
    from prox.adapt.evaluate import writer_settings
    from prox.labels import read_labelled

    if not lines and not docs:
        raise typer.BadParameter("give at least one --lines or --docs file")
    writers = {spec: writer_settings(spec) for spec in writer} or {
        (doc_model or preset or "writer"): {"preset": preset, "doc_model": doc_model, "chunk_model": chunk_model, "backend": backend}}
    figures: dict = {name: {} for name in writers}
    from prox.progress import Display

    sets = [read_labelled(path, "lines", limit) for path in lines] + [read_labelled(path, "docs", limit) for path in docs]
    built: dict = {}
    total = len(writers) * sum(len(labelled.items) for labelled in sets)
    with Display("evaluating", total=total, unit="items") as display:
        for name, settings in writers.items():
            for labelled in sets:
                figures[name][labelled.path] = score(labelled, batch_size, built, display.count, stages=stages.split(","),
                                                     **settings, **parse_options(option))
    for labelled in sets:
        table = Table(title=f"{labelled.path} ({labelled.kind}, {len(labelled.items)} records)")
        table.add_column("figure")
        for name in writers:
            table.add_column(name, justify="right")
        first = figures[next(iter(writers))][labelled.path]
        for key in first:
            if key != "confusion":
                table.add_row(key, *[_cell(figures[name][labelled.path].get(key)) for name in writers])
        console.print(table)
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


@command()
def annotate(
    inputs: List[str] = typer.Argument(..., help="Seed documents: JSONL (.gz/.zst), Parquet, folders, globs or URLs."),
    output: str = typer.Option(..., "--output", "-o", help="Folder for annotations.jsonl, invalid.jsonl, stats.json and the request cache."),
    teacher: str = typer.Option(..., "--teacher", help="The teacher model's name on the server."),
    base_url: str = typer.Option("http://127.0.0.1:8000/v1", help="OpenAI-compatible endpoint."),
    api_key: Optional[str] = typer.Option(None, help="API key (default: $OPENAI_API_KEY)."),
    domain: str = typer.Option("web", help="web or math: which prompts."),
    stages: str = typer.Option("doc,chunk", "--stages", "--levels", help="Which stages to label: doc, chunk or both."),
    text_key: str = typer.Option("text", help="Field holding the document."),
    limit: Optional[int] = typer.Option(None, help="Label at most this many documents."),
    tokenizer: Optional[str] = typer.Option(None, help="The chunk model's tokenizer, to cut chunks as it will read them (default: whole documents)."),
    chunk_tokens: int = CHUNK_TOKENS,
    max_in_flight: int = typer.Option(8, help="Requests in flight at once."),
    answer_tokens: int = typer.Option(512, "--answer-tokens", "--max-tokens", help="Longest teacher answer, in tokens."),
    edu_min: int = typer.Option(3, help="Keep when the educational score is at least this ..."),
    edu_borderline: int = typer.Option(2, help="... or equals this ..."),
    format_min: int = typer.Option(4, help="... and the format score is at least this."),
) -> None:
    """Label seed documents with a teacher LLM: doc programs from two 0-5 scores, chunk programs per kind of noise."""
    import os

    from prox.adapt.annotate import KeepRule, Teacher
    from prox.adapt.annotate import annotate as label
    from prox.progress import Display

    client = Teacher(teacher, base_url, api_key, max_in_flight, answer_tokens=answer_tokens, cache=os.path.join(output, "cache.sqlite"))
    with Display("annotating"):
        stats = label(inputs, output, client, domain, split_stages(stages), text_key, limit,
                      _load_tokenizer(tokenizer) if tokenizer else None, chunk_tokens, KeepRule(edu_min, edu_borderline, format_min))
    table = Table(title=f"prox annotate -> {output}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name in ("documents", "doc_records", "chunks", "chunk_records", "requests", "cached_answers", "input_tokens", "output_tokens"):
        table.add_row(name.replace("_", " "), f"{getattr(stats, name):,}")
    for reason, count in sorted(stats.invalid.items()):
        table.add_row(f"invalid: {reason}", f"{count:,}")
    console.print(table)


@command()
def derive(
    output: Path = typer.Option(..., "--output", "-o", help="Annotation records (JSONL) for prox train."),
    lines: List[str] = typer.Option([], "--lines", help="Line-labelled JSONL (lines + keep flags) -> chunk programs."),
    docs: List[str] = typer.Option([], "--docs", help="Doc-labelled JSONL (text + keep) -> doc programs."),
    pairs: List[str] = typer.Option([], "--pairs", help="JSONL of (raw, clean) pairs -> chunk programs by line alignment."),
    raw_key: str = typer.Option("raw", help="Field of the raw text in --pairs files."),
    clean_key: str = typer.Option("clean", help="Field of the clean text in --pairs files."),
    tokenizer: Optional[str] = typer.Option(None, help="The chunk model's tokenizer (folder, hub id or .gguf): chunks as it will read them."),
    chunk_tokens: int = CHUNK_TOKENS,
) -> None:
    """Build training programs from labels people already have (no teacher)."""
    import json

    from prox.adapt.derive import from_labelled, from_pair
    from prox.labels import LabelError, read_labelled
    from prox.progress import Display
    from prox.records import Record, RecordWriter, read_records

    counter = _load_tokenizer(tokenizer) if tokenizer else None
    counts = {"doc": 0, "chunk": 0}
    with RecordWriter(str(output)) as out, Display("deriving", unit="records") as display:
        for kind, paths in (("lines", lines), ("docs", docs)):
            for path in paths:
                for record in from_labelled(read_labelled(path, kind), counter, chunk_tokens):
                    out.write(record)
                    counts[record["level"]] += 1
                    display.count()
        for item in read_records(pairs):
            if not isinstance(item, Record) or not isinstance(item.data.get(raw_key), str) or not isinstance(item.data.get(clean_key), str):
                raise LabelError(f"{item.file}, {item.where}: a pair needs string fields {raw_key!r} and {clean_key!r}")
            doc_id = str(item.data.get("id", f"{item.file}/{item.index}"))
            for record in from_pair(doc_id, item.data[raw_key], item.data[clean_key], counter, chunk_tokens):
                out.write(record)
                counts["chunk"] += 1
                display.count()
    console.print(f"wrote {counts['doc']:,} doc and {counts['chunk']:,} chunk records to {output}: {json.dumps(counts)}")


def _load_tokenizer(name: str):
    from prox.models.hub import ensure_loadable

    # a bad path fails in one line, before any hub retries
    ensure_loadable(name, what="tokenizer", offline="Offline: a local tokenizer folder (a model's, or one saved with "
                    "save_pretrained) or a local .gguf file.")
    if name.endswith(".gguf"):
        from prox.writers.llamacpp_writer import gguf_tokenizer

        return gguf_tokenizer(name)
    from prox.text.tokenizers import load_tokenizer

    return load_tokenizer(name)


@command()
def train(
    records: List[str] = typer.Argument(..., help="Annotation records (prox annotate / prox derive output)."),
    model: str = typer.Option(..., "--model", help="Base model: hub id, folder or .gguf file."),
    output: str = typer.Option(..., "--output", "-o", help="Output folder: a Hugging Face model folder (rerun to resume)."),
    stages: str = typer.Option("doc,chunk", "--stages", "--levels", help="Which stages' records to train on."),
    epochs: float = typer.Option(1.0, help="Passes over the data."),
    max_steps: int = typer.Option(-1, help="Stop after this many optimizer steps (overrides --epochs)."),
    learning_rate: Optional[float] = typer.Option(None, help="Default 2e-5 (full) or 2e-4 (LoRA)."),
    batch_size: int = typer.Option(4, help="Examples per step and device."),
    gradient_accumulation: int = typer.Option(1, help="Steps accumulated per optimizer step."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters (merged into the weights at the end)."),
    lora_rank: int = typer.Option(16, help="LoRA rank."),
    save_steps: int = typer.Option(50, help="Checkpoint every N steps."),
) -> None:
    """Fine-tune a causal LM into a refining model (loss on program tokens, inference's exact prompts)."""
    from prox.adapt.train import TrainConfig, read_records
    from prox.adapt.train import train as fine_tune

    config = TrainConfig(model, output, tuple(split_stages(stages)), epochs, max_steps, learning_rate, batch_size,
                         gradient_accumulation, lora=lora, lora_rank=lora_rank, save_steps=save_steps)
    figures = fine_tune(config, read_records(records))
    console.print(f"trained {figures['steps']} steps on {figures['examples']:,} examples "
                  f"(loss {figures['train_loss']}, {figures['seconds']} s) -> {output}")


@command()
def distill(
    sources: List[str] = typer.Argument(None, help="Annotation records (prox derive / prox annotate output), finished prox refine / prox execute folders (a run's stored programs teach the student to imitate its writer), or label files (told apart by their fields; docs/formats.md)."),
    output: str = typer.Option(..., "--output", "-o", help="Student folder: loads wherever a model does (--doc-model DIR --chunk-model DIR, -w DIR)."),
    lines: List[str] = typer.Option([], "--lines", help="Line-labelled JSONL (lines + keep flags) -> the line model. Repeat the flag for several files (or list them as SOURCES)."),
    docs: List[str] = typer.Option([], "--docs", help="Doc-labelled JSONL (text + keep) -> the doc model. Repeat the flag for several files (or list them as SOURCES)."),
    rounds: Optional[int] = typer.Option(None, help="Boosting rounds of the line model (default 300)."),
    page_share: Optional[float] = typer.Option(None, help="Weight of line-labelled pages among the doc model's examples, as a share of the labelled documents' (default 0.5; 0: documents only)."),
) -> None:
    """Distill a fast student (LightGBM) from labels or from another writer's run: it writes ProX programs at rule speed."""
    from prox.distill.sources import gather
    from prox.distill.student import Student, too_few
    from prox.progress import Display

    with Display("distilling"):
        examples = gather(sources or [], lines, docs)
        settings = {k: v for k, v in {"rounds": rounds, "page_share": page_share}.items() if v is not None}
        student = Student.fit(examples, **settings)
    student.save(output)
    table = Table(title=f"prox distill -> {output}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for source, counts in examples.origins.items():
        table.add_row(f"source: {source}", f"{counts['pages']:,} pages, {counts['docs']:,} documents")
    for name in ("pages", "lines", "lines_removed", "docs", "docs_from_pages", "docs_dropped", "seconds"):
        if name in student.info:
            table.add_row(name.replace("_", " "), f"{student.info[name]:,}")
    table.add_row("line model", "yes" if student.line_model is not None else "no")
    table.add_row("doc model", "yes" if student.doc_model is not None else student.info.get("docs_skipped", "no (no documents)"))
    console.print(table)
    for warning in too_few(student.info):
        console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)


@command()
def report(
    run: str = typer.Argument(..., help="A prox refine (or prox execute) output folder."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="HTML file to write (default: RUN/report.html)."),
    sample: int = typer.Option(200, help="Documents shown in the browsable list (a random sample; charts count all)."),
    seed: int = typer.Option(0, help="Seed of the sample."),
) -> None:
    """Write a self-contained HTML report: figures, charts, and a filterable sample of diffs."""
    from prox.pipeline.folders import check_ours
    from prox.report.html import write_report

    if output is None:
        check_ours(run, "report.html")
    path = write_report(run, output, sample, seed)
    console.print(f"report: {path}")


@command()
def show(
    run: str = typer.Argument(..., help="A prox refine (or prox execute) output folder."),
    doc_id: Optional[str] = typer.Option(None, "--id", help="Show this document."),
    sample: int = typer.Option(3, help="Show this many random documents (without --id)."),
    seed: int = typer.Option(0, help="Seed of the sample."),
    kept: bool = typer.Option(False, "--kept", help="Only kept documents."),
    dropped: bool = typer.Option(False, "--dropped", help="Only dropped documents."),
    reason: List[str] = typer.Option([], "--reason", help="Only documents with this reason (repeatable), e.g. drop_doc, length:short_content; a name ending in ':' takes every rule of that filter (gopher_quality:)."),
    why: bool = typer.Option(False, "--why", help="The writer's evidence: per line the rule that removed it (heuristic) or P(remove) (student), and for the document the words its doc filters judged and P(drop). The run's writer is run again on the shown documents."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per document: its decision, programs and every line with what happened to it."),
) -> None:
    """Show documents' diffs: on a terminal removed lines struck through and normalizations marked; in a pipe or file, every line marked in its first column (- removed, ~ normalized, space kept)."""
    from prox.report.diff import prox_metadata
    from prox.report.run import load
    from prox.report.terminal import as_json as json_line
    from prox.report.terminal import show as print_docs

    if kept and dropped:
        fail("--kept and --dropped exclude each other: give one, or neither for both")

    def wanted(record: dict, is_dropped: bool) -> bool:
        if (kept and is_dropped) or (dropped and not is_dropped):
            return False
        if not reason:
            return True
        found = str(prox_metadata(record).get("reason", ""))
        return any(found == r or (r.endswith(":") and found.startswith(r)) for r in reason)

    from prox.report.terminal import MAX_LINES

    loaded = load(run, sample, seed, ids={doc_id} if doc_id else None, where=wanted if kept or dropped or reason else None,
                  max_lines=None if as_json or why else MAX_LINES)  # JSON and --why hold every line
    if not loaded.sample:
        fail(f"no document with id {doc_id!r} in {run}" if doc_id else f"no document in {run} matches the filters "
             f"(reasons there: {', '.join(sorted(loaded.reasons)) or 'none'})", 1)
    whys = None
    if why:
        from prox.report.why import explain_all

        whys = explain_all(loaded.sample, loaded.identity)
    if as_json:
        for i, doc in enumerate(loaded.sample):
            typer.echo(json_line(doc, whys[i] if whys else None))
        return
    print_docs(loaded.sample, Console(), whys=whys)


@command()
def chunk(
    path: Path = typer.Argument(..., help="A text file (one document)."),
    tokenizer: str = typer.Option(..., help="Tokenizer folder or hub id (the chunk model's)."),
    chunk_tokens: int = CHUNK_TOKENS,
) -> None:
    """Print the line-numbered chunks the chunk-level model reads for one document."""
    from prox.text.chunker import chunk_document

    for chunk in chunk_document(read_text(str(path)), _load_tokenizer(tokenizer), chunk_tokens):
        cut = ", cut to fit" if chunk.truncated else ""
        console.rule(f"lines {chunk.line_start}-{chunk.line_end}, {chunk.n_tokens} tokens{cut}")
        typer.echo(chunk.text)


@command()
def card(
    run: str = typer.Argument(..., help="A finished prox refine (or prox execute) run folder, local or an fsspec URL (hf://datasets/ORG/NAME)."),
    license: Optional[str] = typer.Option(None, "--license", help="License id (default: the source dataset's, when its card names one)."),
    language: List[str] = typer.Option([], "--language", help="Language code (repeatable; default: the records' metadata.language, else the source dataset's)."),
    name: Optional[str] = typer.Option(None, "--name", help="Pretty name (default: the folder's name)."),
    examples: int = typer.Option(3, help="Before/after examples shown."),
) -> None:
    """(Re)write the Hugging Face dataset card, RUN/README.md, of a finished run, and print its path."""
    from prox.pipeline.folders import check_ours
    from prox.report.card import write_card

    check_ours(run, "README.md")
    typer.echo(write_card(run, license=license, language=language or None, pretty_name=name, examples=examples))


@command()
def version() -> None:
    """Print the version."""
    from prox import __version__

    typer.echo(__version__)


def tidy_help(group) -> None:
    """Help pages as click writes them: ``INPUTS...`` rather than typer's ``{inputs}...``, and no ``<bool>``
    type beside a flag (a flag takes no value)."""
    for command in [group, *group.commands.values()]:
        command.get_help_option = _flag_without_type(command.get_help_option)
    for command in group.commands.values():
        for param in command.params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
            elif param.param_type_name == "argument":
                usage = param.name.upper() + ("..." if param.nargs != 1 else "")
                param._usage_display_name = lambda usage=usage, required=param.required: usage if required else f"[{usage}]"
    for param in group.params:
        if getattr(param, "is_flag", False):
            param.metavar = ""


def _flag_without_type(get_help_option):
    def tidy(ctx):
        option = get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    return tidy


def build():
    """The ``prox`` click group as users see it: commands in ``COMMANDS`` order, tidy help pages."""
    command = typer.main.get_command(app)
    command.commands = {name: command.commands[name] for name in COMMANDS}
    tidy_help(command)
    return command


def main() -> None:
    # transformers' advice that PyTorch is missing means nothing to a command that runs no model; one that
    # needs torch says so itself (the [hf] extra)
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    build()()


if __name__ == "__main__":
    main()
