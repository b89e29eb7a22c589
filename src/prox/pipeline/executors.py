"""datatrove's executors for a run (local, Slurm, Ray), writing ``logs/executor.json`` with secrets masked.

datatrove serializes the whole pipeline, writer options included (an ``api_key``, a ``base_url`` with a password),
into ``logs/executor.json`` for people to read; these executors write it through :func:`prox.masking.mask`.
datatrove's Slurm executor also pickles itself to ``logs/executor.pik``, which its tasks load: that file must hold the
options as they are, so it is as secret as the command line that made it.
"""

from __future__ import annotations

import json

from datatrove.executor import LocalPipelineExecutor
from datatrove.executor.base import ExecutorJSONEncoder
from datatrove.executor.ray import RayPipelineExecutor
from datatrove.executor.slurm import SlurmPipelineExecutor

from prox.errors import UsageError
from prox.masking import mask
from prox.pipeline.quiet import QuietLocalExecutor

EXECUTORS = ("local", "slurm", "ray")


class MaskedJSON:
    """Mixin (before the datatrove executor): ``executor.json`` as datatrove writes it, secrets masked."""

    def save_executor_as_json(self, indent: int = 4) -> None:
        data = json.loads(json.dumps(self, cls=ExecutorJSONEncoder))
        with self.logging_dir.open("executor.json", "w") as handle:
            json.dump(mask(data), handle, indent=indent)


class LocalExecutor(MaskedJSON, LocalPipelineExecutor):
    """datatrove's local executor."""


class QuietExecutor(MaskedJSON, QuietLocalExecutor):
    """The local executor whose tasks log to their files only (:mod:`prox.pipeline.quiet`)."""


class SlurmExecutor(MaskedJSON, SlurmPipelineExecutor):
    """datatrove's Slurm executor (its ``executor.pik`` holds the options unmasked: its tasks need them)."""


class RayExecutor(MaskedJSON, RayPipelineExecutor):
    """datatrove's Ray executor."""


def build_executor(pipeline: list, executor: str, tasks: int, workers: int, logging_dir: str, options: dict,
                   quiet: bool = False, name: str = "prox"):
    """The datatrove executor of a run's ``pipeline``; ``options`` are the executor's own (Slurm's partition and time,
    ``ray_init``, a local ``start_method``)."""
    if executor == "local":
        executor_class = QuietExecutor if quiet else LocalExecutor
        return executor_class(pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir,
                              start_method=options.pop("start_method", "spawn"), **options)
    if executor == "ray":
        import ray

        if not ray.is_initialized():
            ray.init(**options.pop("ray_init", {}))
        return RayExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir, **options)
    missing = {"partition", "time"} - set(options)
    if missing:
        raise UsageError(f"the slurm executor needs {', '.join(sorted(missing))} (--slurm-partition, --slurm-time)")
    return SlurmExecutor(pipeline, tasks=tasks, workers=workers if workers > 1 else -1, logging_dir=logging_dir,
                         job_name=options.pop("job_name", name), **options)
