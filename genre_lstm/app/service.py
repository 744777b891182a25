"""What the web app asks of the library, in plain Python: the genre list, seed choices, one
generation request from raw form values to files, and the live figures of the Compare tab.

Kept free of Gradio so it is tested like the rest of the library; app.py only lays out
components and forwards their values here.
"""

from __future__ import annotations

import json
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import InvalidParameterError
from ..model.generate import GenerationSettings, Progress
from ..store.genres import GENRES, get_genre
from ..music.instruments import GM_PROGRAMS, program_of
from ..pipeline import Output, Rendering, iter_make_music

RANDOM_SEED_CHOICE = "Random held-out window"
GENRE_DEFAULT = "Genre default"
MAX_VARIATIONS = 4


@dataclass(frozen=True)
class Request:
    """Every form field of the Generate tab, with the defaults a bare API call gets."""

    genre: str = "irish-fiddle"
    checkpoint_dir: str | None = None  # a user's own trained checkpoint, used instead of the genre
    seed_file: str | None = None
    seed_choice: str = RANDOM_SEED_CHOICE
    seed_length: int = 100
    length: int = 500
    rhythm: str = "learned"
    offset_min: float = 0.1
    offset_max: float = 0.9
    temperature: float = 1.0
    top_k: int = 0
    tempo_bpm: float = 0.0  # 0: the genre's
    instrument: str = GENRE_DEFAULT
    transpose: int = 0
    random_seed: int = 0
    new_seed: bool = False
    variations: int = 1
    include_seed: bool = False
    natural_ending: bool = False


@dataclass
class Result:
    outputs: list[Output]
    pianorolls: list[Path]
    archive: Path  # a zip of every variation (written only when there are several)
    random_seed: int
    figures: dict = field(default_factory=dict)


def installed_genres() -> list:
    return [g for g in GENRES.values() if g.installed()]


def genre_label(genre) -> str:
    """'Irish fiddle: O'Neill's ... (2,009 pieces)', read from the checkpoint's own record."""
    try:
        info = json.loads((genre.local_dir() / "genre_lstm.json").read_text())["info"]
        pieces = f" ({info.get('pieces', 0):,} pieces)"
    except (OSError, ValueError, KeyError):
        pieces = ""
    return f"{genre.name}: {genre.source}{pieces}"


def seed_choices(genre_id: str) -> list[str]:
    """The held-out seed windows a genre ships, by piece, after the random choice."""
    try:
        seeds = json.loads((get_genre(genre_id).local_dir() / "seeds.json").read_text())["seeds"]
    except (OSError, ValueError, KeyError):
        seeds = []
    return [RANDOM_SEED_CHOICE] + [f"#{i}: {s['piece']}" + (f" from step {s['start']}" if s.get("start") else "")
                                   for i, s in enumerate(seeds)]


def default_temperature(genre_id: str) -> float:
    """The sampling temperature a genre's checkpoint plays by default (its generation.json)."""
    try:
        return float(json.loads((get_genre(genre_id).local_dir() / "generation.json").read_text())["temperature"])
    except (OSError, ValueError, KeyError):
        return 1.0


def instrument_choices() -> list[str]:
    return [GENRE_DEFAULT] + list(GM_PROGRAMS)


def approximate_seconds(genre_id: str, length: int, tempo_bpm: float) -> float:
    """Seconds of music ``length`` steps make, from the average gap of the genre's seed windows."""
    from ..music.events import GRID

    genre = get_genre(genre_id)
    try:
        seeds = json.loads((genre.local_dir() / "seeds.json").read_text())["seeds"]
        gaps = [row[1] for s in seeds for row in s["steps"]]
        quarters = sum(gaps) / len(gaps) / GRID
    except (OSError, ValueError, KeyError, ZeroDivisionError):
        quarters = 0.5
    return length * quarters * 60.0 / (tempo_bpm or genre.tempo_bpm)


