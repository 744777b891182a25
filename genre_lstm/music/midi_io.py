"""Files <-> steps. The only module that touches music21 and mido.

MIDI is read with mido and quantized here (exact ticks; music21 re-quantizes MIDI on import and
turned 500 written notes into 555). ABC, MusicXML and the rest of music21's formats are parsed by
music21 with ``forceSource=True``, so its pickle cache is never read or written. Every failure of
either library leaves this module as a ``MusicReadError`` that names the file and the reason.
"""

from __future__ import annotations

import os
import struct
from collections import defaultdict, deque
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import MusicReadError, MusicTooLargeError, MusicWriteError
from .events import (
    COMMON_TIME,
    GRID,
    MAX_DURATION_UNITS,
    MAX_SHIFT_UNITS,
    Music,
    Part,
    Step,
    json_to_parts,
    meter_to_units,
    parts_to_json,
    regroup_steps,
    quarters_to_units,
    rows_to_steps,
    steps_duration_quarters,
    steps_to_part_indices,
    steps_to_positions,
    steps_to_rows,
)

MAX_FILE_BYTES = 8 * 1024 * 1024  # larger uploads are refused before parsing
MAX_NOTES = 50_000  # about 100 times a 500-step piece; checked before grouping
MAX_SCORE_BYTES = 8 * 1024 * 1024
SEED_PARSE_TIMEOUT_S = 20.0  # music21 parsing of an uploaded score runs in a child process this long at most
DRUM_CHANNEL = 9  # General MIDI channel 10, zero-based
TICKS_PER_BEAT = 480  # written files: divisible by GRID, so grid positions are exact
MAX_PARTS = 16  # parts read from one file (a MIDI file has 16 channels)
VOCAL_NAMES = ("soprano", "alto", "tenor", "bass", "cantus", "altus", "bassus", "quintus", "sextus", "voice")
CHOIR_PROGRAM = 52  # a score's voice with no instrument of its own sings as General MIDI's Choir Aahs
MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
SCORE_SUFFIXES = (".abc", ".xml", ".musicxml", ".mxl", ".krn", ".mei", ".rntxt")
ABC_TUNES_PER_PART = 50  # an ABC book is parsed in parts of this many tunes, so workers can share one file

def _mido_failures() -> tuple[type[BaseException], ...]:
    """Exceptions mido raises on malformed data (it has no common class of its own)."""
    from mido.midifiles.meta import KeySignatureError

    return (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, struct.error, KeySignatureError)


def music_file_to_music(path: str | os.PathLike, *, timeout: float | None = None) -> list[Music]:
    """Every piece in a MIDI, ABC or MusicXML file with its parts (an ABC file can hold many tunes).

    With ``timeout``, a score format is parsed in a child process that is killed after that many
    seconds (MIDI needs no guard: its size and note limits bound the work).
    """
    path = Path(path)
    _check_readable(path)
    if _looks_like_midi(path):
        return [midi_file_to_music(path)]
    if path.suffix.lower() in MIDI_SUFFIXES:
        raise MusicReadError(f"{path.name}: not a MIDI file (it has no MThd header)")
    if path.suffix.lower() not in SCORE_SUFFIXES:
        raise MusicReadError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'}; "
            f"use MIDI ({', '.join(MIDI_SUFFIXES)}), ABC or MusicXML"
        )
    return score_file_to_music(path) if timeout is None else _score_file_to_music_guarded(path, timeout)


def music_file_to_pieces(path: str | os.PathLike, *, timeout: float | None = None) -> list[list[Step]]:
    """Every piece in a music file as one line of steps (its pitched parts merged, drums dropped)."""
    pieces = [music_to_single_line(music) for music in music_file_to_music(path, timeout=timeout)]
    return [piece for piece in pieces if piece]


