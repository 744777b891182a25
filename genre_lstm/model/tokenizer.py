"""Steps <-> integer ids: the vocabulary of note/chord tokens and the rhythm classes.

A step becomes three integers: its pitch/chord token id, its duration class and its shift class
(gap to the next onset). Rhythm classes are the grid lengths up to a whole note, one class per grid
unit, then (vocabularies of version 2) every eighth note up to four whole notes, for held and tied
notes; version 1 vocabularies stop at a whole note. Id 0 is the end-of-piece token and id 1 stands
for any chord too rare to get its own id (scored by a back-off, never sampled). A token outside
the vocabulary is mapped to the nearest one, after moving the seed by octaves into the genre's
range. A step's place in its bar becomes two more: its position class and its meter class, and its
part one more (its index into the checkpoint's parts). Tokens are the pitch sets of single parts
when a model has parts, so a vocabulary of an ensemble is that of its voices, not of its chords.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import VocabularyError
from ..music.events import (
    GRID,
    MAX_DURATION_UNITS,
    Step,
    meter_to_units,
    pitches_to_token,
    steps_to_register,
    token_to_pitches,
)

VOCAB_VERSION = 2  # 2: rhythm classes up to four whole notes
READABLE_VERSIONS = (1, 2)
END_TOKEN = "<end>"
RARE_TOKEN = "<rare>"
SPECIAL_TOKENS = (END_TOKEN, RARE_TOKEN)
NO_PITCH = 128  # "no pitch yet": the class after the 128 MIDI pitches
END_ID, RARE_ID = 0, 1
FINE_UNITS = 4 * GRID  # every grid length up to a whole note has a class of its own
COARSE_STEP = GRID // 2  # beyond it, every eighth note
LONGEST_UNITS = {1: FINE_UNITS, 2: MAX_DURATION_UNITS}  # the longest rhythm class of each vocabulary version


def rhythm_lengths(longest: int, *, lowest: int) -> tuple[int, ...]:
    """The grid lengths that have a class: ``lowest``..a whole note, then every eighth to ``longest``."""
    return tuple(range(lowest, FINE_UNITS + 1)) + tuple(range(FINE_UNITS + COARSE_STEP, longest + 1, COARSE_STEP))


N_DURATIONS = len(rhythm_lengths(MAX_DURATION_UNITS, lowest=1))  # 72: 1..48 units, then 54..192
N_SHIFTS = len(rhythm_lengths(MAX_DURATION_UNITS, lowest=0))  # 73: 0..48 units, then 54..192
# Where a step falls in its bar: class 0 = not known; a position p (grid units from the bar line) is
# class p + 1, up to the longest bar kept (4/2 and 2/1 bars, Palestrina's); meters: 0 = not known,
# then the time signatures below, then "any other".
MAX_BAR_UNITS = 8 * GRID
N_POSITIONS = MAX_BAR_UNITS + 1
KNOWN_METERS = ((4, 4), (3, 4), (2, 4), (6, 8), (9, 8), (12, 8), (2, 2), (3, 2), (4, 2), (3, 8), (5, 4),
                (6, 4), (2, 1), (5, 8), (7, 8), (6, 2))
N_METERS = len(KNOWN_METERS) + 2


@dataclass
class EncodedPiece:
    """A piece as aligned integer arrays: token, duration and shift classes, and each step's
    position and meter classes (0 where not known)."""

    tokens: np.ndarray
    durations: np.ndarray
    shifts: np.ndarray
    positions: np.ndarray | None = None
    meters: np.ndarray | None = None
    lows: np.ndarray | None = None  # the piece's lowest pitch at every step
    highs: np.ndarray | None = None  # and its highest
    parts: np.ndarray | None = None  # each step's part
    previous: np.ndarray | None = None  # the latest pitch of the next step's part (``ids_to_previous_in_next_part``)

    def __post_init__(self) -> None:
        for name in ("positions", "meters", "lows", "highs", "parts"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros_like(self.tokens))
        if self.previous is None:
            self.previous = np.full_like(self.tokens, NO_PITCH)

    def __len__(self) -> int:
        return len(self.tokens)


def position_class(step: Step) -> int:
    """0 when ``step``'s place in its bar is not known, else its position + 1 (clipped to the longest bar)."""
    if step.position is None or step.meter is None:
        return 0
    return min(step.position, MAX_BAR_UNITS - 1) + 1


