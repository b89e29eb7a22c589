"""``prox report``: one self-contained HTML file (no network) with a run's settings, figures, charts and diffs.

Web text is hostile. Every string from a document goes through :func:`escape`; on top of that the page
carries a Content-Security-Policy that allows only its own script (by hash) and no remote resource, so
even a string that escaped escaping could not run or load anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import time
from typing import Iterable, Optional

from prox.masking import mask
from prox.program.executor import REASONS
from prox.report.diff import DocView
from prox.report.run import DROPPED_WORDS, RunReport

MAX_LINES = 400  # lines shown per document; the rest is counted
MAX_LINE_CHARS = 2000
MAX_INPUTS = 20  # input paths listed in the Run section; the rest are counted
MAX_SOURCE_ROWS = 100  # sources listed in the table under the retention chart
MAX_RAW_CHARS = 160  # characters of a rejected record's text shown
CHAR_WIDTH = 6.6  # about the width of a character of a 12px chart label, to size the label column
KEPT, DROPPED, NEUTRAL = "#2f9e44", "#c92a2a", "#4c7bd9"

SCRIPT = """(function () {
  var kind = document.getElementById('filter-kind'), reason = document.getElementById('filter-reason');
  var text = document.getElementById('filter-text'), shown = document.getElementById('shown');
  var sort = document.getElementById('sort'), list = document.getElementById('doc-list');
  var docs = Array.prototype.slice.call(list.querySelectorAll('article.doc'));
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
  function order() {
    var how = sort.value, sign = how === 'least' ? 1 : -1;
    docs.slice().sort(function (a, b) {
      var d = how === 'original' ? 0 : sign * (Number(a.getAttribute('data-change')) - Number(b.getAttribute('data-change')));
      return d || Number(a.getAttribute('data-order')) - Number(b.getAttribute('data-order'));
    }).forEach(function (d) { list.appendChild(d); });
    document.body.setAttribute('data-sort', how);
  }
  var asked = /(?:^|&)sort=(original|most|least)(?:&|$)/.exec(location.search.slice(1) + '&' + location.hash.slice(1));
  if (asked) { sort.value = asked[1]; }
  kind.addEventListener('change', apply);
  reason.addEventListener('change', apply);
  text.addEventListener('input', apply);
  sort.addEventListener('change', order);
  order();
  apply();
  document.body.setAttribute('data-ready', 'yes');
})();"""

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1d1d1f; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { margin: 1.4em 0 0.5em; } .meta, .hint, .note { color: #666; }
nav.toc { display: flex; flex-wrap: wrap; gap: 0.2em 1.2em; font-size: 13px; margin: 0.6em 0 0; }
nav.toc a { color: #1c5fb8; text-decoration: none; } nav.toc a:hover { text-decoration: underline; }
table.figures { border-collapse: collapse; width: 100%; } table.figures td { padding: 2px 14px 2px 0; } td.v { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 0.8em 2em; }
.card h3 { margin: 0 0 0.3em; font-size: 15px; } #run-thresholds { margin-top: 0.8em; }
table.kv { border-collapse: collapse; width: 100%; } table.kv th, table.kv td { padding: 2px 0; vertical-align: top; text-align: left; }
table.kv th { font-weight: normal; color: #555; white-space: nowrap; padding-right: 1em; width: 1%; }
table.kv td { overflow-wrap: anywhere; } ul.plain { list-style: none; margin: 0; padding: 0; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; margin: 0.3em 0; }
table.data th, table.data td { padding: 3px 8px; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
table.data th { background: #f6f8fa; font-weight: 600; } table.data td.v, table.data th.v { text-align: right; }
table.data td.path, table.data td.name { overflow-wrap: anywhere; } td.reason { min-width: 18em; }
td.reason .fired { font-size: 12px; color: #555; } table.data code { overflow-wrap: anywhere; }
.tag { display: inline-block; white-space: nowrap; padding: 0 0.45em; border-radius: 3px; font-size: 12px; color: #fff; }
.tag.kept { background: #2f9e44; } .tag.dropped { background: #c92a2a; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(500px, 1fr)); gap: 1.5em; margin: 1em 0; }
.chart.wide { grid-column: 1 / -1; } .chart h3 { margin: 0; font-size: 15px; } .chart .note { margin: 0.1em 0 0.4em; font-size: 12.5px; }
svg { max-width: 100%; height: auto; } svg text { font: 12px system-ui, sans-serif; fill: #333; }
details.sources { margin-top: 0.4em; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em 1.4em; font-size: 13px; color: #444;
  background: #fafafa; border: 1px solid #e6e6e6; border-radius: 6px; padding: 0.5em 0.8em; margin-bottom: 0.6em; }
.legend .item { display: inline-flex; align-items: center; gap: 0.4em; }
.legend .swatch { display: inline-block; width: 20px; height: 14px; border: 1px solid #ddd; border-radius: 2px; }
.legend .swatch.kept { border-left: 5px solid #27ae60; } .legend .swatch.dropped { border-left: 5px solid #c0392b; }
.legend .line, .legend .n { font: 12.5px ui-monospace, monospace; padding: 0 0.3em; }
.filters { position: sticky; top: 0; background: #fff; padding: 0.6em 0; border-bottom: 1px solid #ddd; z-index: 1; }
.filters .hint { display: block; font-size: 12px; margin-top: 0.2em; }
article.doc { border: 1px solid #ddd; border-radius: 6px; margin: 1em 0; padding: 0.6em 0.9em; }
article.dropped { border-left: 5px solid #c0392b; } article.kept { border-left: 5px solid #27ae60; }
article header { display: flex; flex-wrap: wrap; gap: 0.3em 1.2em; font-size: 13px; color: #444; }
article header .id { font-weight: 600; color: #111; word-break: break-all; }
.lines { font: 12.5px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; margin-top: 0.5em; }
.line .n { color: #999; user-select: none; margin-right: 0.6em; }
.ctl { font-size: 10px; color: #a0522d; border: 1px solid #d9b8a5; border-radius: 2px; padding: 0 1px; }
.line.removed { background: #fdecea; color: #8a8a8a; } .line.removed .t { text-decoration: line-through; }
.src { background: #fff3bf; text-decoration: line-through; } .dst { background: #d3f9d8; }
.dst:empty::after { content: "\\2205"; color: #999; }
pre.program { background: #f6f8fa; padding: 0.5em; overflow-x: auto; font-size: 12px; }
.more { color: #888; font-style: italic; }
"""

