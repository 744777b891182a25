"""What a user can ask of one generation: every field with its default and its limits, in one place.

The command line builds its options from ``FIELDS`` and the web app its widgets; both hand the raw
values (strings from argparse, numbers or anything at all from the API) to
``GenerationRequest.from_values``, which converts and checks them with the same messages. A request
built directly in Python checks itself too. Fields left at ``None`` take the checkpoint's default
(``GenerationRequest.for_checkpoint``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from .errors import InvalidParameterError
from .music.events import Part
from .music.instruments import GM_PROGRAMS, program_of

RHYTHMS = ("learned", "random")
MUTE = "mute"
MAX_RANDOM_SEED = 2**32 - 1
REGISTER_NOTES = 8  # a part the seed does not play takes its register from this many first notes


@dataclass(frozen=True)
class Field:
    """One knob of a request: its type, default, limits and the words the CLI and the form use."""

    name: str
    kind: type  # int, float, str or bool
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    label: str = ""  # the form's label
    help: str = ""  # the command line's help
    zero_is_default: bool = False  # 0 means "the checkpoint's default" (tempo) or "off" (bars)
    none_text: str = "the genre's"  # what an unset value means, for the help

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def default_text(self) -> str:
        return self.none_text if self.default is None else str(self.default)

    @property
    def words(self) -> str:
        return self.name.replace("_", " ")

    def convert(self, value):
        """A raw value (string, number, None) -> this field's type, or a readable error."""
        if value is None or (isinstance(value, str) and not value.strip() and self.default is None):
            return self.default
        if self.kind is bool:
            return _to_bool(self, value)
        if self.kind is str:
            return _to_choice(self, value)
        number = _to_number(self, value)
        if self.zero_is_default and number == 0:
            return None
        return number

    def check(self, value) -> None:
        """Refuse a typed value outside the limits (``None`` is allowed where the default is None)."""
        if value is None and self.default is None:
            return
        if self.kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    self.kind is int and not float(value).is_integer()) or not math.isfinite(value) or not (
                    self.low <= value <= self.high):
                raise InvalidParameterError(self.out_of_range(value))
        elif self.kind is str and self.choices and value not in self.choices:
            raise InvalidParameterError(f"{self.words} must be one of {', '.join(self.choices)}, not {value!r}")

    def out_of_range(self, value) -> str:
        whole = "a whole number" if self.kind is int else "a number"
        default = f" (0 = {self.none_text})" if self.zero_is_default else ""
        return f"{self.words} must be {whole} from {number_text(self.low)} to {number_text(self.high)}{default}, not {value!r}"


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _to_number(field: Field, value):
    if isinstance(value, bool):
        raise InvalidParameterError(field.out_of_range(value))
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(field.out_of_range(value)) from None
    if not math.isfinite(number) or (field.kind is int and not number.is_integer()):
        raise InvalidParameterError(field.out_of_range(value))
    return int(number) if field.kind is int else number