def seed_file_to_music(path: str | os.PathLike, *, timeout: float | None = SEED_PARSE_TIMEOUT_S) -> Music:
    """The first piece of a music file that has notes, with its parts (used for seeds, so guarded)."""
    for music in music_file_to_music(path, timeout=timeout):
        if music.steps:
            return music
    raise MusicReadError(f"{Path(path).name}: no pitched notes found")


def music_file_to_steps(path: str | os.PathLike, *, timeout: float | None = SEED_PARSE_TIMEOUT_S) -> list[Step]:
    """The first piece of a music file that has pitched notes, as one line of steps."""
    for piece in music_file_to_pieces(path, timeout=timeout):
        return piece
    raise MusicReadError(f"{Path(path).name}: no pitched notes found")


def music_to_single_line(music: Music) -> list[Step]:
    """A piece as one line: its pitched parts merged into part 0, drums dropped."""
    drums = {index for index, part in enumerate(music.parts) if part.is_drums}
    return regroup_steps(music.steps, [None if step.part in drums else 0 for step in music.steps])


def midi_file_to_steps(path: str | os.PathLike) -> list[Step]:
    """Read a MIDI file (type 0, 1 or 2) into one line of steps: pitched tracks merged, drums dropped."""
    steps = music_to_single_line(midi_file_to_music(path))
    if not steps:
        raise MusicReadError(f"{Path(path).name}: no pitched notes (empty, only drums or only meta events)")
    return steps


def midi_file_to_music(path: str | os.PathLike) -> Music:
    """Read a MIDI file (type 0, 1 or 2) with its parts: one part per track and channel that has
    notes, playing the program set on that channel before its first note; channel 10 is drums."""
    path = Path(path)
    return _midi_to_music(_open_midi(path), path.name)


