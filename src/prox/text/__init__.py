"""Line numbering, token-budget chunking and prompt formatting for the refining models."""

from prox.text.chunker import Chunk, chunk_document, number_line
from prox.text.prompts import SYSTEM_PROMPT, Prompt, chunk_prompt, doc_prompt, llama2_chat
from prox.text.tokenizers import LineTokenCounter, load_tokenizer

__all__ = [
    "Chunk", "LineTokenCounter", "Prompt", "SYSTEM_PROMPT", "chunk_document", "chunk_prompt", "doc_prompt",
    "llama2_chat", "load_tokenizer", "number_line",
]
