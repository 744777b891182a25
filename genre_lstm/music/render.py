"""MIDI -> 44.1 kHz stereo WAV with FluidSynth and a General MIDI soundfont, in-process.

pyfluidsynth in-process rendered a 500-note piece in 0.40 s against 0.88 s for the fluidsynth
program (benchmarks/bench_render.py), so synths live in the process, in a lock-guarded pool: each
render borrows one, so concurrent requests never share a synth, and the soundfont loads once per
synth. Hostile files are refused before any audio is made (a length limit in seconds).
Generated steps are rendered while they are sampled (``StepsRenderer``), and what is left after
sampling is rendered as two halves on two synths at once. Every rendered frame goes through one
``stream.PieceAudio``, which levels it once and, for the app, encodes it to Ogg Vorbis as it comes.
"""

from __future__ import annotations

import bisect
import os
import threading
import wave
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np

from ..environment import SOUNDFONT
from ..errors import RenderError
from .events import Part, Step
from .midi_io import midi_file_events, steps_to_events
from .stream import GrowingFile, PieceAudio

SAMPLE_RATE = 44100
MAX_SECONDS = 15 * 60  # a 1 BPM tempo would otherwise ask for hours of audio
RELEASE_TAIL_S = 1.5  # kept after the last note ends, then faded out
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",  # Debian: timgm6mb-soundfont (small, fast)
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian: fluid-soundfont-gm
    "/usr/share/sounds/sf3/MuseScore_General.sf3",  # Debian: musescore-general-soundfont-small
    "/usr/share/soundfonts/default.sf2",
)


def find_soundfont() -> Path:
    """$GENRE_LSTM_SOUNDFONT, else the first General MIDI soundfont at Debian's standard paths."""
    chosen = SOUNDFONT.get()
    if chosen:
        if not Path(chosen).is_file():
            raise RenderError(f"{SOUNDFONT.name}={chosen}: no such soundfont file")
        return Path(chosen)
    for candidate in SOUNDFONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise RenderError(
        "no General MIDI soundfont found: install the Debian package timgm6mb-soundfont "
        f"(sudo apt-get install --no-install-recommends timgm6mb-soundfont) or set {SOUNDFONT.name}"
    )


def check_synth_available() -> None:
    """Fail early, with the package to install, when FluidSynth's library is missing."""
    _fluidsynth_module()


class SynthPool:
    """Idle synths per soundfont; ``player`` hands one to a single render at a time.

    FluidSynth renders whole blocks of ``SYNTH_BLOCK`` frames and starts a note at the next block
    boundary, so a synth goes back to the pool only on a boundary: every render then starts on one,
    two renders of a file sound the same (only the reverb's running state differs), and two synths
    can play halves of a piece that meet without a dip.
    """

    def __init__(self) -> None:
        self._idle: dict[str, list] = {}
        self._lock = threading.Lock()

    @contextmanager
    def player(self, soundfont: Path, cancelled: threading.Event | None = None):
        """A ``_Player`` on an idle synth of ``soundfont`` (a new one when none is idle)."""
        key = str(soundfont)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            synth = idle.pop() if idle else None
        if synth is None:
            synth = _new_synth(soundfont)
        player = _Player(synth, cancelled)
        try:
            yield player
        finally:
            player.end_block()
            synth.system_reset()
            with self._lock:
                self._idle[key].append(synth)


POOL = SynthPool()


def midi_to_wav(midi_path: str | os.PathLike, wav_path: str | os.PathLike, *,
                soundfont: str | os.PathLike | None = None, max_seconds: float = MAX_SECONDS) -> Path:
    """Render a MIDI file (tempo changes, programs, controllers, drums) to a 16-bit stereo WAV."""
    midi_path, wav_path = Path(midi_path), Path(wav_path)
    events = midi_file_events(midi_path)
    _check_length(events, max_seconds, midi_path.name)
    font = Path(soundfont) if soundfont else find_soundfont()
    with POOL.player(font) as player:
        player.play(events, len(events))
        samples = player.finish(_end_seconds(events) + RELEASE_TAIL_S)
    audio = PieceAudio(SAMPLE_RATE)
    audio.end_at(len(samples))
    audio.feed(samples)
    write_wav(wav_path, audio.finish())
    return wav_path