def midi_bytes_to_music(data: bytes, name: str) -> Music:
    """A MIDI file held in memory (a music lump of a Doom WAD, say) with its parts, exactly as
    ``midi_file_to_music`` reads the same bytes from a file; ``name`` labels its errors."""
    import io

    import mido

    if len(data) > MAX_FILE_BYTES:
        raise MusicTooLargeError(f"{name}: {len(data) / 1e6:.1f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    if data[:4] != b"MThd":
        raise MusicReadError(f"{name}: not a MIDI file (it has no MThd header)")
    try:
        midi = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except _mido_failures() as error:
        raise MusicReadError(f"{name}: damaged MIDI file ({_short(error)})") from error
    return _midi_to_music(midi, name)


def midi_bytes_to_steps(data: bytes, name: str) -> list[Step]:
    """A MIDI file held in memory as one line of steps, exactly as ``midi_file_to_steps`` reads
    the same bytes from a file."""
    steps = music_to_single_line(midi_bytes_to_music(data, name))
    if not steps:
        raise MusicReadError(f"{name}: no pitched notes (empty, only drums or only meta events)")
    return steps


def _midi_to_music(midi, name: str) -> Music:
    """A parsed ``mido.MidiFile`` with its parts, placed in the bars of its time signatures."""
    if midi.ticks_per_beat <= 0:
        raise MusicReadError(f"{name}: invalid MIDI timing (SMPTE or zero ticks per beat)")
    notes, parts = _midi_notes(midi, name)
    if not notes:
        raise MusicReadError(f"{name}: no notes (empty, or only meta events)")
    beat = float(midi.ticks_per_beat)
    bars = [(tick / beat, meter) for tick, meter in _midi_meters(midi)]
    return Music(notes_to_steps(((start / beat, length / beat, pitch, part) for start, length, pitch, part in notes),
                                bars), parts)


def midi_file_events(path: str | os.PathLike) -> list[tuple[float, str, int, int, int]]:
    """(seconds, kind, channel, a, b) of every playable message, tempo changes applied (for synths).

    note_on/note_off: a = note, b = velocity; program_change: a = program; control_change:
    a = control, b = value; pitchwheel: a = bend (-8192..8191).
    """
    path = Path(path)
    midi = _open_midi(path)
    events, now = [], 0.0
    try:
        for message in midi:
            now += message.time
            kind = message.type
            if kind == "note_on":
                events.append((now, "note_off" if message.velocity == 0 else kind, message.channel,
                               message.note, message.velocity))
            elif kind == "note_off":
                events.append((now, kind, message.channel, message.note, 0))
            elif kind == "program_change":
                events.append((now, kind, message.channel, message.program, 0))
            elif kind == "control_change":
                events.append((now, kind, message.channel, message.control, message.value))
            elif kind == "pitchwheel":
                events.append((now, kind, message.channel, message.pitch, 0))
    except _mido_failures() as error:
        raise MusicReadError(f"{path.name}: damaged MIDI file ({_short(error)})") from error
    return events


def notes_to_steps(notes: Iterable[tuple],
                   bars: list[tuple[float, tuple[int, int]]] = ((0.0, COMMON_TIME),)) -> list[Step]:
    """(onset, length, pitch[, part]) in quarter notes -> steps on the grid; a part's notes sharing
    an onset form a chord; steps run by onset, then part (a zero gap between parts at one onset).

    ``bars``: (a bar line in quarter notes, the time signature from there on), in time order; each
    step's position is counted from the last bar line at or before it, in whole bars of its meter.
    """
    chords: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for onset, length, pitch, *part in notes:
        if not 0 <= pitch <= 127:
            continue
        key = (round(onset * GRID), part[0] if part else 0)
        units = quarters_to_units(length, lowest=1, highest=MAX_DURATION_UNITS)
        chords[key][pitch] = max(units, chords[key].get(pitch, 0))
    keys = sorted(chords)
    lines = [(round(line * GRID), meter) for line, meter in bars] or [(0, COMMON_TIME)]
    steps, current = [], 0
    for index, (at, part) in enumerate(keys):
        while current + 1 < len(lines) and lines[current + 1][0] <= at:
            current += 1
        line, meter = lines[current]
        duration = max(chords[(at, part)].values())
        gap = keys[index + 1][0] - at if index + 1 < len(keys) else duration
        shift = min(gap, MAX_SHIFT_UNITS)
        steps.append(Step(tuple(sorted(chords[(at, part)])), duration / GRID, shift / GRID,
                          (at - line) % meter_to_units(meter), meter, part))
    return steps


def steps_to_midi_file(
    steps: list[Step],
    path: str | os.PathLike,
    *,
    tempo_bpm: float = 100.0,
    program: int = 0,
    text: Mapping[str, object] | None = None,
    parts: Sequence[Part] | None = None,
) -> Path:
    """Write steps as a type-1 MIDI file: one track per part that has notes, playing its program on
    a channel of its own (drums on channel 10); the first track also holds the tempo, the steps'
    time signatures and text meta events. Without ``parts``, one track plays ``program``. The file
    starts at a bar line: a first step in mid-bar follows a pickup rest, so every bar line of a
    notation program falls on the music's own."""
    import mido

    path = Path(path)
    if not 4 <= tempo_bpm <= 1000:  # MIDI cannot store a quarter note longer than 16.7 s
        raise MusicWriteError(f"tempo {tempo_bpm} BPM is outside 4..1000")
    parts = tuple(parts) if parts else (Part("melody", program),)
    sounding = sorted({s.part for s in steps if s.part < len(parts)}) or [0]
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    end = _pickup_ticks(steps) + round(steps_duration_quarters(steps) * TICKS_PER_BEAT)
    for index in sounding:
        part, channel = parts[index], part_channels(parts)[index]
        track = mido.MidiTrack()
        timed = []
        if index == sounding[0]:
            track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
            for key, value in (text or {}).items():
                track.append(mido.MetaMessage("text", text=_latin1(f"{key}={value}"), time=0))
            timed = [(tick, 0, mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1]))
                     for tick, meter in steps_to_meter_ticks(steps)]
        if len(parts) > 1:
            track.append(mido.MetaMessage("track_name", name=_latin1(part.name), time=0))
        track.append(mido.Message("program_change", program=int(part.program) % 128, channel=channel, time=0))
        timed += [(tick, 1, mido.Message(kind, note=pitch, velocity=velocity, channel=channel))
                  for tick, kind, pitch, velocity in steps_to_note_ticks(steps, part=index if len(parts) > 1 else None)]
        now = 0
        for tick, _, message in sorted(timed, key=lambda item: (item[0], item[1])):
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
        midi.tracks.append(track)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        midi.save(str(path))
    except (OSError, ValueError) as error:
        raise MusicWriteError(f"cannot write {path}: {error}") from error
    return path


