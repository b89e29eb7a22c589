"""Which language a document is in: ISO 639-1 codes from Google's CLD2 (``pycld2``, which ships its model).

Rules that hold for one language only (English stop words, Gopher's and FineWeb's thresholds) judge only
documents in it, as FineWeb-2 sets its filters per language. CLD2 was chosen over py3langid and lingua on
the shared label sets (``docs/benchmarks.md``, "Language identification"): as accurate on English, Chinese,
Greek, Polish and Russian pages, and 11x and 40x faster. It reads a sample of the page (its head, middle
and tail, :data:`SAMPLE` characters in all), which keeps the cost flat however long the document, and
sees the menus of a raw page as well as its article.
"""

from __future__ import annotations

UNKNOWN = "und"  # BCP 47's "undetermined"
SAMPLE = 1500
_ALIASES = {"zh-Hant": "zh", "un": UNKNOWN, "xx": UNKNOWN}


def sample(text: str, size: int = SAMPLE) -> str:
    """The head, middle and tail of ``text``, ``size`` characters in all (all of it when shorter)."""
    if len(text) <= size:
        return text
    third, middle = size // 3, len(text) // 2
    return "\n".join((text[:third], text[middle - third // 2 : middle + third // 2], text[-third:]))


def identify(text: str, size: int | None = SAMPLE) -> str:
    """The language code of ``text`` (``en``, ``zh``, ``pl``, ...), or ``und`` when CLD2 cannot tell; it reads a
    sample of ``size`` characters (None: all of it)."""
    import pycld2

    piece = (sample(text, size) if size else text).encode("utf-8", "replace").decode("utf-8")  # a lone surrogate: "?"
    try:
        _, _, details = pycld2.detect(piece)
    except pycld2.error:  # bytes CLD2 refuses (control characters, lone surrogates): read what remains
        cleaned = "".join(ch for ch in piece if ch.isprintable() or ch in "\n\t").encode("utf-8", "ignore").decode("utf-8")
        try:
            _, _, details = pycld2.detect(cleaned)
        except pycld2.error:
            return UNKNOWN
    code = details[0][1]
    return _ALIASES.get(code, code)


def rules_language(text: str) -> str:
    """The language whose rules judge ``text``: its own, except that text CLD2 cannot place but written in ASCII
    (a word repeated, a menu, code, a few words) is held to English rules, so junk in no language does not
    escape the filters that catch it; the language stored with the document stays ``und``."""
    code = identify(text)
    if code == UNKNOWN and sample(text).isascii():
        return "en"
    return code
