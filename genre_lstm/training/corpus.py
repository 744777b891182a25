"""Collections of music, the train/valid/test split by piece, and the on-disk token cache.

A collection is music21's bundled corpus or the music a Debian package installs (Freedoom's WADs,
OpenMSX's and Planet Blupi's MIDI files); DATA.md lists each with its licence.

Parsed pieces are cached as JSON keyed by the file's content hash and ``CACHE_VERSION`` (no
pickles), so a second run never re-parses. Uncached files are parsed by worker processes in parts
(ABC books in groups of tunes), each file's entry written as soon as its parts are in, so a parse
that is cut off continues from what it finished; the cache never depends on the worker count. Pieces are split by a hash of their id, never by
window, so no piece has windows on both sides and the split is stable as a collection grows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ..environment import CACHE
from ..errors import (
    MUSIC_SETUP_COMMAND,
    CorpusError,
    InvalidParameterError,
    MusicPackageMissingError,
    MusicReadError,
)
from ..music.events import DRUMS, ROLE_FAMILIES, SOLO, Music, Part, Step, music_onto_parts

ROLE_ORDER = {role: index for index, role in enumerate(ROLE_FAMILIES)}
CACHE_VERSION = 3  # 2: positions in the bar, durations and gaps up to four whole notes; 3: parts


@dataclass(frozen=True)
class Piece:
    """One piece of a collection: a stable id (file and index within it), its steps and its parts."""

    id: str
    steps: list[Step]
    parts: tuple[Part, ...] = SOLO


def pieces_to_part_ranges(pieces: list[Piece], count: int) -> list[tuple[int, int] | None]:
    """Each part's range: its lowest and highest pitch in ``pieces`` (None: it never sounds)."""
    ranges: list[tuple[int, int] | None] = [None] * count
    for piece in pieces:
        for step in piece.steps:
            if step.part < count and step.pitches:
                low, high = ranges[step.part] or (128, -1)
                ranges[step.part] = (min(low, *step.pitches), max(high, *step.pitches))
    return ranges


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


PARSE_WORKERS_MAX = 256  # worker processes for parsing: 1..PARSE_WORKERS_MAX; None means every usable core


def parse_workers(requested: int | None = None) -> int:
    """How many processes parse: ``requested``, or every core this process may use when None."""
    if requested is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not 1 <= requested <= PARSE_WORKERS_MAX:
        raise InvalidParameterError(f"parse workers must be 1 to {PARSE_WORKERS_MAX}, not {requested}")
    return requested


def read_pieces(paths: Sequence[str | os.PathLike], *, workers: int | None = 1,
                root: str | os.PathLike | None = None,
                progress: Callable[[int, int], None] | None = None) -> ReadReport:
    """Read many files into pieces through the cache; unreadable files are reported, not fatal.

    Files missing from the cache are parsed by ``workers`` processes (None: every core), and each
    file's cache entry is written as soon as it is parsed, so a killed parse resumes from what was
    finished. The cache and the result do not depend on the number of workers.
    Piece ids are paths relative to ``root`` (default: the music21 corpus, else the file name).
    """
    paths = [Path(p) for p in paths]
    root_path = Path(root) if root else _corpus_root()
    results: list[dict | None] = [_read_cache(path) for path in paths]
    todo = [index for index, entry in enumerate(results) if entry is None]
    done = len(paths) - len(todo)
    if progress:
        progress(done, len(paths))
    for index, entry in _parse_uncached(paths, todo, parse_workers(workers)):
        results[index] = entry
        done += 1
        if progress:
            progress(done, len(paths))
    return _entries_to_report(paths, results, root_path)


def read_collection(name: str, *, workers: int | None = None, progress=None) -> ReadReport:
    """All pieces of a named collection of music21's corpus (parsed on every core by default,
    cached after the first parse)."""
    report = read_pieces(collection_paths(name), workers=workers, progress=progress)
    if not report.pieces:
        raise CorpusError(f"collection {name!r} gave no readable pieces")
    return report


def _parse_uncached(paths: list[Path], todo: list[int], workers: int) -> Iterator[tuple[int, dict]]:
    """(index, cache entry) of each file in ``todo``, cached as soon as its last part is parsed.

    The work is split into parts (a file, or ``ABC_TUNES_PER_PART`` tunes of an ABC book, so two
    big books keep two workers busy to the end); the largest parts go first. Parts never depend
    on the number of workers, so neither does the cache. Workers are spawned, never forked: the
    parent may hold Keras's threads.
    """
    from ..music.midi_io import abc_book_parts

    counts = {index: abc_book_parts(paths[index]) for index in todo}
    jobs = sorted(((index, part) for index in todo for part in range(counts[index])),
                  key=lambda job: -paths[job[0]].stat().st_size / counts[job[0]])
    found: dict[int, dict[int, dict]] = {index: {} for index in todo}
    for (index, part), result in _parse_parts(paths, jobs, counts, workers):
        found[index][part] = result
        if len(found[index]) == counts[index]:
            entry = _parts_to_entry(paths[index], [found[index][n] for n in range(counts[index])])
            _write_cache(paths[index], entry)
            yield index, entry


