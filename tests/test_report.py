"""The HTML report in a real headless browser, hostile documents included, and the terminal diff."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from prox.jobs import RefineJob
from prox.program.stored import Thresholds

ARTICLE = ["Home | News | Sport | Contact", "Log in | Register",
           "The old mill on the river was restored by volunteers over three summers, using timber from the estate. [edit]",
           "Its wheel turns again on open days, and the miller grinds flour that the village bakery sells on Saturdays.",
           "Visitors can climb to the top floor, where the gears are, and watch the stones at work through a window.",
           "The volunteers keep a logbook of every repair, and the school brings its pupils to read it each spring.",
           "A small shop by the door sells the flour, postcards of the mill and a booklet on how the wheel was rebuilt.",
           "Share on Facebook", "Copyright © 2024 Example Media. All rights reserved."]
HOSTILE = [
    "<script>document.body.setAttribute('data-pwned', 'script')</script>",
    "<img src=x onerror=\"document.body.setAttribute('data-pwned', 'onerror')\">",
    "</textarea></pre></div><script>document.body.setAttribute('data-pwned', 'breakout')</script>",
    '<a href="javascript:document.body.setAttribute(\'data-pwned\', \'link\')">click</a>',
    "<style>body { display: none }</style> broken \ud800 unicode \u202e reversed",
]
LONG_SOURCE = "a-source-with-a-very-long-name-that-the-retention-chart-used-to-cut.example.org"


def make_run(tmp_path: Path) -> Path:
    records = [{"id": f"doc-{i}", "text": "\n".join(ARTICLE), "source": "news"} for i in range(6)]
    records += [{"id": f"hostile-{i}", "text": "\n".join(ARTICLE[:3] + [line] + ARTICLE[3:]), "source": "<b>evil</b>"}
                for i, line in enumerate(HOSTILE)]
    records.append({"id": "spam", "text": "buy cheap " * 40, "source": "spam"})
    records.append({"id": "short", "text": "A short note about the old mill, written on one line.", "source": "news"})
    records.append({"id": "long-source", "text": "\n".join(ARTICLE), "source": LONG_SOURCE})
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n{broken json\n")  # one rejected record: line 15
    RefineJob([str(source)], str(tmp_path / "run"), preset="heuristic", thresholds=Thresholds(short_words=12)).run()
    return tmp_path / "run"


def chart_values(page: str, key: str) -> list[tuple[str, float]]:
    """(label, value) of each bar of the chart ``key``, from the page's markup or a browser's DOM."""
    chart = re.search(rf'id="chart-{key}".*?</svg>', page, re.S)
    assert chart, key
    return [(html_text(label), float(value)) for value, label in
            re.findall(r'<g class="bar" data-value="([\d.]+)"><title>(.*?): [^<]*</title>', chart.group())]


def html_text(markup: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def check_explains_the_run(page: str, stats: dict) -> None:
    """What the report must say about a run of ``make_run``, in its markup or in a browser's DOM."""
    settings = re.search(r'id="run-settings".*?</table>', page, re.S).group()
    assert "prox refine" in settings and re.search(r"preset</th><td>heuristic<", settings)
    assert re.search(r"stages</th><td>doc, chunk<", settings) and re.search(r"score</th><td>no", settings)
    assert re.search(r'<code>short_words</code></td><td class="v">12<', page)  # the threshold this run set
    assert re.search(r'<code>drop_fraction</code></td><td class="v">0.95<', page)
    timing = html_text(re.search(r'id="run-time".*?</table>', page, re.S).group())
    assert f"duration{stats['seconds']:.2f} s" in timing and "throughput" in timing
    assert "in.jsonl" in re.search(r'id="run-inputs".*?</table>', page, re.S).group()
    # every reason, with what fired it: a filter and a rule for the heuristic drops
    reasons = re.search(r'id="reason-table".*?</table>', page, re.S).group()
    assert sorted(re.findall(r'<tr data-reason="([^"]+)"', reasons)) == sorted(stats["reasons"])
    assert "filter <strong>gopher_quality</strong>" in reasons and "filter gopher_quality \u00b7 rule gopher_short_doc" in html_text(reasons)
    assert "the chunk programs were applied" in reasons
    # the rejected record, where it was and why
    rejected = re.search(r'<section id="rejected">.*?</section>', page, re.S).group()
    assert "Rejected input (1 record, all shown)" in rejected
    assert "in.jsonl" in rejected and ">line 15<" in rejected and "invalid JSON" in rejected and "{broken json" in rejected
    assert 'id="legend"' in page and "line removed by remove_lines" in page and "kept document" in page
    # kept and dropped documents in charts of their own
    kept_words, operations = chart_values(page, "kept-words"), chart_values(page, "kept-operations")
    assert sum(v for _, v in kept_words) == stats["kept"] == sum(v for _, v in operations)
    labels = [label for label, _ in operations]
    assert labels == [str(n) for n in range(len(labels))] or labels == [str(n) for n in range(20)] + ["20+"]
    assert 0.0 in [v for _, v in operations]  # an operation count no document has is a bar of 0, not a gap
    dropped = chart_values(page, "drop-reasons")
    assert sum(v for _, v in dropped) == stats["dropped"] == sum(v for _, v in chart_values(page, "dropped-words"))
    assert {label for label, _ in dropped} == {r for r in stats["reasons"] if r != "refined"}
    assert LONG_SOURCE in [label for label, _ in chart_values(page, "retention")]  # whole in the bar's tooltip ...
    assert f'<td class="name">{LONG_SOURCE}</td>' in page  # ... and in the table of sources


