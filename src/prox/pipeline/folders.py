"""Run folders: which command made one, with which settings, and refusing what does not belong.

``run.json`` is a folder's identity: the command that made it and every setting that shapes its
outputs. A rerun with other settings is refused before any work (a half-done run must not resume with a
second writer, a finished one must not be relabelled), and commands that read run folders refuse
folders no prox command made, so that none of them writes over files that are not its own.
"""

from __future__ import annotations

import json
from typing import Iterable, Optional

RUN_FILE = "run.json"
COMMANDS = ("refine", "execute")


class SettingsChanged(ValueError):
    """The output folder holds a run with other settings; resuming it with these would mix two runs."""


class NotARunFolder(ValueError):
    """A folder given to a command that reads runs holds no run that command can read."""


def _fs(path: str):
    import fsspec

    fs, _, (root,) = fsspec.get_fs_token_paths(path)
    return fs, root


def read_identity(folder: str) -> Optional[dict]:
    """The folder's ``run.json``, or None when it has none."""
    fs, root = _fs(f"{folder.rstrip('/')}/{RUN_FILE}")
    if not fs.exists(root):
        return None
    with fs.open(root, "r") as handle:
        try:
            data = json.load(handle)
        except ValueError as exc:
            raise NotARunFolder(f"{folder}: {RUN_FILE} is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise NotARunFolder(f"{folder}: {RUN_FILE} holds {type(data).__name__}, not the run's settings; it was edited "
                            "(rerun with --force to start over)")
    from prox.settings import fits

    for key, hint in IDENTITY_TYPES.items():
        if key in data and not fits(data[key], hint):
            raise NotARunFolder(f"{folder}: {RUN_FILE} has {key} = {json.dumps(data[key])[:80]}, which prox never writes; "
                                "it was edited (rerun with --force to start over)")
    return data


# what run.json holds (prox writes it; a hand edit that breaks these types is refused in one line, not a traceback)
IDENTITY_TYPES = {
    "command": str, "inputs": list[str], "output": str, "text_key": Optional[str], "id_key": Optional[str],
    "limit": Optional[int], "tasks": int, "workers": int, "executor": str, "output_format": str, "checkpoint_every": int,
    "executor_options": dict, "preset": Optional[str], "doc_model": Optional[str], "chunk_model": Optional[str],
    "backend": Optional[str], "stages": list[str], "docs_per_step": int, "score": bool, "thresholds": dict,
    "writer_options": dict,
}


def write_identity(folder: str, identity: dict) -> None:
    import fsspec

    with fsspec.open(f"{folder.rstrip('/')}/{RUN_FILE}", "w", auto_mkdir=True) as handle:
        json.dump(identity, handle, indent=2, default=str)


def command_of(folder: str) -> Optional[str]:
    """``refine`` or ``execute`` for a folder one of them made (also before ``run.json`` said so), else None."""
    identity = read_identity(folder)
    if identity is not None:
        return identity.get("command", "refine")  # older refine runs wrote no command
    fs, root = _fs(folder)
    if fs.exists(f"{root}/stats.json") and any(fs.exists(f"{root}/kept.{s}") for s in ("jsonl", "parquet")):
        return "execute"  # an older prox execute folder
    return None


def require_run(folder: str, commands: Iterable[str] = COMMANDS, what: str = "a prox run folder") -> str:
    """The command that made ``folder``; a clear error when it is missing or was made by something else."""
    fs, root = _fs(folder)
    if not fs.exists(root):
        raise FileNotFoundError(f"no run folder {folder}")
    if not fs.isdir(root):
        raise NotARunFolder(f"{folder} is a file, not {what}")
    command = command_of(folder)
    commands = tuple(commands)
    if command is None:
        raise NotARunFolder(f"{folder} is not {what} (it has no {RUN_FILE}): nothing was read or written")
    if command not in commands:
        raise NotARunFolder(f"{folder} was made by prox {command}, not by prox {' or prox '.join(commands)}: "
                            "nothing was read or written")
    return command


def differences(theirs: dict, mine: dict, prefix: str = "") -> list[str]:
    """Each setting that differs, as ``name old -> new`` (nested settings as ``parent.name``)."""
    changed = []
    for key in sorted(set(theirs) | set(mine)):
        old, new = theirs.get(key), mine.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += differences(old, new, f"{prefix}{key}.")
        elif _normal(old) != _normal(new):
            changed.append(f"{prefix}{key} {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}")
    return changed


def _normal(value):
    return json.loads(json.dumps(value, default=str))  # tuples and lists alike, as run.json stores them


def clear(folder: str, names: Iterable[str]) -> None:
    """Remove these files and folders of ``folder`` (those that exist)."""
    fs, root = _fs(folder)
    for name in names:
        path = f"{root}/{name}"
        if fs.exists(path):
            fs.rm(path, recursive=True)
