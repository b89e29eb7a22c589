"""Errors a user can act on, each said in one line."""

from prox.masking import mask_text


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


# errors that say the code or the installation is wrong, not one document: they stop the run instead of being
# recorded against each document in turn
BUGS = (AttributeError, NameError, TypeError, ImportError, AssertionError, NotImplementedError)
# a small web page every writer must write programs for before a run starts
PROBE_PAGE = "\n".join([
    "Home | News | Sport | Contact",
    "Bridge reopens after flood repairs",
    "The old stone bridge over the river reopened on Monday after three months of repairs to its arches.",
    "Engineers replaced the mortar in two spans and reinforced the foundations against the next flood.",
    "Copyright 2024 Example Media. All rights reserved.",
])


def ensure_loadable(model: str, **advice) -> None:
    """Fail fast, in one line, when a hub model is neither cached nor reachable (no minute of retries); ``advice``:
    what :class:`ModelUnavailable` suggests instead."""
    import os
    import socket
    from urllib.parse import urlparse

    if os.path.exists(os.path.expanduser(model)):
        return
    if model.startswith(("/", ".", "~")) or model.endswith(".gguf"):
        raise ModelUnavailable(model, "no such file or folder", **advice)
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return  # cached: transformers loads it offline
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        raise ModelUnavailable(model, "HF_HUB_OFFLINE is set and the model is not in the local cache", **advice)
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError as exc:
        raise ModelUnavailable(model, f"{host} is unreachable ({exc.strerror or exc}) and the model is not cached", **advice) from None


def describe(error: BaseException) -> str:
    """An exception as one bounded line, for a document's recorded error (no secret it quotes: outputs are shared)."""
    return f"{type(error).__name__}: {mask_text(str(error)[:500])}"


def isolated(work, items: list, failed) -> list:
    """``work(items)``, one result per item; when the batch raises, ``work([item])`` for each item alone, and
    ``failed(item, error)`` for an item that fails alone, so one bad item costs only itself. A model that
    cannot be loaded at all (:class:`ModelUnavailable`) or a bug (``BUGS``) is no item's fault: it is raised."""
    try:
        return work(items)
    except (ModelUnavailable, *BUGS):
        raise
    except Exception as error:
        if len(items) == 1:
            return [failed(items[0], error)]
    results = []
    for item in items:
        try:
            results += work([item])
        except (ModelUnavailable, *BUGS):
            raise
        except Exception as error:
            results.append(failed(item, error))
    return results
