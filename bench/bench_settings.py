"""How often a refine run resolves its writers: the default-backend probe (vLLM, torch, CUDA) and the option checks.

    python bench/bench_settings.py

One in-process ``RefineJob`` of 20 documents with the shipped student given by folder (so the backend is found by
``default_backend``, not named by a preset); the functions are wrapped and their calls counted in the driver. It also
runs against an older checkout (``PYTHONPATH=OLD/src``), where the jobs were ``prox.pipeline.run`` and the registry
lived in ``prox.settings`` and ``prox.writers``.
"""

from __future__ import annotations

import collections
import json
import os
import tempfile

COUNTS: collections.Counter = collections.Counter()


def count(module, name: str, label: str) -> None:
    original = getattr(module, name)

    def counted(*args, **kwargs):
        COUNTS[label] += 1
        return original(*args, **kwargs)

    setattr(module, name, counted)


def main() -> None:
    import prox.settings as settings
    import prox.writers as writers

    count(settings if hasattr(settings, "default_backend") else writers, "default_backend",
          "default_backend (probes vLLM, torch, CUDA)")
    if hasattr(settings, "check_options"):  # where the settings hold their own reference
        count(settings, "check_options", "check_options")
    try:
        import prox.writers.registry as registry

        count(registry, "check_options", "check_options")
        from prox.jobs import RefineJob
    except ImportError:  # before the registry and prox.jobs
        from prox.pipeline.run import RefineJob
    folder = tempfile.mkdtemp(prefix="prox-bench-settings-")
    source = os.path.join(folder, "in.jsonl")
    with open(source, "w") as handle:
        for i in range(20):
            text = "Home | News\n" + "A sentence of a plain story about rivers and bridges. " * 8
            handle.write(json.dumps({"id": i, "text": text}) + "\n")
    student = settings.STUDENT_WEB
    RefineJob([source], os.path.join(folder, "run"), preset=None, doc_model=student, chunk_model=student).run()
    for label, n in sorted(COUNTS.items()):
        print(f"{label}: {n}")


if __name__ == "__main__":
    main()
