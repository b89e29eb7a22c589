"""Fuzz the program language: random and adversarial programs through the parser and both executors.

Every program goes through ``parse_program``, ``str(program)``, ``execute_doc`` and ``execute_chunk`` (as
one text and as a list of chunk programs) on a document of its own. The claim checked: no program raises,
no call on any program takes more than 50 ms, ``str(program)`` parses back to the same operations, and
every result is writable text within the growth limit.

    python bench/bench_fuzz.py --programs 200000 --workers 2

(p99/median over several workers are the worst worker's. A program over 50 ms is timed twice more and
its best time counts: on a shared 2-core machine a scheduler pause is not the program's cost; how many
were retimed is printed.)
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter

from prox.program import execute_chunk, execute_doc, parse_program
from prox.program.limits import MAX_LINE_CHARS, MAX_PROGRAM_CHARS, is_text

SLOW_MS = 50.0
RETIMES = 2  # a program over SLOW_MS is timed this many more times, and its best time counts
NAMES = ["remove_lines", "normalize", "skip_chunk", "keep_chunk", "drop_doc", "keep_doc", "untouch_doc", "remove_li",
         "__import__", "os.system", "exec", "eval", "open", "print", "normalise", "lambda"]
QUOTES = ['"', "'", '"""', "'''", 'r"', "b'", 'f"', 'u"', 'rb"']
NASTY = ["\x00", "\ud800", "\udfff", "\ufeff", "\u202e", "\r", "\t", "\\", "\\x", "\\u", "\\N{", "\\ud800", "'''", '"""',
         "(", ")", "[", "{", ",", "=", ";", "#", "\n", "```", "١٢٣", "٣", "\u00a0", "𝟘", "�"]


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(["the", "a", "river", "Click", "here", "Home", "©", "2024", "menu", "x", "α", "ß", "日本"])
                    for _ in range(n))