# What each reason means. Execution reasons come from the executor; a rule-based doc writer's drops are named
# ``filter:rule`` (the heuristic preset's datatrove filters and prox's line rules).
MEANINGS = {
    **REASONS,
    "empty": "the document has no words: dropped",
    "writer_error": "the writer failed on this document: kept unchanged",
    "execution_error": "running its programs failed: kept unchanged",
    "unknown": "no reason recorded (written by another tool)",
}
FIRED_BY = {"drop_doc": "doc program", "keep_doc": "doc program", "no_doc_operation": "doc program",
            "refined": "chunk programs", "mostly_removed": "chunk programs, threshold drop_fraction",
            "too_short": "chunk programs, threshold short_words", "program_rejected": "chunk programs, threshold error_limit",
            "empty": "input", "writer_error": "writer", "execution_error": "executor"}
FILTERS = {
    "gopher_quality": "Gopher quality filter (datatrove GopherQualityFilter)",
    "gopher_repetition": "Gopher repetition filter (datatrove GopherRepetitionFilter)",
    "fineweb": "FineWeb quality filter (datatrove FineWebQualityFilter)",
    "line_rules": "prox's boilerplate line rules",
    "length": "prox's check for pages outside English (or outside a student's doc languages)",
}
RULES = {
    "gopher_short_doc": "too few words (the heuristic preset's minimum is 80)",
    "gopher_long_doc": "too many words",
    "gopher_below_avg_threshold": "the mean word is too short",
    "gopher_above_avg_threshold": "the mean word is too long",
    "gopher_too_many_hashes": "too many # symbols for its words",
    "gopher_too_many_ellipsis": "too many ellipses for its words",
    "gopher_too_many_bullets": "nearly all lines start with a bullet",
    "gopher_too_many_end_ellipsis": "too many lines end with an ellipsis",
    "gopher_below_alpha_threshold": "too few words hold a letter",
    "gopher_enough_stop_words": "too few common English words (the, of, and, ...): not running prose",
    "line_punct_ratio": "too few lines end with punctuation",
    "short_line_ratio": "too many short lines",
    "char_dup_ratio": "too many characters in duplicated lines",
    "list_ratio": "too many line breaks for its words: a list, not prose",
    "dup_para_frac": "too many duplicated paragraphs",
    "dup_para_char_frac": "too many characters in duplicated paragraphs",
    "dup_line_frac": "too many duplicated lines",
    "dup_line_char_frac": "too many characters in duplicated lines",
    "all_boilerplate": "every line is boilerplate: no content is left to judge",
    "short_content": "under 50 words of content are left (two characters of Chinese, Japanese or Thai count as a word)",
    "empty": "no text left to judge",
    "failed": "the filter failed the document without naming a rule",
}
THRESHOLDS = {  # what each threshold decides, and the reason it gives
    "drop_fraction": ("drop a refined document when at least this share of its words was removed", "mostly_removed"),
    "short_words": ("drop a refined document when at most this many words are left", "too_short"),
    "error_limit": ("keep a document unchanged when a chunk program has this many errors or more", "program_rejected"),
    "drop_threshold": ("score mode: drop a document whose P(drop) is at least this (none: the doc program decides)", "drop_doc"),
}
SHOWN_SETTINGS = ("command", "preset", "backend", "doc_model", "chunk_model", "stages", "score", "docs_per_step",
                  "writer_options", "thresholds")
