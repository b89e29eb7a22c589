"""``prox report``: one self-contained HTML file (no network) with a run's figures, charts and diffs.

Web text is hostile. Every string from a document goes through :func:`escape`; on top of that the page
carries a Content-Security-Policy that allows only its own script (by hash) and no remote resource, so
even a string that escaped escaping could not run or load anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import time
from typing import Iterable

from prox.report.diff import DocView
from prox.report.run import RunReport

MAX_LINES = 400  # lines shown per document; the rest is counted
MAX_LINE_CHARS = 2000

SCRIPT = """(function () {
  var kind = document.getElementById('filter-kind'), reason = document.getElementById('filter-reason');
  var text = document.getElementById('filter-text'), shown = document.getElementById('shown');
  var docs = Array.prototype.slice.call(document.querySelectorAll('article.doc'));
  function apply() {
    var k = kind.value, r = reason.value, q = text.value.toLowerCase(), n = 0;
    docs.forEach(function (d) {
      var ok = (k === 'all' || d.getAttribute('data-kind') === k) && (r === 'all' || d.getAttribute('data-reason') === r)
        && (!q || d.textContent.toLowerCase().indexOf(q) >= 0);
      d.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
  }
  kind.addEventListener('change', apply);
  reason.addEventListener('change', apply);
  text.addEventListener('input', apply);
  apply();
  document.body.setAttribute('data-ready', 'yes');
})();"""

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1d1d1f; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } .meta { color: #666; }
table.figures { border-collapse: collapse; } table.figures td { padding: 2px 14px 2px 0; } td.v { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1.5em; margin: 1.5em 0; }
.chart h3 { margin: 0 0 0.3em; font-size: 15px; } svg text { font: 12px system-ui, sans-serif; fill: #333; }
.filters { position: sticky; top: 0; background: #fff; padding: 0.6em 0; border-bottom: 1px solid #ddd; z-index: 1; }
article.doc { border: 1px solid #ddd; border-radius: 6px; margin: 1em 0; padding: 0.6em 0.9em; }
article.dropped { border-left: 5px solid #c0392b; } article.kept { border-left: 5px solid #27ae60; }
article header { display: flex; flex-wrap: wrap; gap: 0.3em 1.2em; font-size: 13px; color: #444; }
article header .id { font-weight: 600; color: #111; word-break: break-all; }
.lines { font: 12.5px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; margin-top: 0.5em; }
.line .n { color: #999; user-select: none; margin-right: 0.6em; }
.line.removed { background: #fdecea; color: #8a8a8a; } .line.removed .t { text-decoration: line-through; }
.src { background: #fff3bf; text-decoration: line-through; } .dst { background: #d3f9d8; }
.dst:empty::after { content: "\\2205"; color: #999; }
pre.program { background: #f6f8fa; padding: 0.5em; overflow-x: auto; font-size: 12px; }
.more { color: #888; font-style: italic; }
"""


def escape(value) -> str:
    """Text safe inside HTML elements and attributes; broken Unicode (lone surrogates) becomes U+FFFD."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    return html.escape(text, quote=True)


def render(report: RunReport) -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:"
    reasons = sorted(report.reasons)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>prox report: {escape(report.folder)}</title><style>{STYLE}</style></head><body>",
        "<h1>prox report</h1>",
        f'<p class="meta">Run folder <code>{escape(report.folder)}</code>, generated {escape(time.strftime("%Y-%m-%d %H:%M"))}. '
        f'Charts count all {report.documents:,} output documents; <strong id="sample-note">the document list is a random sample of '
        f"{len(report.sample):,} of {report.documents:,}</strong>."
        + (f" {report.unreadable:,} output records had metadata this report cannot read and are not in the charts."
           if report.unreadable else "") + "</p>",
        _figures(report),
        '<section class="charts">',
        _chart("Words kept per document", [(f"{10 * b}-{10 * b + 9}%" if b < 10 else "100%", report.kept_share[b]) for b in range(11)], "documents"),
        _chart("Why documents ended as they did", report.reasons.most_common(), "documents"),
        _chart("Operations per document (lines removed + normalizations)",
               [(str(k) if k < 20 else "20+", report.operations[k]) for k in sorted(report.operations)], "documents"),
        _chart("Retention per source (share of documents kept)", _retention(report), "% kept", percent=True),
        "</section>",
        '<section id="documents"><h2>Documents</h2>',
        '<div class="filters"><label>Show <select id="filter-kind"><option value="all">all</option>'
        '<option value="kept">kept</option><option value="dropped">dropped</option></select></label> '
        '<label>reason <select id="filter-reason"><option value="all">all</option>'
        + "".join(f'<option value="{escape(r)}">{escape(r)}</option>' for r in reasons)
        + '</select></label> <label>search <input id="filter-text" type="search" placeholder="text in the document"></label> '
        f'<span><span id="shown">{len(report.sample)}</span> of {len(report.sample)} shown</span></div>',
        *(_document(doc) for doc in report.sample),
        "</section>",
        _rejected(report),
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _figures(report: RunReport) -> str:
    s = report.summary
    rows = [("documents read", s.get("read", report.documents + report.rejected_total)), ("kept", s.get("kept")),
            ("dropped", s.get("dropped")), ("rejected (unreadable input)", s.get("rejected", report.rejected_total)),
            ("words kept", f"{s['words_kept']:.1%}" if isinstance(s.get("words_kept"), float) else None),
            ("tokens in / out", f"{s['tokens_in']:,} / {s['tokens_out']:,}" if "tokens_in" in s else None),
            ("lines removed", s.get("lines_removed")), ("normalizations", s.get("normalizations")),
            ("parse-error rate", f"{s['parse_error_rate']:.2%}" if "parse_error_rate" in s else None),
            ("kept + dropped + rejected = read", {True: "yes", False: "NO"}.get(s.get("balanced")))]
    body = "".join(f'<tr><td>{escape(k)}</td><td class="v">{escape(f"{v:,}" if isinstance(v, int) else v)}</td></tr>'
                   for k, v in rows if v is not None)
    return f'<section id="figures"><h2>Figures</h2><table class="figures">{body}</table></section>'


def _retention(report: RunReport) -> list[tuple[str, float]]:
    top = sorted(report.sources.items(), key=lambda item: -item[1][0])[:15]
    return [(f"{source} ({figures[0]:,})", 100.0 * figures[1] / figures[0]) for source, figures in top if figures[0]]


def _chart(title: str, items: Iterable[tuple[str, float]], unit: str, percent: bool = False) -> str:
    """A horizontal bar chart as inline SVG."""
    items = list(items)
    width, label_width, row = 480, 190, 20
    height = row * max(1, len(items)) + 10
    top = max([v for _, v in items] + [100.0 if percent else 1])
    bars = []
    for i, (label, value) in enumerate(items):
        length = (width - label_width - 70) * (value / top if top else 0)
        shown = f"{value:.0f}%" if percent else f"{value:,}"
        y = 5 + i * row
        bars.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{escape(label[:32])}</text>'
                    f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="#4c7bd9"></rect>'
                    f'<text x="{label_width + length + 4:.1f}" y="{y + 14}">{escape(shown)}</text>')
    return (f'<div class="chart"><h3>{escape(title)}</h3><svg role="img" aria-label="{escape(title)} ({escape(unit)})" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(bars)}</svg></div>')


def _document(doc: DocView) -> str:
    kind = "dropped" if doc.dropped else "kept"
    programs = ([f"# doc\n{doc.doc_program}"] if doc.doc_program is not None else []) + [
        f"# chunk {i}\n{p}" for i, p in enumerate(doc.chunk_programs)]
    lines = [_line(line) for line in doc.lines[:MAX_LINES]]
    if len(doc.lines) > MAX_LINES:
        lines.append(f'<div class="more">... {len(doc.lines) - MAX_LINES:,} more lines not shown</div>')
    errors = "".join(f"<li>{escape(e)}</li>" for e in doc.errors)
    return (
        f'<article class="doc {kind}" data-kind="{kind}" data-reason="{escape(doc.reason)}">'
        f'<header><span class="id">{escape(doc.id)}</span><span>{kind}: {escape(doc.reason)}</span>'
        f"<span>source: {escape(doc.source)}</span><span>words {doc.words_before:,} &#8594; {doc.words_after:,}</span></header>"
        + (f'<details><summary>programs</summary><pre class="program">{escape(chr(10).join(programs))}</pre></details>' if programs else "")
        + (f"<ul>{errors}</ul>" if errors else "")
        + f'<div class="lines">{"".join(lines)}</div></article>'
    )


def _line(line) -> str:
    pieces = []
    for piece in line.pieces:
        text = escape(piece.text[:MAX_LINE_CHARS])
        if piece.replaced_by is None:
            pieces.append(text)
        else:
            pieces.append(f'<span class="src" title="normalized">{text}</span><span class="dst">{escape(piece.replaced_by)}</span>')
    cls = "line removed" if line.removed else "line"
    return f'<div class="{cls}"><span class="n">{line.number:03d}</span><span class="t">{"".join(pieces)}</span></div>'


def _rejected(report: RunReport) -> str:
    if not report.rejected_total:
        return ""
    rows = "".join(f"<tr><td>{escape(r.get('file', ''))}</td><td>{escape(r.get('where', ''))}</td><td>{escape(r.get('error', ''))}</td></tr>"
                   for r in report.rejected)
    return (f'<section id="rejected"><h2>Rejected input ({report.rejected_total:,}, first {len(report.rejected)} shown)</h2>'
            f'<table class="figures"><tr><th>file</th><th>where</th><th>error</th></tr>{rows}</table></section>')


def write_report(folder: str, output: str | None = None, sample_size: int = 200, seed: int = 0) -> str:
    """Write the HTML report of ``folder`` (default ``folder/report.html``); returns its path."""
    import os

    from prox.report.run import load

    report = load(folder, sample_size, seed)
    path = output or os.path.join(folder, "report.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render(report))
    return path
