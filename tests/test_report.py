"""The HTML report in a real headless browser, hostile documents included, and the terminal diff."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from prox.pipeline import RefineJob

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


def make_run(tmp_path: Path) -> Path:
    records = [{"id": f"doc-{i}", "text": "\n".join(ARTICLE), "source": "news"} for i in range(6)]
    records += [{"id": f"hostile-{i}", "text": "\n".join(ARTICLE[:3] + [line] + ARTICLE[3:]), "source": "<b>evil</b>"}
                for i, line in enumerate(HOSTILE)]
    records.append({"id": "spam", "text": "buy cheap " * 40, "source": "spam"})
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n{broken json\n")
    RefineJob([str(source)], str(tmp_path / "run")).run()
    return tmp_path / "run"


def test_report_is_self_contained_escaped_and_complete(tmp_path):
    from prox.report.html import write_report

    run = make_run(tmp_path)
    page = Path(write_report(str(run))).read_text(encoding="utf-8")
    assert "<script>document" not in page and "&lt;script&gt;document.body" in page
    assert "onerror=\"document" not in page and 'href="javascript:' not in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch: it opens offline
    assert page.count("<script>") == 1 and "Content-Security-Policy" in page
    assert page.count('<article class="doc') == 12 and 'class="line removed"' in page and 'class="src"' in page
    assert "random sample of 12 of 12" in page and "Rejected input (1" in page and page.count("<svg") == 4


def test_report_renders_in_headless_chromium_and_planted_scripts_do_not_run(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium; apt-get install chromium)")
    from prox.report.html import write_report

    run = make_run(tmp_path)
    report = write_report(str(run))
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=5000"]
    dom = subprocess.run(flags + ["--dump-dom", f"file://{report}"], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = dom.stdout
    assert 'data-ready="yes"' in body  # the report's own script ran to its end ...
    assert "data-pwned" not in body.split("<body", 1)[1].split(">", 1)[0]  # ... and none of the planted ones did
    assert "&lt;script&gt;document.body.setAttribute" in body and "documents read" in body
    assert body.count('class="line removed"') >= 12 and body.count("<svg") == 4
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
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
    show(loaded.sample, console)
    text = console.export_text(clear=False)
    assert "000 Home | News" in text and "<script>document.body" in text and "remove_lines" in text
    styled = console.export_html(inline_styles=True)
    assert "line-through" in styled
