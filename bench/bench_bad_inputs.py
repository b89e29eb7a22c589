"""A corpus of hostile records through `prox refine` and `prox execute`: nothing stops a run, nothing is lost.

The corpus mixes good pages with every kind of bad input found so far: invalid JSON and UTF-8, records
nested 200,000 deep, non-objects, missing or non-string text, lone surrogates, a byte-order mark, blank
and CRLF lines, a 5 MB line, a 200,000-line document, a gzip cut short, a zstd file cut in its third
frame, a truncated Parquet file, and stored programs a hostile model would write (huge line numbers,
lone surrogates, exponential normalizations, thousands of unterminated quotes). With ``--model``, the
chunk and doc programs come from a local server that answers like such a model instead.

Checked for each command: exit status 0, every readable record in exactly one output (by id), every
unreadable one in ``rejected`` naming its file, read == kept + dropped + rejected, every output line
valid JSON in valid UTF-8.

    python bench/bench_bad_inputs.py --scale 20
    python bench/bench_bad_inputs.py --costs
    python bench/bench_bad_inputs.py --guards --model ../shared/tokenizers/llama2
    python bench/bench_bad_inputs.py --big-parquet

``--guards`` tries each way a run used to lose, mix or delete files or leak a secret (two runs on one folder, an output
inside its input, inputs changed between runs, a folder of the user's files, ``--force`` on its own inputs, input fields
that collide with prox's, secrets in options), one line per case.

``--costs`` prints what the costliest inputs cost, each in a fresh process (wall time, peak RSS): a 300 KB record
carrying 500 stored chunk programs of 600 normalizations each (``prox execute``), a one-line record of 100 MB
(``prox execute``: reading it), a server that drips its answer a byte every 0.5 s (``prox refine`` with
``-O timeout=2``), and a 38 MB document of 1 M lines (``prox refine``, the default preset).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE = ["Home | News | Sport | Contact", "Log in | Register",
        "The river town kept its old stone bridge after the flood because the builders had set it on bedrock.",
        "Engineers who surveyed it a century later found the arches had barely moved, and the mortar was sound.",
        "Today the bridge carries foot traffic only, and the town holds a market on it every second Saturday.",
        "Local historians keep a small museum near the east bank with photographs of the flood and the rebuilding.",
        "Visitors can walk the old towpath to the mill, where the wheel still turns on weekends in summer.",
        "Share on Facebook", "Copyright 2024 Example Media. All rights reserved."]
HOSTILE_PROGRAMS = [
    "remove_lines(line_start=0, line_end=0x" + "f" * 5000 + ")",
    "remove_lines(line_start=" + "9" * 4000 + ", line_end=3)",
    'normalize(source_str="bridge", target_str="\\ud800")',
    "\n".join(['normalize(source_str="a", target_str="aa")'] * 20),
    "\n".join(["normalize(source_str='''x"] * 800),
    "(" * 19000,
    "__import__('os').system('echo pwned')",
    "remove_lines(line_start=1, line_end=1)\n" * 1500,
]
# answers of the hostile model server, by a marker the page carries
ANSWERS = {"SURROGATE": 'normalize(source_str="a", target_str="\ud800")', "HEXLINE": HOSTILE_PROGRAMS[0],
           "GROW": HOSTILE_PROGRAMS[3], "QUOTES": "\n".join(["normalize(source_str='''x"] * 200), "NULL": None,
           "HUGE": "remove_lines(line_start=0, line_end=0)\n" * 150_000}


def page(i: int, marker: str = "") -> str:
    return "\n".join([f"Story {i}: a report from the river town. {marker}".strip(), *PAGE])


def build(folder: Path, scale: int = 20, seed: int = 0) -> dict:
    """Write the hostile corpus; returns what a run must account for: ids that must come out once, and the
    files that must yield a rejection."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    expected: set[str] = set()  # ids that must appear in kept or dropped exactly once
    maybe: set[str] = set()  # ids in files cut short: once at most
    rejected_files: set[str] = set()
    counter = iter(range(10**9))

    def good(prefix: str, program: bool = True, marker: str = "") -> dict:
        n = next(counter)
        record = {"id": f"{prefix}-{n}", "text": page(n, marker)}
        if program:
            record["raw_content"] = record["text"]
            record["metadata"] = {"doc_program": "keep_doc()", "chunk_program": [rng.choice(HOSTILE_PROGRAMS + ["skip_chunk()"] * 4)]}
        return record

    def write(name: str, lines: list, opener=None) -> Path:
        path = folder / name
        data = b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)
        path.write_bytes(opener(data) if opener else data)
        return path

    records = [good("good") for _ in range(scale)]
    expected.update(r["id"] for r in records)
    write("a_good.jsonl", records)

    bad_lines, kept_ids = [], []
    for _ in range(scale):
        record = good("mixed")
        kept_ids.append(record["id"])
        bad_lines += [record, b'{"id": "broken", "text": "no closing brace"', b"\xff\xfe not utf-8", b"[1, 2, 3]",
                      json.dumps({"id": "no-text"}).encode(), json.dumps({"id": "int-text", "text": 5}).encode(),
                      b"[" * 200_000 + b"]" * 200_000, b"{\"a\":" * 50_000 + b"1" + b"}" * 50_000, b"   ", b"\x00"]
    expected.update(kept_ids)
    write("b_mixed.jsonl", bad_lines)
    rejected_files.add("b_mixed.jsonl")

    surrogate = [{"id": f"surrogate-{i}", "text": page(i) + " \ud800 \udfff", "metadata": {"note": "\ud83d"}} for i in range(scale)]
    expected.update(r["id"] for r in surrogate)
    path = folder / "c_surrogates.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in surrogate) + "\n", encoding="ascii")

    bom = [good("bom", program=False) for _ in range(scale)]
    expected.update(r["id"] for r in bom)
    (folder / "d_bom_crlf.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\r\n\r\n".join(json.dumps(r).encode() for r in bom) + b"\r\n\n\n")

    big = [{"id": "five-mb-line", "text": ("word " * 1_000_000).strip()}, {"id": "many-lines", "text": "\n".join(f"line {i} of a long list" for i in range(200_000))}]
    expected.update(r["id"] for r in big)
    write("e_big.jsonl", big)

    cut = [good("gzip") for _ in range(scale * 5)]
    data = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in cut))
    (folder / "f_cut.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    maybe.update(r["id"] for r in cut)
    rejected_files.add("f_cut.jsonl.gz")

    import zstandard

    compressor, frames = zstandard.ZstdCompressor(), []
    zstd_records = [good("zstd") for _ in range(scale * 3)]
    for third in range(3):
        part = zstd_records[third * scale : (third + 1) * scale]
        frames.append(compressor.compress(b"".join(json.dumps(r).encode() + b"\n" for r in part)))
    expected.update(r["id"] for r in zstd_records[: 2 * scale])
    maybe.update(r["id"] for r in zstd_records[2 * scale :])
    (folder / "g_cut_frames.jsonl.zst").write_bytes(frames[0] + frames[1] + frames[2][: len(frames[2]) // 2])
    rejected_files.add("g_cut_frames.jsonl.zst")

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([{"id": f"parquet-{i}", "text": page(i)} for i in range(scale)])
    pq.write_table(table, folder / "h_cut.parquet")
    raw = (folder / "h_cut.parquet").read_bytes()
    (folder / "h_cut.parquet").write_bytes(raw[: len(raw) // 2])
    rejected_files.add("h_cut.parquet")

    markers = [good("model", program=False, marker=marker) for marker in ANSWERS for _ in range(max(1, scale // 10))]
    expected.update(r["id"] for r in markers)
    write("i_model_markers.jsonl", markers)
    return {"expected": sorted(expected), "maybe": sorted(maybe), "rejected_files": sorted(rejected_files)}


def read_outputs(run: Path) -> dict[str, list[dict]]:
    """Every output record by kind; raises when a line is not valid UTF-8 JSON."""
    import pyarrow.parquet as pq

    found: dict[str, list[dict]] = {"kept": [], "dropped": [], "rejected": []}
    for kind in found:
        paths = sorted((run / kind).glob("*")) if (run / kind).is_dir() else sorted(run.glob(f"{kind}.*"))
        for path in paths:
            if path.suffix == ".parquet":
                found[kind] += pq.read_table(path).to_pylist()
                continue
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            found[kind] += [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
    return found


def check(run: Path, manifest: dict, stats: dict) -> dict:
    """The accounting claims; a dict of what failed (empty when all hold) and the figures."""
    outputs = read_outputs(run)
    ids = [str(r["id"]) for kind in ("kept", "dropped") for r in outputs[kind]]
    failures = []
    duplicates = len(ids) - len(set(ids))
    if duplicates:
        failures.append(f"{duplicates} documents written twice")
    missing = set(manifest["expected"]) - set(ids)
    if missing:
        failures.append(f"{len(missing)} readable records missing, e.g. {sorted(missing)[:3]}")
    unexpected = set(ids) - set(manifest["expected"]) - set(manifest["maybe"])
    if unexpected:
        failures.append(f"{len(unexpected)} unexpected documents, e.g. {sorted(unexpected)[:3]}")
    named = {os.path.basename(str(r.get("file", ""))) for r in outputs["rejected"]}
    unnamed = set(manifest["rejected_files"]) - named
    if unnamed:
        failures.append(f"no rejection names {sorted(unnamed)}")
    counted = len(outputs["kept"]) + len(outputs["dropped"]) + len(outputs["rejected"])
    if counted != stats.get("read"):
        failures.append(f"outputs hold {counted} records, stats say {stats.get('read')} read")
    if stats.get("kept", 0) + stats.get("dropped", 0) + stats.get("rejected", 0) != stats.get("read"):
        failures.append("kept + dropped + rejected != read")
    return {"failures": failures, "read": stats.get("read"), "kept": stats.get("kept"), "dropped": stats.get("dropped"),
            "rejected": stats.get("rejected"), "blank_lines": stats.get("blank_lines")}


def prox(*args: str, timeout: float = 1800) -> tuple[int, str, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "prox.cli", *args], capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def hostile_server():
    """A local OpenAI-compatible server that answers like a hostile model (by the page's marker)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else json.dumps(body)
            chunk = "[doc]" in prompt
            text = "skip_chunk()" if chunk else "keep_doc()"
            for marker, answer in ANSWERS.items():
                if marker in prompt:
                    text = answer if chunk or answer is None or marker == "HUGE" else text
            data = json.dumps({"choices": [{"text": text}], "usage": {"completion_tokens": 8}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def run(scale: int = 20, tokenizer: str | None = None, workdir: str | None = None) -> dict:
    """Build the corpus, run the commands, check them; the figures per command."""
    root = Path(workdir or tempfile.mkdtemp(prefix="prox-bad-inputs-"))
    corpus = root / "corpus"
    manifest = build(corpus, scale)
    results = {}
    commands = {
        "refine": ["refine", str(corpus), "-o", str(root / "refine"), "--checkpoint-every", "50", "--no-progress"],
        "execute": ["execute", str(corpus), "-o", str(root / "execute")],
    }
    server = None
    if tokenizer:
        server, url = hostile_server()
        commands["refine (hostile model)"] = [
            "refine", str(corpus), "-o", str(root / "model"), "--backend", "openai", "--doc-model", "hostile",
            "--chunk-model", "hostile", "--no-constrained", "-O", f"base_url={url}", "-O", f"tokenizer={tokenizer}",
            "-O", "mode=text", "-O", "max_retries=0", "--no-progress", "--max-writer-errors", "1"]
    try:
        for name, args in commands.items():
            status, output, seconds = prox(*args)
            folder = Path(args[args.index("-o") + 1])
            stats = json.loads((folder / "stats.json").read_text()) if (folder / "stats.json").exists() else {}
            figures = check(folder, manifest, stats) if status == 0 else {"failures": [f"exit {status}: {output[-2000:]}"]}
            results[name] = {"exit": status, "seconds": round(seconds, 1), **figures}
    finally:
        if server:
            server.shutdown()
    return {"records_written": len(manifest["expected"]) + len(manifest["maybe"]), "commands": results}


def timed(*args: str, timeout: float = 1800) -> str:
    """``prox ARGS`` in a fresh process: exit status, wall time and the peak RSS of the process and its children."""
    code = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
            "done = subprocess.run([sys.executable, '-m', 'prox.cli', *sys.argv[1:]], capture_output=True, text=True); "
            "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
            "print(done.returncode, round(time.perf_counter() - start, 1), round(peak), (done.stdout + done.stderr).strip().splitlines()[-1:])")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)
    status, seconds, peak, last = done.stdout.split(" ", 3)
    return f"exit {status}, {seconds} s, peak RSS {peak} MB, last line: {last.strip()[:160]}"


def dripping_server():
    """A server that answers 200 and then one byte every 0.5 s, for an hour."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(7200):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def costs(tokenizer: str | None, workdir: str | None = None) -> None:
    root = Path(workdir or tempfile.mkdtemp(prefix="prox-costs-"))
    root.mkdir(parents=True, exist_ok=True)
    line = "The river town kept its old stone bridge after the flood, and the market still meets on it."
    text = "\n".join([line] * 3300)  # about 300 KB
    programs = ["\n".join(f'normalize(source_str="bridge{i}-{j}", target_str="")' for j in range(600)) for i in range(500)]
    record = {"id": "many-programs", "raw_content": text, "metadata": {"doc_program": "keep_doc()", "chunk_program": programs}}
    (root / "programs.jsonl").write_text(json.dumps(record) + "\n")
    print("500 programs x 600 normalizations, 300 KB:", timed("execute", str(root / "programs.jsonl"), "-o", str(root / "a")), flush=True)
    with open(root / "long-line.jsonl", "w") as handle:
        handle.write(json.dumps({"id": "long", "raw_content": "word " * 20_000_000, "metadata": {"doc_program": "keep_doc()"}}) + "\n")
    print("one line of 100 MB:", timed("execute", str(root / "long-line.jsonl"), "-o", str(root / "b")), flush=True)
    if tokenizer:
        server, url = dripping_server()
        (root / "three.jsonl").write_text("".join(json.dumps({"id": f"d{i}", "text": line}) + "\n" for i in range(3)))
        print("a server dripping a byte every 0.5 s, -O timeout=2:", timed(
            "refine", str(root / "three.jsonl"), "-o", str(root / "c"), "--backend", "openai", "--doc-model", "x",
            "--stages", "doc", "-O", f"base_url={url}", "-O", f"tokenizer={tokenizer}", "-O", "mode=text", "-O", "timeout=2",
            "-O", "max_retries=0", "--max-writer-errors", "1"), flush=True)
        server.shutdown()
    with open(root / "million.jsonl", "w") as handle:
        handle.write(json.dumps({"id": "million", "text": "\n".join(f"line {i} of a long list of words" for i in range(1_000_000))}) + "\n")
    print("one document of 1 M lines (38 MB), the default preset:", timed("refine", str(root / "million.jsonl"), "-o", str(root / "d")), flush=True)


def guards(tokenizer: str | None = None, workdir: str | None = None) -> list[str]:
    """The ways a run used to lose, mix or delete files, or leak a secret, each tried as a user (or a scheduler) would:
    one line per case, what prox did."""
    root = Path(workdir or tempfile.mkdtemp(prefix="prox-guards-"))
    root.mkdir(parents=True, exist_ok=True)
    lines = []

    def corpus(path: Path, count: int, start: int = 0, **extra) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps({"id": start + i, "text": page(start + i), **extra}) + "\n" for i in range(count)))
        return path

    def last_line(output: str) -> str:
        return (output.strip().splitlines() or [""])[-1][:150]

    def heuristic(*args: str) -> tuple[int, str]:
        status, output, _ = prox("refine", *args, "--preset", "heuristic", "--no-progress")
        return status, output

    def documents(run: Path) -> tuple[int, int]:
        """(distinct documents in kept + dropped, broken lines)."""
        ids, broken = set(), 0
        for kind in ("kept", "dropped"):
            for path in sorted((run / kind).glob("*.jsonl")) if (run / kind).is_dir() else []:
                for line in path.read_text(errors="replace").splitlines():
                    try:
                        ids.add(json.dumps(json.loads(line)["id"]))
                    except (ValueError, KeyError, TypeError):
                        broken += 1
        return len(ids), broken

    # two runs on one folder at once
    data = corpus(root / "two" / "data.jsonl", 3000)
    command = [sys.executable, "-m", "prox.cli", "refine", str(data), "-o", str(root / "two" / "run"), "--preset",
               "heuristic", "--no-progress", "--checkpoint-every", "100"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (root / "two" / "run" / "checkpoints").exists() and first.poll() is None:
        time.sleep(0.05)
    second = subprocess.run(command, capture_output=True, text=True)
    first.communicate()
    count, broken = documents(root / "two" / "run")
    lines.append(f"two runs on one folder: exits {first.returncode} and {second.returncode}, {count} of 3000 documents, "
                 f"{broken} broken lines; the second said: {last_line(second.stderr)}")

    # the output inside the input folder
    corpus(root / "inside" / "data" / "a.jsonl", 300)
    corpus(root / "inside" / "data" / "b.jsonl", 300, 300)
    status, output = heuristic(str(root / "inside" / "data"), "-o", str(root / "inside" / "data" / "out"), "--tasks", "2")
    lines.append(f"output inside the input (600 documents, --tasks 2): exit {status}: {last_line(output)}")

    # inputs that change
    folder = root / "change" / "data"
    corpus(folder / "a.jsonl", 500)
    run = str(root / "change" / "run")
    heuristic(str(folder), "-o", run)
    corpus(folder / "b.jsonl", 500, 500)
    status, output = heuristic(str(folder), "-o", run)
    lines.append(f"a file added after a finished run: exit {status}: {last_line(output)}")
    for marker in Path(run, "checkpoints").glob("*.json"):
        marker.unlink()  # as if killed before its first commit
    status, output = heuristic(str(folder), "-o", run)
    lines.append(f"a file added between a kill and the resume: exit {status}: {last_line(output)}")
    for name in ("one", "two"):
        corpus(root / "relative" / name / "data.jsonl", 100, 1000 * (name == "two"))
    subprocess.run([sys.executable, "-m", "prox.cli", "refine", "data.jsonl", "-o", str(root / "relative" / "run"),
                    "--preset", "heuristic", "--no-progress"], cwd=root / "relative" / "one", capture_output=True)
    done = subprocess.run([sys.executable, "-m", "prox.cli", "refine", "data.jsonl", "-o", str(root / "relative" / "run"),
                           "--preset", "heuristic", "--no-progress"], cwd=root / "relative" / "two", capture_output=True, text=True)
    lines.append(f"a relative input resumed from another directory: exit {done.returncode}: {last_line(done.stderr)}")
    from prox.settings import STUDENT_WEB

    student = root / "student"
    shutil.copytree(STUDENT_WEB, student, dirs_exist_ok=True)
    models = ["--doc-model", str(student), "--chunk-model", str(student), "--no-progress"]
    prox("refine", str(folder / "a.jsonl"), "-o", str(root / "student-run"), *models)
    (student / "docs.txt").write_text((student / "docs.txt").read_text().replace("Tree=0", "Tree=0\n", 1))
    status, output, _ = prox("refine", str(folder / "a.jsonl"), "-o", str(root / "student-run"), *models)
    lines.append(f"a student re-distilled in place: exit {status}: {last_line(output)}")

    # files prox did not write
    mine = root / "mine"
    corpus(mine / "data.jsonl", 50)
    (mine / "progress").mkdir(exist_ok=True)
    (mine / "progress" / "notes.txt").write_text("mine")
    (mine / "stats.json").write_text('{"mine": 1}')
    done = subprocess.run([sys.executable, "-m", "prox.cli", "refine", "data.jsonl", "--output", ".", "--preset",
                           "heuristic", "--no-progress"], cwd=mine, capture_output=True, text=True)
    kept = (mine / "progress" / "notes.txt").exists() and (mine / "stats.json").read_text() == '{"mine": 1}'
    lines.append(f"--output . over the user's progress/ and stats.json: exit {done.returncode}, the user's files "
                 f"{'intact' if kept else 'LOST'}: {last_line(done.stderr)}")
    shutil.rmtree(mine / "progress", ignore_errors=True)
    (mine / "stats.json").unlink(missing_ok=True)
    (mine / "README.md").write_text("# mine\n")
    (mine / "notes").mkdir(exist_ok=True)
    (mine / "notes" / "app.log").write_text("mine")
    common = [sys.executable, "-m", "prox.cli", "refine", "data.jsonl", "--output", ".", "--preset", "heuristic",
              "--no-progress", "--existing-folder"]
    subprocess.run(common, cwd=mine, capture_output=True)
    done = subprocess.run([*common, "--stages", "doc", "--force"], cwd=mine, capture_output=True, text=True)
    kept = (mine / "README.md").read_text() == "# mine\n" and (mine / "notes" / "app.log").exists()
    card = subprocess.run([sys.executable, "-m", "prox.cli", "card", "."], cwd=mine, capture_output=True, text=True)
    kept = kept and (mine / "README.md").read_text() == "# mine\n"
    lines.append(f"--existing-folder, then --force and prox card beside the user's README.md and notes/: exits "
                 f"{done.returncode} and {card.returncode}, the user's files {'intact' if kept else 'LOST'}")
    run = root / "own-inputs"
    heuristic(str(corpus(root / "own-inputs.jsonl", 49)), "-o", str(root / "refined"))
    prox("execute", str(root / "refined" / "kept"), "-o", str(run))
    status, output, _ = prox("execute", str(run / "kept"), "-o", str(run), "--force", "--drop-fraction", "0.5")
    lines.append(f"prox execute RUN/kept -o RUN --force: exit {status}, {documents(run)[0]} of 49 documents left: "
                 f"{last_line(output)}")

    # records kept as they came
    data = root / "fields.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": 7, "text": page(1), "raw_content": "<html>the page</html>", "url": "top", "metadata": {"url": "meta"},
         "prox": "mine"},
        {"id": {"nested": 1}, "text": page(2), "metadata": {"doc_program": "drop_doc()"}}]))
    heuristic(str(data), "-o", str(root / "fields"), "--stages", "chunk")
    found = read_outputs(root / "fields")
    by_page = {r["raw_content"].split(":")[0]: r for r in found["kept"] + found["dropped"]}
    first, second = by_page.get("Story 1", {}), by_page.get("Story 2", {})
    lines.append("input fields: id 7 -> {}, id {{'nested': 1}} -> {}, metadata.url {}, kept apart: {}; a stored "
                 "drop_doc() the run did not write: {}".format(
                     json.dumps(first.get("id")), json.dumps(second.get("id")), json.dumps(first.get("metadata", {}).get("url")),
                     sorted(first.get("metadata", {}).get("prox", {}).get("input_fields", {})),
                     "kept" if second.get("text") else "dropped"))

    # Parquet: types with no JSON form in, the input's fields as columns out
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(20)), "text": [page(i) for i in range(20)], "source": ["crawl"] * 20,
                      "url": [f"https://example.com/{i}" for i in range(20)], "license": ["cc-by"] * 20,
                      "price": pa.array([decimal.Decimal("12.50")] * 20, pa.decimal128(6, 2)),
                      "blob": pa.array([b"\x00\xff"] * 20, pa.binary()),
                      "took": pa.array([datetime.timedelta(seconds=90)] * 20, pa.duration("ms"))})
    pq.write_table(table, root / "typed.parquet")
    heuristic(str(root / "typed.parquet"), "-o", str(root / "typed-jsonl"))
    jsonl = json.loads((root / "typed-jsonl" / "stats.json").read_text())
    heuristic(str(root / "typed.parquet"), "-o", str(root / "typed-parquet"), "--format", "parquet")
    part = pq.read_table(sorted((root / "typed-parquet" / "kept").glob("*.parquet"))[0])
    metadata = part.schema.field("metadata").type
    lines.append(f"Parquet with decimal, binary and duration columns: JSONL output kept {jsonl.get('kept')} and rejected "
                 f"{jsonl.get('rejected')} of 20; Parquet output columns: id {part.schema.field('id').type}, metadata."
                 f"{{{', '.join(metadata.field(i).name for i in range(metadata.num_fields))}}}")

    # secrets
    if tokenizer:
        server, url = hostile_server()
        secret_url = url.replace("http://", "http://alice:hunter2@")
        status, output, _ = prox("refine", str(folder / "a.jsonl"), "-o", str(root / "secrets"), "--backend", "openai",
                                 "--doc-model", "m", "--chunk-model", "m", "-O", f"base_url={secret_url}", "-O",
                                 "api_key=sk-topsecret", "-O", f"tokenizer={tokenizer}", "-O", "mode=text", "-O",
                                 'extra_body={"token": "tok-secret"}', "--no-progress")
        server.shutdown()
        prox("report", str(root / "secrets"))
        leaks = sorted(str(p.relative_to(root / "secrets")) for p in (root / "secrets").rglob("*") if p.is_file()
                       and p.name != "executor.pik" and any(s in p.read_bytes() for s in (b"hunter2", b"sk-topsecret", b"tok-secret")))
        lines.append(f"secrets in -O api_key, base_url credentials and extra_body: exit {status}, files holding one: {leaks or 'none'}")
    return lines


def big_parquet(workdir: str | None = None, documents: int = 1000, size: int = 2_300_000) -> str:
    """One Parquet part over 2 GiB of text (``documents`` books of ``size`` characters, ``prox execute --format
    parquet``, one part): how many records its files hold, and what it cost."""
    import pyarrow.parquet as pq

    root = Path(workdir or tempfile.mkdtemp(prefix="prox-big-parquet-"))
    root.mkdir(parents=True, exist_ok=True)
    line = "The river town kept its old stone bridge after the flood, and the market still meets on it.\n"
    book = (line * (size // len(line) + 1))[:size]
    with open(root / "books.jsonl", "w") as handle:
        for i in range(documents):
            handle.write(json.dumps({"id": i, "raw_content": book, "metadata": {"doc_program": "keep_doc()"}}) + "\n")
    cost = timed("execute", str(root / "books.jsonl"), "-o", str(root / "out"), "--format", "parquet")
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in sorted((root / "out").glob("*/*.parquet")))
    shutil.rmtree(root)
    return f"{documents} documents of {size / 1e6:.1f} MB in one part: {rows} rows in the Parquet outputs; {cost}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20, help="good records per file (the hostile ones scale with it)")
    parser.add_argument("--model", default=None, help="a tokenizer folder: also refine with a hostile model server")
    parser.add_argument("--costs", action="store_true", help="what the costliest inputs cost (time, peak RSS)")
    parser.add_argument("--guards", action="store_true", help="the ways a run could lose, mix or delete files, or leak")
    parser.add_argument("--big-parquet", action="store_true", help="one Parquet part over 2 GiB of text")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if args.guards:
        print("\n".join(guards(args.model, args.workdir)))
        return
    if args.big_parquet:
        print(big_parquet(args.workdir))
        return
    if args.costs:
        costs(args.model, args.workdir)
        return
    print(json.dumps(run(args.scale, args.model, args.workdir), indent=2))


if __name__ == "__main__":
    main()
