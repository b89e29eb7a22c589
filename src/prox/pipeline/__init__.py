"""Refining corpora with datatrove: public pipeline steps, and what a resumable run folder is made of.

The jobs behind ``prox refine`` and ``prox execute`` that wire them up are :mod:`prox.jobs`.

The steps drop into any datatrove pipeline::

    [JsonlReader(...), WriteDocPrograms(preset="web"), WriteChunkPrograms(preset="web"),
     ExecutePrograms(exclusion_writer=JsonlWriter("dropped/")), JsonlWriter("kept/")]
"""

from prox.pipeline.checkpoints import Checkpoints
from prox.pipeline.folders import SettingsChanged
from prox.pipeline.output import WriteOutputs
from prox.pipeline.reader import ReadRecords
from prox.pipeline.stats import RunStats
from prox.pipeline.steps import ExecutePrograms, WriteChunkPrograms, WriteDocPrograms
from prox.pipeline.summary import summarize

__all__ = [
    "Checkpoints", "ExecutePrograms", "ReadRecords", "RunStats", "SettingsChanged",
    "WriteChunkPrograms", "WriteDocPrograms", "WriteOutputs", "summarize",
]
