"""A refined text as a unified diff against its original that ``patch`` applies (``prox refine-text --diff``).

:func:`difflib.unified_diff` leaves out the ``\\ No newline at end of file`` marker, so a diff of a
text without a final newline does not apply; here it is added where ``diff -u`` writes it.
"""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(before: str, after: str, name: str = "input", context: int = 3) -> str:
    """``diff -u`` of two texts, headed ``a/NAME`` and ``b/NAME``; "" when they are equal."""
    lines = difflib.unified_diff(_lines(before), _lines(after),
                                 f"a/{name}", f"b/{name}", n=context)
    out = []
    for line in lines:
        if line.startswith(("---", "+++", "@@")):
            out.append(line if line.endswith("\n") else line + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:  # the last line of one side has no newline
            out += [line + "\n", NO_NEWLINE]
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines as ``patch`` reads them: cut after each "\\n" only (not at "\\r", form feeds or U+2028)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
