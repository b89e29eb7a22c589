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


class QuietLocalExecutor(LocalPipelineExecutor):
    """A local executor whose tasks log to their files; the terminal gets only their errors."""

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        try:
            return super()._run_for_rank(rank, max(local_rank, 1), node_rank)  # datatrove: local rank > 0 logs errors only
        finally:
            _terminal_warnings_only()  # datatrove restored its default (everything to the terminal)