def document(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.05:
        return rng.choice(["", " ", "\n\n", "\t", "a"])
    if kind < 0.1:
        return "\n".join(words(rng, rng.randint(50, 200)) for _ in range(rng.randint(80, 160)))  # ~20-40 kB
    return "\n".join(words(rng, rng.randint(0, 25)) for _ in range(rng.randint(1, 60)))


def number(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.6:
        return str(rng.randint(0, 80))
    return rng.choice([str(rng.randint(-5, 5)), "9" * rng.randint(10, 4200), "0x" + "f" * rng.randint(10, 6000),
                       "0b" + "1" * rng.randint(40, 5000), "1_000", "007", "1e9", "1.5", "True", "None", "-0",
                       "-" * rng.randint(2, 5000) + "1", "(" * rng.randint(1, 300) + "1" + ")" * rng.randint(0, 300),
                       "١٢", "2**10000", "10**10**10", "len('x')", "line_start"])


def string(rng: random.Random) -> str:
    r = rng.random()
    body = rng.choice(["Click here", "a", "", " ", "\\n", words(rng, 3), rng.choice(NASTY) * rng.randint(1, 50),
                       "x" * rng.randint(100, 25000), "".join(rng.choice(NASTY) for _ in range(rng.randint(1, 30)))])
    if r < 0.7:
        return json.dumps(body)[: rng.choice([None, None, None, 5])]
    quote = rng.choice(QUOTES)
    closing = quote.lstrip("rbfu") if rng.random() < 0.8 else ""
    return f"{quote}{body}{closing}"


def call(rng: random.Random) -> str:
    name = rng.choice(NAMES) if rng.random() < 0.3 else rng.choice(NAMES[:6])
    r = rng.random()
    if name == "remove_lines":
        a, b = number(rng), number(rng)
        args = rng.choice([f"line_start={a}, line_end={b}", f"{a}, {b}", f"line_start={a}", f"line_end={b}, line_start={a}",
                           f"line_start={a}, line_end={b}, line_end={b}", "all=True", f"*{a}", f"**{{'line_start': {a}}}"])
    elif name == "normalize":
        a, b = string(rng), string(rng)
        args = rng.choice([f"source_str={a}, target_str={b}", f"{a}, {b}", f"source_str={a}", f"{a}", f"target_str={b}"])
    else:
        args = rng.choice(["", "", "1", string(rng), "x=1", number(rng)])
    text = f"{name}({args})"
    if r < 0.1:
        text = text[: rng.randint(0, len(text))]  # truncated
    elif r < 0.15:
        text = f"  {text}  # {words(rng, 3)}"
    elif r < 0.2:
        text = ";".join([text] * rng.randint(2, 200))
    elif r < 0.23:
        text = f"{text}.{name}()" if rng.random() < 0.5 else f"{name}({text})"
    return text


def program(rng: random.Random) -> tuple[str, str]:
    """(family, program text): mostly plausible model output, then the attacks that broke earlier versions."""
    r = rng.random()
    if r < 0.45:
        return "calls", "\n".join(call(rng) for _ in range(rng.randint(0, 30)))
    if r < 0.55:
        lines = [call(rng) for _ in range(rng.randint(1, 20))]
        spot = rng.randrange(len(lines))
        lines[spot] = lines[spot][: rng.randint(0, len(lines[spot]))] + rng.choice(NASTY)
        return "mutated", rng.choice(["\n", "\r\n", "\n\n", "\n```\n"]).join(lines)
    if r < 0.62:
        return "unterminated_quotes", "\n".join(f"normalize(source_str={rng.choice(QUOTES)}x" for _ in range(rng.randint(50, 1200)))
    if r < 0.67:
        target = rng.choice(["aa", "aaaa", "a" * 100, "the the", "\n\n"])
        source = rng.choice(["a", "the", " ", "\n", "e"])
        return "growth", "\n".join(f"normalize(source_str={json.dumps(source)}, target_str={json.dumps(target)})"
                                   for _ in range(rng.randint(5, 40)))
    if r < 0.72:
        return "many_lines", "\n".join(call(rng) for _ in range(rng.randint(900, 1500)))
    if r < 0.76:
        return "long_line", rng.choice(["(", "[", "-", "not ", "a.", "'", "1+", "x" * 50]) * rng.randint(1000, MAX_LINE_CHARS // 2 + 3000)
    if r < 0.80:
        return "oversized", "skip_chunk()\n" * rng.randint(1000, 3000) + "x" * rng.randint(0, MAX_PROGRAM_CHARS)
    if r < 0.86:
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))
        return "bytes", raw.decode("utf-8", "surrogateescape")  # lone surrogates, as a careless decoder leaves them
    if r < 0.92:
        return "huge_numbers", f"remove_lines(line_start={number(rng)}, line_end={number(rng)})\n" * rng.randint(1, 5)
    return "nasty_strings", "\n".join(f"normalize(source_str={string(rng)}, target_str={string(rng)})" for _ in range(rng.randint(1, 10)))


def check_one(text: str, doc: str) -> float:
    """The calls of the claim, and checks on what they return; the slowest call's milliseconds.
    Raises on any breach."""
    slowest = 0.0

    def timed(function, *args):
        nonlocal slowest
        began = time.perf_counter()
        value = function(*args)
        slowest = max(slowest, (time.perf_counter() - began) * 1000)
        return value

    parsed = timed(parse_program, text)
    printed = timed(str, parsed)
    if parse_program(printed).operations != parsed.operations:
        raise AssertionError("str(program) does not parse back to the same operations")
    timed(execute_doc, doc, text)
    pieces = text[:MAX_PROGRAM_CHARS].split("\n\n")  # one answer's worth, as chunk programs
    for result in (timed(execute_chunk, doc, text), timed(execute_chunk, doc, pieces)):
        if not is_text(result.text) and is_text(doc):
            raise AssertionError("execution made text that cannot be written")
        if len(result.text) > 2 * len(doc) + 1_000:
            raise AssertionError("normalize grew the document past its limit")
        for error in result.trace.errors:
            str(error)
    return slowest


def fuzz(programs: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    families, exceptions, slow = Counter(), Counter(), Counter()
    examples: dict[str, str] = {}
    times: list[float] = []
    retimed = 0
    start = time.perf_counter()
    for _ in range(programs):
        family, text = program(rng)
        doc = document(rng)
        families[family] += 1
        try:
            elapsed = check_one(text, doc)
            if elapsed > SLOW_MS:  # a scheduler pause or a collection is not the program's cost: time it again
                retimed += 1
                elapsed = min(elapsed, *(check_one(text, doc) for _ in range(RETIMES)))
        except Exception as exc:  # the claim is that this never happens
            key = f"{family}: {type(exc).__name__}"
            exceptions[key] += 1
            examples.setdefault(key, f"{exc!s:.200} | program {text[:200]!r}")
            continue
        times.append(elapsed)
        if elapsed > SLOW_MS:
            slow[family] += 1
            examples.setdefault(f"slow {family}", f"{elapsed:.1f} ms | program {text[:120]!r} ({len(text):,} chars)")
    times.sort()
    return {
        "programs": programs,
        "seconds": round(time.perf_counter() - start, 1),
        "exceptions": sum(exceptions.values()),
        "slow": sum(slow.values()),
        "retimed": retimed,
        "max_call_ms": round(times[-1], 2) if times else 0.0,
        "p99_call_ms": round(times[int(len(times) * 0.99)], 3) if times else 0.0,
        "median_call_ms": round(times[len(times) // 2], 3) if times else 0.0,
        "families": dict(families),
        "exceptions_by_family": dict(exceptions),
        "slow_by_family": dict(slow),
        "examples": examples,
    }


def merge(parts: list[dict]) -> dict:
    """The figures of several fuzz runs (different seeds) as one."""
    total = {"programs": sum(p["programs"] for p in parts), "seconds": max(p["seconds"] for p in parts),
             "exceptions": sum(p["exceptions"] for p in parts), "slow": sum(p["slow"] for p in parts),
             "retimed": sum(p["retimed"] for p in parts),
             "max_call_ms": max(p["max_call_ms"] for p in parts),
             "p99_call_ms": max(p["p99_call_ms"] for p in parts), "median_call_ms": max(p["median_call_ms"] for p in parts)}
    for key in ("families", "exceptions_by_family", "slow_by_family"):
        total[key] = dict(sum((Counter(p[key]) for p in parts), Counter()))
    total["examples"] = {k: v for p in parts for k, v in p["examples"].items()}
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes, each with its own seed and share")
    args = parser.parse_args()
    if args.workers > 1:
        from multiprocessing import Pool

        shares = [(args.programs // args.workers + (i < args.programs % args.workers), args.seed + i) for i in range(args.workers)]
        with Pool(args.workers) as pool:
            figures = merge(pool.starmap(fuzz, shares))
    else:
        figures = fuzz(args.programs, args.seed)
    print(json.dumps(figures, indent=2, ensure_ascii=True))


if __name__ == "__main__":
    main()
