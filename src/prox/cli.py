"""The ``prox`` command: thin typer commands over the library; each one calls a public function."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from prox.program.executor import DROP_FRACTION, ERROR_LIMIT, SHORT_WORDS

app = typer.Typer(help="Refine pre-training corpora by programming every example (ProX).", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def execute(
    inputs: List[str] = typer.Argument(..., help="JSONL (.gz/.zst) or Parquet files, folders, globs or fsspec URLs."),
    output: str = typer.Option(..., "--output", "-o", help="Folder for kept / dropped / rejected records and stats.json."),
    drop_fraction: float = typer.Option(DROP_FRACTION, help="Drop a document when this share of its words was removed."),
    short_words: int = typer.Option(SHORT_WORDS, help="Drop a document left with at most this many words."),
    error_limit: int = typer.Option(ERROR_LIMIT, help="Keep a document unchanged when its chunk programs have this many errors."),
    drop_threshold: Optional[float] = typer.Option(None, help="Re-decide the doc stage from stored metadata.drop_probability."),
    text_key: Optional[str] = typer.Option(None, help="Field with the original text (default: raw_content, else text)."),
    output_format: str = typer.Option("jsonl", "--format", help="jsonl or parquet."),
    limit: Optional[int] = typer.Option(None, help="Stop after this many records."),
) -> None:
    """Apply the programs stored in records (metadata.doc_program / chunk_program) with chosen thresholds."""
    from prox.apply import Thresholds, apply_files

    if output_format not in ("jsonl", "parquet"):
        raise typer.BadParameter("--format must be jsonl or parquet")
    try:
        stats = apply_files(inputs, output, Thresholds(drop_fraction, short_words, error_limit, drop_threshold), text_key, output_format, limit)
    except FileNotFoundError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    table = Table(title=f"prox execute -> {output}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name in ("read", "kept", "dropped", "rejected", "lines_removed", "normalizations", "program_errors"):
        table.add_row(name.replace("_", " "), f"{getattr(stats, name):,}")
    kept_share = stats.words_after / stats.words_before if stats.words_before else 0.0
    table.add_row("words kept", f"{kept_share:.1%}")
    for reason, count in sorted(stats.reasons.items()):
        table.add_row(f"reason: {reason}", f"{count:,}")
    table.add_row("docs/s", f"{stats.read / stats.seconds:,.0f}" if stats.seconds else "-")
    console.print(table)


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


@app.command("refine-text")
def refine_text(
    path: str = typer.Argument("-", help="A text file holding one document, or - for standard input."),
    preset: Optional[str] = typer.Option("heuristic", help="web, math or heuristic."),
    doc_model: Optional[str] = typer.Option(None, help="Doc-level model: hub id, folder or .gguf file."),
    chunk_model: Optional[str] = typer.Option(None, help="Chunk-level model: hub id, folder or .gguf file."),
    backend: Optional[str] = typer.Option(None, help="heuristic, transformers, vllm, llamacpp or openai."),
    stages: str = typer.Option("doc,chunk", help="Stages to run, comma-separated."),
    diff: bool = typer.Option(False, "--diff", help="Print a diff against the input instead of the refined text."),
    constrained: bool = typer.Option(True, "--constrained/--no-constrained", help="Constrained decoding (valid programs only)."),
    score: bool = typer.Option(False, "--score", help="Doc stage by scoring P(drop) in one forward pass instead of generating."),
    drop_threshold: float = typer.Option(0.5, help="With --score: drop when P(drop) is at least this."),
    option: List[str] = typer.Option([], "--option", "-O", help="Writer option key=value (repeatable), e.g. base_url=..."),
) -> None:
    """Refine one document and print the refined text (or a diff) to try a preset or model by hand."""
    import sys

    from prox.refiner import Refiner
    from prox.writers.errors import ModelUnavailable

    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        refiner = Refiner(preset=preset, doc_model=doc_model, chunk_model=chunk_model, backend=backend,
                          stages=[s.strip() for s in stages.split(",") if s.strip()], constrained=constrained,
                          doc_mode="score" if score else "generate", drop_threshold=drop_threshold, **parse_options(option))
    except (ModelUnavailable, ValueError, ImportError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    result = refiner.refine([text])[0]
    console.print(f"[bold]{'dropped' if result.dropped else 'kept'}[/bold] ({result.reason})")
    if result.doc_program is not None:
        probability = f" (P(drop) = {result.drop_probability:.3f})" if result.drop_probability is not None else ""
        console.print(f"doc program: {result.doc_program!r}{probability}")
    for number, program in enumerate(result.chunk_programs):
        console.print(f"chunk {number} program:\n{program}")
    for error in result.errors + tuple(result.trace.errors):
        console.print(f"[yellow]error:[/yellow] {error}")
    if diff:
        import difflib

        for line in difflib.unified_diff(text.split("\n"), result.text.split("\n"), "input", "refined", lineterm=""):
            color = "red" if line.startswith("-") else "green" if line.startswith("+") else None
            console.print(line, style=color, markup=False, highlight=False, soft_wrap=True) if color else typer.echo(line)
    else:
        typer.echo(result.text)


@app.command()
def chunk(
    path: Path = typer.Argument(..., help="A text file (one document)."),
    tokenizer: str = typer.Option(..., help="Tokenizer folder or hub id (the chunk model's)."),
    max_tokens: int = typer.Option(1500, help="Token budget of a chunk."),
) -> None:
    """Print the line-numbered chunks the chunk-level model reads for one document."""
    from prox.text.chunker import chunk_document

    for chunk in chunk_document(path.read_text(encoding="utf-8"), tokenizer, max_tokens):
        cut = ", cut to fit" if chunk.truncated else ""
        console.rule(f"lines {chunk.line_start}-{chunk.line_end}, {chunk.n_tokens} tokens{cut}")
        typer.echo(chunk.text)


@app.command()
def version() -> None:
    """Print the version."""
    from prox import __version__

    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
