"""What a run reads: its input files as resolved when it started, and the model files it loads.

A resumed task must read exactly the files its run started with: a file added between a kill and the resume
would shift the round-robin shares (documents refined twice, others never), a relative input resumed from
another directory would be another corpus, a student re-distilled in place would write half the run. So
``run.json`` records every input file (path, size, modification time) and a content fingerprint of every
local model file; the tasks read the recorded list, and a rerun whose files or models differ is refused,
naming what changed. An output folder inside an input (prox would read its own outputs back) and an input
inside what the run writes (``--force`` would delete it before it is read) are refused before any work.
"""

from __future__ import annotations

import hashlib
import os
from typing import Iterable, Optional, Sequence

from prox.errors import UsageError

FINGERPRINT_BYTES = 1 << 16  # read at each end of a model file: cheap, and a retrained model differs there
MTIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "created", "ETag", "etag")


class InputsChanged(UsageError):
    """The inputs or models of a run folder are not the ones its run started with."""


def describe_files(files: Sequence[str]) -> list[list]:
    """``[path, size, modified]`` of every input file, from one listing of each folder (no file is opened, and an
    object store answers one request per folder, not one per file)."""
    import fsspec

    listings: dict = {}
    described = []
    for path in files:
        fs, _, (root,) = fsspec.get_fs_token_paths(path)
        folder = root.rsplit("/", 1)[0]
        key = (fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0], folder)
        if key not in listings:
            try:
                listings[key] = {fs._strip_protocol(entry["name"]): entry for entry in fs.ls(folder, detail=True)}
            except Exception:  # noqa: BLE001 - a folder that cannot be listed: its files are asked one by one
                listings[key] = {}
        info = listings[key].get(fs._strip_protocol(root)) or fs.info(root)
        modified = next((info[k] for k in MTIME_KEYS if info.get(k) is not None), None)
        described.append([path, int(info.get("size") or 0), modified if isinstance(modified, (int, float)) else
                          (str(modified) if modified is not None else None)])
    return described


def changes(recorded: Sequence[Sequence], current: Sequence[Sequence], shown: int = 3) -> Optional[str]:
    """What differs between two file descriptions, in words (None when they are the same)."""
    before = {path: (size, modified) for path, size, modified in recorded}
    now = {path: (size, modified) for path, size, modified in current}
    added = [p for p in now if p not in before]
    missing = [p for p in before if p not in now]
    edited = [p for p in now if p in before and tuple(now[p]) != tuple(before[p])]
    parts = []
    for count, what, paths in ((len(added), "added (not read by this run)", added), (len(missing), "missing", missing),
                               (len(edited), "changed (size or modification time)", edited)):
        if count:
            more = f" and {count - shown} more" if count > shown else ""
            parts.append(f"{count} {what}: {', '.join(paths[:shown])}{more}")
    return "; ".join(parts) or None


def model_fingerprints(paths: dict) -> dict:
    """A content fingerprint of each stage's model when it is a local file or folder (hub models are named in the
    settings, and their revision is the hub's affair)."""
    return {stage: fingerprint(path) for stage, path in sorted(paths.items()) if path and os.path.exists(os.path.expanduser(path))}


def fingerprint(path: str) -> str:
    """sha256 over each file's name, size and first and last 64 KiB: a model retrained or replaced in place differs."""
    path = os.path.expanduser(path)
    digest = hashlib.sha256()
    files = [path] if os.path.isfile(path) else sorted(
        os.path.join(folder, name) for folder, _, names in os.walk(path) for name in names if not name.startswith("."))
    for file in files:
        size = os.path.getsize(file)
        digest.update(f"{os.path.relpath(file, path)}\0{size}\0".encode())
        with open(file, "rb") as handle:
            digest.update(handle.read(FINGERPRINT_BYTES))
            if size > 2 * FINGERPRINT_BYTES:
                handle.seek(-FINGERPRINT_BYTES, os.SEEK_END)
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def check_apart(inputs: Iterable[str], files: Iterable[str], output: str, owned: Iterable[str]) -> None:
    """Refuse an output folder inside (or equal to) an input folder, and an input inside a part of the output that
    the run writes or deletes (``owned``: ``kept``, ``logs``, ...)."""
    out = _normal(output)
    for item in inputs:
        if _is_folder(item) and _within(out, _normal(item)):
            raise UsageError(f"the output {output} is inside the input {item}: prox would read its own outputs back; "
                             "choose an --output outside it")
    parts = [f"{out}/{name}" for name in owned]
    for path in files:
        inside = next((part for part in parts if _within(_normal(path), part)), None)
        if inside is not None:
            raise UsageError(f"the input {path} is inside {inside}, which this run writes (and --force deletes); "
                             "choose a new --output")


def _is_folder(item: str) -> bool:
    import fsspec

    try:
        fs, _, paths = fsspec.get_fs_token_paths(item)
        return len(paths) == 1 and fs.isdir(paths[0])
    except Exception:  # noqa: BLE001 - a glob or an unreachable URL: its files are checked one by one instead
        return False


def _normal(path: str) -> str:
    """A comparable form: a local path resolved (links, ``..``), a URL as written without a trailing slash."""
    if "://" in path and not path.startswith("file://"):
        return path.rstrip("/")
    return os.path.realpath(path.removeprefix("file://"))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
