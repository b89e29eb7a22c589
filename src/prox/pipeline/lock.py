"""Exclusive run folders: one run at a time writes a folder, and one task at a time writes a task's parts.

Two runs on one folder (the same command started twice, a retrying scheduler) would write the same parts at
once: torn lines, lost documents, a rerun that says "nothing left to do". The driver of a run holds
``OUTPUT/run.lock`` from its first write to its end; each task holds ``OUTPUT/checkpoints/RANK.lock`` while it
writes, which covers the Slurm and Ray tasks that outlive or run apart from their driver, and the drivers that each
run a slice of one run's tasks (``-E local_tasks=N -E local_rank_offset=K``, one per GPU): those hold the folder's
lock only while they prepare and while they sum up, and their tasks' locks in between. The locks are OS
locks (``filelock``: ``fcntl`` on Unix), released by the kernel when a process dies, so a killed run leaves no
stale lock. Who holds a lock is written beside it (``.holder``) for the error that names it. Object stores
(``s3://``, ...) have no locks: a run there is not guarded, and says so once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from typing import Iterable, Optional

LOCK_FILE = "run.lock"
HOLDER = ".holder"


class FolderInUse(OSError):
    """Another prox process is writing this folder (or this task's part of it)."""


def _local(path: str) -> Optional[str]:
    """The local path of ``path``, or None for a URL of a filesystem with no OS locks."""
    if "://" in path and not path.startswith(("file://", "local://")):
        return None
    return os.path.abspath(path.split("://", 1)[-1])


class Lock:
    """A non-blocking exclusive lock on ``path`` (a file prox owns), naming its holder when it is taken."""

    def __init__(self, path: str, what: str):
        self.path = _local(path)
        self.what = what
        self._lock = None
        self.created = False  # whether taking it made its files (a refused run removes them: it wrote nothing)

    @property
    def held(self) -> bool:
        return self._lock is not None

    def acquire(self, wait: float = 0) -> "Lock":
        """Take the lock, or raise :class:`FolderInUse` at once (after ``wait`` seconds, if given)."""
        if self.path is None or self._lock is not None:
            if self.path is None:
                logging.getLogger("prox").warning("%s is on an object store, which has no file locks: make sure no other "
                                                  "run writes it at the same time", self.what)
            return self
        from filelock import FileLock, Timeout

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        created = not os.path.exists(self.path)
        lock = FileLock(self.path, timeout=wait)
        try:
            lock.acquire()
        except Timeout:
            raise FolderInUse(f"{self.what} is in use by another prox run ({holder(self.path)}); wait for it to end, or "
                              "choose another --output") from None
        self._lock, self.created = lock, created
        with open(self.path + HOLDER, "w") as handle:
            json.dump({"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, handle)
        return self

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def discard(self) -> None:
        """Release, and remove the lock's files if taking it made them: a run refused before its first write leaves
        a folder as it found it."""
        created = self.created and self._lock is not None
        self.release()
        if created:
            for path in (self.path, self.path + HOLDER):
                try:
                    os.remove(path)
                except OSError:
                    pass

    def __enter__(self) -> "Lock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder(path: str) -> str:
    """Who holds the lock at ``path``, in words (as it wrote itself down; "unknown" if it has not yet)."""
    try:
        with open(path + HOLDER) as handle:
            found = json.load(handle)
        return f"pid {found['pid']} on {found['host']}, since {found['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


def run_lock(folder: str) -> Lock:
    """The lock a run's driver holds on its output folder."""
    return Lock(f"{folder.rstrip('/')}/{LOCK_FILE}", folder)


def task_lock(folder: str, rank: int) -> Lock:
    """The lock a task holds while it writes its parts of the run in ``folder``."""
    return Lock(f"{folder.rstrip('/')}/checkpoints/{rank:05d}.lock", f"{folder} (task {rank})")


def tasks_running(folder: str, ranks: Iterable[int]) -> Optional[str]:
    """A task of another run still writing ``folder`` (an earlier Slurm or Ray submission, a driver of the same
    slice of tasks), in words, or None."""
    for rank in ranks:
        lock = task_lock(folder, rank)
        if lock.path is None or not os.path.exists(lock.path):
            continue
        try:
            lock.acquire().release()
        except FolderInUse:
            return f"task {rank} of an earlier run is still writing it ({holder(lock.path)})"
    return None
