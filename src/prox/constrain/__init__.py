"""Constrained decoding: refining models that cannot write a broken program.

``automaton`` defines what may be written (for one chunk, or at doc level), ``vocabulary`` maps
token ids to bytes, ``tracker`` turns both into allowed-token masks step by step, and ``processors``
plugs the trackers into transformers and llama.cpp.
"""

from prox.constrain.automaton import ChunkAutomaton, DocAutomaton
from prox.constrain.tracker import StateMasks, Tracker
from prox.constrain.vocabulary import Vocabulary, vocabulary

__all__ = ["ChunkAutomaton", "DocAutomaton", "StateMasks", "Tracker", "Vocabulary", "vocabulary"]
