"""Seed in, files out: generate variations, write each as MIDI, render each to WAV.

The one composition of the library that both the command line and the app call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .events import Step, steps_duration_quarters
from .generate import GeneratedPiece, GenerationSettings, Progress, generate
from .midi_io import steps_to_midi_file
from .render import midi_to_wav


@dataclass
class Output:
    """One written variation with the figures of its run."""

    piece: GeneratedPiece
    midi: Path
    wav: Path | None
    music_seconds: float
    timings: dict = field(default_factory=dict)


def make_music(checkpoint, seed: list[Step], settings: GenerationSettings, out_dir: str | Path, *,
               name: str = "piece", tempo_bpm: float | None = None, program: int | None = None,
               include_seed: bool = False, audio: bool = True, transpose: int = 0,
               on_progress: Callable[[Progress], None] | None = None) -> list[Output]:
    """Generate ``settings.variations`` pieces and write ``<name>-<random seed>.mid`` (and .wav)."""
    out_dir = Path(out_dir)
    tempo = float(tempo_bpm or checkpoint.defaults.tempo_bpm)
    program = checkpoint.defaults.program if program is None else int(program)
    started = time.perf_counter()
    pieces = generate(checkpoint, seed, settings, on_progress)
    sampling = time.perf_counter() - started
    outputs = []
    for piece in pieces:
        steps = (piece.seed + piece.steps) if include_seed else piece.steps
        if transpose:
            from .tokenizer import transpose_steps

            steps = transpose_steps(steps, transpose)
        stem = out_dir / f"{name}-{piece.random_seed}"
        began = time.perf_counter()
        midi = steps_to_midi_file(steps, stem.with_suffix(".mid"), tempo_bpm=tempo, program=program,
                                  text=_meta(checkpoint, settings, piece, tempo, program, include_seed, transpose))
        wrote = time.perf_counter() - began
        wav = None
        if audio:
            began = time.perf_counter()
            wav = midi_to_wav(midi, stem.with_suffix(".wav"))
            rendered = time.perf_counter() - began
        seconds = steps_duration_quarters(steps) * 60.0 / tempo
        timings = {"sampling_s": sampling, "midi_s": wrote, **({"render_s": rendered} if audio else {})}
        outputs.append(Output(piece, midi, wav, seconds, timings))
    return outputs


def _meta(checkpoint, settings: GenerationSettings, piece: GeneratedPiece, tempo: float, program: int,
          include_seed: bool, transpose: int) -> dict:
    """The parameters that reproduce this piece, written into the MIDI as text events."""
    return {
        "generator": "genre-lstm",
        "checkpoint": checkpoint.defaults.name,
        "length": settings.length, "rhythm": settings.rhythm if checkpoint.config.has_rhythm else "random",
        "offset_range": f"{settings.offset_min}-{settings.offset_max}",
        "temperature": settings.temperature, "top_k": settings.top_k,
        "random_seed": piece.random_seed, "seed_length": settings.seed_length,
        "natural_ending": settings.natural_ending, "include_seed": include_seed,
        "tempo_bpm": tempo, "program": program, "transpose": transpose,
    }
