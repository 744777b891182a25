"""The music representation shared by every module: a piece is a list of steps and its parts.

One step is one note or chord of one part (the paper's unit), with a duration and the time to the
next step, both in quarter notes, and where it falls in its bar: its position (grid units from the bar
line) and its bar's time signature. Positions are read from the score's measures or the MIDI
file's time-signature events, never inferred from accumulated gaps; a generated step's position
follows from the step before it. Positions on the rhythm grid are integers in ``GRID`` units per
quarter note: 12 holds sixteenths (3), triplet eighths (4) and sixteenth triplets (2).

Parts: a step names its part by index into its piece's part list (``Part``: a name, a General MIDI
program, drums or not). Steps run by onset, then part: the parts sounding together at one onset are
consecutive steps with a zero gap between them, so a single-line piece (one part) is exactly the
step list it always was, and ``merge_parts`` turns any piece back into one line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Iterable, Sequence

GRID = 12  # grid units per quarter note
MAX_DURATION_UNITS = 16 * GRID  # durations clip at four whole notes (held and tied notes over bars)
MAX_SHIFT_UNITS = 16 * GRID  # gaps to the next step clip at four whole notes
LOWEST_PITCH, HIGHEST_PITCH = 0, 127
COMMON_TIME = (4, 4)  # the time signature of a MIDI file that states none

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")  # sharps: '-' is a minus sign


@dataclass(frozen=True)
class Step:
    """One note or chord of one part: sorted MIDI pitches, its length and the gap to the next onset
    (quarters), where it falls in its bar (unknown: None) and its part (an index into its piece's
    parts). Two steps are equal when they sound the same; where they sit in a bar is compared on
    its own (``position``, ``meter``)."""

    pitches: tuple[int, ...]
    duration: float
    shift: float
    position: int | None = field(default=None, compare=False)  # grid units from its bar line
    meter: tuple[int, int] | None = field(default=None, compare=False)  # its bar's (numerator, denominator)
    part: int = 0


# The role of a part: its General MIDI program's family (eight programs each), or drums (channel 10).
ROLE_FAMILIES = ("piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass",
                 "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic", "percussive", "sound effects")
DRUMS = "drums"


def program_to_role(program: int, is_drums: bool = False) -> str:
    """A part's role: 'drums' on the drum channel, else its program's General MIDI family
    (32 -> 'bass', 40 -> 'strings', 52 -> 'ensemble')."""
    return DRUMS if is_drums else ROLE_FAMILIES[int(program) % 128 // 8]


@dataclass(frozen=True)
class Part:
    """One part (track) of a piece: its name, the General MIDI program it plays, drums or not."""

    name: str
    program: int = 0
    is_drums: bool = False

    @property
    def role(self) -> str:
        return program_to_role(self.program, self.is_drums)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Part":
        return cls(str(data["name"]), int(data.get("program", 0)), bool(data.get("is_drums", False)))


SOLO = (Part("melody"),)  # the parts of a single-line piece


def drum_parts(parts: Sequence[Part]) -> frozenset[int]:
    """Indices of the drum parts (their keys name instruments, not pitches: never transposed)."""
    return frozenset(index for index, part in enumerate(parts) if part.is_drums)


@dataclass
class Music:
    """A piece: its steps and its parts (each step's ``part`` indexes ``parts``)."""

    steps: list[Step]
    parts: tuple[Part, ...] = SOLO

    def part_steps(self, index: int) -> list[Step]:
        return [step for step in self.steps if step.part == index]


def meter_to_units(meter: tuple[int, int]) -> int:
    """Length of a bar in grid units: (6, 8) -> 36, (4, 4) -> 48."""
    numerator, denominator = meter
    return max(1, round(numerator * 4 * GRID / denominator))


def place_steps(steps: list[Step], *, position: int = 0, meter: tuple[int, int] = COMMON_TIME) -> list[Step]:
    """Steps with positions: the first at ``position`` of a ``meter`` bar, each next one where the
    gap before it lands. For music whose bars are not known (seeds saved without positions)."""
    placed, at = [], position
    bar = meter_to_units(meter)
    for step in steps:
        placed.append(replace(step, position=at % bar, meter=meter))
        at += round(step.shift * GRID)
    return placed


def next_position(step: Step) -> int | None:
    """Position of the step after ``step`` in the same meter (None when ``step``'s is not known)."""
    if step.position is None or step.meter is None:
        return None
    return (step.position + round(step.shift * GRID)) % meter_to_units(step.meter)


def units_to_bar_end(step: Step, length_units: int) -> int:
    """Grid units from ``step``'s onset to the first bar line at or after ``length_units`` from its
    onset (at least one unit on): where a piece ending on that step stops."""
    bar = meter_to_units(step.meter or COMMON_TIME)
    position = step.position or 0
    end = position + max(1, length_units)
    return -(-end // bar) * bar - position


def pitch_to_name(pitch: int) -> str:
    """MIDI number -> name with octave, e.g. 64 -> 'E4', 70 -> 'A#4', 0 -> 'C-1' (octave -1)."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def name_to_pitch(name: str) -> int:
    """Inverse of ``pitch_to_name``: 'E4' -> 64, 'C-1' -> 0, 'A#4' -> 70."""
    letters = name[:2] if name[1:2] == "#" else name[:1]
    octave = name[len(letters):]
    if letters not in _NAMES or not octave.lstrip("-").isdigit():
        raise ValueError(f"not a pitch name: {name!r}")
    pitch = (int(octave) + 1) * 12 + _NAMES.index(letters)
    if not 0 <= pitch <= 127:
        raise ValueError(f"pitch name out of MIDI range: {name!r}")
    return pitch


def pitches_to_token(pitches: tuple[int, ...]) -> str:
    """The paper's token: 'E4' for a note, sorted pitches joined by '.' for a chord ('C4.E4.G4')."""
    return ".".join(pitch_to_name(p) for p in sorted(pitches))


def token_to_pitches(token: str) -> tuple[int, ...]:
    """Inverse of ``pitches_to_token``."""
    return tuple(sorted(name_to_pitch(part) for part in token.split(".")))


def quarters_to_units(quarters: float, *, lowest: int, highest: int) -> int:
    """Nearest grid position of a length in quarter notes, clipped to [lowest, highest]."""
    return int(min(max(round(quarters * GRID), lowest), highest))


def steps_to_register(steps: list[Step]) -> tuple[int, int]:
    """The lowest and highest pitch of ``steps`` ((0, 0) without pitches: "not known")."""
    pitches = [p for step in steps for p in step.pitches]
    return (min(pitches), max(pitches)) if pitches else (0, 0)


def steps_to_rows(steps: list[Step]) -> list[list[int]]:
    """Steps in the JSON form of caches, seed windows and child-process replies:
    [duration in grid units, gap in grid units, pitch, pitch, ...] per step."""
    return [[round(s.duration * GRID), round(s.shift * GRID), *s.pitches] for s in steps]


def steps_to_positions(steps: list[Step]) -> list[list[int]] | None:
    """Where each step sits, in the JSON form beside ``steps_to_rows``: [position, numerator,
    denominator] per step (None when any step's position is not known)."""
    if any(s.position is None or s.meter is None for s in steps):
        return None
    return [[s.position, *s.meter] for s in steps]


def steps_to_part_indices(steps: list[Step]) -> list[int] | None:
    """Each step's part, in the JSON form beside ``steps_to_rows`` (None for a single line, so
    single-line files keep the form they had before parts)."""
    return [s.part for s in steps] if any(s.part for s in steps) else None


def rows_to_steps(rows: list[list[int]], positions: list[list[int]] | None = None,
                  part_indices: list[int] | None = None) -> list[Step]:
    """Inverse of ``steps_to_rows`` (and ``steps_to_positions`` and ``steps_to_part_indices`` when
    given; files written before positions or parts were kept have none)."""
    indices = part_indices if part_indices is not None and len(part_indices) == len(rows) else [0] * len(rows)
    if positions is None or len(positions) != len(rows):
        return [Step(tuple(row[2:]), row[0] / GRID, row[1] / GRID, part=int(part)) for row, part in zip(rows, indices)]
    return [Step(tuple(row[2:]), row[0] / GRID, row[1] / GRID, int(where[0]), (int(where[1]), int(where[2])), int(part))
            for row, where, part in zip(rows, positions, indices)]


def parts_to_json(parts: Sequence[Part]) -> list[dict]:
    return [part.to_json() for part in parts]


def json_to_parts(data: list[dict] | None) -> tuple[Part, ...]:
    """Inverse of ``parts_to_json`` (a single line when absent: files written before parts)."""
    return tuple(Part.from_json(item) for item in data) if data else SOLO


def steps_to_onsets(steps: list[Step]) -> list[int]:
    """Each step's onset in grid units from the first."""
    onsets, at = [], 0
    for step in steps:
        onsets.append(at)
        at += round(step.shift * GRID)
    return onsets


def regroup_steps(steps: list[Step], parts: Iterable[int | None]) -> list[Step]:
    """``steps`` moved to other parts (``parts[i]`` for step i; None drops it): steps that land in
    one part at one onset become one step (their pitches joined, the longest duration), ordered by
    onset then part, gaps recomputed; the piece keeps its length."""
    onsets = steps_to_onsets(steps)
    if not steps:
        return []
    end = onsets[-1] + round(steps[-1].shift * GRID)
    grouped: dict[tuple[int, int], Step] = {}
    for onset, step, part in zip(onsets, steps, parts):
        if part is None:
            continue
        held = grouped.get((onset, part))
        if held is None:
            grouped[(onset, part)] = replace(step, part=part)
        else:
            grouped[(onset, part)] = replace(held, pitches=tuple(sorted(set(held.pitches) | set(step.pitches))),
                                             duration=max(held.duration, step.duration))
    keys = sorted(grouped)
    return [replace(grouped[key], shift=((keys[i + 1][0] if i + 1 < len(keys) else max(end, key[0])) - key[0]) / GRID)
            for i, key in enumerate(keys)]


def merge_parts(steps: list[Step]) -> list[Step]:
    """All parts as one line: the notes that start together form one step (the single-line form)."""
    return regroup_steps(steps, [0] * len(steps))


def map_parts(source: Sequence[Part], target: Sequence[Part], *, fill: bool = True) -> list[int | None]:
    """Where each of ``source``'s parts goes in ``target`` (None: nowhere): first by name, then by
    name without its number (a second 'Tenor' is 'Tenor 2'), then by role, each target part taken
    once and in order; with ``fill``, pitched parts still unplaced
    then take the target's unused pitched parts in order. A target of one part takes every pitched
    part (all merged into one line, as a single-line model hears them)."""
    placed: list[int | None] = [None] * len(source)
    free = list(range(len(target)))
    for same in (lambda s, t: _plain(s.name) == _plain(t.name) and s.is_drums == t.is_drums,
                 lambda s, t: _stem(s.name) == _stem(t.name) and s.is_drums == t.is_drums,
                 lambda s, t: s.role == t.role):
        for index, part in enumerate(source):
            if placed[index] is None:
                chosen = next((t for t in free if same(part, target[t])), None)
                if chosen is not None:
                    placed[index] = chosen
                    free.remove(chosen)
    pitched = any(not part.is_drums for part in target)
    for index, part in enumerate(source):
        if placed[index] is None and not part.is_drums:
            if len(target) == 1 and pitched:
                placed[index] = 0
            elif fill:
                chosen = next((t for t in free if not target[t].is_drums), None)
                if chosen is not None:
                    placed[index] = chosen
                    free.remove(chosen)
    return placed


def music_onto_parts(music: Music, target: Sequence[Part], *, fill: bool = True) -> tuple[Music, list[Part]]:
    """``music`` played by ``target``'s parts (``map_parts``), each drum hit a step of its own
    (``split_drum_hits``), and the source parts left out."""
    placed = map_parts(music.parts, target, fill=fill)
    steps = regroup_steps(music.steps, [placed[s.part] if s.part < len(placed) else None for s in music.steps])
    dropped = [part for part, where in zip(music.parts, placed) if where is None]
    return Music(split_drum_hits(steps, drum_parts(target)), tuple(target)), dropped


def split_drum_hits(steps: list[Step], drums: frozenset[int]) -> list[Step]:
    """Every step of a drum part with several keys as one step per key, at one onset (zero gaps
    between them). A kit's keys combine freely (kick, snare, a cymbal), so a combination is no
    chord to learn as one token: one held-out drum step in eight was a combination never heard in
    training, while single keys almost all are."""
    if not drums:
        return steps
    split = []
    for step in steps:
        if step.part in drums and len(step.pitches) > 1:
            *first, last = step.pitches
            split += [replace(step, pitches=(key,), shift=0.0) for key in first] + [replace(step, pitches=(last,))]
        else:
            split.append(step)
    return split


_SAME_WORDS = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "1st": "1", "2nd": "2", "3rd": "3",
               "violoncello": "cello", "vln": "violin", "vc": "cello"}


def _plain(name: str) -> str:
    """A part name compared loosely: 'Violin I' = '1st Violin' = 'violin 1.', 'Violoncello' = 'Cello'."""
    return " ".join(sorted(_SAME_WORDS.get(word, word) for word in name.lower().replace(".", " ").split()))


def steps_duration_quarters(steps: list[Step]) -> float:
    """Length of a piece in quarter notes: the last onset plus the longer of its duration and shift."""
    onset, end = 0.0, 0.0
    for step in steps:
        end = max(end, onset + step.duration)
        onset += step.shift
    return max(end, onset)


def playable_steps(steps: list[Step]) -> list[Step]:
    """The form a MIDI file can hold exactly (steps on the grid): a note ends no later than the next
    onset of the same pitch (a re-struck key), and the last step's gap equals its duration."""
    units = [(round(s.duration * GRID), round(s.shift * GRID)) for s in steps]
    onsets, at = [], 0
    for _, shift in units:
        onsets.append(at)
        at += shift
    next_onset: dict[int, int] = {}
    fixed: list[Step] = []
    for index in range(len(steps) - 1, -1, -1):
        (duration, shift), start = units[index], onsets[index]
        length = max(min(start + duration, next_onset.get(p, start + duration)) for p in steps[index].pitches) - start
        fixed.append(replace(steps[index], duration=length / GRID,
                             shift=(shift if index + 1 < len(steps) else length) / GRID))
        next_onset.update((p, start) for p in steps[index].pitches)
    return fixed[::-1]


def _stem(name: str) -> str:
    """A part name without its number: 'Tenor 2' -> 'tenor', 'Violin II' -> 'violin'."""
    return " ".join(word for word in _plain(name).split() if not word.isdigit())