RUN_SETTINGS = ("inputs", "output", "output_format", "text_key", "id_key", "limit", "tasks", "workers", "executor",
                "executor_options", "checkpoint_every")


def escape(value) -> str:
    """Text safe inside HTML elements and attributes; broken Unicode (lone surrogates) becomes U+FFFD."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    return html.escape(text, quote=True)


# characters that change how the text around them reads without showing (bidirectional overrides and isolates, as in
# "Trojan Source" text) or show nothing (NUL and the other C0/C1 controls but tab): in a diff they are shown as codes
INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(value) -> str:
    """``escape``, with every ``INVISIBLE`` character shown as its code point (``U+202E``), marked."""
    text = escape(value)
    return INVISIBLE.sub(lambda m: f'<span class="ctl" title="an invisible character">U+{ord(m.group()):04X}</span>', text)


def render(report: RunReport) -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>prox report: {escape(report.folder)}</title><style>{STYLE}</style></head><body>",
        "<h1>prox report</h1>",
        f'<p class="meta">Run folder <code>{escape(report.folder)}</code>, generated {escape(time.strftime("%Y-%m-%d %H:%M"))}. '
        f"Charts count all {report.documents:,} output documents, kept and dropped apart; "
        f'<strong id="sample-note">the document list is a random sample of {len(report.sample):,} of {report.documents:,}</strong>.'
        + (f" {report.unreadable:,} output records had metadata this report cannot read and are not in the charts."
           if report.unreadable else "") + "</p>",
        '<nav class="toc"><a href="#run">Run</a><a href="#figures">Figures</a><a href="#reasons">Reasons</a>'
        '<a href="#charts">Charts</a><a href="#rejected">Rejected input</a><a href="#documents">Documents</a></nav>',
        _run(report),
        _figures(report),
        _reasons(report),
        _charts(report),
        _rejected(report),
        _documents(report),
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


# the Run section: what was run, on what, and how long it took

def _plain(value) -> str:
    """A setting as text (escaped by the caller)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} = {_plain(v)}" for k, v in value.items()) or "none"
    return str(value)


