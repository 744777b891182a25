"""Seed in, files out: generate variations, write each as MIDI, render each to WAV (or to an Ogg
stream alone, the app's way: its WAV is made from the MIDI file only when it is asked for).

The one composition of the library that both the command line and the app call:
``iter_make_music`` yields progress (so a caller can show it, or stop between steps) and then
the outputs; ``make_music`` runs it to the end. Given ``open_stream``, it also encodes each
variation's audio to a growing Ogg file as it is rendered, and says so first (``Listening``), so a
player can start before the sampling ends; the outputs come as soon as the files are written, and
``Encoded`` once the streams are complete too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .errors import InvalidParameterError
from .model.generate import GeneratedPiece, Progress, iter_generate
from .model.tokenizer import transpose_steps
from .music.events import COMMON_TIME, GRID, Step, drum_parts, meter_to_units, regroup_steps, steps_duration_quarters
from .music.midi_io import steps_to_midi_file
from .music.render import MAX_SECONDS, StepsRenderer
from .music.stream import GrowingFile
from .request import GenerationRequest
from .store import layout


PROGRESS_EVERY_S = 0.25  # progress goes up at most this often: each report costs a caller such as the app a
#                          round trip, while the renderers hear of every 10 steps


@dataclass
class Output:
    """One written variation with the figures of its run."""

    piece: GeneratedPiece
    midi: Path
    wav: Path | None
    ogg: Path | None  # the complete Ogg stream, when one was asked for
    steps: list[Step]
    seed_steps: int  # how many of ``steps`` are the seed (0 unless it was included)
    music_seconds: float
    timings: dict = field(default_factory=dict)
    parts: tuple = ()  # the parts ``steps`` name, with the programs they play


@dataclass(frozen=True)
class Listening:
    """The variations' audio streams, open before the first sampled step: each grows as the piece
    is rendered and is complete once the outputs are yielded."""

    streams: tuple[GrowingFile, ...]


@dataclass(frozen=True)
class Encoded:
    """After the outputs: every variation's Ogg stream is complete (its ``Output.ogg`` can be read)."""


@dataclass(frozen=True)
class Rendering:
    """Progress of the writing and rendering stage: variation ``done`` of ``total`` finished."""

    done: int
    total: int


def approximate_seconds(folder: Path, length: int, tempo_bpm: float | None = None, bars: int | None = None) -> float:
    """Seconds of music ``length`` steps (or ``bars`` bars) make, from the average gap and the
    longest bar of the checkpoint's seed windows (read from the folder alone, so a form can show it
    without loading the model)."""
    seeds = layout.read_seeds(folder)
    tempo = tempo_bpm or layout.read_defaults(folder).get("tempo_bpm") or 100.0
    if bars is not None:
        meters = [tuple(where[1:3]) for s in seeds for where in (s.get("positions") or [])[-1:]]
        bar = max((meter_to_units(m) for m in meters), default=meter_to_units(COMMON_TIME)) / GRID
        return bars * bar * 60.0 / float(tempo)
    gaps = [row[1] for s in seeds for row in s.get("steps", [])]
    quarters = sum(gaps) / len(gaps) / GRID if gaps else 0.5
    return length * quarters * 60.0 / float(tempo)


def check_music_length(folder: Path, request: GenerationRequest) -> None:
    """Refuse, before any work, a request whose music would play longer than can be rendered."""
    seed = approximate_seconds(folder, request.seed_length, request.tempo) if request.include_seed else 0.0
    seconds = seed + approximate_seconds(folder, request.length, request.tempo, request.bars)
    if seconds > MAX_SECONDS:
        amount, unit = (request.bars, "bars") if request.bars is not None else (request.length, "steps")
        longest = int(amount * MAX_SECONDS / seconds)
        raise InvalidParameterError(
            f"{amount} {unit} would play for about {seconds / 60:.0f} minutes; the limit is "
            f"{MAX_SECONDS // 60}: ask for at most {longest} {unit} or a faster tempo")


