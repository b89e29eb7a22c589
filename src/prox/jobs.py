"""The jobs behind ``prox refine`` and ``prox execute``: datatrove pipelines on a local, Slurm or Ray executor.

Both are built from the same steps and leave the same folder, with everything a run needs to resume:
``run.json`` (the settings that decide which document goes where, checked on rerun), ``checkpoints/``
(committed parts), ``logs/`` (datatrove's completions, logs and stats) and ``kept/``, ``dropped/``,
``rejected/``, ``stats.json``. ``RefineJob`` writes programs and executes them; ``ExecuteJob``
re-executes the programs stored in records with other thresholds, without a model.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

from prox.errors import UsageError
from prox.masking import mask
from prox.pipeline.documents import WRITTEN_FIELDS
from prox.pipeline.executors import EXECUTORS, build_executor
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
from prox.pipeline.identity import UNREADABLE, comparable
from prox.pipeline.inputs import InputsChanged, changes
from prox.pipeline.summary import committed, record_invocation, summarize
from prox.program.stored import Thresholds
from prox.report.card import write_dataset_card
from prox.settings import DEFAULT_PRESET, check_stages

__all__ = ["ExecuteJob", "RefineJob", "SettingsChanged"]

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
            raise UsageError(f"unknown executor {self.executor!r}; choose one of {', '.join(EXECUTORS)}")
        if self.tasks < 1 or self.workers < 1:
            raise UsageError("--tasks and --workers must be at least 1")
        if self.checkpoint_every < 1:
            raise UsageError("--checkpoint-every must be at least 1")
        from prox.pipeline.output import FORMATS

        if self.output_format not in FORMATS:
            raise UsageError(f"unknown output format {self.output_format!r}; choose one of {', '.join(FORMATS)}")

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
        return build_executor(self.pipeline(), self.executor, self.tasks, self.workers, f"{self.output}/logs",
                              dict(self.executor_options), quiet=getattr(self, "quiet", False), name=f"prox-{self.command}")

    # --- running ------------------------------------------------------------------------------------
    def settings(self) -> dict:
        """Every setting, as ``run.json`` records it (secrets masked)."""
        data = asdict(self)
        if "thresholds" in data:
            data["thresholds"] = asdict(self.thresholds)
        return mask({"command": self.command, **data})

    def identity(self) -> dict:
        """The settings that shape the outputs: a resumed run must have the same ones (its models' files too)."""
        return {**comparable(self.settings()), "model_files": self.model_files()}

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
        changed = differences(comparable(theirs), mine)
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
        from datatrove.io import get_datafolder

        from prox.pipeline.checkpoints import Checkpoints

        checkpoints, folder = Checkpoints(f"{self.output}/checkpoints", self.checkpoint_every), get_datafolder(self.output)
        for rank in self.ranks:
            if checkpoints.reopen_failed(rank):
                completion = f"logs/completions/{rank:05d}"  # datatrove's: a completed task is skipped
                if folder.exists(completion):
                    folder.rm(completion)

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
        from datatrove.io import get_datafolder

        return get_datafolder(self.output).exists("")

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
        self.stages = list(check_stages(self.stages))
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
        from prox.models.hub import ensure_loadable
        from prox.pipeline.steps import PROCESS_WRITERS

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


def _clear(folder: str) -> None:
    from datatrove.io import get_datafolder

    files = get_datafolder(folder)
    if files.exists(""):
        files.rm("", recursive=True)