def part_channels(parts: Sequence[Part]) -> list[int]:
    """The MIDI channel of each part: drums on channel 10 (index 9), pitched parts on the others in order."""
    pitched = [channel for channel in range(16) if channel != DRUM_CHANNEL]
    channels, used = [], 0
    for part in parts:
        if part.is_drums:
            channels.append(DRUM_CHANNEL)
        else:
            channels.append(pitched[used % len(pitched)])
            used += 1
    return channels


def _pickup_ticks(steps: list[Step]) -> int:
    """The rest before the first step: its position in its bar (none when that is not known)."""
    first = steps[0].position if steps else None
    return round((first or 0) * TICKS_PER_BEAT / GRID)


def steps_to_meter_ticks(steps: list[Step]) -> list[tuple[int, tuple[int, int]]]:
    """(tick of a bar line, time signature) wherever the meter is set or changes (4/4 at the start
    when the steps carry none)."""
    changes, pickup, onset, current = [], _pickup_ticks(steps), 0, None
    for step in steps:
        meter = step.meter or (COMMON_TIME if current is None else current)
        if meter != current:
            changes.append((max(0, pickup + onset - round((step.position or 0) * TICKS_PER_BEAT / GRID)), meter))
            current = meter
        onset += round(step.shift * TICKS_PER_BEAT)
    return changes or [(0, COMMON_TIME)]


def steps_to_note_ticks(steps: list[Step], *, part: int | None = None) -> list[tuple[int, str, int, int]]:
    """(tick, 'note_on'/'note_off', pitch, velocity) of every note (of one ``part``, else of all),
    time-ordered (offs before ons at a tick); a key re-struck in its part ends the earlier note. The
    one place that decides what a step sounds like and where: the first step at its position in its
    bar, after a pickup rest."""
    starts, onset = [], _pickup_ticks(steps) / TICKS_PER_BEAT
    for step in steps:
        starts.append(round(onset * TICKS_PER_BEAT))
        onset += step.shift
    ends = [dict() for _ in steps]
    next_start: dict[tuple[int, int], int] = {}
    for index in range(len(steps) - 1, -1, -1):
        own_end = starts[index] + max(1, round(steps[index].duration * TICKS_PER_BEAT))
        for pitch in steps[index].pitches:
            key = (steps[index].part, pitch)
            ends[index][pitch] = min(own_end, next_start.get(key, own_end))
            next_start[key] = starts[index]
    timed = []  # (tick, order, kind, pitch, velocity): offs sort before ons at the same tick
    for index, step in enumerate(steps):
        if part is not None and step.part != part:
            continue
        velocity = _velocity(step, starts[index] / TICKS_PER_BEAT)
        for pitch in step.pitches:
            timed.append((starts[index], 1, "note_on", pitch, velocity))
            timed.append((ends[index][pitch], 0, "note_off", pitch, 0))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [(tick, kind, pitch, velocity) for tick, _, kind, pitch, velocity in timed]


