"""The jobs behind ``prox refine`` and ``prox execute``: datatrove pipelines on a local, Slurm or Ray executor.

Both are built from the same steps and leave the same folder, with everything a run needs to resume:
``run.json`` (the settings that decide which document goes where, checked on rerun), ``checkpoints/``
(committed parts), ``logs/`` (datatrove's completions, logs and stats) and ``kept/``, ``dropped/``,
``rejected/``, ``stats.json``. ``RefineJob`` writes programs and executes them; ``ExecuteJob``
re-executes the programs stored in records with other thresholds, without a model.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

from prox.pipeline.folders import (
    RUN_PARTS,
    NotARunFolder,
    SettingsChanged,
    claim,
    clear,
    differences,
    owned,
    read_identity,
    write_identity,
)
from prox.masking import mask
from prox.pipeline.documents import WRITTEN_FIELDS
from prox.pipeline.inputs import InputsChanged, changes
from prox.pipeline.stats import RunStats
from prox.program.stored import Thresholds
from prox.settings import DEFAULT_PRESET

__all__ = ["ExecuteJob", "RefineJob", "SettingsChanged", "summarize"]

EXECUTORS = ("local", "slurm", "ray")
# how to run, not what comes out: a rerun may change these freely (the inputs are compared as the files they name)
HOW_TO_RUN = ("output", "workers", "executor", "executor_options", "docs_per_step", "batch_size", "inputs", "input_files",
              "owns")
# writer options that change only speed or access, never a program
WRITER_LOGISTICS = ("prompts_per_batch", "max_batch_tokens", "max_in_flight", "timeout", "max_retries", "backoff",
                    "cache", "api_key", "batch_size")
UNREADABLE: dict = {}  # a run.json edited past reading, which --force starts over (compared by identity)
SLICE_WAIT = 900  # seconds a driver of a slice of tasks waits for the drivers of the others to prepare (a model
# loads while a driver prepares) or to sum up
CHEAP_BACKENDS = ("heuristic", "student", "openai")  # built in milliseconds, or a client of a server: probed anywhere


@dataclass
class _Job:
    """What both jobs share: inputs, the output folder, how to read, how to run, and resuming."""

    inputs: Sequence[str]
    output: str
    text_key: Optional[str] = "text"
    id_key: str = "id"
    limit: Optional[int] = None  # documents in all, shared evenly among tasks
    tasks: int = 1
    workers: int = 1
    executor: str = "local"
    output_format: str = "jsonl"
    checkpoint_every: int = 1000
    executor_options: dict = field(default_factory=dict)  # e.g. partition, time, gpus_per_task, cpus_per_task

    command = ""

    def __post_init__(self):
        self.inputs = list(self.inputs)
        self.output = self.output.rstrip("/")
        if self.executor not in EXECUTORS:
            raise ValueError(f"unknown executor {self.executor!r}; choose one of {', '.join(EXECUTORS)}")
        if self.tasks < 1 or self.workers < 1:
            raise ValueError("--tasks and --workers must be at least 1")
        if self.checkpoint_every < 1:
            raise ValueError("--checkpoint-every must be at least 1")
        from prox.pipeline.output import FORMATS

        if self.output_format not in FORMATS:
            raise ValueError(f"unknown output format {self.output_format!r}; choose one of {', '.join(FORMATS)}")

    # --- the pipeline -------------------------------------------------------------------------------
    @property
    def text_keys(self) -> list[str]:
        return [self.text_key]

    def steps(self) -> list:
        """The steps between reading and writing."""
        raise NotImplementedError

    def pipeline(self) -> list:
        from prox.pipeline.output import WriteOutputs
        from prox.pipeline.reader import ReadRecords

        output = WriteOutputs(self.output, self.output_format, self.checkpoint_every)
        reader = ReadRecords(self.inputs, self.text_keys, self.id_key, checkpoints=output.checkpoints,
                             total_limit=self.limit, blanks=True, files=getattr(self, "files", None),
                             sizes=getattr(self, "sizes", None), set_aside=self.set_aside)
        return [reader, *self.steps(), output]

    def build_executor(self):
        logging_dir = f"{self.output}/logs"
        pipeline = self.pipeline()
        options = dict(self.executor_options)
        from prox.pipeline.executors import LocalExecutor, QuietExecutor, RayExecutor, SlurmExecutor

        if self.executor == "local":  # prox's executors write logs/executor.json with secrets masked
            executor_class = QuietExecutor if getattr(self, "quiet", False) else LocalExecutor
            return executor_class(pipeline, tasks=self.tasks, workers=self.workers, logging_dir=logging_dir,
                                  start_method=options.pop("start_method", "spawn"), **options)
        if self.executor == "ray":
            import ray

            if not ray.is_initialized():
                ray.init(**options.pop("ray_init", {}))
            return RayExecutor(pipeline, tasks=self.tasks, workers=self.workers, logging_dir=logging_dir, **options)
        missing = {"partition", "time"} - set(options)
        if missing:
            raise ValueError(f"the slurm executor needs {', '.join(sorted(missing))} (--slurm-partition, --slurm-time)")
        return SlurmExecutor(pipeline, tasks=self.tasks, workers=self.workers if self.workers > 1 else -1,
                             logging_dir=logging_dir, job_name=options.pop("job_name", f"prox-{self.command}"), **options)

    # --- running ------------------------------------------------------------------------------------
    def settings(self) -> dict:
        """Every setting, as ``run.json`` records it (secrets masked)."""
        data = asdict(self)
        if "thresholds" in data:
            data["thresholds"] = asdict(self.thresholds)
        return mask({"command": self.command, **data})

    def identity(self) -> dict:
        """The settings that shape the outputs: a resumed run must have the same ones (its models' files too)."""
        return {**_identity(self.settings()), "model_files": self.model_files()}

    def model_files(self) -> dict:
        """A fingerprint of each local model file or folder the run loads (none, for execute)."""
        return {}

    @property
    def set_aside(self) -> tuple:
        """Input fields the steps write themselves: an input's own are kept apart (``metadata.prox.input_fields``).
        None for execute: it reads records prox wrote (their trace is made again, their kept-apart fields carried on)."""
        return ()

    def their_identity(self, force: bool) -> Optional[dict]:
        """The folder's ``run.json`` (None when it has none); one edited past reading is refused, or with ``force`` is
        :data:`UNREADABLE`: the folder starts over."""
        try:
            return read_identity(self.output)
        except NotARunFolder:
            if not force:
                raise
            return UNREADABLE

    def check_settings(self, theirs: Optional[dict], force: bool = False, files: Optional[list] = None) -> bool:
        """Refuse to resume a folder written with other settings, or from other input files or models, naming what
        differs (before anything is written or loaded); with ``force``, such a folder is to start over: True when its
        outputs must be discarded. ``files``: the inputs as :func:`describe_files` gives them; ``theirs``: the
        folder's :meth:`their_identity`."""
        if theirs is UNREADABLE:
            return True
        if theirs is None:
            return False
        if theirs.get("command", "refine") != self.command:
            raise SettingsChanged(f"{self.output} holds a prox {theirs.get('command', 'refine')} run, not a prox "
                                  f"{self.command} run; choose a new --output")
        mine = self.identity()
        if "model_files" not in theirs:  # a run made before prox fingerprinted models
            del mine["model_files"]
        changed = differences(_identity(theirs), mine)
        if "input_files" in theirs and files is not None:
            moved = changes(theirs["input_files"], files)
            if moved and not force:
                raise InputsChanged(f"{self.output} holds a run of other input files ({moved}); rerun with the same "
                                    "files to resume, --force to discard its outputs and start over, or choose a new "
                                    "--output for the new files")
            changed += [moved] if moved else []
        elif "input_files" not in theirs and theirs.get("inputs") != self.settings()["inputs"]:
            changed.append(f"inputs {theirs.get('inputs')} -> {self.inputs}")  # a run that recorded no files
        if changed and not force:
            raise SettingsChanged(
                f"{self.output} holds a run made with other settings ({'; '.join(changed)}); rerun with the "
                "same settings to resume, --force to discard its outputs and start over, or choose a new --output")
        if force and not changed:  # --force also starts over a folder whose checkpoint markers were edited
            from prox.pipeline.checkpoints import Checkpoints

            try:
                Checkpoints(f"{self.output}/checkpoints").committed()
            except ValueError:
                return True
        return bool(changed)

    def owned_parts(self, force: bool, existing_folder: bool, theirs: Optional[dict]) -> list[str]:
        """What this run owns in its folder: what its run created, or, in a folder with no run, what it may create."""
        if theirs is UNREADABLE:
            return owned(self.output, None)
        if theirs is not None:
            return owned(self.output, theirs)
        return self.claim_new_folder(force, existing_folder)

    def claim_new_folder(self, force: bool, existing_folder: bool) -> list[str]:
        """The parts a run in a folder with no run in it will own (:func:`prox.pipeline.folders.claim`)."""
        return claim(self.output, existing_folder)

    def record_settings(self, start_over: bool, owns: list[str], files: list) -> None:
        """Record ours for the next rerun, after discarding the outputs of a run being started over (only what it
        owns: a file of the user's in the folder is never deleted)."""
        if start_over:
            clear(self.output, [name for name in owns if name in RUN_PARTS])
        write_identity(self.output, {**self.settings(), "model_files": self.model_files(), "owns": owns,
                                     "input_files": files})

    def preflight(self) -> None:
        """What must work before anything is written (nothing, for execute: it runs no writer)."""

    def retry_failed(self) -> None:
        """Documents committed with writer errors are not final: their parts (and the parts after them, which
        commit in stream order) are redone by this run, and their tasks run again."""
        import fsspec

        from prox.pipeline.checkpoints import Checkpoints

        checkpoints = Checkpoints(f"{self.output}/checkpoints", self.checkpoint_every)
        for rank in self.ranks:
            if checkpoints.reopen_failed(rank):
                completion = f"{self.output}/logs/completions/{rank:05d}"  # datatrove's: a completed task is skipped
                fs, _, (root,) = fsspec.get_fs_token_paths(completion)
                if fs.exists(root):
                    fs.rm(root)

    def run(self, progress: bool = False, force: bool = False, quiet: bool = True,
            existing_folder: bool = False) -> Optional[dict]:
        """Run (or resume) the job; the summary, or None when the executor only submitted it (Slurm).

        Mistakes fail here, before any task starts or anything is written: a missing input, a text key that the first
        records lack, a folder holding a run with other settings or inputs (unless ``force``), a folder of other files
        (unless ``existing_folder``), an output inside an input, a folder another run is writing.
        ``quiet``: datatrove's own logs and statistics go to ``OUTPUT/logs`` only, not to the terminal."""
        from prox.pipeline.lock import FolderInUse, run_lock, tasks_running

        lock = run_lock(self.output)
        wait = SLICE_WAIT if self.runs_a_slice else 0  # the drivers of other slices hold it for moments only
        try:
            if self._folder_exists():
                lock.acquire(wait)  # a folder another run is writing is refused before any work
            owns, start_over, files = self.prepare(force, existing_folder)
            lock.acquire(wait)  # a new folder: from its first file on
            running = tasks_running(self.output, self.ranks)
            if running:
                raise FolderInUse(f"{self.output} is in use: {running}; wait for it to end, or choose another --output")
        except BaseException:
            lock.discard()
            raise
        try:
            self.record_settings(start_over, owns, files)
            self.retry_failed()
            self.files, self.sizes = [path for path, _, _ in files], [size for _, size, _ in files]
            if self.runs_a_slice:
                lock.release()  # the drivers of the run's other slices prepare and run beside this one
            return self._run(progress, quiet, owns, lock)
        finally:
            lock.release()

    @property
    def ranks(self) -> range:
        """The tasks this driver runs: all of them, or the slice its executor options name."""
        offset = int(self.executor_options.get("local_rank_offset", 0)) if self.executor == "local" else 0
        count = int(self.executor_options.get("local_tasks", -1)) if self.executor == "local" else -1
        return range(offset, self.tasks if count == -1 else min(self.tasks, offset + count))

    @property
    def runs_a_slice(self) -> bool:
        return self.ranks != range(self.tasks)

    def prepare(self, force: bool, existing_folder: bool) -> tuple[list[str], bool, list]:
        """Every check that comes before the first write: what the run owns, whether it starts over, its input files."""
        from prox.pipeline.inputs import check_apart, describe_files
        from prox.records import check_text_key, expand

        files = expand(self.inputs)
        if not files:
            raise FileNotFoundError(f"no readable input files in {', '.join(self.inputs)}")
        check_apart(self.inputs, files, self.output, RUN_PARTS)
        theirs = self.their_identity(force)
        owns = self.owned_parts(force, existing_folder, theirs)
        check_text_key(files, self.text_keys)
        described = describe_files(files)
        start_over = self.check_settings(theirs, force, described)
        self.preflight()
        return owns, start_over, described

    def _folder_exists(self) -> bool:
        import fsspec

        fs, _, (root,) = fsspec.get_fs_token_paths(self.output)
        return fs.exists(root)

    def _run(self, progress: bool, quiet: bool, owns: list[str], lock) -> Optional[dict]:
        from prox.pipeline.progress import ProgressBar
        from prox.pipeline.quiet import quiet_driver

        self.quiet = quiet
        executor = self.build_executor()
        _clear(f"{self.output}/progress")  # the bar counts this run's documents
        before, started, start = committed(self.output), time.time(), time.perf_counter()
        bar = ProgressBar(f"{self.output}/progress", sum(self.sizes), self.limit,
                          self.progress_stages, title=f"{self.command[:-1]}ing") if progress else nullcontext()
        if self.executor == "local":
            from prox.pipeline.children import install

            install()  # no helper process outlives this one, even after kill -9
        with bar, quiet_driver() if quiet else nullcontext():
            executor.run()
        if self.executor == "slurm":
            return None
        lock.acquire(SLICE_WAIT)  # the figures and the card are written by one driver at a time
        record_invocation(self.output, started, time.perf_counter() - start, committed(self.output) - before)
        summary = self.summarize()
        if summary["kept"] + summary["dropped"] and "README.md" in owns:  # a run that refined nothing publishes nothing
            write_dataset_card(self.output)
        return summary

    @property
    def progress_stages(self) -> tuple:
        """The model stages whose progress files the bar reads (none: the output step's)."""
        return ()

    def summarize(self) -> dict:
        return summarize(self.output)


@dataclass
class RefineJob(_Job):
    """``prox refine``: doc programs, chunk programs, execution."""

    preset: Optional[str] = DEFAULT_PRESET
    doc_model: Optional[str] = None
    chunk_model: Optional[str] = None
    backend: Optional[str] = None
    stages: Sequence[str] = ("doc", "chunk")
    docs_per_step: int = 64
    score: bool = False  # the doc stage writes P(drop) by scoring; thresholds.drop_threshold decides from it
    thresholds: Thresholds = field(default_factory=Thresholds)
    writer_options: dict = field(default_factory=dict)  # batching settings and the backend's own options

    command = "refine"

    def __post_init__(self):
        super().__post_init__()
        self.stages = list(self.stages)
        unknown = set(self.stages) - {"doc", "chunk"}
        if unknown or not self.stages:
            raise ValueError(f"--stages takes doc, chunk or both, not {','.join(self.stages)}")
        from prox.settings import RefineSettings

        # checked here, when the job starts: a bad preset, backend or option fails before any task runs
        self.refine_settings = RefineSettings.of(self.preset, self.doc_model, self.chunk_model, self.backend,
                                                 self.stages, self.score, docs_per_step=self.docs_per_step,
                                                 **self.writer_options)
        self.refine_settings.check_thresholds(self.thresholds)

    def preflight(self) -> None:
        """Build the writers and have them write programs for a probe page before anything is written (the writers
        built here are the ones the tasks use when they run in this process). Where the tasks run elsewhere (Slurm,
        Ray, several local workers) a model is not loaded here too, but rules, students and servers are probed."""
        from prox.engine import Engine
        from prox.pipeline.steps import PROCESS_WRITERS
        from prox.writers.errors import ensure_loadable

        settings = self.refine_settings
        in_process = self.executor == "local" and self.workers == 1
        if in_process or all(settings.models.for_stage(s).backend in CHEAP_BACKENDS for s in settings.stages):
            Engine.build(settings, self.thresholds, PROCESS_WRITERS).probe()
            return
        for stage in settings.stages:  # at least: every model is a local file or folder, or cached, or reachable
            choice = settings.models.for_stage(stage)
            if choice.model and choice.backend not in CHEAP_BACKENDS:
                ensure_loadable(choice.model)

    def steps(self) -> list:
        from prox.pipeline.steps import ExecutePrograms, WriteChunkPrograms, WriteDocPrograms

        steps: list = []
        shared = dict(settings=self.refine_settings, thresholds=self.thresholds, progress_folder=f"{self.output}/progress")
        if "doc" in self.stages:
            steps.append(WriteDocPrograms(**shared))
        if "chunk" in self.stages:
            steps.append(WriteChunkPrograms(**shared))
        return steps + [ExecutePrograms(self.thresholds, keep_dropped=True)]

    @property
    def progress_stages(self) -> tuple:
        return tuple(self.stages)

    @property
    def set_aside(self) -> tuple:
        """An input's ``raw_content``, stored programs and ``prox`` are its own: this run writes its own."""
        return WRITTEN_FIELDS

    def model_files(self) -> dict:
        from prox.pipeline.inputs import model_fingerprints

        settings = self.refine_settings
        return model_fingerprints({stage: settings.models.for_stage(stage).model for stage in settings.stages})


@dataclass
class ExecuteJob(_Job):
    """``prox execute``: the programs stored in records (``metadata.doc_program``, ``chunk_program``,
    ``drop_probability``) executed again with ``thresholds``; the original text is ``raw_content``, else
    ``text`` (or ``text_key``)."""

    text_key: Optional[str] = None
    thresholds: Thresholds = field(default_factory=Thresholds)

    command = "execute"

    @property
    def text_keys(self) -> list[str]:
        return [self.text_key] if self.text_key else ["raw_content", "text"]

    def steps(self) -> list:
        from prox.pipeline.steps import ExecutePrograms

        return [ExecutePrograms(self.thresholds, keep_dropped=True)]

    def claim_new_folder(self, force: bool, existing_folder: bool) -> list[str]:
        """An older prox execute output (``kept.jsonl``, no run.json) is replaced only with ``force``."""
        from prox.pipeline.folders import command_of

        if command_of(self.output) == "execute":
            if not force:
                raise FileExistsError(f"{self.output} already holds a prox execute run; choose a new --output, or --force "
                                      "to replace it")
            clear(self.output, LEGACY_EXECUTE_FILES)
        return super().claim_new_folder(force, existing_folder)


LEGACY_EXECUTE_FILES = ("kept.jsonl", "kept.parquet", "dropped.jsonl", "dropped.parquet", "rejected.jsonl", "stats.json",
                        "run.json", "report.html")


def _identity(settings: dict) -> dict:
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
    identity["writer_options"] = {k: v for k, v in options.items() if k not in WRITER_LOGISTICS}
    return identity


def summarize(output: str, seconds: Optional[float] = None) -> dict:
    """The run's figures from its committed parts (exact across resumes) and its invocations' times
    (``logs/invocations.jsonl``): ``seconds`` and ``docs_per_second`` are the run's, over all its invocations, so a
    resume that found nothing to do publishes the run's figures, not its own; ``last_invocation`` says what the last
    one added. Also written to stats.json. ``seconds``: the run's, for a run with no record of its invocations."""
    import fsspec

    from prox.pipeline.checkpoints import Checkpoints

    stats = RunStats.merge(Checkpoints(f"{output}/checkpoints").parts())
    runs = invocations(output)
    total = sum(r["seconds"] for r in runs) if runs else seconds
    summary = stats.summary(total)
    if runs:
        last = runs[-1]
        summary.update(invocations=len(runs), started=runs[0]["started"], finished=last["finished"], last_invocation={
            "seconds": last["seconds"], "documents": last["documents"],
            "docs_per_second": round(last["documents"] / last["seconds"], 3) if last["seconds"] else None})
    with fsspec.open(f"{output}/stats.json", "w", auto_mkdir=True) as handle:
        json.dump(summary, handle, indent=2)
    return summary


def write_dataset_card(output: str) -> None:
    """The run's Hugging Face dataset card, ``OUTPUT/README.md`` (:mod:`prox.report.card`), so the folder
    publishes as a dataset. A README that prox did not write is left alone (:func:`check_ours`); a card that cannot
    be written is a warning, never a failed run (``prox card`` writes it again)."""
    import logging

    from prox.pipeline.folders import NotOurs, check_ours
    from prox.report.card import write_card

    path = f"{output}/README.md"
    try:
        try:
            check_ours(output, "README.md")
        except NotOurs as exc:
            logging.getLogger("prox").warning("%s", exc)
            return
        write_card(output)
    except Exception as exc:  # noqa: BLE001 - the outputs are complete; only their description failed
        logging.getLogger("prox").warning("could not write the dataset card %s: %s: %s (prox card %s retries)",
                                          path, type(exc).__name__, exc, output)


def committed(output: str) -> int:
    """Documents read by the committed parts so far."""
    from prox.pipeline.checkpoints import Checkpoints

    return RunStats.merge(Checkpoints(f"{output}/checkpoints").parts()).read


INVOCATIONS = "logs/invocations.jsonl"


def record_invocation(output: str, started: float, seconds: float, documents: int) -> None:
    """Append one invocation (when, how long, how many documents it added) to the run's record."""
    import fsspec

    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))  # noqa: E731
    line = {"started": stamp(started), "finished": stamp(started + seconds), "seconds": round(seconds, 3), "documents": documents}
    path = f"{output}/{INVOCATIONS}"
    fs, _, (root,) = fsspec.get_fs_token_paths(path)
    previous = fs.cat_file(root).decode() if fs.exists(root) else ""  # object stores cannot append: rewrite it
    with fsspec.open(path, "w", auto_mkdir=True) as handle:
        handle.write(previous + json.dumps(line) + "\n")


def invocations(output: str) -> list[dict]:
    import fsspec

    fs, _, (root,) = fsspec.get_fs_token_paths(f"{output}/{INVOCATIONS}")
    if not fs.exists(root):
        return []
    runs = []
    for line in fs.cat_file(root).decode("utf-8", "replace").splitlines():
        try:
            run = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill: the others still count
        if _is_invocation(run):  # a line edited out of shape counts as one cut
            runs.append(run)
    return runs


def _is_invocation(run) -> bool:
    number = lambda value: isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0  # noqa: E731
    return (isinstance(run, dict) and number(run.get("seconds")) and isinstance(run.get("documents"), int)
            and number(run["documents"]) and isinstance(run.get("started"), str) and isinstance(run.get("finished"), str))


def _clear(folder: str) -> None:
    import fsspec

    fs, _, (root,) = fsspec.get_fs_token_paths(folder)
    if fs.exists(root):
        fs.rm(root, recursive=True)
