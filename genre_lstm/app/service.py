"""What the web app asks of the library, in plain Python: the genre list, seed choices, one
generation request from raw form values to files, and the live figures of the Compare tab.

Kept free of Gradio so it is tested like the rest of the library; app.py only lays out
components and forwards their values here.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
import zipfile
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InvalidParameterError
from ..model.generate import Progress
from ..music.instruments import GM_PROGRAMS
from ..music.stream import GrowingFile
from ..pipeline import (
    Encoded,
    Listening,
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
    complete: bool = False  # every stream encoded (a first Result comes as soon as the files are written)


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


def default_setting(folder: Path | None, name: str) -> float:
    """A sampling setting a checkpoint plays by default (``temperature``, ``key_bias``, ...): its
    generation.json's, else (or without a checkpoint) the house default of ``GenerationDefaults``."""
    from ..store.checkpoint import GenerationDefaults

    fallback = float(getattr(GenerationDefaults(), name))
    value = layout.read_defaults(folder).get(name, fallback) if folder else fallback
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else fallback


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
        open_stream: Callable[[], GrowingFile] | None = None, wav: bool = True,
        ) -> Iterator[Listening | Progress | Rendering | Result]:
    """Generate from a genre id or a checkpoint folder; write MIDI, WAV (unless ``wav`` is off),
    piano rolls (and a zip for several variations); progress on the way. Every limit is checked
    before the work starts. With ``open_stream`` (a ``listen.StreamStore``'s ``open``), each
    variation's audio is also encoded to an Ogg stream as it is rendered, announced first by a
    ``Listening``; then the ``Result`` comes as soon as the files are written, and again, complete,
    once the streams are encoded. An uploaded seed's parts are mapped onto the checkpoint's by role."""
    from ..music.midi_io import seed_file_to_music
    from ..store.hub import get_checkpoint

    started = time.perf_counter()
    folder = model_folder(model)
    if new_seed:
        request = replace(request, random_seed=secrets.randbelow(2**31))
    check_music_length(folder, request)
    music = seed_file_to_music(seed_file) if seed_file else None
    checkpoint = get_checkpoint(model if model in GENRES else str(folder))
    seed, seed_note = _seed_of(checkpoint, music, seed_file)
    if seed is None:
        chosen = seed_choice in (None, "", RANDOM_SEED_CHOICE)
        seed = checkpoint.seed_steps(request.random_seed if chosen else _choice_index(seed_choice))
    name = name or (model if model in GENRES else checkpoint.defaults.name)
    result = None
    with closing(iter_make_music(checkpoint, seed, request, work_dir, name=name, open_stream=open_stream,
                                 wav=wav)) as making:
        for item in making:  # closed at once when the caller stops early, so its renderers stop too
            if isinstance(item, list):
                result = _result(item, request.random_seed, started, seed_note)
                yield result if open_stream else _with_archive(result, work_dir, name)
            elif isinstance(item, Encoded):
                yield _with_archive(result, work_dir, name)
            else:
                yield item
    release_freed_memory()


def _seed_of(checkpoint, music, seed_file: str | None) -> tuple[list | None, str | None]:
    """An uploaded seed in the checkpoint's parts (None without one), and what its reading left
    out, in words: the parts a model with parts has no place for, or, for a model of one line,
    the parts merged and the drums dropped."""
    from ..music.midi_io import midi_file_flattening

    if music is None:
        return None, None
    seed, dropped = checkpoint.seed_in_parts(music)
    if checkpoint.config.has_parts:
        return seed, dropped
    flattened = midi_file_flattening(seed_file)
    return seed, f"your seed was read as one part: {flattened}" if flattened else None