def steps_to_events(steps: list[Step], *, tempo_bpm: float = 100.0, program: int = 0,
                    parts: Sequence[Part] | None = None) -> list[tuple[float, str, int, int, int]]:
    """What ``midi_file_events`` reads back from ``steps_to_midi_file(steps, ...)``, without the file:
    for rendering while the steps are still being made."""
    import mido

    seconds_per_tick = mido.bpm2tempo(tempo_bpm) / 1e6 / TICKS_PER_BEAT
    if not parts or len(parts) == 1:
        played = parts[0].program if parts else program
        events = [(0.0, "program_change", 0, int(played) % 128, 0)]
        return events + [(tick * seconds_per_tick, kind, 0, pitch, velocity)
                         for tick, kind, pitch, velocity in steps_to_note_ticks(steps)]
    channels = part_channels(parts)
    events = [(0.0, "program_change", channels[i], int(part.program) % 128, 0) for i, part in enumerate(parts)]
    notes = [(tick * seconds_per_tick, kind, channels[i], pitch, velocity)
             for i in range(len(parts)) for tick, kind, pitch, velocity in steps_to_note_ticks(steps, part=i)]
    return events + sorted(notes, key=lambda event: (event[0], event[1] != "note_off"))


def steps_to_muspy(steps: list[Step], folder: str | os.PathLike):
    """Steps as a ``muspy.Music``, through a MIDI file in ``folder`` read by muspy's own MIDI reader
    (muspy's music21 reader is broken with music21 10), for muspy's sanity metrics."""
    import muspy

    path = steps_to_midi_file(steps, Path(folder) / "muspy.mid", tempo_bpm=120.0)
    try:
        return muspy.read_midi(str(path))
    except Exception as error:  # muspy wraps mido and pretty_midi, which have no common error class
        raise MusicReadError(f"muspy cannot read {path.name}: {_short(error)}") from error


def midi_file_text(path: str | os.PathLike) -> dict[str, str]:
    """The key=value text meta events of a MIDI file (the generation parameters we write)."""
    midi = _open_midi(Path(path))
    found = {}
    for track in midi.tracks:
        for message in track:
            if message.type == "text" and "=" in message.text:
                key, value = message.text.split("=", 1)
                found[key] = value
    return found


def score_file_to_pieces(path: str | os.PathLike) -> list[list[Step]]:
    """Parse ABC, MusicXML or another music21 format into single lines; one per score of an opus."""
    return [music_to_single_line(music) for music in score_file_to_music(path)]


def score_file_to_music(path: str | os.PathLike) -> list[Music]:
    """Parse ABC, MusicXML or another music21 format with its parts; an opus gives one piece per score."""
    from music21 import converter, stream

    path = Path(path)
    _check_readable(path, limit=MAX_SCORE_BYTES)
    try:
        parsed = converter.parse(str(path), forceSource=True)
    except Exception as error:  # music21 raises many unrelated types on bad input
        raise MusicReadError(f"{path.name}: cannot parse as {path.suffix or 'music'} ({_short(error)})") from error
    pieces = _scores_to_music(path, list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed])
    if not pieces:
        raise MusicReadError(no_notes_message(path))
    return pieces


def no_notes_message(path: Path) -> str:
    """What a score file with no pitched notes is reported as (whole or read in parts)."""
    return f"{path.name}: no pitched notes found"


def _scores_to_music(path: Path, scores: list) -> list[Music]:
    """The non-empty pieces of parsed music21 scores, with their parts."""
    try:
        pieces = [stream_to_music(score) for score in scores]
    except Exception as error:
        raise MusicReadError(f"{path.name}: cannot read its notes ({_short(error)})") from error
    return [piece for piece in pieces if piece.steps]


def abc_book_parts(path: str | os.PathLike) -> int:
    """How many parts ``abc_book_part_to_music`` reads ``path`` in: 1 unless it is an ABC book
    whose tunes can be parsed apart with the same result as the whole file."""
    return len(_abc_book_texts(Path(path))) or 1


