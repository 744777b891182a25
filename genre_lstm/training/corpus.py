"""Collections of music, the train/valid/test split by piece, and the on-disk token cache.

A collection is music21's bundled corpus or the music a Debian package installs (Freedoom's WADs,
OpenMSX's and Planet Blupi's MIDI files); DATA.md lists each with its licence.

Parsed pieces are cached as JSON keyed by the file's content hash and ``CACHE_VERSION`` (no
pickles), so a second run never re-parses. Pieces are split by a hash of their id, never by
window, so no piece has windows on both sides and the split is stable as a collection grows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..environment import CACHE
from ..errors import (
    MUSIC_SETUP_COMMAND,
    CorpusError,
    MusicPackageMissingError,
    MusicReadError,
)
from ..music.events import Step, rows_to_steps, steps_to_positions, steps_to_rows

CACHE_VERSION = 2  # 2: positions in the bar, durations and gaps up to four whole notes


@dataclass(frozen=True)
class Piece:
    """One piece of a collection: a stable id (file and index within it) and its steps."""

    id: str
    steps: list[Step]


@dataclass(frozen=True)
class Split:
    train: list[Piece]
    valid: list[Piece]
    test: list[Piece]


@dataclass(frozen=True)
class ReadReport:
    """What reading a collection gave: pieces, and each skipped file with its reason."""

    pieces: list[Piece]
    skipped: list[tuple[str, str]]

    @property
    def steps(self) -> int:
        return sum(len(piece.steps) for piece in self.pieces)


def _corpus_root() -> Path:
    from music21 import common

    return Path(common.getCorpusFilePath())


def _composer(name: str) -> list[Path]:
    from music21 import corpus

    return sorted(Path(p) for p in corpus.getComposer(name))


def _under(folder: str, pattern: str) -> list[Path]:
    return sorted((_corpus_root() / folder).glob(pattern))


def _bach_chorales() -> list[Path]:
    return [p for p in _composer("bach") if re.match(r"bwv\d+", p.name)
            and p.suffix in (".mxl", ".xml") and not p.name.startswith("bwv846")]


def _quartets() -> list[Path]:
    paths = _composer("haydn") + _composer("mozart") + _composer("beethoven")
    return [p for p in paths if p.suffix == ".mxl" and "k545" not in str(p)]


@dataclass(frozen=True)
class PackagedMusic:
    """Music that a Debian package installs: the package, what it is, and where its files lie."""

    package: str
    title: str
    folder: str
    pattern: str
    licence: str  # the music's licence as the hub spells it: a checkpoint trained on it carries the same

    def paths(self) -> list[Path]:
        """The installed files; when there are none, an error that names the package and the one
        command that installs it (``genre-lstm train`` shows it as one line, exit code 2)."""
        found = sorted(Path(self.folder).glob(self.pattern))
        if not found:
            raise MusicPackageMissingError(
                f"{self.title} is not installed (Debian package {self.package}: no {self.pattern} in "
                f"{self.folder}); install it with: {MUSIC_SETUP_COMMAND}")
        return found


PACKAGED: dict[str, PackagedMusic] = {
    "freedoom": PackagedMusic("freedoom", "the Freedoom soundtrack", "/usr/share/games/doom", "freedoom[12].wad",
                              "bsd-3-clause"),
    "openmsx": PackagedMusic("openttd-openmsx", "OpenMSX, OpenTTD's music set",
                             "/usr/share/games/openttd/baseset/openmsx", "*.mid", "gpl-2.0"),
    "planetblupi": PackagedMusic("planetblupi-music-midi", "Planet Blupi's music", "/usr/share/planetblupi/music",
                                 "*.mid", "gpl-3.0"),
}
PACKAGED_COLLECTIONS: dict[str, tuple[str, ...]] = {  # collection -> the packaged music it reads
    "freedoom": ("freedoom",), "openmsx": ("openmsx",), "planetblupi": ("planetblupi",),
    "game-music": ("openmsx", "planetblupi"),
}

_GERMAN_ESSEN = ("altdeu", "erk", "boehme", "fink", "ballad", "kinder", "zuccal", "dva")

COLLECTIONS: dict[str, Callable[[], list[Path]]] = {
    "bach-chorales": _bach_chorales,
    "palestrina": lambda: [p for p in _composer("palestrina") if p.suffix == ".krn"],
    "oneills1850": lambda: _composer("oneills1850"),
    "essen-chinese": lambda: _under("essenFolksong", "han[12].abc"),
    "essen-german": lambda: [p for p in _under("essenFolksong", "*.abc") if p.name.startswith(_GERMAN_ESSEN)],
    "quartets": _quartets,
    "ryans-mammoth": lambda: _composer("ryansMammoth"),
    "airds-airs": lambda: _composer("airdsAirs"),
    "monteverdi": lambda: [p for p in _composer("monteverdi") if p.suffix in (".mxl", ".xml")],
    **{name: (lambda parts=parts: [path for part in parts for path in PACKAGED[part].paths()])
       for name, parts in PACKAGED_COLLECTIONS.items()},
}


def collection_paths(name: str) -> list[Path]:
    """Files of a named collection (music21's bundled corpus or an installed Debian package)."""
    if name not in COLLECTIONS:
        raise CorpusError(f"unknown collection {name!r}; known: {', '.join(sorted(COLLECTIONS))}")
    paths = COLLECTIONS[name]()
    if not paths:
        raise CorpusError(f"collection {name!r} has no files in music21's corpus")
    return paths


def cache_dir() -> Path:
    """Where parsed tokens are kept: $GENRE_LSTM_CACHE, else ~/.cache/genre-lstm/tokens."""
    root = CACHE.get() or Path.home() / ".cache" / "genre-lstm"
    return Path(root) / "tokens"


def read_pieces(paths: Sequence[str | os.PathLike], *, workers: int = 1,
                root: str | os.PathLike | None = None,
                progress: Callable[[int, int], None] | None = None) -> ReadReport:
    """Read many files into pieces through the cache; unreadable files are reported, not fatal.

    Piece ids are paths relative to ``root`` (default: the music21 corpus, else the file name).
    """
    paths = [Path(p) for p in paths]
    root_path = Path(root) if root else _corpus_root()
    results: list[dict | None] = [None] * len(paths)
    todo = []
    for index, path in enumerate(paths):
        cached = _read_cache(path)
        if cached is None:
            todo.append(index)
        results[index] = cached
    done = len(paths) - len(todo)
    if progress:
        progress(done, len(paths))
    if todo:
        if workers > 1 and len(todo) > 1:
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                for index, entry in zip(todo, pool.map(_parse_to_entry, [paths[i] for i in todo])):
                    results[index] = entry
                    _write_cache(paths[index], entry)
                    done += 1
                    if progress:
                        progress(done, len(paths))
        else:
            for index in todo:
                results[index] = _parse_to_entry(paths[index])
                _write_cache(paths[index], results[index])
                done += 1
                if progress:
                    progress(done, len(paths))
    pieces, skipped = [], []
    for path, entry in zip(paths, results):
        name = _relative_name(path, root_path)
        if entry.get("error"):
            skipped.append((name, entry["error"]))
            continue
        positions = entry.get("positions") or [None] * len(entry["pieces"])
        labels = entry.get("names") or range(len(entry["pieces"]))
        for label, rows, where in zip(labels, entry["pieces"], positions):
            pieces.append(Piece(f"{name}#{label}", rows_to_steps(rows, where)))
        skipped.extend((f"{name}#{label}", reason) for label, reason in entry.get("skipped", []))
    return ReadReport(pieces, skipped)


def read_collection(name: str, *, workers: int = 2, progress=None) -> ReadReport:
    """All pieces of a named collection of music21's corpus (cached after the first parse)."""
    report = read_pieces(collection_paths(name), workers=workers, progress=progress)
    if not report.pieces:
        raise CorpusError(f"collection {name!r} gave no readable pieces")
    return report


def split_pieces(pieces: Iterable[Piece], *, valid_fraction: float = 0.1,
                 test_fraction: float = 0.1, salt: str = "genre-lstm") -> Split:
    """Assign each piece by a hash of its id; small sets still get one valid and one test piece."""
    ranked = sorted(pieces, key=lambda p: _unit_hash(salt + p.id))
    train, valid, test = [], [], []
    for piece in ranked:
        share = _unit_hash(salt + piece.id)
        (test if share < test_fraction else valid if share < test_fraction + valid_fraction else train).append(piece)
    for bucket in (valid, test):
        if not bucket and len(train) >= 3:
            bucket.append(train.pop())  # the highest hash: deterministic
    return Split(train, valid, test)


def _unit_hash(text: str) -> float:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16) / 16**12


