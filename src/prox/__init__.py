"""prox: refine LLM pre-training corpora by programming every example (ProX).

Only light modules are imported here; tokenizers and model backends load their libraries when used.
"""

from prox.program import (
    DropDoc,
    ExecutionResult,
    KeepDoc,
    Normalize,
    ParseError,
    Program,
    RemoveLines,
    SkipChunk,
    Trace,
    execute_chunk,
    execute_doc,
    parse_program,
)
from prox.refiner import Refiner, RefineResult
from prox.text import Chunk, Prompt, chunk_document, chunk_prompt, doc_prompt

__version__ = "0.1.0"

__all__ = [
    "Chunk", "DropDoc", "RefineResult", "Refiner", "ExecutionResult", "KeepDoc", "Normalize", "ParseError", "Program", "Prompt",
    "RemoveLines", "SkipChunk", "Trace", "chunk_document", "chunk_prompt", "doc_prompt", "execute_chunk",
    "execute_doc", "parse_program", "__version__",
]
