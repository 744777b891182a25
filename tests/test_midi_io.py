import mido
import pytest
from conftest import write_midi

from genre_lstm.errors import MusicReadError, MusicTooLargeError
from genre_lstm.music.events import Step
from genre_lstm.music.midi_io import (
    midi_file_events,
    midi_file_text,
    midi_file_to_steps,
    music_file_to_pieces,
    music_file_to_steps,
    steps_to_events,
    steps_to_midi_file,
)


def test_reads_a_bach_chorale_from_musicxml(chorale_path):
    steps = music_file_to_steps(chorale_path)
    assert len(steps) > 30
    assert max(len(s.pitches) for s in steps) == 4  # four voices sound together
    assert all(0 < s.duration <= 4 and 0 <= s.shift <= 4 for s in steps)


def test_an_abc_file_holds_many_tunes(oneills_path):
    pieces = music_file_to_pieces(oneills_path)
    assert len(pieces) == 50
    assert all(len(s.pitches) == 1 for s in pieces[0])  # fiddle tunes are monophonic


def test_reads_palestrina_humdrum(palestrina_path):
    assert len(music_file_to_steps(palestrina_path)) > 50


def test_written_steps_read_back_exactly_with_text_and_varied_velocities(tmp_path):
    steps = [Step((60, 64, 67), 1.0, 1.0), Step((62,), 1 / 3, 1 / 3), Step((64,), 0.25, 0.75), Step((0, 127), 4.0, 4.0)]
    path = steps_to_midi_file(steps, tmp_path / "x.mid", tempo_bpm=90, program=40, text={"random_seed": 7})
    assert midi_file_to_steps(path) == steps
    assert midi_file_text(path)["random_seed"] == "7"
    velocities = {m.velocity for m in mido.MidiFile(path).tracks[0] if m.type == "note_on"}
    assert len(velocities) > 1


def test_multitrack_file_merges_pitched_tracks_and_drops_drums(tmp_path):
    tempo = [mido.MetaMessage("set_tempo", tempo=500000, time=0), mido.MetaMessage("set_tempo", tempo=300000, time=960)]
    melody = [mido.Message("note_on", note=72, velocity=80, time=0), mido.Message("note_off", note=72, time=480),
              mido.Message("note_on", note=74, velocity=80, time=0), mido.Message("note_off", note=74, time=480)]
    bass = [mido.Message("note_on", note=48, velocity=80, time=0, channel=1),
            mido.Message("note_off", note=48, time=960, channel=1)]
    drums = [mido.Message("note_on", note=36, velocity=100, time=0, channel=9),
             mido.Message("note_off", note=36, time=240, channel=9)] * 4
    path = write_midi(tmp_path / "band.mid", [tempo, melody, bass, drums])
    steps = midi_file_to_steps(path)
    assert steps == [Step((48, 72), 2.0, 1.0), Step((74,), 1.0, 1.0)]


def test_type0_file_with_overlapping_notes_and_a_never_released_note(tmp_path):
    messages = [mido.Message("note_on", note=60, velocity=80, time=0),
                mido.Message("note_on", note=60, velocity=80, time=240),  # re-struck while sounding
                mido.Message("note_off", note=60, time=240),
                mido.Message("note_off", note=60, time=240),
                mido.Message("note_on", note=67, velocity=80, time=0)]  # no note_off
    path = write_midi(tmp_path / "t0.mid", [messages + [mido.Message("note_on", note=1, velocity=0, time=480)]],
                      midi_type=0)
    steps = midi_file_to_steps(path)
    assert [s.pitches for s in steps] == [(60,), (60,), (67,)]
    assert steps[0].duration == 1.0 and steps[1].duration == 1.0


def test_a_single_note_is_a_piece(tmp_path):
    path = write_midi(tmp_path / "one.mid", [[mido.Message("note_on", note=69, velocity=90, time=0),
                                              mido.Message("note_off", note=69, time=480)]])
    assert midi_file_to_steps(path) == [Step((69,), 1.0, 1.0)]


