"""Rendering: the fluidsynth program (what midi2audio runs) vs pyfluidsynth in-process (what
render.py does, with a pooled synth), on the same 500-note MIDI file, alternating, several repeats.

    .venv/bin/python benchmarks/bench_render.py [--notes 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from genre_lstm.music.events import Step  # noqa: E402
from genre_lstm.music.midi_io import steps_to_midi_file  # noqa: E402
from genre_lstm.music.render import SAMPLE_RATE, find_soundfont, midi_to_wav, wav_stats  # noqa: E402


def render_with_program(midi_path: Path, wav_path: Path, soundfont: Path) -> None:
    """What midi2audio does: run the fluidsynth program on the file."""
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SAMPLE_RATE), "-F", str(wav_path),
                    str(soundfont), str(midi_path)], check=True, capture_output=True, stdin=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    steps = [Step((int(p),), 1.0, float(rng.uniform(0.1, 0.9))) for p in rng.integers(55, 80, args.notes)]
    midi = steps_to_midi_file(steps, folder / "piece.mid", tempo_bpm=120)
    font = find_soundfont()
    timings = {"fluidsynth program": [], "pyfluidsynth in-process": []}
    midi_to_wav(midi, folder / "warm.wav", soundfont=font)  # the pool's synth loads its soundfont once
    for _ in range(args.repeats):
        began = time.perf_counter()
        render_with_program(midi, folder / "a.wav", font)
        timings["fluidsynth program"].append(time.perf_counter() - began)
        began = time.perf_counter()
        midi_to_wav(midi, folder / "b.wav", soundfont=font)
        timings["pyfluidsynth in-process"].append(time.perf_counter() - began)
    seconds = wav_stats(folder / "b.wav")[0]
    print(f"{args.notes} notes, {seconds:.0f} s of 44.1 kHz stereo audio, soundfont {font.name}")
    for name, values in timings.items():
        print(f"{name:24s} median {statistics.median(values):.2f} s ({seconds / statistics.median(values):.0f}x real time)")
    ratio = statistics.median(timings["fluidsynth program"]) / statistics.median(timings["pyfluidsynth in-process"])
    print(f"ratio: pyfluidsynth in-process (pooled synth, trim and normalise included) is {ratio:.2f}x faster")
    compare_synth_settings(args.notes, args.repeats, font, folder)


SETTINGS = {"1 core, reverb on (shipped)": {}, "synth.cpu-cores = 2": {"synth.cpu-cores": 2},
            "1 core, reverb off": {"synth.reverb.active": 0}}


def compare_synth_settings(notes: int, repeats: int, font: Path, folder: Path) -> None:
    """FluidSynth's multi-core option and the cost of reverb, on a melody and on 4-note chords,
    each variant a synth of its own, alternated."""
    import fluidsynth

    from genre_lstm.music.midi_io import midi_file_events
    from genre_lstm.music.render import _Player

    rng = np.random.default_rng(0)
    pieces = {
        "melody": [Step((int(p),), 1.0, float(rng.uniform(0.1, 0.9))) for p in rng.integers(55, 80, notes)],
        "4-note chords": [Step((int(p) - 12, int(p), int(p) + 4, int(p) + 7), 1.0, float(rng.uniform(0.1, 0.9)))
                          for p in rng.integers(55, 80, notes)],
    }
    synths = {}
    for name, extra in SETTINGS.items():
        synth = fluidsynth.Synth(gain=0.5, samplerate=float(SAMPLE_RATE), **{"synth.chorus.active": 0, **extra})
        synth.sfload(str(font))
        synths[name] = synth
    print(f"synth settings, {notes} steps each (medians of {repeats}):")
    for label, steps in pieces.items():
        events = midi_file_events(steps_to_midi_file(steps, folder / f"{label[:6]}.mid", tempo_bpm=120))
        timings = {name: [] for name in synths}
        for _ in range(repeats):
            for name, synth in synths.items():
                synth.system_reset()
                began = time.perf_counter()
                player = _Player(synth)
                player.play(events, len(events))
                player.finish(events[-1][0] + 1.5)
                timings[name].append(time.perf_counter() - began)
        print(f"  {label:14s} " + ", ".join(f"{name}: {statistics.median(v):.3f} s" for name, v in timings.items()))


if __name__ == "__main__":
    main()