def meter_class(meter: tuple[int, int] | None) -> int:
    """0 for an unknown meter, 1.. for the known time signatures, the last class for any other."""
    if meter is None:
        return 0
    return KNOWN_METERS.index(meter) + 1 if meter in KNOWN_METERS else len(KNOWN_METERS) + 1


_NEVER_OUTSIDE = 1 << 20  # a pitch bound no range reaches


@dataclass
class Vocabulary:
    """The genre's note/chord tokens, most frequent first after the two special tokens."""

    tokens: list[str]
    counts: list[int] = field(default_factory=list)
    version: int = VOCAB_VERSION
    grid: int = GRID
    _index: dict[str, int] = field(init=False, repr=False)
    _pitch_sets: list[tuple[int, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.version not in READABLE_VERSIONS:
            raise VocabularyError(f"vocabulary version {self.version} is not one of {READABLE_VERSIONS}")
        self._durations = np.array(rhythm_lengths(LONGEST_UNITS[self.version], lowest=1))
        self._shifts = np.array(rhythm_lengths(LONGEST_UNITS[self.version], lowest=0))
        if tuple(self.tokens[:2]) != SPECIAL_TOKENS:
            raise VocabularyError(f"a vocabulary starts with {SPECIAL_TOKENS}, not {self.tokens[:2]}")
        if len(set(self.tokens)) != len(self.tokens):
            raise VocabularyError("the vocabulary has duplicate tokens")
        self._index = {token: index for index, token in enumerate(self.tokens)}
        try:
            self._pitch_sets = [()] * 2 + [token_to_pitches(t) for t in self.tokens[2:]]
        except ValueError as error:
            raise VocabularyError(f"malformed token in vocabulary: {error}") from error
        self._nearest_cache: dict[tuple[int, ...], int] = {}
        # each token's lowest and highest pitch (a token without pitches is inside every range) and
        # its pitch classes, so the masks below are array comparisons
        self._lowest = np.array([min(p) if p else _NEVER_OUTSIDE for p in self._pitch_sets])
        self._highest = np.array([max(p) if p else -_NEVER_OUTSIDE for p in self._pitch_sets])
        self._classes = np.zeros((len(self.tokens), 12), bool)
        for index, pitches in enumerate(self._pitch_sets):
            self._classes[index, [p % 12 for p in pitches]] = True

    @classmethod
    def build(cls, pieces: Iterable[list[Step]], *, max_size: int = 4000, min_count: int = 1) -> "Vocabulary":
        """Count tokens over training pieces; keep the ``max_size`` most frequent seen ``min_count`` times."""
        counter = Counter(pitches_to_token(step.pitches) for piece in pieces for step in piece)
        kept = [(t, c) for t, c in sorted(counter.items(), key=lambda tc: (-tc[1], tc[0])) if c >= min_count]
        kept = kept[: max(0, max_size - len(SPECIAL_TOKENS))]
        return cls([*SPECIAL_TOKENS, *(t for t, _ in kept)], [0, 0, *(c for _, c in kept)])

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def pitch_range(self) -> tuple[int, int]:
        """Lowest and highest pitch of any token."""
        pitches = [p for pitch_set in self._pitch_sets for p in pitch_set]
        return (min(pitches), max(pitches)) if pitches else (60, 60)

    def has(self, pitches: tuple[int, ...]) -> bool:
        """Whether this exact pitch set has a token of its own."""
        return pitches_to_token(pitches) in self._index

    def id_of(self, pitches: tuple[int, ...], *, exact: bool = False) -> int:
        """Id of a pitch set; an unknown set maps to the nearest token (or RARE_ID when ``exact``)."""
        found = self._index.get(pitches_to_token(pitches))
        if found is not None:
            return found
        if exact or len(self.tokens) <= len(SPECIAL_TOKENS):
            return RARE_ID
        return self.nearest_id(pitches)

    def nearest_id(self, pitches: tuple[int, ...]) -> int:
        """The in-vocabulary token whose pitches are closest (symmetric nearest-pitch distance)."""
        key = tuple(sorted(pitches))
        if key not in self._nearest_cache:
            wanted = np.array(key)
            best, best_cost = 2, float("inf")
            for index in range(2, len(self.tokens)):
                have = np.array(self._pitch_sets[index])
                gaps = np.abs(wanted[:, None] - have[None, :])
                cost = gaps.min(axis=1).sum() + gaps.min(axis=0).sum() + 0.5 * abs(len(key) - len(have))
                if cost < best_cost:
                    best, best_cost = index, cost
            self._nearest_cache[key] = best
        return self._nearest_cache[key]

    def pitches_of(self, token_id: int) -> tuple[int, ...]:
        """Pitches of a token id (empty for the special tokens)."""
        return self._pitch_sets[token_id]

    def top_pitches(self) -> np.ndarray:
        """(V,) each token's highest pitch, ``NO_PITCH`` for the special tokens."""
        return np.array([max(pitches) if pitches else NO_PITCH for pitches in self._pitch_sets], np.int32)

    def outside_ranges(self, ranges: list[tuple[int, int] | list[int]]) -> np.ndarray:
        """(P, V) True where a token has a pitch outside part p's (lowest, highest) pitch."""
        lows, highs = np.array(ranges, dtype=np.int64).reshape(-1, 2).T
        return (self._lowest[None] < lows[:, None]) | (self._highest[None] > highs[:, None])

    def outside_pitch_classes(self, classes) -> np.ndarray:
        """(V,) True where a token has a pitch whose pitch class (0 = C) is not among ``classes``."""
        others = np.ones(12, bool)
        others[list(classes)] = False
        return (self._classes & others).any(axis=1)

    @property
    def n_durations(self) -> int:
        return len(self._durations)

    @property
    def n_shifts(self) -> int:
        return len(self._shifts)

    @property
    def shift_units(self) -> np.ndarray:
        """(shift classes,) each gap class's length in grid units."""
        return self._shifts

    def duration_class(self, quarters: float) -> int:
        """The class of the nearest duration this vocabulary has (the longest for anything longer)."""
        return _nearest(self._durations, quarters)

    def shift_class(self, quarters: float) -> int:
        """The class of the nearest gap this vocabulary has (the longest for anything longer)."""
        return _nearest(self._shifts, quarters)

    def class_to_duration(self, index) -> float:
        return float(self._durations[int(index)]) / GRID

    def class_to_shift(self, index) -> float:
        return float(self._shifts[int(index)]) / GRID

    def encode(self, steps: list[Step], *, exact: bool = False) -> EncodedPiece:
        """Steps -> ids; rare chords become RARE_ID when ``exact`` (scoring), else their nearest token."""
        tokens = np.array([self.id_of(s.pitches, exact=exact) for s in steps], dtype=np.int32)
        durations = np.array([self.duration_class(s.duration) for s in steps], dtype=np.int32)
        shifts = np.array([self.shift_class(s.shift) for s in steps], dtype=np.int32)
        positions = np.array([position_class(s) for s in steps], dtype=np.int32)
        meters = np.array([meter_class(s.meter) for s in steps], dtype=np.int32)
        lows, highs = (np.full(len(steps), edge, dtype=np.int32) for edge in steps_to_register(steps))
        parts = np.array([s.part for s in steps], dtype=np.int32)
        return EncodedPiece(tokens, durations, shifts, positions, meters, lows, highs, parts)

    def encode_seed(self, steps: list[Step], *, unmoved: frozenset[int] = frozenset()) -> EncodedPiece:
        """Encode a user's seed: moved by octaves into this vocabulary's range (its ``unmoved`` parts,
        drums, stay), then mapped to nearest."""
        return self.encode(transpose_into_range(steps, self.pitch_range, unmoved=unmoved))

    def decode(self, tokens, durations, shifts, parts=None) -> list[Step]:
        """Ids -> steps, stopping at the first end-of-piece token; rare ids are skipped."""
        steps = []
        for index, (token, duration, shift) in enumerate(zip(tokens, durations, shifts)):
            if int(token) == END_ID:
                break
            if int(token) == RARE_ID:
                continue
            steps.append(Step(self._pitch_sets[int(token)], self.class_to_duration(duration),
                              self.class_to_shift(shift), part=0 if parts is None else int(parts[index])))
        return steps

    def to_json(self) -> dict:
        return {"version": self.version, "grid": self.grid, "tokens": self.tokens, "counts": self.counts}

    @classmethod
    def from_json(cls, data: dict) -> "Vocabulary":
        if not isinstance(data, dict) or "tokens" not in data:
            raise VocabularyError("vocabulary JSON has no 'tokens' list")
        if data.get("version") not in READABLE_VERSIONS:
            raise VocabularyError(f"vocabulary version {data.get('version')} is not one of {READABLE_VERSIONS}")
        if data.get("grid", GRID) != GRID:
            raise VocabularyError(f"vocabulary grid {data.get('grid')} is not {GRID} units per quarter")
        return cls(list(data["tokens"]), list(data.get("counts", [])), version=data["version"])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise VocabularyError(f"cannot read vocabulary {path}: {error}") from error
        return cls.from_json(data)


def ids_to_latest_in_parts(tokens: np.ndarray, parts: np.ndarray, top_pitches: np.ndarray, n_parts: int) -> np.ndarray:
    """(N, P): at each position, the highest pitch of the latest step of each part at or before it,
    since the latest end token (``NO_PITCH`` where the part has not sounded yet). What a part played
    last tells the model where its line goes next, however many other parts sounded since."""
    index = np.arange(len(tokens))
    pitches = top_pitches[tokens]
    last_end = np.maximum.accumulate(np.where(tokens == END_ID, index, -1))
    latest = np.full((len(tokens), n_parts), NO_PITCH, np.int32)
    for part in range(n_parts):
        last = np.maximum.accumulate(np.where((parts == part) & (pitches != NO_PITCH), index, -1))
        known = last > last_end
        latest[known, part] = pitches[last[known]]
    return latest


def ids_to_previous_in_next_part(tokens: np.ndarray, parts: np.ndarray, top_pitches: np.ndarray,
                                 n_parts: int) -> np.ndarray:
    """(N,): at each position, the latest highest pitch of the part of the step after it (the one
    being predicted there), ``NO_PITCH`` at the last position."""
    latest = ids_to_latest_in_parts(tokens, parts, top_pitches, n_parts)
    previous = np.full(len(tokens), NO_PITCH, np.int32)
    previous[:-1] = latest[np.arange(len(tokens) - 1), parts[1:]]
    return previous


def _nearest(lengths: np.ndarray, quarters: float) -> int:
    """Index of the grid length in ``lengths`` nearest to ``quarters`` (the shorter on a tie)."""
    return int(np.argmin(np.abs(lengths - quarters * GRID)))


def bar_units_of(meter: tuple[int, int] | None) -> int:
    """Bar length in grid units of a meter (a 4/4 bar when unknown)."""
    return meter_to_units(meter or (4, 4))


def transpose_steps(steps: list[Step], semitones: int, *, unmoved: frozenset[int] = frozenset()) -> list[Step]:
    """All pitches moved by ``semitones`` (but those of the ``unmoved`` parts: drum keys are
    instruments, not pitches); notes pushed outside 0..127 are dropped."""
    moved = []
    for step in steps:
        shift = 0 if step.part in unmoved else semitones
        pitches = tuple(p + shift for p in step.pitches if 0 <= p + shift <= 127)
        if pitches:
            moved.append(replace(step, pitches=pitches))
        elif moved:  # the dropped step's gap stays in the piece
            moved[-1] = replace(moved[-1], shift=moved[-1].shift + step.shift)
    return moved


def transpose_into_range(steps: list[Step], pitch_range: tuple[int, int], *,
                         unmoved: frozenset[int] = frozenset()) -> list[Step]:
    """Move a piece by whole octaves so its median pitch (``unmoved`` parts left out) falls inside ``pitch_range``."""
    pitches = sorted(p for step in steps if step.part not in unmoved for p in step.pitches)
    if not pitches:
        return steps
    low, high = pitch_range
    median, octaves = pitches[len(pitches) // 2], 0
    while median + 12 * octaves < low and octaves < 10:
        octaves += 1
    while median + 12 * octaves > high and octaves > -10:
        octaves -= 1
    return transpose_steps(steps, 12 * octaves, unmoved=unmoved) if octaves else steps