def iter_make_music(checkpoint, seed: list[Step], request: GenerationRequest, out_dir: str | Path, *,
                    name: str = "piece", audio: bool = True, wav: bool = True,
                    open_stream: Callable[[], GrowingFile] | None = None,
                    ) -> Iterator[Listening | Progress | Rendering | list[Output] | Encoded]:
    """Generate ``request.variations`` pieces, write ``<name>-<random seed>.mid`` (and .wav unless
    ``wav`` is off; with ``open_stream``, an Ogg stream of each too, yielded first as ``Listening``)."""
    out_dir = Path(out_dir)
    settings = request.for_checkpoint(checkpoint)
    tempo, transpose, include_seed = settings.tempo, settings.transpose, settings.include_seed
    parts, muted = settings.played_parts(checkpoint.parts)
    audio = audio and (wav or open_stream is not None)
    if audio:
        check_music_length(checkpoint.folder, settings)
    started = time.perf_counter()

    def shown(piece_steps: list[Step], seed_steps: list[Step]) -> list[Step]:
        """What is played: the muted parts left out (they were generated), transposed but the drums."""
        steps = (seed_steps + piece_steps) if include_seed else piece_steps
        if muted:
            steps = regroup_steps(steps, [None if step.part in muted else step.part for step in steps])
        return transpose_steps(steps, transpose, unmoved=drum_parts(parts)) if transpose else steps

    renderers: list[StepsRenderer] = []
    streams: list[GrowingFile] = []
    try:
        # Audio is rendered while sampling goes on, one renderer (a thread and a synth) per variation.
        for _ in range(settings.variations if audio else 0):
            stream = open_stream() if open_stream else None
            renderers.append(StepsRenderer(tempo_bpm=tempo, parts=parts, stream=stream, keep=wav))
            streams.append(stream)
        if audio and open_stream:
            yield Listening(tuple(streams))
        pieces, next_report = None, 0.0
        for item in iter_generate(checkpoint, seed, settings):
            if isinstance(item, Progress):
                for renderer, partial in zip(renderers, item.steps):
                    renderer.update(shown(partial, item.seed))
                if time.perf_counter() >= next_report or item.done == item.total:
                    yield item
                    next_report = time.perf_counter() + PROGRESS_EVERY_S
            else:
                pieces = item
        sampling = time.perf_counter() - started
        every_steps = [shown(piece.steps, piece.seed) for piece in pieces]
        for renderer, steps in zip(renderers, every_steps):
            renderer.complete(steps)  # all variations finish rendering at once, while the MIDI is written
        outputs = []
        for index, (piece, steps) in enumerate(zip(pieces, every_steps)):
            stem = out_dir / f"{name}-{piece.random_seed}"
            began = time.perf_counter()
            midi = steps_to_midi_file(steps, stem.with_suffix(".mid"), tempo_bpm=tempo, parts=parts,
                                      text=_meta(checkpoint, settings, piece))
            timings = {"sampling_s": sampling, "midi_s": time.perf_counter() - began}
            written = None
            if audio:
                began = time.perf_counter()
                written = renderers[index].finish(steps, stem.with_suffix(".wav") if wav else None)
                timings["render_s"] = time.perf_counter() - began  # what is left after sampling
            seconds = steps_duration_quarters(steps) * 60.0 / tempo
            ogg = streams[index].path if audio and streams[index] is not None else None
            outputs.append(Output(piece, midi, written, ogg, steps, len(piece.seed) if include_seed else 0,
                                  seconds, timings, parts))
            yield Rendering(len(outputs), len(pieces))
        yield outputs
        if any(stream is not None for stream in streams):
            for renderer in renderers:
                renderer.wait_encoded()  # what is left of the streams' encoding, after the files are written
            yield Encoded()
    finally:
        for renderer in renderers:
            renderer.close()
        for stream in streams:
            if stream is not None:
                stream.abort()  # a no-op for a complete stream; ends one that was stopped


def make_music(checkpoint, seed: list[Step], request: GenerationRequest, out_dir: str | Path, *,
               on_progress: Callable[[Progress | Rendering], None] | None = None, **options) -> list[Output]:
    """Run ``iter_make_music`` to the end (streams included), reporting progress to ``on_progress``."""
    outputs = None
    for item in iter_make_music(checkpoint, seed, request, out_dir, **options):
        if isinstance(item, list):
            outputs = item
        elif on_progress and not isinstance(item, (Listening, Encoded)):
            on_progress(item)
    return outputs


def _meta(checkpoint, settings: GenerationRequest, piece: GeneratedPiece) -> dict:
    """The parameters that reproduce this piece, written into the MIDI as text events."""
    return {"generator": "genre-lstm", "checkpoint": checkpoint.defaults.name, **settings.as_dict(),
            "random_seed": piece.random_seed, "program": settings.program}
