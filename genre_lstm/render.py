"""MIDI -> 44.1 kHz stereo WAV with FluidSynth and a General MIDI soundfont.

We run the ``fluidsynth`` program (what midi2audio wraps) rather than pyfluidsynth in-process:
it rendered a 500-note piece in 1.3 s against 2.3 s in-process here, and a subprocess can be
timed out and killed. Hostile files are refused before FluidSynth sees them (length limit).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from .errors import RenderError
from .midi_io import midi_file_seconds

SAMPLE_RATE = 44100
RELEASE_TAIL_S = 1.5  # kept after the last note ends, then faded out
MAX_SECONDS = 15 * 60  # a 1 BPM tempo would otherwise ask for hours of audio
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


def find_fluidsynth() -> str:
    found = shutil.which("fluidsynth")
    if not found:
        raise RenderError("FluidSynth is not installed: sudo apt-get install --no-install-recommends fluidsynth")
    return found


def midi_to_wav(midi_path: str | os.PathLike, wav_path: str | os.PathLike, *,
                soundfont: str | os.PathLike | None = None, sample_rate: int = SAMPLE_RATE,
                gain: float = 0.5, max_seconds: float = MAX_SECONDS) -> Path:
    """Render a MIDI file to a 16-bit stereo WAV; refuses pieces longer than ``max_seconds``."""
    midi_path, wav_path = Path(midi_path), Path(wav_path)
    seconds = midi_file_seconds(midi_path)
    if seconds > max_seconds:
        raise RenderError(f"{midi_path.name} plays for {seconds / 60:.0f} minutes; the limit is {max_seconds / 60:.0f}")
    font = Path(soundfont) if soundfont else find_soundfont()
    command = [find_fluidsynth(), "-n", "-i", "-q", "-g", str(gain), "-r", str(sample_rate),
               "-o", "synth.cpu-cores=2", "-T", "wav", "-F", str(wav_path), str(font), str(midi_path)]
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60 + seconds,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        raise RenderError(f"FluidSynth timed out rendering {midi_path.name}") from error
    except OSError as error:
        raise RenderError(f"cannot run FluidSynth: {error}") from error
    if result.returncode != 0 or not wav_path.is_file() or wav_path.stat().st_size <= 44:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise RenderError(f"FluidSynth failed on {midi_path.name}: {detail[-1] if detail else 'no output'}")
    finish_wav(wav_path, seconds + RELEASE_TAIL_S)
    return wav_path


def finish_wav(path: Path, seconds: float, *, fade_s: float = 0.3, peak_dbfs: float = -1.0,
               max_gain_db: float = 20.0) -> None:
    """Cut a 16-bit WAV to ``seconds`` with a short fade-out (FluidSynth renders long reverb tails)
    and raise its peak to ``peak_dbfs`` (by at most ``max_gain_db``), so every piece plays equally loud."""
    with wave.open(str(path), "rb") as handle:
        params = handle.getparams()
        keep = min(handle.getnframes(), int(seconds * params.framerate))
        frames = np.frombuffer(handle.readframes(keep), dtype=np.int16).reshape(-1, params.nchannels)
    frames = frames.astype(np.float32)
    if keep < params.nframes:
        fade = min(len(frames), int(fade_s * params.framerate))
        frames[len(frames) - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    peak = float(np.abs(frames).max()) if frames.size else 0.0
    if peak > 0:
        frames *= min(10 ** (max_gain_db / 20), 32767 * 10 ** (peak_dbfs / 20) / peak)
    with wave.open(str(path), "wb") as handle:
        handle.setparams(params)
        handle.writeframes(np.clip(frames, -32768, 32767).astype(np.int16).tobytes())


def wav_stats(path: str | os.PathLike) -> tuple[float, float]:
    """(seconds, RMS level in dBFS) of a 16-bit WAV file: for checks and the app's figures."""
    with wave.open(str(path), "rb") as handle:
        frames = handle.readframes(handle.getnframes())
        seconds = handle.getnframes() / handle.getframerate()
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    return seconds, (20 * np.log10(rms) if rms > 0 else float("-inf"))