@pytest.mark.parametrize("content, message", [
    (b"this is not music", "not a MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01", "damaged MIDI"),
    (b"", "empty"),
])
def test_unreadable_files_raise_our_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(MusicReadError, match=message) as caught:
        music_file_to_steps(path)
    assert "bad.mid" in str(caught.value)


def test_drums_only_file_has_no_pitched_notes(tmp_path):
    path = write_midi(tmp_path / "drums.mid", [[mido.Message("note_on", note=36, velocity=90, time=0, channel=9),
                                                mido.Message("note_off", note=36, time=480, channel=9)]])
    with pytest.raises(MusicReadError, match="no pitched notes"):
        midi_file_to_steps(path)


def test_broken_abc_raises_our_error(tmp_path):
    path = tmp_path / "broken.abc"
    path.write_text("X:1\nT:broken\nK:ZZZ\n|:]]]][[[ 9/0 ::\n")
    with pytest.raises(MusicReadError, match="broken.abc"):
        music_file_to_steps(path)


def test_too_many_notes_are_refused_before_grouping(tmp_path):
    notes = []
    for _ in range(50_001):
        notes += [mido.Message("note_on", note=60, velocity=64, time=0), mido.Message("note_off", note=60, time=1)]
    path = write_midi(tmp_path / "huge.mid", [notes])
    with pytest.raises(MusicTooLargeError, match="limit"):
        midi_file_to_steps(path)


def test_reads_a_two_part_midi_written_by_music21(tmp_path, chorale_path):
    from music21 import converter

    score = converter.parse(str(chorale_path), forceSource=True)
    path = tmp_path / "chorale.mid"
    score.write("midi", fp=str(path))
    from_midi = midi_file_to_steps(path)
    from_xml = music_file_to_steps(chorale_path)
    assert abs(len(from_midi) - len(from_xml)) <= 2
    assert [s.pitches for s in from_midi[:8]] == [s.pitches for s in from_xml[:8]]


def test_fuzzer_finding_bad_key_signature_is_our_error():
    """benchmarks/fuzz_midi.py found a mutated file whose key signature made mido raise its own class."""
    from pathlib import Path

    with pytest.raises(MusicReadError, match="damaged MIDI"):
        music_file_to_steps(Path(__file__).parent / "data" / "fuzz" / "key-signature-error.mid")


def test_uploaded_scores_are_parsed_in_a_child_that_can_be_timed_out(tmp_path, chorale_path):
    import shutil

    copy = shutil.copy(chorale_path, tmp_path / "upload.mxl")
    assert music_file_to_steps(copy) == music_file_to_steps(copy, timeout=None)
    with pytest.raises(MusicReadError, match="longer than"):
        music_file_to_steps(copy, timeout=0.001)


def test_events_made_from_steps_are_those_the_written_file_plays(tmp_path, chorale_path):
    steps = music_file_to_steps(chorale_path)[:80] + [Step((60,), 3.0, 0.5), Step((60, 64), 1.0, 1.0)]  # a re-strike
    written = midi_file_events(steps_to_midi_file(steps, tmp_path / "c.mid", tempo_bpm=93, program=40))
    made = steps_to_events(steps, tempo_bpm=93, program=40)
    assert [e[1:] for e in made] == [e[1:] for e in written]
    assert max(abs(a[0] - b[0]) for a, b in zip(made, written)) < 1e-9


def test_reading_a_band_as_one_part_says_what_it_leaves_out(tmp_path):
    import mido

    from genre_lstm.music.midi_io import midi_file_flattening

    def notes(channel, pitches):
        out = []
        for pitch in pitches:
            out += [mido.Message("note_on", channel=channel, note=pitch, velocity=90, time=0),
                    mido.Message("note_off", channel=channel, note=pitch, time=240)]
        return out

    band = write_midi(tmp_path / "band.mid", [notes(0, [60, 62, 64]), notes(1, [36, 38]), notes(9, [36, 38, 42, 42])])
    assert midi_file_flattening(band) == "band.mid: its 2 pitched parts merged into one instrument and 4 drum notes dropped"
    solo = write_midi(tmp_path / "solo.mid", [notes(0, [60, 62, 64])])
    assert midi_file_flattening(solo) is None