def _to_bool(field: Field, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise InvalidParameterError(f"{field.words} must be true or false, not {value!r}")


def _to_choice(field: Field, value) -> str:
    if not isinstance(value, (str, int)):
        raise InvalidParameterError(f"{field.words} must be text, not {type(value).__name__}")
    return str(value).strip()


FIELDS: tuple[Field, ...] = (
    Field("length", int, 500, 1, 2000, label="Length (steps)",
          help="steps to generate (the paper: 500)"),
    Field("bars", int, None, 1, 200, label="Length in bars (0 = use the steps)",
          help="generate this many bars instead, ending at a bar line (a seed ending mid-bar has its bar "
               "finished first)", zero_is_default=True, none_text="off: the length in steps"),
    Field("seed_length", int, 100, 1, 1000, label="Seed steps to use", help="seed steps to use, from the end"),
    Field("rhythm", str, None, choices=RHYTHMS, label="Rhythm (learned, or the paper's random offsets)",
          help="learned durations and gaps, or the paper's random offsets"),
    Field("offset_min", float, 0.1, 0.01, 4.0, label="Offset min (quarters)",
          help="random rhythm: shortest gap, in quarter notes"),
    Field("offset_max", float, 0.9, 0.01, 4.0, label="Offset max (quarters)",
          help="random rhythm: longest gap, in quarter notes"),
    Field("temperature", float, None, 0.05, 5.0, label="Temperature", help="sampling temperature"),
    Field("top_k", int, None, 0, 1000, label="Top-k (0 = off)", help="sample among the k likeliest tokens (0 = all)"),
    Field("key_bias", float, None, 0.0, 20.0, label="Keep to the seed's key (0 = off)",
          help="how firmly to keep to the seed's pitch classes: a step with a pitch outside them is e^N times "
               "less likely (0 = off)"),
    Field("register_margin", int, None, 0, 48, label="Keep each part within N semitones of its register (0 = off)",
          help="keep each part within this many semitones of the lowest and highest pitch it plays in the seed "
               f"(a part the seed does not play: in its first {REGISTER_NOTES} notes) (0 = off)"),
    Field("grid_bias", float, None, 0.0, 20.0, label="Keep to the seed's rhythmic grid (0 = off)",
          help="how firmly to keep every part on the seed's rhythmic grid (the places in the beat where its "
               "steps begin): a gap that puts the next step elsewhere is e^N times less likely (0 = off)"),
    Field("tempo", float, None, 20, 400, label="Tempo BPM (0 = the genre's)",
          help="beats per minute", zero_is_default=True),
    Field("instrument", str, None, choices=GM_PROGRAMS, label="Instrument",
          help="General MIDI instrument name or number (a model of one line; a model with parts: --parts)"),
    Field("parts", str, None, label="Parts: an instrument or 'mute' for each, comma-separated (empty: the genre's)",
          help="for each of the genre's parts in order, a General MIDI instrument, 'mute', or nothing for the "
               "genre's own (e.g. ',,Cello,mute'); a muted part is still generated, not played"),
    Field("transpose", int, 0, -24, 24, label="Transpose (semitones)", help="semitones to move the output by"),
    Field("random_seed", int, 0, 0, MAX_RANDOM_SEED, label="Random seed", help="variation k uses this seed + k"),
    Field("variations", int, 1, 1, 4, label="Variations", help="pieces generated at once"),
    Field("include_seed", bool, False, label="Put the seed in front", help="put the seed in front of the continuation"),
    Field("natural_ending", bool, False, label="Allow a natural ending", help="allow the piece to end before its length"),
)
FIELD = {f.name: f for f in FIELDS}


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: how long, which rhythm, how random, how it sounds, how many variations."""

    length: int = FIELD["length"].default
    bars: int | None = None  # when set, the length is in bars (ending at a bar line), not steps
    seed_length: int = FIELD["seed_length"].default
    rhythm: str | None = None
    offset_min: float = FIELD["offset_min"].default
    offset_max: float = FIELD["offset_max"].default
    temperature: float | None = None
    top_k: int | None = None
    key_bias: float | None = None  # logit penalty for pitches outside the seed's pitch classes
    register_margin: int | None = None  # semitones a part may go beyond its seed's register
    grid_bias: float | None = None  # logit penalty for gaps that land off the seed's rhythmic grid
    tempo: float | None = None  # beats per minute
    instrument: str | None = None  # a General MIDI name or number; None: the genre's
    parts: str | None = None  # per part: an instrument, 'mute' or nothing (the genre's), comma-separated
    transpose: int = FIELD["transpose"].default
    random_seed: int = FIELD["random_seed"].default
    variations: int = FIELD["variations"].default
    include_seed: bool = False
    natural_ending: bool = False

    def __post_init__(self) -> None:
        for field in FIELDS:
            value = getattr(self, field.name)
            if field.name == "instrument" and value is not None:
                program_of(value)  # a name, a unique prefix or a number
                continue
            if field.name == "parts" and value is not None:
                _part_choices(value)
                continue
            field.check(value)
        if self.offset_min > self.offset_max:
            raise InvalidParameterError(
                f"offset min must not exceed offset max, not {self.offset_min} > {self.offset_max}")
        if self.random_seed + self.variations - 1 > MAX_RANDOM_SEED:
            raise InvalidParameterError(f"random seed plus variations must stay within {MAX_RANDOM_SEED}")

    @classmethod
    def from_values(cls, **raw) -> "GenerationRequest":
        """Raw values by field name (unknown names refused) -> a checked request."""
        unknown = sorted(set(raw) - set(FIELD))
        if unknown:
            raise InvalidParameterError(f"unknown request field(s): {', '.join(unknown)}")
        return cls(**{name: FIELD[name].convert(value) for name, value in raw.items()})

    def for_checkpoint(self, checkpoint) -> "GenerationRequest":
        """Fill every ``None`` field from the checkpoint's defaults; a checkpoint without rhythm heads
        plays the paper's random offsets."""
        defaults = checkpoint.defaults
        rhythm = (self.rhythm or defaults.rhythm) if checkpoint.config.has_rhythm else "random"
        return replace(
            self, rhythm=rhythm,
            temperature=defaults.temperature if self.temperature is None else self.temperature,
            top_k=defaults.top_k if self.top_k is None else self.top_k,
            key_bias=defaults.key_bias if self.key_bias is None else self.key_bias,
            register_margin=defaults.register_margin if self.register_margin is None else self.register_margin,
            grid_bias=defaults.grid_bias if self.grid_bias is None else self.grid_bias,
            tempo=float(defaults.tempo_bpm) if self.tempo is None else self.tempo,
            instrument=str(defaults.program) if self.instrument is None else self.instrument)

    @property
    def step_budget(self) -> int:
        """The most steps to sample: the length, or for a request in bars the longest length allowed."""
        return self.length if self.bars is None else int(FIELD["length"].high)

    @property
    def program(self) -> int:
        """The General MIDI program to play (after ``for_checkpoint``)."""
        if self.instrument is None:
            raise InvalidParameterError("no instrument chosen: resolve the request with for_checkpoint first")
        return program_of(self.instrument)

    def played_parts(self, parts: tuple[Part, ...]) -> tuple[tuple[Part, ...], frozenset[int]]:
        """``parts`` with the programs this request chose (a single line plays ``program``), and the
        indices of the muted ones."""
        if len(parts) == 1 and not parts[0].is_drums:
            parts = (Part(parts[0].name, self.program),)
        chosen = _part_choices(self.parts) if self.parts else []
        if len(chosen) > len(parts):
            raise InvalidParameterError(
                f"{len(chosen)} parts chosen but this model plays {len(parts)}: {', '.join(p.name for p in parts)}")
        muted = frozenset(index for index, choice in enumerate(chosen) if choice == MUTE)
        if len(muted) == len(parts):
            raise InvalidParameterError("every part is muted: leave at least one playing")
        played = tuple(part if index >= len(chosen) or chosen[index] in ("", MUTE) else
                       Part(part.name, program_of(chosen[index]), part.is_drums) for index, part in enumerate(parts))
        return played, muted

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _part_choices(text: str) -> list[str]:
    """'Violin,,mute' -> ['Violin', '', 'mute'], every instrument checked."""
    choices = [choice.strip() for choice in str(text).split(",")]
    for choice in choices:
        if choice and choice.lower() != MUTE:
            program_of(choice)
    return [MUTE if choice.lower() == MUTE else choice for choice in choices]
