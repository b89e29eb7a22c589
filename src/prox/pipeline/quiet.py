"""datatrove's logs and statistics in the run's ``logs/`` folder only: the terminal is for prox's bar and summary.

datatrove prints every task's statistics, then all of them again, to standard error (about 40 lines for
one task). They are already written to ``logs/stats.json`` and each task's ``logs/logs/task_*.log``; on
the terminal only warnings and errors are left.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from datatrove.executor import LocalPipelineExecutor
from datatrove.utils.logging import setup_default_logger
from loguru import logger


def _terminal_warnings_only() -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")


@contextmanager
def quiet_driver():
    """The driver's own datatrove logs (the merged statistics) off the terminal, then datatrove's default again."""
    _terminal_warnings_only()
    try:
        yield
    finally:
        setup_default_logger()


FILE_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"


def quiet_task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
    """datatrove's task logging, quiet: everything to the task's log file, as datatrove writes it (a write that fails,
    on a full disk, is dropped instead of printing loguru's report of it with a traceback); on the terminal one line
    per error, without the traceback the file holds."""
    logger.remove()
    logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")

    def to_file(message) -> None:
        try:
            logfile.write(message)
        except (OSError, ValueError):  # a full disk, a closed file: the run's own error says what happened
            pass

    logger.add(to_file, level="DEBUG", format=FILE_FORMAT, colorize=False)  # loguru adds the newline and the traceback
    logger.add(lambda message: sys.stderr.write(message), level="ERROR", colorize=False,
               format=lambda record: f"task {rank}: {record['message']}\n".replace("{", "{{").replace("}", "}}"))
    logger.info(f"Launching pipeline for {rank=}")
    return logfile


class QuietLocalExecutor(LocalPipelineExecutor):
    """A local executor whose tasks log to their files; the terminal gets only their errors, one line each."""

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        from datatrove.executor import base

        datatrove_logger, base.add_task_logger = base.add_task_logger, quiet_task_logger
        try:
            return super()._run_for_rank(rank, local_rank, node_rank)
        finally:
            base.add_task_logger = datatrove_logger
            _terminal_warnings_only()  # datatrove restored its default (everything to the terminal)