def test_report_is_self_contained_escaped_and_complete(tmp_path):
    from prox.report.html import write_report

    run = make_run(tmp_path)
    page = Path(write_report(str(run))).read_text(encoding="utf-8")
    assert "<script>document" not in page and "&lt;script&gt;document.body" in page
    assert "onerror=\"document" not in page and 'href="javascript:' not in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch: it opens offline
    assert page.count("<script>") == 1 and "Content-Security-Policy" in page
    assert page.count('<article class="doc') == 14 and 'class="line removed"' in page and 'class="src"' in page
    assert "random sample of 14 of 14" in page and "Rejected input (1" in page and page.count("<svg") == 5


def test_report_explains_the_run_settings_reasons_rejects_and_charts(tmp_path):
    from prox.report.html import write_report

    run = make_run(tmp_path)
    stats = json.loads((run / "stats.json").read_text())
    page = Path(write_report(str(run))).read_text(encoding="utf-8")
    check_explains_the_run(page, stats)
    orders = [int(n) for n in re.findall(r'data-order="(\d+)"', page)]
    changes = [float(c) for c in re.findall(r'data-change="([\d.]+)"', page)]
    assert orders == list(range(14)) and len(changes) == 14 and all(0 <= c <= 1 for c in changes)
    assert '<select id="sort">' in page and "a dropped document counts as 100%" in page
    # figures the pipeline records in newer runs are shown when present
    stats.update(seconds=4000.5, invocations=3, last_invocation={"seconds": 12.5, "documents": 5}, started=1767225600.0,
                 finished="2026-01-01T01:06:40+00:00")
    (run / "stats.json").write_text(json.dumps(stats))
    page = Path(write_report(str(run))).read_text(encoding="utf-8")
    timing = html_text(re.search(r'id="run-time".*?</table>', page, re.S).group())
    assert "duration1 h 06 min wall time over 3 invocations" in timing and "invocations3" in timing
    assert "started20" in timing and "finished2026-01-01 01:06:40 UTC" in timing and ", 5 documents" in timing
    assert f"throughput{stats['read'] / 4000.5:.2f} documents/s over all invocations" in timing


