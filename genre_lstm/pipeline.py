"""Seed in, files out: generate variations, write each as MIDI, render each to WAV.

The one composition of the library that both the command line and the app call:
``iter_make_music`` yields progress (so a caller can show it, or stop between steps) and
finally the outputs; ``make_music`` runs it to the end.
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
from .request import GenerationRequest
from .store import layout


@dataclass
class Output:
    """One written variation with the figures of its run."""

    piece: GeneratedPiece
    midi: Path
    wav: Path | None
    steps: list[Step]
    seed_steps: int  # how many of ``steps`` are the seed (0 unless it was included)
    music_seconds: float
    timings: dict = field(default_factory=dict)
    parts: tuple = ()  # the parts ``steps`` name, with the programs they play


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
                    name: str = "piece", audio: bool = True) -> Iterator[Progress | Rendering | list[Output]]:
    """Generate ``request.variations`` pieces, write ``<name>-<random seed>.mid`` (and .wav)."""
    out_dir = Path(out_dir)
    settings = request.for_checkpoint(checkpoint)
    tempo, transpose, include_seed = settings.tempo, settings.transpose, settings.include_seed
    parts, muted = settings.played_parts(checkpoint.parts)
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
    try:
        # Audio is rendered while sampling goes on, one renderer (a thread and a synth) per variation.
        renderers += [StepsRenderer(tempo_bpm=tempo, parts=parts) for _ in range(settings.variations if audio else 0)]
        pieces = None
        for item in iter_generate(checkpoint, seed, settings):
            if isinstance(item, Progress):
                for renderer, partial in zip(renderers, item.steps):
                    renderer.update(shown(partial, item.seed))
                yield item
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
            wav = None
            if audio:
                began = time.perf_counter()
                wav = renderers[index].finish(steps, stem.with_suffix(".wav"))
                timings["render_s"] = time.perf_counter() - began  # what is left after sampling
            seconds = steps_duration_quarters(steps) * 60.0 / tempo
            outputs.append(Output(piece, midi, wav, steps, len(piece.seed) if include_seed else 0, seconds, timings,
                                  parts))
            yield Rendering(len(outputs), len(pieces))
    finally:
        for renderer in renderers:
            renderer.close()
    yield outputs


def make_music(checkpoint, seed: list[Step], request: GenerationRequest, out_dir: str | Path, *,
               on_progress: Callable[[Progress | Rendering], None] | None = None, **options) -> list[Output]:
    """Run ``iter_make_music`` to the end, reporting progress to ``on_progress``."""
    for item in iter_make_music(checkpoint, seed, request, out_dir, **options):
        if isinstance(item, list):
            return item
        if on_progress:
            on_progress(item)
    raise RuntimeError("iter_make_music ended without outputs")  # unreachable


def _meta(checkpoint, settings: GenerationRequest, piece: GeneratedPiece) -> dict:
    """The parameters that reproduce this piece, written into the MIDI as text events."""
    return {"generator": "genre-lstm", "checkpoint": checkpoint.defaults.name, **settings.as_dict(),
            "random_seed": piece.random_seed, "program": settings.program}
