"""Errors a user can act on, each said in one line, and how any error is told: shared by every layer.

The command line's one policy (``prox.cli.command``): a :data:`USER_ERRORS` error is the user's to fix, said in one
line with exit status 2; anything else is a bug, shown with its traceback and exit status 1. In a run, an error in
``BUGS`` is the code's or the installation's, never one document's; :func:`describe` is an error as a document
records it.
"""

from prox.masking import mask_text


class UsageError(ValueError):
    """A mistake in what prox was given: a setting, a value, a file or folder that cannot be used as given. A
    ``ValueError``, so code that catches those still does; a plain ``ValueError`` from elsewhere is a bug."""


class MissingExtra(ImportError):
    """A part of prox whose libraries are not installed; the message names the extra that brings them."""


class ModelUnavailable(RuntimeError):
    """A model named by hub id, folder or .gguf file could not be loaded."""

    OFFLINE = "Offline options: --preset student-web or heuristic, a local model folder, or a local .gguf file."

    def __init__(self, model: str, cause: BaseException | str = "", offline: str = OFFLINE, what: str = "model"):
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else "not found"
        super().__init__(
            f"cannot load {what} {model!r} ({reason[:200]}). It is not a local folder or .gguf file, or the hub is "
            f"unreachable. {offline}"
        )


class WriterFailed(RuntimeError):
    """A writer that cannot do its work at all: it failed on the probe page before the run."""


# what a user can fix: one line and exit status 2 on the command line (OSError: a missing or unreadable file)
USER_ERRORS = (UsageError, MissingExtra, OSError, ModelUnavailable, WriterFailed)
# errors that say the code or the installation is wrong, not one document: they stop the run instead of being
# recorded against each document in turn
BUGS = (AttributeError, NameError, TypeError, ImportError, AssertionError, NotImplementedError)


def describe(error: BaseException) -> str:
    """An exception as one bounded line, for a document's recorded error (no secret it quotes: outputs are shared)."""
    return f"{type(error).__name__}: {mask_text(str(error)[:500])}"