def _parse_parts(paths: list[Path], jobs: list[tuple[int, int]], counts: dict[int, int],
                 workers: int) -> Iterator[tuple[tuple[int, int], dict]]:
    """((file index, part), parsed part) for every job, in this process or a pool of ``workers``,
    in the order they finish."""
    if workers == 1 or len(jobs) < 2:
        for index, part in jobs:
            yield (index, part), _parse_part(paths[index], part, counts[index])
        return
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_parse_part, paths[index], part, counts[index]): (index, part)
                   for index, part in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _entries_to_report(paths: list[Path], entries: list[dict], root: Path) -> ReadReport:
    """Cache entries, in file order, as pieces (with their parts) named by file and position, and
    skipped files."""
    from ..music.midi_io import music_from_json

    pieces, skipped = [], []
    for path, entry in zip(paths, entries):
        name = _relative_name(path, root)
        if entry.get("error"):
            skipped.append((name, entry["error"]))
            continue
        labels = entry.get("names") or range(len(entry["pieces"]))
        for label, music in zip(labels, music_from_json(entry)):
            pieces.append(Piece(f"{name}#{label}", music.steps, music.parts))
        skipped.extend((f"{name}#{label}", reason) for label, reason in entry.get("skipped", []))
    return ReadReport(pieces, skipped)


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


def _parse_part(path: Path, part: int, parts: int) -> dict:
    """Parse one part of a file (the whole file when it has one part) into pieces with their
    parts; runs in a worker process. A WAD's pieces are named by their lumps, and the lumps it
    leaves out are kept with their reasons (a missing omgifol is no fault of the file: its error is
    not a MusicReadError and stops the whole read)."""
    from ..music.midi_io import abc_book_part_to_music, music_file_to_music, music_to_json
    from ..music.wad_io import WAD_SUFFIX, wad_file_to_pieces

    named, skipped = None, []
    try:
        if path.suffix.lower() == WAD_SUFFIX:
            named, skipped = wad_file_to_pieces(path)
            pieces = [music for _, music in named]
        else:
            pieces = music_file_to_music(path) if parts == 1 else abc_book_part_to_music(path, part)
    except MusicReadError as error:
        return {"error": str(error)}
    result = music_to_json([music for music in pieces if music.steps])
    if named is not None:
        result.update(names=[name for name, music in named if music.steps], skipped=skipped)
    return result


def _parts_to_entry(path: Path, parts: list[dict]) -> dict:
    """One file's cache entry from its parts in order: their pieces, where their steps sit and
    which part plays each (and a WAD's lump names and skipped lumps), or the first part's error."""
    from ..music.midi_io import no_notes_message

    errors = [part["error"] for part in parts if "error" in part]
    if not errors and not any(part.get("pieces") for part in parts):
        errors = [no_notes_message(path)]
    if errors:
        return {"version": CACHE_VERSION, "error": errors[0]}
    entry = {"version": CACHE_VERSION}
    for key in ("pieces", "positions", "step_parts", "parts"):
        entry[key] = [item for part in parts for item in part.get(key, [])]
    if any("names" in part for part in parts):
        entry.update(names=[name for part in parts for name in part.get("names", [])],
                     skipped=[lump for part in parts for lump in part.get("skipped", [])])
    return entry


def forget_cached(paths: Iterable[str | os.PathLike]) -> None:
    """Delete the token-cache entries of these files (a user's uploads, when their session ends)."""
    for path in paths:
        try:
            _cache_path(Path(path)).unlink(missing_ok=True)
        except OSError:
            pass


def ensemble_of(pieces: Sequence[Piece], max_parts: int) -> tuple[Part, ...]:
    """The parts a model of ``pieces`` plays: each role (General MIDI family, or drums) as many
    times as one piece has it, the roles most pieces have first, at most ``max_parts`` in all,
    each playing the program its role plays most; ordered by role, drums last. One part (a single
    line) when ``max_parts`` is 1 or below."""
    if max_parts <= 1:
        return SOLO
    have: Counter = Counter()  # (role, k): pieces with k or more parts of that role
    programs: dict[str, Counter] = defaultdict(Counter)
    for piece in pieces:
        roles = Counter(part.role for part in piece.parts)
        have.update((role, k) for role, count in roles.items() for k in range(1, count + 1))
        for part in piece.parts:
            programs[part.role][part.program] += 1
    kept = sorted(have, key=lambda slot: (-have[slot], slot))[:max_parts]
    kept.sort(key=lambda slot: (slot[0] == DRUMS, ROLE_ORDER.get(slot[0], len(ROLE_ORDER)), slot[1]))
    return tuple(Part(role if k == 1 else f"{role} {k}", programs[role].most_common(1)[0][0], role == DRUMS)
                 for role, k in kept) or SOLO


def pieces_onto_parts(pieces: Sequence[Piece], ensemble: Sequence[Part]) -> tuple[list[Piece], Counter]:
    """Each piece played by ``ensemble``'s parts (``music_onto_parts``, parts without a match
    dropped), pieces left without notes left out; and how often each part name was dropped."""
    kept, dropped = [], Counter()
    for piece in pieces:
        music, left = music_onto_parts(Music(piece.steps, piece.parts), ensemble, fill=False)
        dropped.update(part.name for part in left)
        if music.steps:
            kept.append(Piece(piece.id, music.steps, music.parts))
    return kept, dropped
