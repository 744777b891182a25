"""Continuing a seed: a generator that yields progress, and a function that consumes it.

Stateful: the seed runs through the network once (``prime``), then one step at a time carries the
LSTM states (``step``), so each new step costs one pass over the weights. Each step's place in its
bar follows from the seed's (its last step's position plus its gap, in the seed's last meter), so a
model with ``metric_position`` is told where the step it predicts falls, and a request in bars or
with a natural ending stops at a bar line. A model with parts samples each step's part first, then
its token, duration and gap given that part (a zero gap: the next step sounds with it). The paper's own loop,
which re-runs a 100-token window through the whole network for every step, is kept as
``paper_window_generate``: the baseline the benchmarks compare against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

import numpy as np

from ..music.events import (
    COMMON_TIME,
    GRID,
    Step,
    drum_parts,
    merge_parts,
    meter_to_units,
    next_position,
    place_steps,
    regroup_steps,
    steps_to_register,
    units_to_bar_end,
)
from ..request import REGISTER_NOTES, GenerationRequest
from .backend import choose_engine, compile_inference, repeat_rows
from .network import ModelConfig, inference_models, output_names, rhythm_tables
from .numpy_step import numpy_inference
from .presets import PART_TABLES, PREVIOUS_TABLE, RANGE_INPUTS
from .sampling import (
    greedy_indices,
    sample_indices,
    scores_to_probabilities,
    uniform_draws,
)
from .tokenizer import END_ID, RARE_ID, EncodedPiece, NO_PITCH, ids_to_latest_in_parts, meter_class, position_class

PAPER_WINDOW = 100
QUARTER = 1.0  # the paper's ancestor code plays every random-rhythm note as a quarter note


@dataclass(frozen=True)
class Progress:
    """Steps made so far out of the requested length (the slowest variation counts)."""

    done: int
    total: int
    # each variation's steps so far (live lists: read them before the next step, never change them)
    steps: tuple = field(default=(), repr=False, compare=False)
    seed: list = field(default_factory=list, repr=False, compare=False)  # the seed as the model saw it


@dataclass(frozen=True)
class GeneratedPiece:
    """One variation: the continuation, the seed it continued (as the model saw it) and its seed."""

    steps: list[Step]
    seed: list[Step]
    random_seed: int
    ended_naturally: bool
    seconds: float


class StepRunner:
    """The prime and step calls of one network: NumPy array products on a CPU, compiled Keras
    models on a GPU (``choose_engine``); both give the same logits (tests/test_numpy_step.py)."""

    def __init__(self, model, config: ModelConfig, engine: str | None = None):
        self.config = config
        self.engine = engine or choose_engine()
        self.outputs = len(output_names(config))
        if self.engine == "numpy":
            inference = numpy_inference(model, config)
            self._prime, self._step = inference.prime, inference.step
        else:
            prime, step = inference_models(model, config)
            self._prime = compile_inference(prime, numpy_outputs=self.outputs)
            self._step = compile_inference(step, numpy_outputs=self.outputs, fixed_shapes=True)
        self.tables = rhythm_tables(model) if config.has_rhythm else {}

    def inputs(self, tokens: np.ndarray, durations: np.ndarray, shifts: np.ndarray,
               conditions: dict | None = None) -> list[np.ndarray]:
        """(B, T) id arrays -> the network's input list, as the model family takes them
        (``conditions``: its other inputs by name, see ``Preset.feed``)."""
        return self.config.family.feed(self.config, tokens, durations, shifts, conditions)

    def prime(self, inputs: list[np.ndarray], copies: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Run the seed ``inputs`` once; with ``copies`` > 1 (a one-row seed that several variations
        continue) every output and state is repeated that many times along the batch axis, so the
        seed costs one row's products, not one per variation."""
        out = self._prime(inputs)
        if copies > 1:
            out = [repeat_rows(o, copies) for o in out]
        return out[: self.outputs], out[self.outputs:]

    def step(self, inputs: list[np.ndarray], states: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        out = self._step(inputs + states)
        return out[: self.outputs], out[self.outputs:]


def seed_in_parts(seed: list[Step], config: ModelConfig) -> list[Step]:
    """The seed in the model's parts: one line for a model without parts (every part merged),
    steps of parts the model does not have left out. Map a seed's own parts onto the model's by
    role first (``events.music_onto_parts``); this only makes sure the indices fit."""
    if not config.has_parts:
        return merge_parts(seed) if any(step.part for step in seed) else seed
    if all(step.part < len(config.parts) for step in seed):
        return seed
    return regroup_steps(seed, [step.part if step.part < len(config.parts) else None for step in seed])


def seed_as_placed(seed: list[Step], settings: GenerationRequest, config: ModelConfig) -> list[Step]:
    """The seed window the model continues, with places in bars where they are needed: a seed whose
    bars are not known (saved before positions were kept) starts on a 4/4 bar line when the model
    sees positions or the request ends at a bar line, and stays unplaced otherwise (as before)."""
    seed = seed_in_parts(seed, config) if seed else seed
    window = seed[-settings.seed_length:] if seed else []
    known = all(step.position is not None and step.meter is not None for step in window)
    needed = config.metric_position or settings.bars is not None or settings.natural_ending
    return place_steps(window) if window and needed and not known else window


@dataclass
class _Timeline:
    """One variation's place in its bars while it is generated: where the next step falls, and
    where a request in bars ends (grid units from the continuation's first onset)."""

    position: int | None
    meter: tuple[int, int] | None
    elapsed: int = 0
    end: int | None = None

    @classmethod
    def after(cls, seed: list[Step], bars: int | None, placed: bool, opening=None) -> "_Timeline":
        if seed:
            position, meter = next_position(seed[-1]), seed[-1].meter
        else:
            position, meter = opening or ((0, COMMON_TIME) if placed else (None, None))
        timeline = cls(position, meter)
        if bars is not None:
            bar = meter_to_units(meter or COMMON_TIME)
            timeline.end = (bar - (position or 0)) % bar + bars * bar
        return timeline

    def place(self, step: Step) -> Step:
        """``step`` at this timeline's next position (cut at the end of a request in bars); advances."""
        shift = round(step.shift * GRID)
        if self.end is not None and self.elapsed + shift >= self.end:
            left = self.end - self.elapsed
            step = replace(step, duration=min(step.duration, left / GRID), shift=left / GRID)
            shift = left
        placed = step if self.position is None else replace(step, position=self.position, meter=self.meter)
        if self.position is not None:
            self.position = (self.position + shift) % meter_to_units(self.meter)
        self.elapsed += shift
        return placed

    @property
    def finished(self) -> bool:
        return self.end is not None and self.elapsed >= self.end


def end_at_bar_line(steps: list[Step]) -> list[Step]:
    """A naturally ended piece: its last step held to the first bar line after it sounds."""
    if not steps or steps[-1].position is None:
        return steps
    last = steps[-1]
    held = units_to_bar_end(last, round(last.duration * GRID)) / GRID
    return steps[:-1] + [replace(last, duration=held, shift=held)]


def cut_at_last_bar_line(steps: list[Step]) -> list[Step]:
    """A piece in bars that used up its steps before its last bar: cut back to the last bar line it
    crossed (unchanged when it crossed none)."""
    if not steps or steps[0].position is None:
        return steps
    bar, start = meter_to_units(steps[0].meter), steps[0].position
    line = (start + sum(round(s.shift * GRID) for s in steps)) // bar * bar
    kept, at = [], start
    for step in steps:
        if line <= start or at >= line:
            break
        shift = round(step.shift * GRID)
        if at + shift >= line:
            step = replace(step, duration=min(step.duration, (line - at) / GRID), shift=(line - at) / GRID)
        kept.append(step)
        at += shift
    return kept or steps


NO_REGISTER = dict.fromkeys(RANGE_INPUTS, 0)  # "not known": no training piece has it


def seed_range(steps: list[Step]) -> dict[str, int]:
    """The register a model with ``range_conditioning`` is asked to keep: the lowest and highest
    pitch of ``steps`` (the seed's; a training piece's), ``NO_REGISTER`` without pitches."""
    return dict(zip(RANGE_INPUTS, steps_to_register(steps)))


def variation_registers(checkpoint, pitched_seed: list[Step], random_seed: int, count: int) -> list[dict[str, int]]:
    """The register each variation asks a range-conditioned network to keep: the seed's or, without
    pitches to take it from, a training piece's drawn by the variation's own random seed (the
    network never saw "not known" in training; variation k stays the single run of seed + k)."""
    register = seed_range(pitched_seed)
    if register != NO_REGISTER:
        return [register] * count
    drawn = [checkpoint.drawn_register(random_seed + k) for k in range(count)]
    return [NO_REGISTER if pair is None else dict(zip(RANGE_INPUTS, pair)) for pair in drawn]


KEY_SHARE = 0.03  # a pitch class under this share of the seed's notes is a passing note, not its key
KEY_NOTES = 16  # without a seed to take the key from, a variation's key is that of its first notes
GRID_SHARE = 0.03  # a place in the beat under this share of the seed's steps is an ornament, not its grid
OUT_OF_REACH = -1e9  # added to a token's logit: never sampled, and no NaN where all else is masked


def seed_pitch_classes(steps: list[Step]) -> set[int]:
    """The pitch classes of the seed's key (``pitches_to_key`` of its pitched notes)."""
    return pitches_to_key([p for step in steps for p in step.pitches])


def pitches_to_key(pitches: list[int]) -> set[int]:
    """The pitch classes of a key: each one at least ``KEY_SHARE`` of the notes."""
    classes = np.bincount([p % 12 for p in pitches], minlength=12)
    total = classes.sum()
    return {int(c) for c in np.flatnonzero(classes >= KEY_SHARE * total)} if total else set()


def seed_beat_places(steps: list[Step]) -> set[int]:
    """The seed's rhythmic grid: the places in the beat (a step's position in its bar, modulo a
    quarter note) where at least ``GRID_SHARE`` of its steps begin; empty when its bars are not known."""
    if not steps or any(step.position is None for step in steps):
        return set()
    places = np.bincount([step.position % GRID for step in steps], minlength=GRID)
    return {int(p) for p in np.flatnonzero(places >= GRID_SHARE * len(steps))}


class GridHold:
    """What keeps each variation on the seed's rhythmic grid while sampling: ``-grid_bias`` on a gap
    that puts the next step, of any part, off the places in the beat the seed uses
    (``seed_beat_places``)."""

    def __init__(self, vocab, seed_steps: list[Step], grid_bias: float):
        grid = seed_beat_places(seed_steps) if grid_bias else set()
        self.off_grid = np.array([-grid_bias * (p not in grid) for p in range(GRID)], np.float32) if grid else None
        self.shift_units = vocab.shift_units

    def shift_terms(self, timelines: list["_Timeline"]) -> np.ndarray | None:
        """(B, shift classes) terms for the gap scores: each gap that lands the next step off the
        seed's grid, from where each variation's step falls (None when off)."""
        if self.off_grid is None or timelines[0].position is None:
            return None
        landing = [(t.position + self.shift_units) % meter_to_units(t.meter) % GRID for t in timelines]
        return self.off_grid[np.array(landing)]


class SeedHold:
    """What keeps each variation's pitches near the seed while sampling: ``-key_bias`` on a token
    with a pitch outside the seed's key (``seed_pitch_classes``; with no pitched seed, the key of
    each variation's first ``KEY_NOTES`` notes), and no pitch more than ``register_margin``
    semitones outside the register a part played in the seed, or, for a part the seed does not
    play, in its first ``REGISTER_NOTES`` notes. Drums are left alone."""

    def __init__(self, vocab, seed_steps: list[Step], parts: int, drums, key_bias: float, register_margin: int,
                 count: int):
        self.vocab, self.margin, self.key_bias, self.drums = vocab, register_margin, key_bias, drums
        pitched = [step for step in seed_steps if step.part not in drums]
        classes = seed_pitch_classes(pitched)
        rows = max(1, parts)
        self.pitched_rows = [part for part in range(rows) if part not in drums]
        self.key = np.zeros((count, rows, len(vocab)), np.float32)
        if key_bias and classes:
            self.key[:, self.pitched_rows] = self._outside_key(classes)
        self.opening: dict[int, list[int]] = {k: [] for k in range(count)} if key_bias and not classes else {}
        self.reach = np.zeros((count, rows, len(vocab)), np.float32)
        self.heard: dict[tuple[int, int], list[int]] = {}  # (variation, part) -> its first pitches
        if register_margin:
            for part in range(rows):
                played = [p for step in pitched if step.part == part for p in step.pitches]
                if played:
                    self.reach[:, part] = self._outside(played)
                elif part not in drums:
                    self.heard.update({(k, part): [] for k in range(count)})
        self.active = bool(key_bias) or bool(register_margin)

    def _outside_key(self, classes: set[int]) -> np.ndarray:
        return -self.key_bias * self.vocab.outside_pitch_classes(classes).astype(np.float32)

    def _outside(self, pitches: list[int]) -> np.ndarray:
        reach = [(min(pitches) - self.margin, max(pitches) + self.margin)]
        return OUT_OF_REACH * self.vocab.outside_ranges(reach)[0].astype(np.float32)

    def token_terms(self, parts: np.ndarray) -> np.ndarray | None:
        """(B, V) terms for the token scores of each variation's sampled part (None when off)."""
        variations = np.arange(len(parts))
        return self.key[variations, parts] + self.reach[variations, parts] if self.active else None

    def played(self, parts: np.ndarray, tokens: np.ndarray) -> None:
        """A variation still finding its key, or a part its register, keeps its first pitches, then
        holds them."""
        if self.opening:
            self._find_keys(parts, tokens)
        if self.heard:
            self._find_registers(parts, tokens)

    def _find_keys(self, parts: np.ndarray, tokens: np.ndarray) -> None:
        for k, (part, token) in enumerate(zip(parts, tokens)):
            opening = self.opening.get(k)
            if opening is None or int(part) in self.drums:
                continue
            opening.extend(self.vocab.pitches_of(int(token)))
            if len(opening) >= KEY_NOTES:
                self.key[k, self.pitched_rows] = self._outside_key(pitches_to_key(opening))
                del self.opening[k]

    def _find_registers(self, parts: np.ndarray, tokens: np.ndarray) -> None:
        for k, (part, token) in enumerate(zip(parts, tokens)):
            heard = self.heard.get((k, int(part)))
            if heard is None:
                continue
            heard.extend(self.vocab.pitches_of(int(token)))
            if len(heard) >= REGISTER_NOTES:
                self.reach[k, part] = self._outside(heard)
                del self.heard[(k, int(part))]


def _metric_classes(steps: list[Step], after: _Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Position and meter classes of the step after each of [end token] + ``steps``."""
    followers = steps + [Step((), 0.0, 0.0, after.position, after.meter)]
    return (np.array([position_class(s) for s in followers], np.int32),
            np.array([meter_class(s.meter) for s in followers], np.int32))


def iter_generate(checkpoint, seed: list[Step], request: GenerationRequest, *,
                  opening: tuple[int, tuple[int, int]] | None = None) -> Iterator[Progress | list[GeneratedPiece]]:
    """Yield ``Progress`` while sampling, then the list of generated pieces (one per variation).

    ``opening``: without a seed, the position and time signature of the first step (else a 4/4 bar
    line), so a piece can be begun in the meter of the one it stands for."""
    started = time.perf_counter()
    config, vocab = checkpoint.config, checkpoint.vocab
    settings = request.for_checkpoint(checkpoint)
    window = seed_as_placed(seed, settings, config)
    drums = drum_parts(config.parts)
    encoded = vocab.encode_seed(window, unmoved=drums) if window else EncodedPiece(*(np.zeros(0, np.int32),) * 3)
    seed_steps = [replace(made, position=given.position, meter=given.meter)
                  for made, given in zip(vocab.decode(encoded.tokens, encoded.durations, encoded.shifts,
                                                      encoded.parts), window)]
    runner = checkpoint.runner
    count = settings.variations
    placed = (seed_steps[-1].position is not None) if seed_steps else (
        config.metric_position or settings.bars is not None or settings.natural_ending)
    timelines = [_Timeline.after(seed_steps, settings.bars, placed, opening) for _ in range(count)]
    # Every training piece follows an end token (duration and shift classes 0), so the seed does too.
    *prefix, part_prefix = [np.concatenate([[first], ids]).astype(np.int32) for first, ids in
                            zip((END_ID, 0, 0, 0), (encoded.tokens, encoded.durations, encoded.shifts, encoded.parts))]
    registers = variation_registers(checkpoint, [step for step in seed_steps if step.part not in drums],
                                    settings.random_seed, count)
    rows = 1 if all(r == registers[0] for r in registers) else count  # rows the seed runs as: one, shared, if it can
    shared = {**dict(zip(("position", "meter"), _metric_classes(seed_steps, timelines[0]))), "part": part_prefix}
    conditions = {**{k: np.tile(v, (rows, 1)) for k, v in shared.items()},
                  **{name: np.array([[r[name]] * len(prefix[0]) for r in registers[:rows]], np.int32)
                     for name in RANGE_INPUTS}}
    scores, states = runner.prime(runner.inputs(*(np.tile(p, (rows, 1)) for p in prefix), conditions),
                                  copies=count // rows)
    register_inputs = {name: [[r[name]] for r in registers] for name in RANGE_INPUTS}  # every step's, per variation
    generators = [np.random.default_rng(settings.random_seed + k) for k in range(count)]
    banned = [RARE_ID] if settings.natural_ending else [RARE_ID, END_ID]
    learned = settings.rhythm == "learned"
    made: list[list[Step]] = [[] for _ in range(count)]
    ended = [False] * count
    are_logits = config.family.outputs_logits
    budget = settings.step_budget
    parted = config.has_parts
    tables = runner.tables
    parts = np.zeros(count, np.int64)
    lines = _PartLines(config, vocab, prefix[0], part_prefix, count) if parted else None
    hold = SeedHold(vocab, seed_steps, len(config.parts), drums, settings.key_bias, settings.register_margin, count)
    grid = GridHold(vocab, seed_steps, settings.grid_bias)
    for index in range(budget):
        draws = uniform_draws(generators, 4 if parted else 3)
        if parted:  # the part first, then everything else given it
            parts = sample_indices(scores_to_probabilities(scores[3], temperature=settings.temperature), draws[:, 3])
        given = _part_terms(tables, parts, lines) if parted else (0.0, 0.0, 0.0)
        probabilities = scores_to_probabilities(scores[0] + given[0], temperature=settings.temperature,
                                                top_k=settings.top_k, banned=banned, are_logits=are_logits,
                                                bias=hold.token_terms(parts))
        tokens = sample_indices(probabilities, draws[:, 0])
        if lines is not None:
            lines.played(parts, tokens)
        hold.played(parts, tokens)
        if learned:  # duration given the sampled token, then shift given both
            duration_scores = scores[1] + tables["duration_given_token"][tokens] + given[1]
            durations = sample_indices(scores_to_probabilities(duration_scores, temperature=settings.temperature),
                                       draws[:, 1])
            shift_scores = (scores[2] + tables["shift_given_token"][tokens] + tables["shift_given_duration"][durations]
                            + given[2])
            # in one line a zero gap would merge two steps into one chord (only end tokens have it in
            # training); with parts it is the next part sounding at the same onset
            shifts = sample_indices(scores_to_probabilities(shift_scores, temperature=settings.temperature,
                                                            banned=[] if parted else [0],
                                                            bias=grid.shift_terms(timelines)), draws[:, 2])
            rhythm = [(vocab.class_to_duration(d), vocab.class_to_shift(s)) for d, s in zip(durations, shifts)]
        else:
            offsets = settings.offset_min + draws[:, 2] * (settings.offset_max - settings.offset_min)
            rhythm = [(QUARTER, float(o)) for o in offsets]
            durations = np.array([vocab.duration_class(QUARTER)] * count)
            shifts = np.array([vocab.shift_class(o) for o in offsets])
        for k in range(count):
            if ended[k]:
                continue
            if tokens[k] == END_ID:
                ended[k] = True
                made[k] = end_at_bar_line(made[k])
            else:
                made[k].append(timelines[k].place(Step(vocab.pitches_of(int(tokens[k])), *rhythm[k],
                                                       part=int(parts[k]))))
                ended[k] = timelines[k].finished
        if all(ended):
            break
        if index % 10 == 9:
            yield Progress(*_progress(index + 1, settings, timelines, ended), tuple(made), seed_steps)
        if index + 1 < budget:
            following = {"position": [[position_class(Step((), 0, 0, t.position, t.meter))] for t in timelines],
                         "meter": [[meter_class(t.meter)] for t in timelines],
                         **register_inputs,
                         "part": parts[:, None]}
            scores, states = runner.step(runner.inputs(tokens[:, None], durations[:, None], shifts[:, None],
                                                       {k: np.array(v, np.int32) for k, v in following.items()}),
                                         states)
    total = settings.bars if settings.bars is not None else settings.length
    yield Progress(total, total)
    elapsed = time.perf_counter() - started
    natural = [ended[k] and not timelines[k].finished for k in range(count)]
    if settings.bars is not None:
        made = [steps if ended[k] else cut_at_last_bar_line(steps) for k, steps in enumerate(made)]
    yield [GeneratedPiece(made[k], seed_steps, settings.random_seed + k, natural[k], elapsed) for k in range(count)]


class _PartLines:
    """What a model with parts knows of each variation's parts while sampling: the latest pitch of
    every part (``previous_in_part``), and the tokens each part may not play (outside its range)."""

    def __init__(self, config: ModelConfig, vocab, prefix_tokens: np.ndarray, prefix_parts: np.ndarray, count: int):
        self.tops = vocab.top_pitches()
        latest = ids_to_latest_in_parts(prefix_tokens, prefix_parts, self.tops, len(config.parts))[-1]
        self.latest = np.tile(latest, (count, 1))
        self.uses_previous = config.previous_in_part
        self.penalties = (vocab.outside_ranges(config.part_ranges) * OUT_OF_REACH).astype(np.float32) \
            if config.part_ranges else None

    def token_terms(self, tables: dict, parts: np.ndarray):
        """What the sampled parts' own lines add to the token scores."""
        terms = tables[PREVIOUS_TABLE][self.latest[np.arange(len(parts)), parts]] if self.uses_previous else 0.0
        return terms + self.penalties[parts] if self.penalties is not None else terms

    def played(self, parts: np.ndarray, tokens: np.ndarray) -> None:
        """Each variation's sampled token becomes its part's latest pitch (an end token changes nothing)."""
        pitches = self.tops[tokens]
        sounding = pitches != NO_PITCH
        rows = np.arange(len(parts))[sounding]
        self.latest[rows, parts[sounding]] = pitches[sounding]


def _part_terms(tables: dict, parts: np.ndarray, lines: _PartLines) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the sampled parts add to the token, duration and shift scores."""
    token, duration, shift = (tables[name][parts] for name in PART_TABLES)
    return token + lines.token_terms(tables, parts), duration, shift


def _progress(steps: int, settings: GenerationRequest, timelines: list[_Timeline], ended: list[bool]) -> tuple[int, int]:
    """(done, total): steps of a request in steps, whole bars of the slowest variation of one in bars."""
    if settings.bars is None:
        return steps, settings.length
    going = [t for t, stop in zip(timelines, ended) if not stop] or timelines
    slowest = min(t.elapsed for t in going)
    return min(settings.bars, slowest * settings.bars // max(1, going[0].end)), settings.bars


def generate(checkpoint, seed: list[Step], request: GenerationRequest,
             on_progress: Callable[[Progress], None] | None = None, **options) -> list[GeneratedPiece]:
    """Run ``iter_generate`` to the end, reporting progress to ``on_progress``."""
    for item in iter_generate(checkpoint, seed, request, **options):
        if isinstance(item, Progress):
            if on_progress:
                on_progress(item)
        else:
            return item
    raise RuntimeError("iter_generate ended without a result")  # unreachable


def paper_window_generate(checkpoint, seed: list[Step], length: int, *, offset_min: float = 0.1,
                          offset_max: float = 0.9, random_seed: int = 0) -> list[Step]:
    """The paper's loop: ``model.predict`` on the last 100 ids for every step, argmax, random offsets.

    Works for either preset (the default preset's token head is used); kept as the baseline.
    """
    config, vocab, model = checkpoint.config, checkpoint.vocab, checkpoint.model
    encoded = vocab.encode_seed(seed)
    history = [END_ID] * max(0, PAPER_WINDOW - len(encoded.tokens)) + list(encoded.tokens)
    rhythm = [list(encoded.durations), list(encoded.shifts)]
    rng = np.random.default_rng(random_seed)
    steps = []
    for _ in range(length):
        window = np.array(history[-PAPER_WINDOW:])
        recent = [np.array(r[-PAPER_WINDOW:]) for r in rhythm]
        recent = [np.concatenate([np.zeros(PAPER_WINDOW - len(r), int), r]) for r in recent]
        scores = config.family.window_scores(model, config, window[None], recent[0][None], recent[1][None])
        scores = np.array(scores, dtype=np.float64)
        scores[:, [END_ID, RARE_ID]] = -np.inf
        token = int(greedy_indices(scores)[0])
        offset = float(rng.uniform(offset_min, offset_max))
        history.append(token)
        rhythm[0].append(vocab.duration_class(QUARTER))
        rhythm[1].append(vocab.shift_class(offset))
        steps.append(Step(vocab.pitches_of(token), QUARTER, offset))
    return steps