def _table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of (label, cell HTML); labels are escaped here, cells by the caller."""
    return '<table class="kv">' + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _items(values: dict) -> str:
    return '<ul class="plain">' + "".join(f"<li><code>{escape(k)}</code> = {escape(_plain(v))}</li>"
                                          for k, v in values.items()) + "</ul>"


def _thresholds(identity: dict) -> str:
    values = identity.get("thresholds")
    if not isinstance(values, dict) or not values:
        return ""
    rows = "".join(f'<tr><td><code>{escape(k)}</code></td><td class="v">{escape(_plain(v))}</td>'
                   f'<td>{escape(THRESHOLDS.get(k, ("", ""))[0])}</td><td><code>{escape(THRESHOLDS.get(k, ("", ""))[1])}</code></td></tr>'
                   for k, v in values.items())
    return ('<div class="card" id="run-thresholds"><h3>Thresholds</h3><table class="data"><tr><th>threshold</th>'
            f'<th class="v">value</th><th>what it decides</th><th>reason it gives</th></tr>{rows}</table></div>')


def _run(report: RunReport) -> str:
    identity = mask(report.identity)  # run.json's settings, no secret among them (nor in an older run.json)
    if not identity:
        return ('<section id="run"><h2>Run</h2><p class="meta">This folder has no run.json: '
                "its settings are not known.</p>" + _timing(report) + "</section>")
    settings = []
    for key in SHOWN_SETTINGS:
        if key not in identity and key != "command" or key == "thresholds":
            continue
        value = identity.get(key)
        label = key.replace("_", " ")
        if key == "command":
            cell = f"<code>prox {escape(value or 'refine')}</code>"
        elif key == "writer_options":
            cell = _items(value if isinstance(value, dict) else {"": value}) if value else "none"
        elif key == "score":
            cell = "yes: the doc model scores P(drop)" if value else "no: the doc program decides"
        elif key in ("doc_model", "chunk_model") and value is None:
            cell = escape(f"none (preset {identity['preset']})" if identity.get("preset") else "none")
        else:
            cell = escape(_plain(value))
        settings.append((label, cell))
    where = []
    inputs = identity.get("inputs")
    if isinstance(inputs, list):
        listed = "".join(f"<li><code>{escape(path)}</code></li>" for path in inputs[:MAX_INPUTS])
        more = f"<li>... and {len(inputs) - MAX_INPUTS:,} more</li>" if len(inputs) > MAX_INPUTS else ""
        where.append((f"inputs ({len(inputs):,})", f'<ul class="plain">{listed}{more}</ul>' if inputs else "none"))
    elif "inputs" in identity:
        where.append(("inputs", escape(_plain(inputs))))
    for key in RUN_SETTINGS[1:]:
        if key in identity:
            where.append((key.replace("_", " "), escape(_plain(identity[key]))))
    for key, value in identity.items():  # settings this report does not know yet: shown as they are
        if key not in SHOWN_SETTINGS and key not in RUN_SETTINGS:
            where.append((key.replace("_", " "), escape(_plain(value))))
    return ('<section id="run"><h2>Run</h2><div class="cards">'
            f'<div class="card" id="run-settings"><h3>Settings</h3>{_table(settings)}</div>'
            f'<div class="card" id="run-inputs"><h3>Inputs and outputs</h3>{_table(where)}</div>'
            f'<div class="card" id="run-time"><h3>Time and throughput</h3>{_timing(report)}</div>'
            f"</div>{_thresholds(identity)}</section>")


def _number(value) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _count(value) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _when(value) -> Optional[str]:
    """A time stats.json gives, as seconds since the epoch or as ISO 8601 text."""
    if _number(value) is not None and value > 0:
        try:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        from datetime import datetime

        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        offset = moment.utcoffset()
        zone = "" if offset is None else " UTC" if not offset else moment.strftime(" UTC%z")
        return moment.strftime("%Y-%m-%d %H:%M:%S") + zone
    return None


def _timing(report: RunReport) -> str:
    s = report.summary
    rows = []
    for key in ("started", "finished"):
        if (when := _when(s.get(key))) is not None:
            rows.append((key, escape(when)))
    last_invocation = s.get("last_invocation") if isinstance(s.get("last_invocation"), dict) else {}
    total, last = _number(s.get("seconds")), _number(last_invocation.get("seconds"))
    invocations, this_run, read = _count(s.get("invocations")), _count(last_invocation.get("documents")), _count(s.get("read"))
    if total is not None:
        over = f" over {invocations:,} invocations" if invocations and invocations > 1 else ""
        rows.append(("duration", escape(f"{_duration(total)} wall time{over}")))
    elif last is not None:
        rows.append(("duration", escape(f"{_duration(last)} (the last invocation)")))
    if invocations is not None:
        rows.append(("invocations", escape(f"{invocations:,}" + (" (the run was resumed)" if invocations > 1 else ""))))
    if last is not None and (total is not None or this_run is not None) and (invocations or 1) > 1:
        rows.append(("last invocation", escape(_duration(last) + (f", {this_run:,} documents" if this_run is not None else ""))))
    elif this_run is not None:
        rows.append(("documents this run", escape(f"{this_run:,}")))
    rate = read / total if total and read else _number(s.get("docs_per_second"))
    if rate is not None:
        rows.append(("throughput", escape(f"{_rate(rate)} documents/s" + (" over all invocations" if total and (invocations or 1) > 1 else ""))))
    stages = s.get("stages") if isinstance(s.get("stages"), dict) else {}
    writers = {"doc": report.identity.get("doc_model"), "chunk": report.identity.get("chunk_model")}
    models = any(writers.values()) or any(isinstance(f, dict) and (f.get("input_tokens") or f.get("output_tokens"))
                                          for f in stages.values())
    lines = []
    for stage, figures in stages.items():
        if not isinstance(figures, dict):
            continue
        cells = [escape(stage), escape(_plain(figures.get("documents"))), escape(_plain(figures.get("seconds"))),
                 escape(_rate(figures["docs_per_second"]) if _number(figures.get("docs_per_second")) is not None else "-")]
        if models:
            cells += [escape(f"{_plain(figures.get('input_tokens'))} / {_plain(figures.get('output_tokens'))}"),
                      escape(_rate(figures["tokens_per_second"]) if _number(figures.get("tokens_per_second")) is not None else "-")]
        lines.append("<tr>" + "".join(f'<td class="v">{c}</td>' if i else f"<td>{c}</td>" for i, c in enumerate(cells)) + "</tr>")
    if not rows and not lines:
        return '<p class="meta">stats.json records no times.</p>'
    table = ""
    if lines:
        head = ["stage", "documents", "busy seconds", "docs/s"] + (["tokens in / out", "tokens/s"] if models else [])
        table = ('<table class="data" id="stages"><tr>' + "".join(f'<th class="v">{h}</th>' if i else f"<th>{h}</th>"
                                                                 for i, h in enumerate(head)) + "</tr>" + "".join(lines) + "</table>"
                 + '<p class="hint">Busy seconds are summed over tasks' + ("" if models else "; no model ran, so no tokens") + ".</p>")
    return _table(rows) + table


# figures and reasons

def _figures(report: RunReport) -> str:
    s = report.summary
    groups = {
        "Documents": [("documents read", s.get("read", report.documents + report.rejected_total)), ("kept", s.get("kept")),
                      ("dropped", s.get("dropped")), ("rejected (unreadable input)", s.get("rejected", report.rejected_total)),
                      ("kept + dropped + rejected = read", {True: "yes", False: "NO"}.get(s.get("balanced")))],
        "Words": [("words kept", f"{s['words_kept']:.1%}" if isinstance(s.get("words_kept"), float) else None),
                  ("words before / after", f"{s['words_before']:,} / {s['words_after']:,}"
                   if isinstance(s.get("words_before"), int) and isinstance(s.get("words_after"), int) else None),
                  ("in dropped documents", report.words_dropped if report.dropped else None),
                  ("removed from kept documents", report.words_removed_kept if report.kept else None)],
        "Programs": [("lines removed", s.get("lines_removed")), ("normalizations", s.get("normalizations")),
                     ("programs", s.get("programs")),
                     ("parse-error rate", f"{s['parse_error_rate']:.2%}" if _number(s.get("parse_error_rate")) is not None else None),
                     ("tokens in / out", f"{s['tokens_in']:,} / {s['tokens_out']:,}"
                      if isinstance(s.get("tokens_in"), int) and isinstance(s.get("tokens_out"), int) else None)],
    }
    cards = []
    for title, rows in groups.items():
        body = "".join(f'<tr><td>{escape(k)}</td><td class="v">{escape(f"{v:,}" if isinstance(v, int) else v)}</td></tr>'
                       for k, v in rows if v is not None)
        if body:
            cards.append(f'<div class="card"><h3>{escape(title)}</h3><table class="figures">{body}</table></div>')
    return f'<section id="figures"><h2>Figures</h2><div class="cards">{"".join(cards)}</div></section>'


def describe(reason: str) -> tuple[str, str]:
    """(what fired, what it means) for a reason: an execution reason, or a rule-based writer's ``filter:rule``."""
    if reason in MEANINGS:
        return FIRED_BY.get(reason, "execution"), MEANINGS[reason]
    if ":" in reason:
        name, rule = reason.split(":", 1)
        if (n_gram := re.fullmatch(r"top_(\d+)_gram", rule)) is not None:
            meaning = f"its most frequent {n_gram[1]}-gram covers too much of the text"
        elif (n_gram := re.fullmatch(r"duplicated_(\d+)_n_grams", rule)) is not None:
            meaning = f"duplicated {n_gram[1]}-grams cover too much of the text"
        else:
            meaning = RULES.get(rule, "a rule this report does not describe")
        return f"filter {name}, rule {rule}", f"{FILTERS.get(name, f'filter {name}')}: {meaning}"
    return "doc writer", "a reason this report does not describe"


