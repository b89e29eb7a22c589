"""prox's steps inside a plain datatrove pipeline, beside datatrove's own reader, filter and writers.

    python examples/datatrove_pipeline.py examples/web_corpus.jsonl runs/datatrove-example

Swap ``preset="heuristic"`` for ``preset="web"`` (and a GPU) to run the published refining models.
"""

from __future__ import annotations

import argparse
import os


def build(input_path: str, output: str, preset: str = "heuristic") -> list:
    from datatrove.pipeline.filters import LambdaFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from prox.pipeline import ExecutePrograms, WriteChunkPrograms, WriteDocPrograms

    return [
        JsonlReader(os.path.dirname(os.path.abspath(input_path)), glob_pattern=os.path.basename(input_path)),
        LambdaFilter(lambda document: len(document.text.split()) >= 20),  # any datatrove filter fits here
        WriteDocPrograms(preset=preset),
        WriteChunkPrograms(preset=preset),
        ExecutePrograms(exclusion_writer=JsonlWriter(f"{output}/dropped", compression=None)),
        JsonlWriter(f"{output}/kept", compression=None),
    ]


def main(argv: list[str] | None = None) -> None:
    from datatrove.executor import LocalPipelineExecutor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a JSONL file with a text field")
    parser.add_argument("output", help="folder for kept/, dropped/ and logs/")
    parser.add_argument("--preset", default="heuristic")
    args = parser.parse_args(argv)
    pipeline = build(args.input, args.output, args.preset)
    LocalPipelineExecutor(pipeline, tasks=1, logging_dir=f"{args.output}/logs").run()


if __name__ == "__main__":
    main()
