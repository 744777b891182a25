"""Doom WAD files -> the MIDI songs among their lumps -> steps in parts (the Freedoom soundtrack).

A WAD is an archive of named lumps; omgifol (PyPI ``omgifol``) lists its music lumps, and each one
that is a standard MIDI file is read by ``midi_io`` exactly as a ``.mid`` file would be. Doom's own
MUS format is not read (Freedoom's songs are all MIDI). omgifol's failures leave this module as our
errors, raised from the original.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import MUSIC_SETUP_COMMAND, MusicPackageMissingError, MusicReadError
from .events import Music
from .midi_io import midi_bytes_to_music

WAD_SUFFIX = ".wad"


def wad_file_to_lumps(path: str | os.PathLike) -> list[tuple[str, bytes]]:
    """(lump name, bytes) of every music lump of a WAD, in the WAD's own order."""
    path = Path(path)
    try:
        import omg
    except ImportError as error:
        raise MusicPackageMissingError(
            f"{path.name}: reading Doom WADs needs the Python package omgifol; install it with: {MUSIC_SETUP_COMMAND}"
        ) from error
    if not path.is_file():
        raise MusicReadError(f"{path}: no such file")
    try:
        wad = omg.WAD(str(path))
    except (OSError, ValueError, EOFError) as error:  # omgifol raises OSError on a file that is no WAD
        raise MusicReadError(f"{path.name}: cannot read as a WAD ({error})") from error
    return [(name, bytes(lump.data)) for name, lump in wad.music.items()]


def wad_file_to_pieces(path: str | os.PathLike) -> tuple[list[tuple[str, Music]], list[tuple[str, str]]]:
    """The WAD's MIDI songs as (lump name, music with its parts), and each lump left out with its
    reason: one in Doom's MUS format, one without notes, or a second copy of a song (Freedoom's
    E2M6 is E1M5)."""
    pieces, skipped, seen = [], [], {}
    for name, data in wad_file_to_lumps(path):
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            skipped.append((name, f"the same song as {seen[digest]}"))
            continue
        seen[digest] = name
        if data[:4] == b"MUS\x1a":
            skipped.append((name, "Doom's MUS format (only MIDI lumps are read)"))
            continue
        try:
            pieces.append((name, midi_bytes_to_music(data, name)))
        except MusicReadError as error:
            skipped.append((name, str(error)))
    return pieces, skipped
