"""Small corpora for tests: articles about a bridge, with a share button to remove, as JSONL files."""

from __future__ import annotations

import json
from pathlib import Path

BODY = ("The river town kept its old stone bridge after the flood because the builders had set it on bedrock. "
        "Engineers who surveyed it a century later found the arches had barely moved and the mortar was sound. ")


def article(i: int) -> str:
    return "\n".join([f"Story {i}: the bridge", BODY * 3, BODY * 2, "Share on Facebook"])


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
