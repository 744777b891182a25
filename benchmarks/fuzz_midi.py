"""Fuzz the MIDI reader the app uses (midi_io.music_file_to_steps) with mutated real MIDI files.

    .venv/bin/python benchmarks/fuzz_midi.py [--files 2000] [--seed 0]

Seeds: MIDI files written by music21 (a Bach chorale, a Palestrina movement) and by mido (multi-track
with drums and tempo changes). Mutations: bit flips and byte overwrites inside the track data,
truncations, and changed MThd/MTrk chunk lengths. Each file is read under a 5-second alarm; the
report counts files per outcome (parsed, or each of our error classes), uncaught exceptions (by
type, with the first example saved to --keep), hangs, and the peak resident memory.
"""

from __future__ import annotations

import argparse
import collections
import random
import resource
import signal
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_lstm.errors import GenreLSTMError  # noqa: E402
from genre_lstm.music.midi_io import music_file_to_steps  # noqa: E402


class Hang(Exception):
    pass


def seed_files(folder: Path) -> list[bytes]:
    import mido
    from music21 import corpus, stream

    seeds = []
    for name in ("bach/bwv66.6.mxl", "palestrina/Agnus_01.krn"):
        score = corpus.parse(name, forceSource=True)
        if isinstance(score, stream.Opus):
            score = corpus.parse(name, forceSource=True, number=1)
        path = folder / (Path(name).stem + ".mid")
        score.write("midi", fp=str(path))
        seeds.append(path.read_bytes())
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    tempo = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000), mido.MetaMessage("set_tempo", tempo=400000, time=960)])
    melody = mido.MidiTrack()
    for i in range(64):
        melody += [mido.Message("note_on", note=60 + i % 12, velocity=80, time=0),
                   mido.Message("note_off", note=60 + i % 12, time=120)]
    drums = mido.MidiTrack([m for _ in range(32) for m in (mido.Message("note_on", channel=9, note=36, velocity=99),
                                                              mido.Message("note_off", channel=9, note=36, time=240))])
    midi.tracks += [tempo, melody, drums]
    path = folder / "mido.mid"
    midi.save(str(path))
    seeds.append(path.read_bytes())
    return seeds


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    buffer = bytearray(data)
    track_start = data.find(b"MTrk") + 8 if b"MTrk" in data else 14
    kind = rng.choice(["flip", "overwrite", "truncate", "chunk-length", "header-length", "duplicate"])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(track_start, len(buffer))
            buffer[i] ^= 1 << rng.randrange(8)
    elif kind == "overwrite":
        i = rng.randrange(track_start, len(buffer))
        for j in range(i, min(len(buffer), i + rng.randint(1, 16))):
            buffer[j] = rng.choice([0x00, 0x7F, 0x80, 0xFF, 0x90, 0xFF, 0x2F, 0x51, rng.randrange(256)])
    elif kind == "truncate":
        buffer = buffer[: rng.randrange(track_start, len(buffer))]
    elif kind == "chunk-length":
        positions = [i for i in range(len(data)) if data.startswith(b"MTrk", i)]
        i = rng.choice(positions) + 4
        buffer[i:i + 4] = struct.pack(">I", rng.choice([0, 1, 7, 2**31 - 1, 2**32 - 1, rng.randrange(2**20)]))
    elif kind == "header-length":
        buffer[4:8] = struct.pack(">I", rng.choice([0, 5, 7, 100, 2**32 - 1]))
    else:
        i = rng.randrange(track_start, len(buffer))
        buffer[i:i] = buffer[i:i + rng.randint(1, 64)] * rng.randint(2, 50)
    return bytes(buffer), kind


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=Path("fuzz-findings"), help="where crashing inputs are saved")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    seeds = seed_files(folder)
    outcomes, uncaught, kinds = collections.Counter(), collections.Counter(), collections.Counter()
    slowest, hangs = 0.0, 0
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Hang()))
    began = time.perf_counter()
    for index in range(args.files):
        data, kind = mutate(rng.choice(seeds), rng)
        kinds[kind] += 1
        path = folder / f"case{index}.mid"
        path.write_bytes(data)
        started = time.perf_counter()
        signal.alarm(5)
        try:
            music_file_to_steps(path)
            outcomes["parsed"] += 1
        except GenreLSTMError as error:
            outcomes[type(error).__name__] += 1
        except Hang:
            hangs += 1
            args.keep.mkdir(exist_ok=True)
            (args.keep / f"hang-{index}.mid").write_bytes(data)
        except Exception as error:  # what the fuzzer is looking for: report, keep the input
            uncaught[type(error).__name__] += 1
            args.keep.mkdir(exist_ok=True)
            (args.keep / f"{type(error).__name__}-{index}.mid").write_bytes(data)
        finally:
            signal.alarm(0)
        slowest = max(slowest, time.perf_counter() - started)
        path.unlink()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.files} mutated MIDI files from {len(seeds)} seeds (music21 x2, mido x1) in "
          f"{time.perf_counter() - began:.1f} s; mutations: {dict(kinds)}")
    print(f"outcomes: {dict(outcomes)}")
    print(f"uncaught exceptions: {sum(uncaught.values())} {dict(uncaught)}; hangs over 5 s: {hangs}; "
          f"slowest file {slowest:.2f} s; peak resident memory {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