def _reasons(report: RunReport) -> str:
    counted = report.kept + report.dropped
    rows = []
    for reason, count in report.reasons.most_common():
        dropped = report.dropped_reasons[reason]
        fired, meaning = describe(reason)
        if ":" in reason and fired.startswith("filter "):
            name, rule = reason.split(":", 1)
            fired = f"filter <strong>{escape(name)}</strong> &#183; rule <strong>{escape(rule)}</strong>"
        else:
            fired = escape(fired)
        outcome = " ".join(f'<span class="tag {kind}">{n:,} {kind}</span>'
                           for kind, n in (("kept", count - dropped), ("dropped", dropped)) if n)
        shown = "<wbr>".join(escape(part) for part in re.split(r"(?<=:)", reason))  # a line may break after a colon
        rows.append(f'<tr data-reason="{escape(reason)}"><td class="reason"><code>{shown}</code>'
                    f'<div class="fired">{fired}</div></td><td>{outcome}</td><td class="v">{count:,}</td>'
                    f'<td class="v">{count / max(1, counted):.1%}</td><td>{escape(meaning)}</td></tr>')
    if not rows:
        return '<section id="reasons"><h2>Reasons</h2><p class="meta">No output document to count.</p></section>'
    return ('<section id="reasons"><h2>Reasons</h2><p class="meta">Why each output document ended as it did: every reason, '
            "what fired it and what it means. A rule-based doc writer names its drops <code>filter:rule</code>.</p>"
            '<table class="data" id="reason-table"><tr><th>reason (what fired)</th><th>outcome</th>'
            f'<th class="v">documents</th><th class="v">share</th><th>meaning</th></tr>{"".join(rows)}</table></section>')


