"""Program writers: one file per backend, all behind :class:`ProgramWriter`, named in :mod:`prox.writers.registry`.

Backends load their libraries only when built, so importing this package stays light.
"""

from prox.errors import ModelUnavailable
from prox.writers.base import ProgramWriter, Written
from prox.writers.registry import BACKENDS, default_backend, make_writer

__all__ = ["BACKENDS", "ModelUnavailable", "ProgramWriter", "Written", "default_backend", "make_writer"]
