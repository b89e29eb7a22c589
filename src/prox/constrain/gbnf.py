"""GBNF grammars of the program language, for engines that take a grammar (llama.cpp's server; vLLM's
structured outputs, offline or served, read the same notation through xgrammar).

A grammar cannot say "a substring of this chunk" compactly, so a server-side chunk grammar
guarantees programs that parse and line numbers inside the chunk, but not that ``normalize``
sources occur in it (an absent source changes nothing); nor can it see the token budget, so a long
program may still be cut by ``max_tokens``. The in-process constraint of ``prox.constrain.tracker``
guarantees all of these.
"""

from __future__ import annotations

from typing import Any

from prox.text.chunker import numbered_lines

DOC_GRAMMAR = 'root ::= " "? ("drop_doc()" | "keep_doc()")\n'


MAX_ORDERED_LINES = 150  # up to this many lines, line_start <= line_end is spelled out in the grammar


def chunk_grammar(line_start: int, line_end: int) -> str:
    numbers = range(line_start, line_end + 1)
    if len(numbers) <= MAX_ORDERED_LINES:  # one rule per start: its ends are the numbers from it on
        remove = ['remove ::= "remove_lines(line_start=" (' + " | ".join(f'"{a}, line_end=" end{a}' for a in numbers) + ') ")"']
        remove += [f"end{a} ::= " + " | ".join(f'"{b}"' for b in range(a, line_end + 1)) for a in numbers]
    else:  # a long chunk of short lines: any two numbers of the chunk (the parser rejects start > end)
        remove = ['remove ::= "remove_lines(line_start=" num ", line_end=" num ")"', "num ::= " + " | ".join(f'"{n}"' for n in numbers)]
    return "\n".join([
        'root ::= " "? ("skip_chunk()" | line ("\\n" line)*)',
        "line ::= remove | normalize",
        *remove,
        'normalize ::= "normalize(source_str=\\"" source "\\", target_str=\\"" target "\\")"',
        'source ::= [^"\\\\\\x00-\\x1f]+',
        'target ::= [ !#-\\[\\]-~]*',
    ]) + "\n"


def grammar_of(chunk: Any) -> str:
    """The chunk grammar of one line-numbered chunk (a :class:`~prox.text.chunker.Chunk` or its text)."""
    pairs = numbered_lines(chunk)
    return chunk_grammar(pairs[0][0], pairs[-1][0])