class StepsRenderer:
    """Renders steps while they are still being sampled, in a thread of its own.

    A later step never starts before the latest one, so every event before the latest onset is
    final: each ``update`` lets the worker play the synth up to there, and ``finish`` only renders
    what is left. The events are those of the MIDI file the same steps make, so the WAV sounds as
    ``midi_to_wav`` of that file does. Final audio goes to ``self.audio`` as soon as it is rendered,
    so with a ``stream`` file its opening is encoded (and can be heard) while sampling goes on.
    """

    def __init__(self, *, tempo_bpm: float, program: int = 0, parts: Sequence[Part] | None = None,
                 soundfont: str | os.PathLike | None = None, max_seconds: float = MAX_SECONDS,
                 stream: GrowingFile | None = None, keep: bool = True) -> None:
        self.tempo_bpm, self.program, self.max_seconds = tempo_bpm, program, max_seconds
        self.parts = tuple(parts) if parts else None
        self.audio = PieceAudio(SAMPLE_RATE, stream, keep=keep)
        self._font = Path(soundfont) if soundfont else find_soundfont()
        self._latest: list[Step] | None = None
        self._final = False
        self._closed = threading.Event()
        self._error: BaseException | None = None
        self._fed = 0  # frames handed to self.audio
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="steps-renderer", daemon=True)
        self._thread.start()

    def update(self, steps: list[Step]) -> None:
        """The steps made so far (a copy is taken); returns at once."""
        with self._wake:
            self._latest = list(steps)
            self._wake.notify()

    def complete(self, steps: list[Step]) -> None:
        """The final steps: rendering to the end starts at once (``finish`` waits for it)."""
        with self._wake:
            self._latest, self._final = list(steps), True
            self._wake.notify()

    def finish(self, steps: list[Step], wav_path: str | os.PathLike | None) -> Path | None:
        """Render the final steps to the end and write the WAV (none without ``wav_path``: the
        stream alone is kept, and a WAV can be made from the MIDI file when it is asked for)."""
        if self._closed.is_set():
            raise RenderCancelled("rendering was stopped")
        if not self._final:
            self.complete(steps)
        self._thread.join()
        if self._error is not None:
            raise self._error
        audio = self.audio.finish()
        return write_wav(wav_path, audio) if wav_path is not None else None

    def wait_encoded(self, timeout: float | None = None) -> None:
        """After ``finish``: wait until the stream file is complete."""
        self.audio.wait_encoded(timeout)

    def close(self) -> None:
        """Abandon the rendering (generation was stopped, or it is done); the synths go back to the
        pool, and a stream not yet complete is stopped."""
        with self._wake:
            self._closed.set()
            self._wake.notify()
        self._thread.join()
        self.audio.abort()

    def _feed(self, chunks: list[np.ndarray]) -> None:
        """Audio the synth has rendered up to the latest onset is final: hand it on now."""
        for chunk in chunks:
            frames = chunk.reshape(-1, 2)
            self.audio.feed(frames)
            self._fed += len(frames)

    def _next_job(self) -> tuple[list[Step] | None, bool]:
        with self._wake:
            while self._latest is None and not self._closed.is_set():
                self._wake.wait()
            steps, self._latest = self._latest, None
            return (None if self._closed.is_set() else steps), self._final

    def _work(self) -> None:
        try:
            with POOL.player(self._font, self._closed) as player:
                while True:
                    steps, final = self._next_job()
                    if steps is None:
                        return
                    events = steps_to_events(steps, tempo_bpm=self.tempo_bpm, program=self.program, parts=self.parts)
                    if final:
                        _check_length(events, self.max_seconds, "the generated piece")
                        longest = max((s.duration for s in steps), default=0.0) * 60.0 / self.tempo_bpm
                        total = _end_seconds(events) + RELEASE_TAIL_S
                        self.audio.end_at(int(round(total * SAMPLE_RATE)))
                        self.audio.feed(_finish_in_two(player, events, total, self._font, longest)[self._fed:])
                        return
                    latest_onset = next((at for at, kind, *_ in reversed(events) if kind == "note_on"), 0.0)
                    if latest_onset <= self.max_seconds:
                        chunks = len(player.chunks)
                        player.play(events, bisect.bisect_left([at for at, *_ in events], latest_onset))
                        self._feed(player.chunks[chunks:])
        except RenderCancelled:
            return
        except BaseException as error:  # handed to the caller of finish()
            self._error = error


