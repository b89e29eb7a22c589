"""Errors a user can act on, each said in one line."""


class ModelUnavailable(RuntimeError):
    """A model named by hub id, folder or .gguf file could not be loaded."""

    def __init__(self, model: str, cause: BaseException | str = ""):
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else "not found"
        super().__init__(
            f"cannot load model {model!r} ({reason[:200]}). It is not a local folder or .gguf file, or the hub is "
            "unreachable. Offline options: --preset heuristic, a local model folder, or a local .gguf file."
        )
