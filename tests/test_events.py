from genre_lstm.music.events import (
    Step,
    name_to_pitch,
    pitch_to_name,
    pitches_to_token,
    steps_duration_quarters,
    token_to_pitches,
)


def test_pitch_names_keep_octaves_and_round_trip():
    assert pitch_to_name(64) == "E4"
    assert pitch_to_name(70) == "A#4" and pitch_to_name(3) == "D#-1"
    assert pitch_to_name(0) == "C-1" and pitch_to_name(127) == "G9"
    assert all(name_to_pitch(pitch_to_name(p)) == p for p in range(128))


def test_chord_token_is_sorted_pitches_joined_by_dots():
    assert pitches_to_token((67, 60, 64)) == "C4.E4.G4"
    assert token_to_pitches("C4.E4.G4") == (60, 64, 67)


def test_piece_length_counts_the_last_note_to_its_end():
    steps = [Step((60,), 1.0, 0.5), Step((62,), 2.0, 2.0)]
    assert steps_duration_quarters(steps) == 2.5