# charts

def _charts(report: RunReport) -> str:
    kept_words = [(f"{10 * b}-{10 * b + 9}%" if b < 10 else "100%", report.kept_share[b]) for b in range(11)] if report.kept else []
    top = min(20, max(report.operations, default=0))
    operations = [(str(k) if k < 20 else "20+", report.operations[k]) for k in range(top + 1)] if report.kept else []
    last_bin = max(report.dropped_words, default=-1)
    dropped_words = [(f"{low:,}-{DROPPED_WORDS[i + 1] - 1:,}" if i + 1 < len(DROPPED_WORDS) else f"{low:,}+", report.dropped_words[i])
                     for i, low in enumerate(DROPPED_WORDS) if i <= last_bin]
    share = f" ({report.words_dropped / report.words_before:.1%} of all words)" if report.words_before else ""
    return "".join([
        '<section id="charts"><h2>Charts</h2><div class="charts">',
        _chart("kept-words", "Words kept per kept document", f"{report.kept:,} kept documents by the share of their words "
               f"that their programs kept ({report.words_removed_kept:,} words removed in all)", kept_words, KEPT,
               empty="no kept documents"),
        _chart("kept-operations", "Operations per kept document", f"{report.kept:,} kept documents by lines removed + "
               "normalizations applied (0 to 20+)", operations, KEPT, empty="no kept documents"),
        _chart("drop-reasons", "Why documents were dropped", f"{report.dropped:,} dropped documents by reason",
               report.dropped_reasons.most_common(), DROPPED, max_label=290, empty="no dropped documents"),
        _chart("dropped-words", "Words per dropped document", f"{report.dropped:,} dropped documents by their words before "
               f"refining ({report.words_dropped:,} words in all{share})", dropped_words, DROPPED, empty="no dropped documents"),
        _retention(report),
        "</div></section>",
    ])


def _retention(report: RunReport) -> str:
    ranked = sorted(report.sources.items(), key=lambda item: (-item[1][0], item[0]))
    items = [(source, 100.0 * kept / docs, f"{100.0 * kept / docs:.0f}% of {docs:,}") for source, (docs, kept, _, _) in ranked[:15] if docs]
    rows = "".join(f'<tr><td class="name">{escape(source)}</td><td class="v">{docs:,}</td><td class="v">{kept:,}</td>'
                   f'<td class="v">{kept / docs:.0%}</td><td class="v">{before:,}</td><td class="v">{after:,}</td>'
                   f'<td class="v">{(after / before if before else 1.0):.0%}</td></tr>'
                   for source, (docs, kept, before, after) in ranked[:MAX_SOURCE_ROWS] if docs)
    which = f"the {MAX_SOURCE_ROWS} with most documents of {len(ranked):,}" if len(ranked) > MAX_SOURCE_ROWS else f"all {len(ranked):,}"
    table = (f'<details class="sources"><summary>Sources: {escape(which)}, with full names</summary>'
             '<table class="data" id="source-table"><tr><th>source</th><th class="v">documents</th><th class="v">kept</th>'
             '<th class="v">kept share</th><th class="v">words before</th><th class="v">words after</th>'
             f'<th class="v">words kept</th></tr>{rows}</table></details>')
    note = "share of each source's documents kept" + (" (the 15 with most documents; all in the table below)" if len(ranked) > 15 else "")
    return _chart("retention", "Retention per source", note, items, NEUTRAL, percent=True, width=1040, max_label=520,
                  wide=True, extra=table, empty="no sources")


