"""What the web app asks of the library, in plain Python: the genre list, seed choices, one
generation request from raw form values to files, and the live figures of the Compare tab.

Kept free of Gradio so it is tested like the rest of the library; app.py only lays out
components and forwards their values here.
"""

from __future__ import annotations

import secrets
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from ..errors import InvalidParameterError
from ..model.generate import Progress
from ..music.instruments import GM_PROGRAMS
from ..pipeline import (
    Output,
    Rendering,
    check_music_length,
    iter_make_music,
)
from ..request import FIELD, GenerationRequest
from ..store import layout
from ..store.genres import GENRES, get_genre

RANDOM_SEED_CHOICE = "Random held-out window"
GENRE_DEFAULT = "Genre default"
SLOTS = FIELD["variations"].high  # the result view's players: one per variation


@dataclass
class Result:
    outputs: list[Output]
    pianorolls: list[Path]
    archive: Path | None  # a zip of every variation (only when there are several)
    random_seed: int
    figures: dict = field(default_factory=dict)


def installed_genres() -> list:
    return [g for g in GENRES.values() if g.installed()]


def genre_label(genre) -> str:
    """'Irish fiddle: O'Neill's ... (2,009 pieces)', read from the checkpoint's own record."""
    pieces = layout.read_info(genre.local_dir()).get("pieces")
    return f"{genre.name}: {genre.source}" + (f" ({pieces:,} pieces)" if isinstance(pieces, int) else "")


def model_folder(model: str) -> Path:
    """The checkpoint folder of a shipped genre id or of a session's own model folder."""
    if model in GENRES:
        return get_genre(model).local_dir()
    folder = Path(model)
    if not layout.is_complete(folder):
        raise InvalidParameterError(f"unknown genre {model!r}; choose one of {', '.join(GENRES)}")
    return folder


def seed_choices(folder: Path) -> list[str]:
    """The held-out seed windows a checkpoint ships, by piece, after the random choice."""
    return [RANDOM_SEED_CHOICE] + [f"#{i}: {s.get('piece', '?')}" + (f" from step {s['start']}" if s.get("start") else "")
                                   for i, s in enumerate(layout.read_seeds(folder))]


def default_temperature(folder: Path) -> float:
    """The sampling temperature a checkpoint plays by default (its generation.json)."""
    value = layout.read_defaults(folder).get("temperature", 1.0)
    return float(value) if isinstance(value, (int, float)) else 1.0


def part_names(folder: Path) -> list[str]:
    """The parts a checkpoint plays, in order ([] for one line), read from its folder alone."""
    parts = layout.read_optional(folder, layout.OUR_CONFIG).get("model", {}).get("parts") or []
    return [str(part.get("name", "?")) for part in parts if isinstance(part, dict)]


def instrument_choices() -> list[str]:
    return [GENRE_DEFAULT] + list(GM_PROGRAMS)


def request_from_form(**values) -> GenerationRequest:
    """The Generate form's raw values -> a checked request ("Genre default" means no instrument)."""
    if values.get("instrument") == GENRE_DEFAULT:
        values["instrument"] = None
    return GenerationRequest.from_values(**values)


def run(model: str, request: GenerationRequest, work_dir: Path, *, seed_file: str | None = None,
        seed_choice: str | None = None, new_seed: bool = False, name: str | None = None,
        ) -> Iterator[Progress | Rendering | Result]:
    """Generate from a genre id or a checkpoint folder; write MIDI, WAV, piano rolls (and a zip for
    several variations); progress on the way. Every limit is checked before the work starts."""
    from ..music.midi_io import seed_file_to_music
    from ..music.pianoroll import steps_to_pianoroll_png
    from ..store.hub import get_checkpoint

    started = time.perf_counter()
    folder = model_folder(model)
    if new_seed:
        request = replace(request, random_seed=secrets.randbelow(2**31))
    check_music_length(folder, request)
    music = seed_file_to_music(seed_file) if seed_file else None
    checkpoint = get_checkpoint(model if model in GENRES else str(folder))
    seed, dropped = checkpoint.seed_in_parts(music) if music is not None else (None, None)
    if seed is None:
        chosen = seed_choice in (None, "", RANDOM_SEED_CHOICE)
        seed = checkpoint.seed_steps(request.random_seed if chosen else _choice_index(seed_choice))
    outputs = None
    name = name or (model if model in GENRES else checkpoint.defaults.name)
    for item in iter_make_music(checkpoint, seed, request, work_dir, name=name):
        if isinstance(item, list):
            outputs = item
        else:
            yield item
    rolls = [steps_to_pianoroll_png(o.steps, o.midi.with_suffix(".png"), seed_steps=o.seed_steps, parts=o.parts)
             for o in outputs]
    archive = None
    if len(outputs) > 1:
        archive = work_dir / f"{name}-{request.random_seed}-all.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:  # WAV barely compresses: store it
            for output in outputs:
                for path in (output.midi, output.wav):
                    bundle.write(path, path.name)
    from ..model.backend import device_description

    figures = {"steps": [len(o.piece.steps) for o in outputs], "music_seconds": [o.music_seconds for o in outputs],
               "sampling_s": outputs[0].timings["sampling_s"], "total_s": time.perf_counter() - started,
               "device": device_description(), "seed_note": dropped}
    yield Result(outputs, rolls, archive, request.random_seed, figures)
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
            if path.is_file() and layout.TRAINING_FOLDER not in path.parts:
                bundle.write(path, Path(folder.name) / path.relative_to(folder))
    return archive