def _relative_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _cache_path(path: Path) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return cache_dir() / f"{digest[:32]}-v{CACHE_VERSION}.json"


def _read_cache(path: Path) -> dict | None:
    try:
        entry = json.loads(_cache_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and entry.get("version") == CACHE_VERSION else None


def _write_cache(path: Path, entry: dict) -> None:
    try:
        target = _cache_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(entry), encoding="utf-8")
        scratch.replace(target)
    except OSError:
        pass  # a read-only cache only costs a re-parse next time


def _parse_to_entry(path: Path) -> dict:
    """Parse one file into a cache entry; runs in a worker process. A WAD's pieces are named by
    their lumps, and the lumps it leaves out are kept with their reasons (a missing omgifol is no
    fault of the file: its error is not a MusicReadError and stops the whole read)."""
    from ..music.midi_io import music_file_to_pieces
    from ..music.wad_io import WAD_SUFFIX, wad_file_to_pieces

    named, skipped = None, []
    try:
        if path.suffix.lower() == WAD_SUFFIX:
            named, skipped = wad_file_to_pieces(path)
            pieces = [steps for _, steps in named]
        else:
            pieces = music_file_to_pieces(path)
    except MusicReadError as error:
        return {"version": CACHE_VERSION, "error": str(error)}
    entry = {"version": CACHE_VERSION, "pieces": [steps_to_rows(p) for p in pieces],
             "positions": [steps_to_positions(p) for p in pieces]}
    if named is not None:
        entry.update(names=[name for name, _ in named], skipped=skipped)
    return entry