def _chart(key: str, title: str, note: str, items: Iterable[tuple], colour: str = NEUTRAL, percent: bool = False,
           width: int = 500, max_label: int = 250, wide: bool = False, extra: str = "", empty: str = "nothing to show") -> str:
    """A horizontal bar chart as inline SVG. Items are (label, value) or (label, value, text shown by the bar); a label
    too long for its column is cut, and each bar's <title> (its tooltip) holds the whole label."""
    items = list(items)
    row = 20
    longest = max((len(str(item[0])) for item in items), default=0)
    needed = CHAR_WIDTH * longest + 14
    label_width = int(min(max_label, max(40, needed + 1)))
    fits = longest if needed <= max_label else max(4, int((max_label - 14) / CHAR_WIDTH))
    room = width - label_width - 80
    height = row * max(1, len(items)) + 10
    top = max([item[1] for item in items] + [100.0 if percent else 1])
    bars = []
    for i, (label, value, *shown) in enumerate(items):
        label = str(label)
        length = room * (value / top if top else 0)
        text = shown[0] if shown else f"{value:.0f}%" if percent else f"{value:,}"
        cut = label if len(label) <= fits else label[:fits - 1] + "\u2026"
        y = 5 + i * row
        bars.append(f'<g class="bar" data-value="{value:.1f}"><title>{escape(label)}: {escape(text)}</title>' if percent else
                    f'<g class="bar" data-value="{value}"><title>{escape(label)}: {escape(text)}</title>')
        bars.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{escape(cut)}</text>'
                    f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{colour}"></rect>'
                    f'<text x="{label_width + length + 4:.1f}" y="{y + 14}">{escape(text)}</text></g>')
    if not items:
        bars.append(f'<text x="10" y="20">{escape(empty)}</text>')
    return (f'<div class="chart{" wide" if wide else ""}" id="chart-{key}"><h3>{escape(title)}</h3><p class="note">{escape(note)}</p>'
            f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'{"".join(bars)}</svg>{extra}</div>')


# rejected input

def _rejected(report: RunReport) -> str:
    counted = _count(report.summary.get("rejected"))
    if not report.rejected_total:
        note = ("No input record was rejected." if not counted else
                f"stats.json counts {counted:,} rejected records, but this folder holds none of them.")
        return f'<section id="rejected"><h2>Rejected input (0)</h2><p class="meta">{escape(note)}</p></section>'
    rows = []
    for i, record in enumerate(report.rejected, 1):
        raw = str(record.get("raw", ""))
        cut = raw[:MAX_RAW_CHARS] + ("\u2026" if len(raw) > MAX_RAW_CHARS else "")
        rows.append(f'<tr><td class="v">{i:,}</td><td class="path">{escape(record.get("file", ""))}</td>'
                    f'<td>{escape(record.get("where", ""))}</td><td class="error">{escape(record.get("error", ""))}</td>'
                    f"<td><code>{escape(cut)}</code></td></tr>")
    shown = "all shown" if len(report.rejected) == report.rejected_total else f"the first {len(report.rejected):,} shown"
    records = "record" if report.rejected_total == 1 else "records"
    return (f'<section id="rejected"><h2>Rejected input ({report.rejected_total:,} {records}, {shown})</h2>'
            '<p class="meta">Input records that could not be read (not JSON, not an object, undecodable text). They are '
            "counted in documents read and kept, with their text, in <code>rejected/</code>.</p>"
            '<table class="data" id="rejected-table"><tr><th class="v">#</th><th>file</th><th>record</th><th>error</th>'
            f'<th>text (start)</th></tr>{"".join(rows)}</table></section>')


# documents

