"""Collections of music, the train/valid/test split by piece, and the on-disk token cache.

Parsed pieces are cached as JSON keyed by the file's content hash and ``CACHE_VERSION`` (no
pickles), so a second run never re-parses. Pieces are split by a hash of their id, never by
window, so no piece has windows on both sides and the split is stable as a collection grows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..environment import CACHE
from ..errors import CorpusError, MusicReadError
from ..music.events import DRUMS, ROLE_FAMILIES, SOLO, Music, Part, Step, music_onto_parts

ROLE_ORDER = {role: index for index, role in enumerate(ROLE_FAMILIES)}
CACHE_VERSION = 3  # 2: positions in the bar, durations and gaps up to four whole notes; 3: parts


@dataclass(frozen=True)
class Piece:
    """One piece of a collection: a stable id (file and index within it), its steps and its parts."""

    id: str
    steps: list[Step]
    parts: tuple[Part, ...] = SOLO


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


_GERMAN_ESSEN = ("altdeu", "erk", "boehme", "fink", "ballad", "kinder", "zuccal", "dva")

COLLECTIONS: dict[str, Callable[[], list[Path]]] = {
    "bach-chorales": _bach_chorales,
    "palestrina": lambda: [p for p in _composer("palestrina") if p.suffix == ".krn"],
    "oneills1850": lambda: _composer("oneills1850"),
    "essen-chinese": lambda: _under("essenFolksong", "han[12].abc"),
    "essen-german": lambda: [p for p in _under("essenFolksong", "*.abc") if p.name.startswith(_GERMAN_ESSEN)],
    "quartets": _quartets,
    "ryans-mammoth": lambda: _composer("ryansMammoth"),
    "monteverdi": lambda: [p for p in _composer("monteverdi") if p.suffix in (".mxl", ".xml")],
}


def collection_paths(name: str) -> list[Path]:
    """Files of a named collection of music21's bundled corpus."""
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
    from ..music.midi_io import music_from_json

    pieces, skipped = [], []
    for path, entry in zip(paths, results):
        name = _relative_name(path, root_path)
        if entry.get("error"):
            skipped.append((name, entry["error"]))
            continue
        for number, music in enumerate(music_from_json(entry)):
            pieces.append(Piece(f"{name}#{number}", music.steps, music.parts))
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
    """Parse one file into a cache entry; runs in a worker process."""
    from ..music.midi_io import music_file_to_music, music_to_json

    try:
        pieces = music_file_to_music(path)
    except MusicReadError as error:
        return {"version": CACHE_VERSION, "error": str(error)}
    return {"version": CACHE_VERSION, **music_to_json(pieces)}


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
