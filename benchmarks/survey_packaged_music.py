"""What the Debian-packaged MIDI collections hold, per collection: pieces, minutes, notes, tracks,
drum tracks and the General MIDI programs played (for planning multi-part genres such as rock-metal).

    .venv/bin/python benchmarks/survey_packaged_music.py [--json out.json]

Reads the installed packages (bash scripts/setup.sh --music): Freedoom's WAD music lumps, OpenMSX's
and Planet Blupi's .mid files. A "track" is a MIDI track with at least one note; a "drum track" one
with notes on channel 10; a "part" one (channel, program) pair that plays notes. Minutes follow
each file's tempo map (mido's ``MidiFile.length``).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mido  # noqa: E402

from genre_lstm.music.instruments import GM_PROGRAMS  # noqa: E402
from genre_lstm.music.midi_io import DRUM_CHANNEL  # noqa: E402
from genre_lstm.music.wad_io import wad_file_to_lumps  # noqa: E402
from genre_lstm.training.corpus import PACKAGED  # noqa: E402

GM_FAMILIES = ("piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass",
               "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic", "percussive",
               "sound effects")
DISTORTED = (29, 30)  # Overdriven Guitar, Distortion Guitar


def collection_midi(name: str) -> list[tuple[str, bytes]]:
    """(piece name, MIDI bytes) of every piece of a packaged collection; identical songs once."""
    found, seen = [], set()
    for path in PACKAGED[name].paths():
        songs = wad_file_to_lumps(path) if path.suffix.lower() == ".wad" else [(path.name, path.read_bytes())]
        for song, data in songs:
            if data not in seen and data[:4] == b"MThd":
                seen.add(data)
                found.append((f"{path.name}#{song}" if path.suffix.lower() == ".wad" else song, data))
    return found


def midi_survey(data: bytes) -> dict:
    """One MIDI file's seconds, notes, tracks with notes, drum tracks, and notes per (channel, program)."""
    midi = mido.MidiFile(file=io.BytesIO(data), clip=True)
    tracks = drum_tracks = notes = 0
    parts: Counter = Counter()
    for track in midi.tracks:
        program = {}
        channels = Counter()
        for message in track:
            if message.type == "program_change":
                program[message.channel] = message.program
            elif message.type == "note_on" and message.velocity > 0:
                channels[message.channel] += 1
                parts[(message.channel, "drums" if message.channel == DRUM_CHANNEL
                       else program.get(message.channel, 0))] += 1
        if channels:
            tracks += 1
            drum_tracks += DRUM_CHANNEL in channels
            notes += sum(channels.values())
    return {"seconds": midi.length, "notes": notes, "tracks": tracks, "drum_tracks": drum_tracks, "parts": parts,
            "type": midi.type}


def collection_survey(name: str) -> dict:
    """The collection's totals and the programs (and families) its pieces play, with how many pieces play each."""
    pieces = [midi_survey(data) for _, data in collection_midi(name)]
    programs: Counter = Counter()
    families: Counter = Counter()
    for piece in pieces:
        played = {program for _, program in piece["parts"] if program != "drums"}
        programs.update(played)
        families.update({GM_FAMILIES[p // 8] for p in played})
    return {
        "collection": name, "package": PACKAGED[name].package, "pieces": len(pieces),
        "minutes": round(sum(p["seconds"] for p in pieces) / 60, 1),
        "notes": sum(p["notes"] for p in pieces), "drum_notes": sum(n for (c, _), n in
                                                                   ((k, v) for p in pieces for k, v in p["parts"].items())
                                                                   if c == DRUM_CHANNEL),
        "midi_types": dict(Counter(p["type"] for p in pieces)),
        "tracks_with_notes": sum(p["tracks"] for p in pieces),
        "tracks_per_piece": f"{min(p['tracks'] for p in pieces)}-{max(p['tracks'] for p in pieces)}",
        "pieces_with_drums": sum(1 for p in pieces if any(c == DRUM_CHANNEL for c, _ in p["parts"])),
        "drum_tracks": sum(p["drum_tracks"] for p in pieces),
        "parts_per_piece": f"{min(len(p['parts']) for p in pieces)}-{max(len(p['parts']) for p in pieces)}",
        "pieces_with_distorted_guitar": sum(1 for p in pieces if any(prog in DISTORTED for _, prog in p["parts"])),
        "pieces_with_bass": sum(1 for p in pieces if any(isinstance(prog, int) and 32 <= prog < 40
                                                         for _, prog in p["parts"])),
        "families": dict(families.most_common()),
        "programs": {f"{p} {GM_PROGRAMS[p]}": n for p, n in programs.most_common()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the survey here")
    args = parser.parse_args()
    surveys = [collection_survey(name) for name in PACKAGED]
    for survey in surveys:
        print(json.dumps(survey, indent=1))
    if args.json:
        args.json.write_text(json.dumps(surveys, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