LEGEND = (
    '<div id="legend" class="legend"><strong>Legend</strong>'
    '<span class="item"><span class="swatch kept"></span>kept document</span>'
    '<span class="item"><span class="swatch dropped"></span>dropped document (shown as it came in)</span>'
    '<span class="item"><span class="line removed"><span class="t">removed line</span></span>line removed by remove_lines</span>'
    '<span class="item"><span><span class="src">old text</span><span class="dst">new</span></span>'
    "normalized: old text &#8594; its replacement</span>"
    '<span class="item"><span><span class="src">noise</span><span class="dst"></span></span>replaced by nothing</span>'
    '<span class="item"><span class="line"><span class="n">012</span></span>line number, as programs name lines</span>'
    "</div>"
)


def _documents(report: RunReport) -> str:
    options = "".join(f'<option value="{escape(r)}">{escape(r)} ({n:,})</option>' for r, n in sorted(report.reasons.items()))
    return "".join([
        '<section id="documents"><h2>Documents</h2>',
        LEGEND,
        '<div class="filters"><label>Show <select id="filter-kind"><option value="all">all</option>'
        '<option value="kept">kept</option><option value="dropped">dropped</option></select></label> '
        f'<label>reason <select id="filter-reason"><option value="all">all</option>{options}</select></label> '
        '<label>search <input id="filter-text" type="search" placeholder="text in the document"></label> '
        '<label>sort <select id="sort"><option value="original">input order</option>'
        '<option value="most">most changed first</option><option value="least">least changed first</option></select></label> '
        f'<span><span id="shown">{len(report.sample)}</span> of {len(report.sample)} shown</span> '
        '<span class="hint">change = share of words removed; a dropped document counts as 100%</span></div>',
        '<div id="doc-list">',
        *(_document(doc, i) for i, doc in enumerate(report.sample)),
        "</div></section>",
    ])


def change(doc: DocView) -> float:
    """How much the refine changed a document: the share of its words removed (a dropped document: all)."""
    if doc.dropped:
        return 1.0
    return max(0.0, min(1.0, (doc.words_before - doc.words_after) / doc.words_before)) if doc.words_before else 0.0


def _document(doc: DocView, order: int = 0) -> str:
    kind = "dropped" if doc.dropped else "kept"
    programs = ([f"# doc\n{doc.doc_program}"] if doc.doc_program is not None else []) + [
        f"# chunk {i}\n{p}" for i, p in enumerate(doc.chunk_programs)]
    lines = [_line(line) for line in doc.lines[:MAX_LINES]]
    if doc.line_count > MAX_LINES:
        lines.append(f'<div class="more">... {doc.line_count - MAX_LINES:,} more lines not shown</div>')
    errors = "".join(f"<li>{escape(e)}</li>" for e in doc.errors)
    changed = change(doc)
    return (
        f'<article class="doc {kind}" data-kind="{kind}" data-reason="{escape(doc.reason)}" data-order="{order}" '
        f'data-change="{changed:.4f}">'
        f'<header><span class="id">{escape(doc.id)}</span><span>{escape(doc.decision)}</span>'
        f"<span>source: {escape(doc.source)}</span><span>words {doc.words_before:,} &#8594; {doc.words_after:,}</span>"
        f'<span class="change">{changed:.0%} removed</span></header>'
        + (f'<details><summary>programs</summary><pre class="program">{escape(chr(10).join(programs))}</pre></details>' if programs else "")
        + (f"<ul>{errors}</ul>" if errors else "")
        + f'<div class="lines">{"".join(lines)}</div></article>'
    )


def _line(line) -> str:
    pieces = []
    for piece in line.pieces:
        text = visible(piece.text[:MAX_LINE_CHARS])
        if piece.replaced_by is None:
            pieces.append(text)
        else:
            pieces.append(f'<span class="src" title="normalized">{text}</span><span class="dst">{visible(piece.replaced_by)}</span>')
    cls = "line removed" if line.removed else "line"
    return f'<div class="{cls}"><span class="n">{line.number:03d}</span><span class="t">{"".join(pieces)}</span></div>'


def write_report(folder: str, output: str | None = None, sample_size: int = 200, seed: int = 0) -> str:
    """Write the HTML report of ``folder`` (default ``folder/report.html``); returns its path."""
    import os

    from prox.report.run import load

    report = load(folder, sample_size, seed, max_lines=MAX_LINES, keep_raw=False)
    path = output or os.path.join(folder, "report.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render(report))
    return path