def test_report_renders_in_headless_chromium_and_planted_scripts_do_not_run(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium; apt-get install chromium)")
    from prox.report.html import write_report

    run = make_run(tmp_path)
    stats = json.loads((run / "stats.json").read_text())
    report = write_report(str(run))
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=5000"]
    dom = subprocess.run(flags + ["--dump-dom", f"file://{report}"], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = dom.stdout
    tag = body.split("<body", 1)[1].split(">", 1)[0]
    assert 'data-ready="yes"' in tag and 'data-sort="original"' in tag  # the report's own script ran to its end ...
    assert "data-pwned" not in tag  # ... and none of the planted ones did
    assert "&lt;script&gt;document.body.setAttribute" in body and "documents read" in body
    assert body.count('class="line removed"') >= 12 and body.count("<svg") == 5
    check_explains_the_run(body, stats)
    assert [int(n) for n in re.findall(r'data-order="(\d+)"', body)] == list(range(14))
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    # sorted by change (the page reads its first sort from the URL): most changed first, dropped ones (100%) leading
    for asked, sign in (("#sort=most", -1), ("?sort=least", 1)):
        dom = subprocess.run(flags + ["--dump-dom", f"file://{report}{asked}"], capture_output=True, text=True, timeout=120)
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert f'data-sort="{asked.split("=")[1]}"' in dom.stdout.split("<body", 1)[1].split(">", 1)[0]
        docs = re.findall(r'<article class="doc (\w+)"[^>]*data-order="(\d+)" data-change="([\d.]+)"', dom.stdout)
        keys = [(sign * float(change), int(order)) for _, order, change in docs]
        assert len(docs) == 14 and keys == sorted(keys) and keys != sorted(keys, key=lambda k: k[1])
        if sign < 0:
            assert [kind for kind, _, _ in docs[:stats["dropped"]]] == ["dropped"] * stats["dropped"]
    output = Path(os.environ.get("PROX_TEST_OUTPUT", Path(__file__).resolve().parents[1] / "test-output"))
    output.mkdir(parents=True, exist_ok=True)
    shot = output / "report.png"
    subprocess.run(flags + ["--window-size=1280,1800", "--hide-scrollbars", f"--screenshot={shot}", f"file://{report}"],
                   capture_output=True, text=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000


def test_show_prints_a_diff_in_the_terminal(tmp_path):
    from rich.console import Console

    from prox.report.run import load
    from prox.report.terminal import show

    run = make_run(tmp_path)
    loaded = load(str(run), ids={"doc-0", "hostile-0"})
    assert sorted(doc.id for doc in loaded.sample) == ["doc-0", "hostile-0"]
    console = Console(record=True, width=120)
    show(loaded.sample, console, marks=False)  # as on a terminal: colour and strike-through
    text = console.export_text(clear=False)
    assert "000 Home | News" in text and "<script>document.body" in text and "remove_lines" in text
    styled = console.export_html(inline_styles=True)
    assert "line-through" in styled


def test_invisible_characters_in_diff_lines_are_shown_as_codes(tmp_path):
    from prox.report.html import write_report

    page = Path(write_report(str(make_run(tmp_path)))).read_text(encoding="utf-8")
    lines = "".join(re.findall(r'<div class="lines">.*?</article>', page, re.S))
    assert "U+202E</span>" in lines and "\u202e" not in lines  # a right-to-left override shown, not obeyed
    from prox.report.html import visible

    assert visible("a\x00b\u2066c\td") == ('a<span class="ctl" title="an invisible character">U+0000</span>b'
                                           '<span class="ctl" title="an invisible character">U+2066</span>c\td')


def test_a_view_costs_the_document_not_what_its_metadata_claims():
    """removed_lines of [0, 10**12] is the document's lines, not a trillion numbers; many normalizations are one
    regex pass per line."""
    from prox.report.diff import view

    text = "\n".join(f"line {i} read more here" for i in range(50))
    record = {"id": "x", "text": "", "raw_content": text, "metadata": {"prox": {
        "dropped": False, "reason": "refined", "removed_lines": [[0, 10**12], "junk", [3]],
        "normalizations": [{"source_str": f"never{i}", "target_str": "", "count": 1} for i in range(5000)]
        + [{"source_str": "read more", "target_str": "", "count": 50}]}}}
    shown = view(record)
    assert len(shown.lines) == 50 and all(line.removed for line in shown.lines)
    assert [p.text for p in shown.lines[7].pieces] == ["line 7 ", "read more", " here"]
    assert shown.lines[7].pieces[1].replaced_by == ""


def test_a_bounded_view_holds_the_lines_it_shows_and_counts_the_whole_document():
    from prox.report.card import diff
    from prox.report.diff import view

    text = "\n".join(f"line {i}" for i in range(1000))
    record = {"id": "x", "text": "", "raw_content": text, "metadata": {"prox": {
        "dropped": False, "reason": "refined", "removed_lines": [[0, 4], [3, 9], [900, 10**9]]}}}
    bounded, whole = view(record, max_lines=20), view(record)
    assert len(bounded.lines) == 20 and bounded.line_count == whole.line_count == 1000 and bounded.hidden_lines == 980
    assert bounded.removed_count == whole.removed_count == 10 + 100 == sum(line.removed for line in whole.lines)
    assert [line.removed for line in bounded.lines] == [line.removed for line in whole.lines[:20]]
    assert "@@" in diff(bounded).splitlines()[-1]  # the lines it did not hold are said to be left out