class RenderCancelled(RenderError):
    """A streaming render was closed before it finished."""


class _Player:
    """Plays time-ordered synth events into audio, a prefix at a time."""

    def __init__(self, synth, cancelled: threading.Event | None = None) -> None:
        self.synth = synth
        self.cancelled = cancelled or threading.Event()  # set: stop between events, raise RenderCancelled
        self.chunks: list[np.ndarray] = []
        self.made = 0  # the frame the piece has been rendered up to
        self.rendered = 0  # frames this player took from the synth
        self.played = 0  # events sent

    def play(self, events, until: int) -> None:
        """Send events[played:until], rendering the audio between them (not past the last one)."""
        synth = self.synth
        for at, kind, channel, a, b in events[self.played:until]:
            if self.cancelled.is_set():
                raise RenderCancelled("rendering was stopped")
            self._render_to(int(round(at * SAMPLE_RATE)))
            if kind == "note_on":
                synth.noteon(channel, a, b)
            elif kind == "note_off":
                synth.noteoff(channel, a)
            elif kind == "program_change":
                synth.program_change(channel, a)
            elif kind == "control_change":
                synth.cc(channel, a, b)
            elif kind == "pitchwheel":
                synth.pitch_bend(channel, a)
        self.played = max(self.played, until)

    def finish(self, total_seconds: float) -> np.ndarray:
        """Render up to ``total_seconds``; the (frames, 2) int16 audio."""
        self._render_to(int(round(total_seconds * SAMPLE_RATE)))
        stereo = np.concatenate(self.chunks) if self.chunks else np.zeros(2, np.int16)
        return stereo.reshape(-1, 2)

    def end_block(self) -> None:
        """Render (and drop) what is left of the synth's current block, leaving it on a boundary."""
        rest = -self.rendered % SYNTH_BLOCK
        if rest:
            self.synth.get_samples(rest)
            self.rendered += rest

    def _render_to(self, frame: int) -> None:
        if frame > self.made:
            self.chunks.append(self.synth.get_samples(frame - self.made))
            self.rendered += frame - self.made
            self.made = frame


SPLIT_MIN_SECONDS = 30.0  # less audio than this left: one synth finishes alone
PREROLL_S = 2.0  # besides the longest note: the reverb tail of notes before a second synth starts
CROSSFADE_S = 0.05
SYNTH_BLOCK = 64  # frames FluidSynth renders at a time (FLUID_BUFSIZE)