def _result(outputs: list[Output], random_seed: int, started: float, seed_note: str | None) -> Result:
    """The written variations with their piano rolls and figures (no zip yet: the streams may
    still be encoding)."""
    from ..model.backend import device_description
    from ..music.pianoroll import steps_to_pianoroll_png

    rolls = [steps_to_pianoroll_png(o.steps, o.midi.with_suffix(".png"), seed_steps=o.seed_steps, parts=o.parts)
             for o in outputs]
    figures = {"steps": [len(o.piece.steps) for o in outputs], "music_seconds": [o.music_seconds for o in outputs],
               "sampling_s": outputs[0].timings["sampling_s"], "total_s": time.perf_counter() - started,
               "device": device_description(), "seed_note": seed_note}
    return Result(outputs, rolls, None, random_seed, figures)


def _with_archive(result: Result, work_dir: Path, name: str) -> Result:
    """The result, complete: every file is written and every stream encoded, and several
    variations come in one zip too."""
    archive = None
    if len(result.outputs) > 1:
        archive = work_dir / f"{name}-{result.random_seed}-all.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:  # audio barely compresses: store it
            for output in result.outputs:
                for path in (output.midi, output.wav, output.ogg):
                    if path is not None:
                        bundle.write(path, f"{output.midi.stem}{path.suffix}")
    return replace(result, archive=archive, complete=True)


def midi_files_of(paths: list[str] | None) -> list[Path]:
    """The MIDI files among a result's downloads, in order."""
    return [Path(p) for p in paths or [] if str(p).lower().endswith((".mid", ".midi"))]


def midi_files_to_wavs(paths: list[str], out_dir: Path) -> list[Path]:
    """The WAV of each MIDI file among ``paths``, rendered now into ``out_dir``: the app keeps only
    the MIDI and the Ogg stream of a result, and makes its WAVs when they are asked for."""
    from ..music.render import midi_to_wav

    midis = midi_files_of(paths)
    if not midis:
        raise InvalidParameterError("no MIDI file to render: generate something first")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [midi_to_wav(midi, out_dir / f"{midi.stem}.wav") for midi in midis]


@dataclass(eq=False)
class RunningRequest:
    """One request being generated: its work (a generator) and its folder."""

    session: str
    work: Iterator
    folder: Path


class RunningRequests:
    """The requests being generated, by session, so that Cancel or a closed tab stops the work and
    deletes its files from another thread: a cancelled Gradio generator is only left suspended."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: set[RunningRequest] = set()

    def add(self, session: str, work: Iterator, folder: Path) -> RunningRequest:
        entry = RunningRequest(session, work, folder)
        with self._lock:
            self._running.add(entry)
        return entry

    def finish(self, entry: RunningRequest) -> None:
        """Stop the work (its renderers with it) and delete its folder; safe to call twice."""
        with self._lock:
            self._running.discard(entry)
        close_generator(entry.work)
        shutil.rmtree(entry.folder, ignore_errors=True)

    def stop_session(self, session: str) -> int:
        """Finish every request of a session; how many were running."""
        with self._lock:
            mine = [entry for entry in self._running if entry.session == session]
        for entry in mine:
            self.finish(entry)
        return len(mine)


def close_generator(generator, timeout_s: float = 30.0) -> None:
    """Close a generator that another thread may be running: wait for it to reach its next yield
    (a sampling step is milliseconds, the final rendering of a piece a few seconds)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            generator.close()
            return
        except ValueError:  # "generator already executing"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


STALE_AFTER_S = 3 * 3600  # a request or training folder left this long is a crashed server's


def sweep_stale_work(root: Path | None = None, max_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete request and training folders that a crashed or killed server left behind (a live
    server removes its own when a request ends or a session closes). The folders removed."""
    import tempfile

    root = Path(root or tempfile.gettempdir())
    now = time.time()
    removed = []
    for folder in [*root.glob("genre-lstm-request-*"), *root.glob("genre-lstm-jobs-*")]:
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > max_age_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:
            continue
    return removed


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
    """Run inference on one thread, so the other core renders the audio: TensorFlow's operations
    (unless the environment says otherwise; set before it starts) and the BLAS under NumPy's step.
    A sampling step is a few matrix-vector products, as fast on one core; a second BLAS thread
    only competes with the renderers (benchmarks/bench_app_engines.py)."""
    import os

    from threadpoolctl import threadpool_limits

    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    threadpool_limits(1, user_api="blas")


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
