"""Continuing a seed: a generator that yields progress, and a function that consumes it.

Stateful: the seed runs through the network once (``prime``), then one step at a time carries the
LSTM states (``step``), so each new step costs one pass over the weights. The paper's own loop,
which re-runs a 100-token window through the whole network for every step, is kept as
``paper_window_generate``: the baseline the benchmarks compare against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from ..music.events import Step
from ..request import GenerationRequest
from .backend import choose_engine, compile_inference
from .network import ModelConfig, inference_models, input_names, rhythm_tables
from .numpy_step import numpy_inference
from .sampling import (
    greedy_indices,
    sample_indices,
    scores_to_probabilities,
    uniform_draws,
)
from .tokenizer import END_ID, RARE_ID, EncodedPiece, duration_class, shift_class

PAPER_WINDOW = 100
PROGRESS_EVERY_S = 0.25  # at most this often: each Progress costs a caller such as the app a round trip
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
        self.outputs = len(input_names(config))
        if self.engine == "numpy":
            inference = numpy_inference(model, config)
            self._prime, self._step = inference.prime, inference.step
        else:
            prime, step = inference_models(model, config)
            self._prime = compile_inference(prime, numpy_outputs=self.outputs)
            self._step = compile_inference(step, numpy_outputs=self.outputs, fixed_shapes=True)
        self.tables = rhythm_tables(model) if config.has_rhythm else {}

    def inputs(self, tokens: np.ndarray, durations: np.ndarray, shifts: np.ndarray) -> list[np.ndarray]:
        """(B, T) id arrays -> the network's input list, as the model family takes them."""
        return self.config.family.feed(self.config, tokens, durations, shifts)

    def prime(self, inputs: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        out = self._prime(inputs)
        return out[: self.outputs], out[self.outputs:]

    def step(self, inputs: list[np.ndarray], states: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        out = self._step(inputs + states)
        return out[: self.outputs], out[self.outputs:]


def iter_generate(checkpoint, seed: list[Step], request: GenerationRequest) -> Iterator[Progress | list[GeneratedPiece]]:
    """Yield ``Progress`` while sampling, then the list of generated pieces (one per variation)."""
    started = time.perf_counter()
    config, vocab = checkpoint.config, checkpoint.vocab
    settings = request.for_checkpoint(checkpoint)
    encoded = vocab.encode_seed(seed[-settings.seed_length:]) if seed else EncodedPiece(*(np.zeros(0, np.int32),) * 3)
    runner = checkpoint.runner
    count = settings.variations
    # Every training piece follows an end token (duration and shift classes 0), so the seed does too.
    prefix = [np.concatenate([[first], part]).astype(np.int32)
              for first, part in zip((END_ID, 0, 0), (encoded.tokens, encoded.durations, encoded.shifts))]
    scores, states = runner.prime(runner.inputs(*(np.tile(p, (count, 1)) for p in prefix)))
    generators = [np.random.default_rng(settings.random_seed + k) for k in range(count)]
    banned = [RARE_ID] if settings.natural_ending else [RARE_ID, END_ID]
    learned = settings.rhythm == "learned"
    made: list[list[Step]] = [[] for _ in range(count)]
    seed_steps = vocab.decode(encoded.tokens, encoded.durations, encoded.shifts)
    ended = [False] * count
    are_logits = config.family.outputs_logits
    next_report = 0.0  # the first Progress comes after 10 steps, so a renderer can start at once
    for index in range(settings.length):
        draws = uniform_draws(generators, 3)
        probabilities = scores_to_probabilities(scores[0], temperature=settings.temperature,
                                                top_k=settings.top_k, banned=banned, are_logits=are_logits)
        tokens = sample_indices(probabilities, draws[:, 0])
        if learned:  # duration given the sampled token, then shift given both
            tables = runner.tables
            duration_scores = scores[1] + tables["duration_given_token"][tokens]
            durations = sample_indices(scores_to_probabilities(duration_scores, temperature=settings.temperature),
                                       draws[:, 1])
            shift_scores = scores[2] + tables["shift_given_token"][tokens] + tables["shift_given_duration"][durations]
            # a zero gap would merge two steps into one chord: only end tokens have it in training
            shifts = sample_indices(scores_to_probabilities(shift_scores, temperature=settings.temperature,
                                                            banned=[0]), draws[:, 2])
            rhythm = [((int(d) + 1) / vocab.grid, int(s) / vocab.grid) for d, s in zip(durations, shifts)]
        else:
            offsets = settings.offset_min + draws[:, 2] * (settings.offset_max - settings.offset_min)
            rhythm = [(QUARTER, float(o)) for o in offsets]
            durations = np.array([duration_class(QUARTER)] * count)
            shifts = np.array([shift_class(o) for o in offsets])
        for k in range(count):
            if ended[k]:
                continue
            if tokens[k] == END_ID:
                ended[k] = True
            else:
                made[k].append(Step(vocab.pitches_of(int(tokens[k])), *rhythm[k]))
        if all(ended):
            break
        if index % 10 == 9 and time.perf_counter() >= next_report:
            yield Progress(index + 1, settings.length, tuple(made), seed_steps)
            next_report = time.perf_counter() + PROGRESS_EVERY_S
        if index + 1 < settings.length:
            scores, states = runner.step(runner.inputs(tokens[:, None], durations[:, None], shifts[:, None]), states)
    yield Progress(settings.length, settings.length)
    elapsed = time.perf_counter() - started
    yield [GeneratedPiece(made[k], seed_steps, settings.random_seed + k, ended[k], elapsed) for k in range(count)]


def generate(checkpoint, seed: list[Step], request: GenerationRequest,
             on_progress: Callable[[Progress], None] | None = None) -> list[GeneratedPiece]:
    """Run ``iter_generate`` to the end, reporting progress to ``on_progress``."""
    for item in iter_generate(checkpoint, seed, request):
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
        rhythm[0].append(duration_class(QUARTER))
        rhythm[1].append(shift_class(offset))
        steps.append(Step(vocab.pitches_of(token), QUARTER, offset))
    return steps