def abc_book_part_to_music(path: str | os.PathLike, part: int) -> list[Music]:
    """The pieces (with their parts) of one part of an ABC book (the file's header, then ``ABC_TUNES_PER_PART`` tunes).

    Concatenated in part order, the parts give ``score_file_to_music(path)``: music21 parses an
    ABC book tune by tune with the header in front of each, in order of reference number, and a
    book is only split when its reference numbers are unique and increasing. A part may hold no
    notes (an empty list); the caller decides whether the whole file had any.
    """
    from music21 import converter, stream

    path = Path(path)
    _check_readable(path, limit=MAX_SCORE_BYTES)
    texts = _abc_book_texts(path)
    if not 0 <= part < len(texts):
        raise MusicReadError(f"{path.name}: no part {part} (the file has {len(texts)} parts)")
    try:
        parsed = converter.parseData(texts[part], format="abc")
    except Exception as error:  # music21 raises many unrelated types on bad input
        raise MusicReadError(f"{path.name}: cannot parse as .abc ({_short(error)})") from error
    return _scores_to_music(path, list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed])


def _abc_book_texts(path: Path) -> list[str]:
    """An ABC file as texts of ``ABC_TUNES_PER_PART`` tunes each, behind the file's header;
    empty when the file is not an ABC book that splits safely (one part, odd reference numbers)."""
    import re

    if path.suffix.lower() != ".abc":
        return []
    try:
        text = path.read_text(encoding="utf-8")  # as music21 opens it
    except (OSError, UnicodeDecodeError):
        return []
    starts = [m.start() for m in re.finditer(r"^X:", text, flags=re.MULTILINE)]
    numbers = [re.match(r"X:\s*(\d+)\s*$", text[at:].split("\n", 1)[0]) for at in starts]
    if len(starts) <= ABC_TUNES_PER_PART or not all(numbers):
        return []
    values = [int(m.group(1)) for m in numbers]
    if any(b <= a for a, b in zip(values, values[1:])):
        return []
    header, bounds = text[:starts[0]], starts[::ABC_TUNES_PER_PART] + [len(text)]
    return [header + text[a:b] for a, b in zip(bounds, bounds[1:])]


