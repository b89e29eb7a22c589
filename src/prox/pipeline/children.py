"""No child process outlives its run: forked helpers are told to end when the process that forked them does.

datatrove's local executor starts a ``multiprocess`` Manager (a server process) for every run, and Pool workers
for several workers. Killed with SIGKILL, a run cannot stop them, and the Manager then lives on with nobody to
serve. On Linux each forked child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``);
elsewhere nothing changes.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class _Hook:
    """What multiprocess's after-fork registry holds on to (it keeps weak references)."""


_HOOK = _Hook()
_installed = False


def die_with_parent(_=None) -> None:
    """In a child: SIGTERM when the parent process ends (and at once if it already has)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died between the fork and the request: nobody would tell us
        os.kill(os.getpid(), signal.SIGTERM)


def install() -> None:
    """Have every process forked from now on through ``multiprocess`` (datatrove's) die with its parent."""
    global _installed
    if _installed or not sys.platform.startswith("linux"):
        return
    import multiprocess.util

    multiprocess.util.register_after_fork(_HOOK, die_with_parent)
    _installed = True
