"""Every setting read from the environment, in one place: its name, what it means, its default.

Modules ask a ``Variable`` for its value when they need it (never at import), so a test or a
server can set it before use. The README's table lists each one; a test keeps the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    meaning: str
    default: str = ""  # what applies when it is unset, in words

    def get(self) -> str | None:
        """The value, or None when unset or empty."""
        return os.environ.get(self.name) or None

    def is_off(self) -> bool:
        """True when set to 0 (a switch that is on by default)."""
        return self.get() == "0"


SOUNDFONT = Variable("GENRE_LSTM_SOUNDFONT", "a General MIDI soundfont to render with",
                     "Debian's TimGM6mb (or another GM soundfont at Debian's standard paths)")
CHECKPOINTS = Variable("GENRE_LSTM_CHECKPOINTS", "the folder that holds the shipped genres' checkpoints",
                       "`checkpoints/` of a source checkout, else the copy inside the installed package")
HUB_ORG = Variable("GENRE_LSTM_HUB_ORG", "load the shipped genres from the hub organisation `<org>` (repo `<org>/<genre id>`)",
                   "unset: local checkpoints only")
CACHE = Variable("GENRE_LSTM_CACHE", "where parsed training tokens are cached", "`~/.cache/genre-lstm`")
COMPARE_DATASET = Variable("GENRE_LSTM_COMPARE_DATASET",
                           "a hub dataset repo with Jukebox/GANSynth clips for the Compare tab", "unset: no clips")
JOBS = Variable("GENRE_LSTM_JOBS", "where the app keeps training jobs", "a new temporary folder per server")
TRAIN_TAB = Variable("GENRE_LSTM_TRAIN_TAB", "`0` turns the app's Train tab off", "on")
ENGINE = Variable("GENRE_LSTM_ENGINE", "`numpy` or `keras`: which path runs each sampling step",
                  "NumPy array products on a CPU, the compiled Keras step on a GPU")
DEBUG = Variable("GENRE_LSTM_DEBUG", "`1`: the command line shows a traceback for internal errors", "off")

VARIABLES = (SOUNDFONT, CHECKPOINTS, HUB_ORG, CACHE, COMPARE_DATASET, JOBS, TRAIN_TAB, ENGINE, DEBUG)
