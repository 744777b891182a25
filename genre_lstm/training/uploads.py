"""Turning a user's uploads (music files and zips of them) into a folder of music files, safely.

Zip members are checked before anything is written: no absolute paths, no '..', no links, at most
``MAX_FILES`` music files, ``MAX_TOTAL_BYTES`` uncompressed and a compression ratio a music file
can have (a zip bomb is refused from its directory alone). Nothing is written outside ``dest``.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import InvalidParameterError
from ..music.midi_io import MIDI_SUFFIXES, SCORE_SUFFIXES

MUSIC_SUFFIXES = MIDI_SUFFIXES + SCORE_SUFFIXES
MAX_FILES = 500
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_RATIO = 50  # uncompressed / compressed size of one member


class UploadError(InvalidParameterError):
    """An upload that is refused as a whole (a dangerous or oversized zip, too many files)."""


@dataclass
class Gathered:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def gather_music_files(uploads: list[str | Path], dest: str | Path) -> Gathered:
    """Copy music files and the music inside zips into ``dest``; report everything else skipped."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    gathered = Gathered()
    for upload in map(Path, uploads):
        if zipfile.is_zipfile(upload):
            _extract_zip(upload, dest, gathered)
        elif upload.suffix.lower() in MUSIC_SUFFIXES:
            gathered.files.append(Path(shutil.copy(upload, _unique(dest / upload.name))))
        else:
            gathered.skipped.append((upload.name, "not MIDI, MusicXML or ABC"))
        if len(gathered.files) > MAX_FILES:
            raise UploadError(f"more than {MAX_FILES} music files; upload fewer")
    return gathered


def _extract_zip(path: Path, dest: Path, gathered: Gathered) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise UploadError(f"{path.name}: not a readable zip ({error})") from error
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if not members:
            gathered.skipped.append((path.name, "an empty zip"))
            return
        total = 0
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or ":" in member.filename:
                raise UploadError(f"{path.name}: refused, member {member.filename!r} points outside the folder")
            if stat.S_ISLNK(member.external_attr >> 16):
                raise UploadError(f"{path.name}: refused, member {member.filename!r} is a link")
            if member.file_size > MAX_RATIO * max(member.compress_size, 1) and member.file_size > 1024 * 1024:
                raise UploadError(f"{path.name}: refused, {member.filename!r} expands {member.file_size // max(member.compress_size, 1)}x "
                                  "(a zip bomb?)")
            total += member.file_size
        if total > MAX_TOTAL_BYTES:
            raise UploadError(f"{path.name}: {total / 1e6:.0f} MB uncompressed, over the {MAX_TOTAL_BYTES / 1e6:.0f} MB limit")
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.suffix.lower() not in MUSIC_SUFFIXES:
                gathered.skipped.append((f"{path.name}/{member.filename}", "not MIDI, MusicXML or ABC"))
                continue
            target = _unique(dest / name.name)  # flattened: no folders from the zip are created
            try:
                with archive.open(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, length=1024 * 1024)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:  # a bad CRC, say
                target.unlink(missing_ok=True)
                gathered.skipped.append((f"{path.name}/{member.filename}", f"damaged in the zip ({error})"))
                continue
            gathered.files.append(target)


def _unique(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate
