"""Run folders: which command made one, with which settings, and refusing what does not belong.

``run.json`` is a folder's identity: the command that made it and every setting that shapes its
outputs. A rerun with other settings is refused before any work (a half-done run must not resume with a
second writer, a finished one must not be relabelled), and commands that read run folders refuse
folders no prox command made, so that none of them writes over files that are not its own.
"""

from __future__ import annotations

import json
from typing import Iterable, Optional

from prox.errors import UsageError

RUN_FILE = "run.json"
COMMANDS = ("refine", "execute")
# what a run may create in its folder; a run owns those it created (``owns`` in run.json), and touches no other file
RUN_PARTS = ("kept", "dropped", "rejected", "checkpoints", "logs", "progress", "stats.json", "report.html", "README.md")
OWN_FILES = (RUN_FILE, "run.lock", "run.lock.holder")
PUBLISHED = ("report.html", "README.md")  # written at the end, where the user has none of their own


class SettingsChanged(UsageError):
    """The output folder holds a run with other settings; resuming it with these would mix two runs."""


class NotARunFolder(UsageError):
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
    from prox.writers.registry import fits

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
    "writer_options": dict, "owns": list[str], "input_files": list[list], "model_files": dict[str, str],
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


def owned(folder: str, identity: Optional[dict]) -> list[str]:
    """The names in ``folder`` that its run created: what resume, ``--force``, ``prox card`` and ``prox report`` may
    write or delete. A run made before prox kept this list owns what prox always wrote, but a README of its own."""
    if identity is not None and isinstance(identity.get("owns"), list):
        return identity["owns"]
    return [name for name in RUN_PARTS if name != "README.md" or is_prox_card(folder)] + list(OWN_FILES)


def claim(folder: str, existing_folder: bool = False) -> list[str]:
    """The names a new run in ``folder`` will own: every part, in a new or empty folder. A folder of other files is
    used only with ``existing_folder``, and then the run owns only the names that are free (none it needs may be
    taken: a user's ``stats.json`` or ``logs/`` is refused, their ``README.md`` left alone)."""
    fs, root = _fs(folder)
    present = sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)) if fs.exists(root) else []
    present = [name for name in present if name not in OWN_FILES]
    if not present:
        return list(RUN_PARTS + OWN_FILES)
    if not existing_folder:
        shown = ", ".join(present[:3]) + (f" and {len(present) - 3} more" if len(present) > 3 else "")
        raise FileExistsError(f"{folder} holds other files ({shown}); choose a new or empty --output, or pass "
                              "--existing-folder to write there (prox then owns, and ever deletes, only what it creates)")
    taken = [name for name in RUN_PARTS if name in present and name not in PUBLISHED]
    if taken:
        raise FileExistsError(f"{folder} already holds {', '.join(taken)}, which prox did not write; choose another --output")
    return [name for name in RUN_PARTS + OWN_FILES if name not in present]


def is_prox_card(folder: str) -> bool:
    """Whether ``folder/README.md`` is a dataset card prox wrote (its tags name prox)."""
    fs, root = _fs(f"{folder.rstrip('/')}/README.md")
    return fs.exists(root) and "- prox" in fs.cat_file(root)[:4000].decode("utf-8", "replace")


class NotOurs(FileExistsError):
    """A file prox would write in a run folder is the user's."""


def check_ours(folder: str, name: str) -> None:
    """Refuse to replace ``folder/name`` unless the folder's run owns it and it is not a hand-written file since
    (``README.md`` must still be a prox card). A folder with no run (a copy on the hub) is checked by content only."""
    fs, root = _fs(f"{folder.rstrip('/')}/{name}")
    try:
        identity = read_identity(folder)
    except NotARunFolder:
        identity = None
    mine = identity is None or name in owned(folder, identity)
    if fs.exists(root) and name == "README.md" and not is_prox_card(folder):
        mine = False
    if not mine:
        raise NotOurs(f"{folder}/{name} was not written by prox: left as it is (move it away, or write elsewhere)")
