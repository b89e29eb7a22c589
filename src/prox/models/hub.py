"""Whether a model named by hub id, folder or .gguf file can be loaded here: said in one line, before any
library spends a minute retrying."""

from prox.errors import ModelUnavailable


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
