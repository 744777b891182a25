"""Our error classes: every failure a user can cause ends in one of these, with a readable message.

Third-party failures (music21, mido, Keras, FluidSynth, the hub) are converted to these at the
module boundary that calls them, raised ``from`` the original so the cause stays in the traceback.
"""


class GenreLSTMError(Exception):
    """Base class: a problem the user can fix, reported as one line without a traceback."""


class MusicReadError(GenreLSTMError):
    """A music file could not be read, or holds no pitched notes."""


class MusicTooLargeError(MusicReadError):
    """A music file exceeds the limits that keep parsing and rendering cheap."""


class MusicWriteError(GenreLSTMError):
    """Events could not be written to a MIDI file."""


class VocabularyError(GenreLSTMError):
    """A vocabulary file is missing, malformed, or does not fit its model."""


class CheckpointError(GenreLSTMError):
    """A checkpoint folder is missing, incomplete, or inconsistent."""


class HubError(CheckpointError):
    """A checkpoint could not be fetched from the Hugging Face hub."""


class UnknownGenreError(GenreLSTMError):
    """A genre id that is not in the registry."""


class InvalidParameterError(GenreLSTMError, ValueError):
    """A generation or training parameter outside its allowed range."""


class CorpusError(GenreLSTMError):
    """A training collection could not be assembled (no files, nothing readable, too small)."""


class RenderError(GenreLSTMError):
    """MIDI could not be rendered to audio (no FluidSynth, no soundfont, synth failure)."""


class DistributeError(GenreLSTMError):
    """Distributed training cannot start (not the JAX backend, JAX missing, devices or processes)."""


class MusicPackageMissingError(CorpusError):
    """A collection's music comes from a Debian package (or is read by a Python package) that is not
    installed; the message names the one command that installs it, ``MUSIC_SETUP_COMMAND``."""


MUSIC_SETUP_COMMAND = "bash scripts/setup.sh --music"  # installs packages-music.txt and requirements-music.txt
