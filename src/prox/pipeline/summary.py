"""What a run did: its figures from the committed parts (``stats.json``) and the record of its invocations.

Each invocation of a run (the first, and every resume) appends a line to ``logs/invocations.jsonl``; the summary
adds them up, so a resume that found nothing to do still publishes the run's own figures.
"""

from __future__ import annotations

import json
import time
from typing import Optional

from prox.pipeline.stats import RunStats


def summarize(output: str, seconds: Optional[float] = None) -> dict:
    """The run's figures from its committed parts (exact across resumes) and its invocations' times
    (``logs/invocations.jsonl``): ``seconds`` and ``docs_per_second`` are the run's, over all its invocations, so a
    resume that found nothing to do publishes the run's figures, not its own; ``last_invocation`` says what the last
    one added. Also written to stats.json. ``seconds``: the run's, for a run with no record of its invocations."""
    import fsspec

    from prox.pipeline.checkpoints import Checkpoints

    stats = RunStats.merge(Checkpoints(f"{output}/checkpoints").parts())
    runs = invocations(output)
    total = sum(r["seconds"] for r in runs) if runs else seconds
    summary = stats.summary(total)
    if runs:
        last = runs[-1]
        summary.update(invocations=len(runs), started=runs[0]["started"], finished=last["finished"], last_invocation={
            "seconds": last["seconds"], "documents": last["documents"],
            "docs_per_second": round(last["documents"] / last["seconds"], 3) if last["seconds"] else None})
    with fsspec.open(f"{output}/stats.json", "w", auto_mkdir=True) as handle:
        json.dump(summary, handle, indent=2)
    return summary


def committed(output: str) -> int:
    """Documents read by the committed parts so far."""
    from prox.pipeline.checkpoints import Checkpoints

    return RunStats.merge(Checkpoints(f"{output}/checkpoints").parts()).read


INVOCATIONS = "logs/invocations.jsonl"


def record_invocation(output: str, started: float, seconds: float, documents: int) -> None:
    """Append one invocation (when, how long, how many documents it added) to the run's record."""
    from datatrove.io import get_datafolder

    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))  # noqa: E731
    line = {"started": stamp(started), "finished": stamp(started + seconds), "seconds": round(seconds, 3), "documents": documents}
    folder = get_datafolder(output)
    previous = folder.cat_file(INVOCATIONS).decode() if folder.exists(INVOCATIONS) else ""  # object stores cannot append
    with folder.open(INVOCATIONS, "w") as handle:
        handle.write(previous + json.dumps(line) + "\n")


def invocations(output: str) -> list[dict]:
    from datatrove.io import get_datafolder

    folder = get_datafolder(output)
    if not folder.exists(INVOCATIONS):
        return []
    runs = []
    for line in folder.cat_file(INVOCATIONS).decode("utf-8", "replace").splitlines():
        try:
            run = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill: the others still count
        if _is_invocation(run):  # a line edited out of shape counts as one cut
            runs.append(run)
    return runs


def _is_invocation(run) -> bool:
    number = lambda value: isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0  # noqa: E731
    return (isinstance(run, dict) and number(run.get("seconds")) and isinstance(run.get("documents"), int)
            and number(run["documents"]) and isinstance(run.get("started"), str) and isinstance(run.get("finished"), str))