def _finish_in_two(player: "_Player", events, total_seconds: float, font: Path, longest_note_s: float) -> np.ndarray:
    """Render what is left of a piece on ``player``'s synth and a second synth at once, each half on
    its own core: the second starts early enough (the longest note and a reverb tail) to sound the
    same at the middle, where the halves are cross-faded. Short remainders finish on one synth."""
    end = int(round(total_seconds * SAMPLE_RATE))
    if (end - player.made) / SAMPLE_RATE < SPLIT_MIN_SECONDS:
        player.play(events, len(events))
        return player.finish(total_seconds)
    fade = int(CROSSFADE_S * SAMPLE_RATE)
    middle = (player.made + end) // 2
    start = middle - fade - int((PREROLL_S + longest_note_s) * SAMPLE_RATE)
    start -= start % SYNTH_BLOCK  # the second synth's blocks line up with the first's: its notes start together
    if start < player.made:  # notes already sent to the first synth would be missing from the second
        player.play(events, len(events))
        return player.finish(total_seconds)
    times = [at for at, *_ in events]
    first = bisect.bisect_left(times, start / SAMPLE_RATE)
    second_half: dict = {}

    def render_second_half() -> None:
        try:
            with POOL.player(font, player.cancelled) as helper:
                helper.made = start  # its audio begins at ``start``
                setup = [(start / SAMPLE_RATE, *e[1:]) for e in events[:first]
                         if e[1] not in ("note_on", "note_off")]  # programs and controllers so far
                rest = setup + events[first:]
                helper.play(rest, len(rest))
                second_half["audio"] = helper.finish(total_seconds)
        except BaseException as error:  # re-raised in the rendering thread
            second_half["error"] = error

    worker = threading.Thread(target=render_second_half, name="steps-renderer-half", daemon=True)
    worker.start()
    try:
        player.play(events, bisect.bisect_left(times, (middle + fade) / SAMPLE_RATE))
        head = player.finish((middle + fade) / SAMPLE_RATE)
    finally:
        worker.join()
    if "error" in second_half:
        raise second_half["error"]
    tail = second_half["audio"][middle - fade - start:]
    ramp = np.linspace(0.0, 1.0, 2 * fade, dtype=np.float32)[:, None]
    overlap = min(2 * fade, len(head) - (middle - fade), len(tail))
    blended = (head[middle - fade:middle - fade + overlap] * (1 - ramp[:overlap])
               + tail[:overlap] * ramp[:overlap]).astype(np.int16)
    return np.concatenate([head[:middle - fade], blended, tail[overlap:]])


def _end_seconds(events) -> float:
    return events[-1][0] if events else 0.0


def _check_length(events, max_seconds: float, name: str) -> None:
    seconds = _end_seconds(events)
    if seconds > max_seconds:
        raise RenderError(f"{name} plays for {seconds / 60:.0f} minutes; the limit is {max_seconds / 60:.0f}")


def write_wav(path: str | os.PathLike, frames: np.ndarray) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(frames.shape[1])
            handle.setsampwidth(2)
            handle.setframerate(SAMPLE_RATE)
            handle.writeframes(frames.tobytes())
    except OSError as error:
        raise RenderError(f"cannot write {path}: {error}") from error
    return path


def wav_stats(path: str | os.PathLike) -> tuple[float, float]:
    """(seconds, RMS level in dBFS) of a 16-bit WAV file: for checks and the app's figures."""
    with wave.open(str(path), "rb") as handle:
        frames = handle.readframes(handle.getnframes())
        seconds = handle.getnframes() / handle.getframerate()
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    return seconds, (20 * np.log10(rms) if rms > 0 else float("-inf"))


def _fluidsynth_module():
    try:
        import fluidsynth
    except (ImportError, OSError) as error:
        raise RenderError("FluidSynth's library is missing: sudo apt-get install --no-install-recommends "
                          "fluidsynth (and pip install pyfluidsynth)") from error
    return fluidsynth


def _new_synth(soundfont: Path):
    fluidsynth = _fluidsynth_module()
    # Chorus off: it cost 15% of the render time here (benchmarks/bench_render.py) for a subtle effect.
    synth = fluidsynth.Synth(gain=0.5, samplerate=float(SAMPLE_RATE), **{"synth.chorus.active": 0})
    if synth.sfload(str(soundfont)) < 0:
        synth.delete()
        raise RenderError(f"{soundfont}: FluidSynth cannot load this soundfont")
    synth.system_reset()
    return synth
