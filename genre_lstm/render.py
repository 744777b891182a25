"""MIDI -> 44.1 kHz stereo WAV with FluidSynth and a General MIDI soundfont, in-process.

pyfluidsynth in-process rendered a 500-note piece in 0.40 s against 0.88 s for the fluidsynth
program (benchmarks/bench_render.py), so synths live in the process, in a lock-guarded pool: each
render borrows one, so concurrent requests never share a synth, and the soundfont loads once per
synth. Hostile files are refused before any audio is made (a length limit in seconds).
"""

from __future__ import annotations

import os
import threading
import wave
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import RenderError
from .midi_io import midi_file_events

SAMPLE_RATE = 44100
MAX_SECONDS = 15 * 60  # a 1 BPM tempo would otherwise ask for hours of audio
RELEASE_TAIL_S = 1.5  # kept after the last note ends, then faded out
SOUNDFONT_ENV = "GENRE_LSTM_SOUNDFONT"
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",  # Debian: timgm6mb-soundfont (small, fast)
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian: fluid-soundfont-gm
    "/usr/share/sounds/sf3/MuseScore_General.sf3",  # Debian: musescore-general-soundfont-small
    "/usr/share/soundfonts/default.sf2",
)


def find_soundfont() -> Path:
    """$GENRE_LSTM_SOUNDFONT, else the first General MIDI soundfont at Debian's standard paths."""
    chosen = os.environ.get(SOUNDFONT_ENV)
    if chosen:
        if not Path(chosen).is_file():
            raise RenderError(f"{SOUNDFONT_ENV}={chosen}: no such soundfont file")
        return Path(chosen)
    for candidate in SOUNDFONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise RenderError(
        "no General MIDI soundfont found: install the Debian package timgm6mb-soundfont "
        f"(sudo apt-get install --no-install-recommends timgm6mb-soundfont) or set {SOUNDFONT_ENV}"
    )


def check_synth_available() -> None:
    """Fail early, with the package to install, when FluidSynth's library is missing."""
    _fluidsynth_module()


class SynthPool:
    """Idle synths per soundfont; ``borrow`` hands one to a single render at a time."""

    def __init__(self) -> None:
        self._idle: dict[str, list] = {}
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self, soundfont: Path):
        key = str(soundfont)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            synth = idle.pop() if idle else None
        if synth is None:
            synth = _new_synth(soundfont)
        try:
            yield synth
        finally:
            synth.system_reset()
            with self._lock:
                self._idle[key].append(synth)


POOL = SynthPool()


def midi_to_wav(midi_path: str | os.PathLike, wav_path: str | os.PathLike, *,
                soundfont: str | os.PathLike | None = None, max_seconds: float = MAX_SECONDS) -> Path:
    """Render a MIDI file (tempo changes, programs, controllers, drums) to a 16-bit stereo WAV."""
    midi_path, wav_path = Path(midi_path), Path(wav_path)
    events = midi_file_events(midi_path)
    seconds = events[-1][0] if events else 0.0
    if seconds > max_seconds:
        raise RenderError(f"{midi_path.name} plays for {seconds / 60:.0f} minutes; the limit is {max_seconds / 60:.0f}")
    font = Path(soundfont) if soundfont else find_soundfont()
    with POOL.borrow(font) as synth:
        samples = _play(synth, events, seconds + RELEASE_TAIL_S)
    write_wav(wav_path, finish_samples(samples))
    return wav_path


def _play(synth, events, total_seconds: float) -> np.ndarray:
    chunks, made = [], 0
    for at, kind, channel, a, b in events:
        due = int(round(at * SAMPLE_RATE))
        if due > made:
            chunks.append(synth.get_samples(due - made))
            made = due
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
    end = int(round(total_seconds * SAMPLE_RATE))
    if end > made:
        chunks.append(synth.get_samples(end - made))
    stereo = np.concatenate(chunks) if chunks else np.zeros(2, np.int16)
    return stereo.reshape(-1, 2)


def finish_samples(frames: np.ndarray, *, fade_s: float = 0.3, peak_dbfs: float = -1.0,
                   max_gain_db: float = 20.0) -> np.ndarray:
    """Fade out the release tail and raise the peak to ``peak_dbfs`` (by at most ``max_gain_db``),
    so every piece plays equally loud."""
    peak = max(int(frames.max(initial=0)), -int(frames.min(initial=0)))
    gain = min(10 ** (max_gain_db / 20), 32767 * 10 ** (peak_dbfs / 20) / peak) if peak else 1.0
    fade = min(len(frames), int(fade_s * SAMPLE_RATE))
    envelope = np.full(len(frames), gain, np.float32)
    envelope[len(frames) - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    out = frames * envelope[:, None]  # one float32 pass; the peak is at most peak_dbfs, so no clipping
    return out.astype(np.int16)


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
