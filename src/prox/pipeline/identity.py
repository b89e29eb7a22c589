"""A run's identity: the settings that decide which document goes where, as ``run.json`` records them.

A rerun resumes only with the same identity; how it runs (workers, executor, batching, a writer's speed and access
options) may change freely. Runs recorded by older prox versions are read in today's terms here, once.
"""

from __future__ import annotations

# how to run, not what comes out: a rerun may change these freely (the inputs are compared as the files they name)
HOW_TO_RUN = ("output", "workers", "executor", "executor_options", "docs_per_step", "batch_size", "inputs", "input_files",
              "owns")
# writer options that change only speed or access, never a program
WRITER_LOGISTICS = ("prompts_per_batch", "max_batch_tokens", "max_in_flight", "timeout", "max_retries", "backoff",
                    "cache", "api_key", "batch_size")
UNREADABLE: dict = {}  # a run.json edited past reading, which --force starts over (compared by identity)


def comparable(settings: dict) -> dict:
    """The part of recorded ``settings`` two runs must share to be one run (older runs' spellings mended)."""
    identity = {k: v for k, v in settings.items() if k not in HOW_TO_RUN}
    options = dict(identity.get("writer_options") or {})
    if identity.get("command", "refine") == "refine":
        # runs made before the typed settings kept scoring and its threshold among the writer options
        if options.pop("doc_mode", "generate") == "score":
            identity["score"] = True
        threshold = options.pop("drop_threshold", None)
        thresholds = dict(identity.get("thresholds") or {})
        if identity.get("score") and threshold not in (None, 0.5):  # at 0.5 the program decides alike
            thresholds.setdefault("drop_threshold", threshold)
        thresholds.setdefault("drop_threshold", None)
        identity["thresholds"] = thresholds
        if options.get("constrained") is True:
            del options["constrained"]  # the default, now passed only when turned off
        identity.setdefault("score", False)
    if isinstance(identity.get("thresholds"), dict):
        identity["thresholds"] = {"line_threshold": None, **identity["thresholds"]}  # runs made before it existed
    identity["writer_options"] = {k: v for k, v in options.items() if k not in WRITER_LOGISTICS}
    return identity
