"""Refining corpora with datatrove: public pipeline steps, and the resumable job behind ``prox refine``.

The steps drop into any datatrove pipeline::

    [JsonlReader(...), WriteDocPrograms(preset="web"), WriteChunkPrograms(preset="web"),
     ExecutePrograms(exclusion_writer=JsonlWriter("dropped/")), JsonlWriter("kept/")]
"""

from prox.pipeline.checkpoints import Checkpoints
from prox.pipeline.output import WriteOutputs
from prox.pipeline.reader import ReadRecords
from prox.pipeline.run import ExecuteJob, RefineJob, SettingsChanged, summarize
from prox.pipeline.stats import RunStats
from prox.pipeline.steps import ExecutePrograms, WriteChunkPrograms, WriteDocPrograms

__all__ = [
    "Checkpoints", "ExecuteJob", "ExecutePrograms", "ReadRecords", "RefineJob", "RunStats", "SettingsChanged",
    "WriteChunkPrograms", "WriteDocPrograms", "WriteOutputs", "summarize",
]