def run(request: Request, work_dir: Path) -> Iterator[Progress | Rendering | Result]:
    """Validate the form, generate, write MIDI/WAV/piano rolls and a zip; progress on the way."""
    from ..store.hub import get_checkpoint
    from ..music.midi_io import music_file_to_steps
    from ..music.pianoroll import steps_to_pianoroll_png

    started = time.perf_counter()
    if not 1 <= int(request.variations) <= MAX_VARIATIONS:
        raise InvalidParameterError(f"variations must be 1 to {MAX_VARIATIONS}, not {request.variations}")
    if request.tempo_bpm and not 20 <= float(request.tempo_bpm) <= 400:
        raise InvalidParameterError(f"tempo must be 20 to 400 BPM, not {request.tempo_bpm}")
    if not -12 <= int(request.transpose) <= 12:
        raise InvalidParameterError(f"transpose must be -12 to 12 semitones, not {request.transpose}")
    program = None if request.instrument in (None, "", GENRE_DEFAULT) else program_of(request.instrument)
    random_seed = secrets.randbelow(2**31) if request.new_seed else int(request.random_seed)
    if not request.checkpoint_dir:
        get_genre(request.genre)
    seed = music_file_to_steps(request.seed_file) if request.seed_file else None
    checkpoint = get_checkpoint(request.checkpoint_dir or request.genre)
    if seed is None:
        index = random_seed if request.seed_choice in (None, "", RANDOM_SEED_CHOICE) else _choice_index(request.seed_choice)
        seed = checkpoint.seed_steps(index)
    settings = GenerationSettings(
        length=int(request.length), rhythm=request.rhythm, offset_min=float(request.offset_min),
        offset_max=float(request.offset_max), temperature=float(request.temperature), top_k=int(request.top_k),
        random_seed=random_seed, variations=int(request.variations), seed_length=int(request.seed_length),
        natural_ending=bool(request.natural_ending))
    outputs = None
    name = checkpoint.defaults.name if request.checkpoint_dir else request.genre
    for item in iter_make_music(checkpoint, seed, settings, work_dir, name=name,
                                tempo_bpm=float(request.tempo_bpm) or None, program=program,
                                include_seed=bool(request.include_seed), transpose=int(request.transpose)):
        if isinstance(item, list):
            outputs = item
        else:
            yield item
    rolls = [steps_to_pianoroll_png(o.steps, o.midi.with_suffix(".png"), seed_steps=o.seed_steps) for o in outputs]
    archive = work_dir / f"{name}-{random_seed}-all.zip"
    if len(outputs) > 1:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:  # WAV barely compresses: store it
            for output in outputs:
                for path in (output.midi, output.wav):
                    bundle.write(path, path.name)
    from ..model.backend import device_description

    figures = {"steps": [len(o.piece.steps) for o in outputs], "music_seconds": [o.music_seconds for o in outputs],
               "sampling_s": outputs[0].timings["sampling_s"], "total_s": time.perf_counter() - started,
               "device": device_description()}
    yield Result(outputs, rolls, archive, random_seed, figures)
    release_freed_memory()


def limit_malloc_arenas(count: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before a server starts its threads: with one arena per
    request thread, freed audio buffers stay spread over many heaps and the process keeps growing
    (glibc only; no-op elsewhere)."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(-8, count)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def one_inference_thread() -> None:
    """Run TensorFlow's operations on one thread (unless the environment says otherwise), before it
    starts: a step of the default model is as fast on one core, four variations then cost 1.1x one
    instead of 1.35x (benchmarks/bench_step.py --threads), and the other core renders the audio."""
    import os

    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")


def release_freed_memory() -> None:
    """Hand memory freed by a request (tens of MB of audio buffers) back to the system, so a
    long-running server does not grow from allocator fragmentation (glibc only; no-op elsewhere)."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _choice_index(choice: str) -> int:
    try:
        return int(choice.split(":")[0].lstrip("#"))
    except ValueError:
        raise InvalidParameterError(f"unknown seed choice {choice!r}") from None


def zip_folder(folder: Path, archive: Path) -> Path:
    """A checkpoint folder as a zip in the hub layout (no training leftovers)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and ".training" not in path.parts:
                bundle.write(path, Path(folder.name) / path.relative_to(folder))
    return archive