def _score_file_to_music_guarded(path: Path, timeout: float) -> list[Music]:
    """``score_file_to_music`` in a child process (forked from a clean fork server), killed after
    ``timeout`` seconds; results come back as JSON."""
    import json
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["genre_lstm.music.midi_io"])
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_parse_for_parent, args=(str(path), send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise MusicReadError(f"{path.name}: parsing took longer than {timeout:.0f} s; the file is refused")
        reply = json.loads(receive.recv_bytes().decode("utf-8"))
    except EOFError as error:
        raise MusicReadError(f"{path.name}: the parser stopped unexpectedly") from error
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if "error" in reply:
        raise (MusicTooLargeError if reply.get("too_large") else MusicReadError)(reply["error"])
    return music_from_json(reply)


def music_to_json(pieces: list[Music]) -> dict:
    """Pieces in the JSON form of caches and child-process replies (rows, positions, parts)."""
    return {"pieces": [steps_to_rows(m.steps) for m in pieces],
            "positions": [steps_to_positions(m.steps) for m in pieces],
            "step_parts": [steps_to_part_indices(m.steps) for m in pieces],
            "parts": [parts_to_json(m.parts) for m in pieces]}


def music_from_json(data: dict) -> list[Music]:
    """Inverse of ``music_to_json`` (entries written before parts or positions were kept have none)."""
    count = len(data["pieces"])
    positions, indices, parts = (data.get(key) or [None] * count for key in ("positions", "step_parts", "parts"))
    return [Music(rows_to_steps(rows, where, which), json_to_parts(own))
            for rows, where, which, own in zip(data["pieces"], positions, indices, parts)]


def _parse_for_parent(path: str, send) -> None:
    import json

    try:
        reply = music_to_json(score_file_to_music(path))
    except MusicReadError as error:
        reply = {"error": str(error), "too_large": isinstance(error, MusicTooLargeError)}
    send.send_bytes(json.dumps(reply).encode("utf-8"))
    send.close()


def stream_to_steps(score) -> list[Step]:
    """A music21 stream as one line of steps (all parts merged)."""
    return music_to_single_line(stream_to_music(score))


def stream_to_music(score) -> Music:
    """A music21 stream with its parts (ties joined, grace notes dropped) as steps, placed in the
    bars of its first part's measures; a stream without parts is one part."""
    from music21 import stream

    bars = _score_bars(score)
    tied = score.stripTies()
    sections = list(tied.parts)[:MAX_PARTS] if isinstance(tied, stream.Score) and tied.parts else [tied]
    notes, parts = [], []
    for index, section in enumerate(sections):
        start = float(section.getOffsetBySite(tied)) if section is not tied else 0.0
        for element in section.flatten().notes:
            length = float(element.duration.quarterLength)
            if length <= 0 or not hasattr(element, "pitches"):
                continue  # grace notes and unpitched percussion
            notes.extend((start + float(element.offset), length, int(pitch.midi), index) for pitch in element.pitches)
        parts.append(_score_part(section, index))
    if len(notes) > MAX_NOTES:
        raise MusicTooLargeError(f"{len(notes)} notes (the limit is {MAX_NOTES})")
    return Music(notes_to_steps(notes, bars), tuple(parts))


def _score_part(section, index: int) -> Part:
    """A score part's name and program: its instrument's, a choir for a named voice, else a piano."""
    name = str(getattr(section, "partName", None) or f"Part {index + 1}")
    instrument = section.getInstrument(returnDefault=False) if hasattr(section, "getInstrument") else None
    program = getattr(instrument, "midiProgram", None)
    if program is None:
        program = CHOIR_PROGRAM if any(word in name.lower() for word in VOCAL_NAMES) else 0
    return Part(name, int(program))


def _score_bars(score) -> list[tuple[float, tuple[int, int]]]:
    """(bar line in quarter notes, time signature) of every measure of the score's first part; a
    pickup measure's bar line is where its full bar would have started. 4/4 when it has no measures."""
    from music21 import meter as m21_meter
    from music21 import stream

    part = score.parts[0] if isinstance(score, stream.Score) and score.parts else score
    start = float(part.getOffsetBySite(score)) if part is not score else 0.0
    signature = part.recurse().getElementsByClass(m21_meter.TimeSignature).first()
    current = (signature.numerator, signature.denominator) if signature is not None else COMMON_TIME
    bars = []
    for measure in part.getElementsByClass(stream.Measure):
        if measure.timeSignature is not None:
            current = (measure.timeSignature.numerator, measure.timeSignature.denominator)
        bars.append((start + float(measure.offset) - float(measure.paddingLeft or 0.0), current))
    return bars or [(0.0, current)]


def _check_readable(path: Path, limit: int = MAX_FILE_BYTES) -> None:
    if not path.is_file():
        raise MusicReadError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise MusicReadError(f"{path.name}: the file is empty")
    if size > limit:
        raise MusicTooLargeError(f"{path.name}: {size / 1e6:.1f} MB is over the {limit / 1e6:.0f} MB limit")


def _looks_like_midi(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"MThd"


def midi_file_flattening(path: str | os.PathLike) -> str | None:
    """What reading a MIDI file as one part leaves out, in words (None when it leaves nothing):
    drum notes are dropped and the pitched notes of several tracks or channels are merged into one
    instrument. A user whose seed or upload is reduced this way is told so."""
    path = Path(path)
    if path.suffix.lower() not in MIDI_SUFFIXES:
        return None
    midi = _open_midi(path)
    drums, parts = 0, set()
    for number, track in enumerate(midi.tracks):
        for message in track:
            if message.type == "note_on" and message.velocity:
                if message.channel == DRUM_CHANNEL:
                    drums += 1
                else:
                    parts.add((number, message.channel))
    said = []
    if len(parts) > 1:
        said.append(f"its {len(parts)} pitched parts merged into one instrument")
    if drums:
        said.append(f"{drums:,} drum note{'s' if drums != 1 else ''} dropped")
    return f"{path.name}: " + " and ".join(said) if said else None


def _open_midi(path: Path):
    import mido

    _check_readable(path)
    if not _looks_like_midi(path):
        raise MusicReadError(f"{path.name}: not a MIDI file (it has no MThd header)")
    try:
        return mido.MidiFile(str(path), clip=True)
    except _mido_failures() as error:
        raise MusicReadError(f"{path.name}: damaged MIDI file ({_short(error)})") from error


def _midi_notes(midi, name: str) -> tuple[list[tuple[int, int, int, int]], tuple[Part, ...]]:
    """(start tick, length in ticks, pitch, part) of every note, and the parts: one per track and
    channel with notes (at most ``MAX_PARTS``, the first to sound), named by its track and playing
    the program last set on its channel before its first note."""
    note_ons = sum(1 for track in midi.tracks for m in track if m.type == "note_on" and m.velocity)
    if note_ons > MAX_NOTES:
        raise MusicTooLargeError(f"{name}: {note_ons} notes (the limit is {MAX_NOTES})")
    found: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    programs: dict[tuple[int, int], int] = {}
    names: dict[int, str] = {}
    for number, track in enumerate(midi.tracks):
        sounding: dict[tuple[int, int], deque[int]] = defaultdict(deque)
        program = [0] * 16
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "track_name" and message.name.strip():
                names.setdefault(number, message.name.strip())
            elif message.type == "program_change":
                program[message.channel] = message.program
            if message.type not in ("note_on", "note_off"):
                continue
            key = (message.channel, message.note)
            if message.type == "note_on" and message.velocity > 0:
                sounding[key].append(tick)
                programs.setdefault((number, message.channel), program[message.channel])
            elif sounding[key]:  # the earliest sounding copy ends first
                start = sounding[key].popleft()
                found[(number, message.channel)].append((start, tick - start, message.note))
        for (channel, pitch), starts in sounding.items():  # never released: ends with its track
            found[(number, channel)].extend((start, tick - start, pitch) for start in starts)
    groups = sorted(found, key=lambda group: (min(start for start, _, _ in found[group]), group))[:MAX_PARTS]
    groups.sort()
    parts = tuple(_midi_part(names.get(number), channel, programs[(number, channel)])
                  for number, channel in groups)
    notes = [(start, length, pitch, index) for index, group in enumerate(groups) for start, length, pitch in found[group]]
    return notes, parts


def _midi_part(track_name: str | None, channel: int, program: int) -> Part:
    """A MIDI file's part: drums on channel 10, else its program; named by its track, else its instrument."""
    from .instruments import GM_PROGRAMS

    drums = channel == DRUM_CHANNEL
    return Part(track_name or ("Drums" if drums else GM_PROGRAMS[program]), 0 if drums else program, drums)


def _midi_meters(midi) -> list[tuple[int, tuple[int, int]]]:
    """(tick, time signature) of every time-signature event of any track, in time order; 4/4 from
    the start when the file has none before its first."""
    found = []
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "time_signature" and message.numerator > 0 and message.denominator > 0:
                found.append((tick, (message.numerator, message.denominator)))
    found.sort(key=lambda item: item[0])
    if not found or found[0][0] > 0:
        found.insert(0, (0, COMMON_TIME))
    return found


def _velocity(step: Step, onset_quarters: float) -> int:
    """Accent by position in the step's bar (a 4/4 bar from the start when unknown), so the
    rendering is not mechanically flat."""
    if step.position is not None:
        position, bar = step.position / GRID, meter_to_units(step.meter or COMMON_TIME) / GRID
    else:
        position, bar = onset_quarters % 4, 4.0
    if position == 0:
        return 96
    if bar % 2 == 0 and position == bar / 2:
        return 86
    if float(position).is_integer():
        return 78
    return 66


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _short(error: BaseException) -> str:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return message[:160]
